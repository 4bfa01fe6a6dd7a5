using System.Globalization;

namespace Lingyuan.Jobs;

/// <summary>
/// Money is <c>long</c> fen everywhere (the registers, the batches, the arrears cases); yuan appear only
/// where a person reads them (pages, notices, decisions, mails) and where a person writes them (a return
/// file, a setting).
/// </summary>
public static class Money
{
    /// <summary>For people: <c>1,234.56</c> (grouping commas, always two decimals, a leading minus when negative).</summary>
    public static string Yuan(long fen) =>
        (fen < 0 ? "-" : "") + (Math.Abs(fen) / 100).ToString("#,0", CultureInfo.InvariantCulture) + "." + (Math.Abs(fen) % 100).ToString("D2", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses yuan with at most two decimals into fen, exactly: digits, a point and one or two decimals
    /// (<c>1234.56</c>, <c>7</c>, <c>0.5</c>); grouping commas only as thousands separators (<c>1,234.56</c>).
    /// Anything else — a sign, a stray or doubled comma (<c>,,1,,2,3.45</c>), a point without digits on both
    /// sides, an exponent, spaces inside, full-width digits — is refused. No allocation: it runs for every
    /// row of a return file.
    /// </summary>
    public static bool TryParseYuan(string? s, out long fen)
    {
        fen = 0;
        if (s is null) return false;
        var t = s.AsSpan().Trim();
        var dot = t.IndexOf('.');
        var whole = dot < 0 ? t : t[..dot];
        var frac = dot < 0 ? [] : t[(dot + 1)..];
        if (whole.IsEmpty || (dot >= 0 && frac.Length is 0 or > 2)) return false;
        var firstComma = whole.IndexOf(',');
        if (firstComma == 0 || firstComma > 3 || (firstComma > 0 && (whole.Length - firstComma) % 4 != 0)) return false;
        long yuan = 0;
        var digits = 0;
        for (var i = 0; i < whole.Length; i++)
        {
            var c = whole[i];
            if (firstComma > 0 && i >= firstComma && (i - firstComma) % 4 == 0)
            {
                if (c != ',') return false;
                continue;
            }
            if (!char.IsAsciiDigit(c) || ++digits > 15) return false; // 15 digits: far beyond any payment, far from overflow
            yuan = yuan * 10 + (c - '0');
        }
        var cents = 0;
        for (var i = 0; i < 2; i++)
        {
            if (i < frac.Length && !char.IsAsciiDigit(frac[i])) return false;
            cents = cents * 10 + (i < frac.Length ? frac[i] - '0' : 0);
        }
        fen = yuan * 100 + cents;
        return true;
    }
}
