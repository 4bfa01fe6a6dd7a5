using System.Globalization;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>A benefit month, <c>YYYY-MM</c>; stored as the first day of the month.</summary>
public readonly record struct Period(int Year, int Month) : IComparable<Period>
{
    public DateOnly FirstDay => new(Year, Month, 1);

    public static Period Of(DateOnly d) => new(d.Year, d.Month);

    public Period Next() => Of(FirstDay.AddMonths(1));

    public static bool TryParse(string? s, out Period period)
    {
        period = default;
        if (s is null || !DateOnly.TryParseExact(s + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return false;
        period = Of(d);
        return true;
    }

    public int CompareTo(Period other) => FirstDay.CompareTo(other.FirstDay);
    public static bool operator <(Period a, Period b) => a.CompareTo(b) < 0;
    public static bool operator >(Period a, Period b) => a.CompareTo(b) > 0;
    public static bool operator <=(Period a, Period b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Period a, Period b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Year:D4}-{Month:D2}";
}

/// <summary>Money is <c>long</c> fen everywhere; yuan appear only where a person reads them.</summary>
public static class Money
{
    /// <summary>For people: <c>1,234.56</c> (the one rule: <see cref="global::Lingyuan.Jobs.Money.Yuan"/>).</summary>
    public static string Yuan(long fen) => global::Lingyuan.Jobs.Money.Yuan(fen);

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

/// <summary>Personal data as people outside the review rows see it (DOMAIN.md §0: masking), as the registers mask it.</summary>
public static class Mask
{
    /// <summary><c>211382********123X</c>: first 6, last 4.</summary>
    public static string IdNumber(string? id) => Registers.IdNumber.Mask(id);

    /// <summary><c>6217********1234</c>: first 4, last 4.</summary>
    public static string Account(string? account) => Registers.BankAccount.Mask(account);
}

/// <summary>Chinese names of the codes users see.</summary>
public static class Zh
{
    public static string Benefit(string b) => b switch
    {
        "enterprise_pension" => "企业职工基本养老金",
        "institution_pension" => "机关事业单位养老金",
        "resident_pension" => "城乡居民养老金",
        "work_injury" => "工伤保险待遇",
        "unemployment" => "失业保险金",
        "employment_subsidy" => "就业补贴",
        "training_subsidy" => "培训补贴",
        "insurance_subsidy" => "社会保险补贴",
        "survivor_allowance" => "遗属待遇",
        _ => b,
    };

    public static string HoldReason(string? r) => r switch
    {
        "dead" => "已报死亡",
        "no_person" => "人员信息缺失",
        "no_card" => "无社保卡",
        "card_inactive" => "社保卡金融功能未激活或已冻结挂失",
        "suspended" => "待遇已暂停",
        "eligibility_lapsed" => "待遇资格认证过期",
        "duplicate_account" => "同一账户多人(非同户)领取",
        "amount_change" => "金额较上月变动超限",
        null => "",
        _ => r,
    };

    public static string Kind(string k) => k switch
    {
        "regular" => "当月",
        "back_pay" => "补发",
        "reissue" => "退票重发",
        _ => k,
    };
}
