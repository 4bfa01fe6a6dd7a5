using System.Globalization;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>What a field parser may need besides the text: today's date in Asia/Shanghai (birth dates, events).</summary>
public readonly record struct ParseContext(DateOnly Today);

/// <summary>
/// Parses one field: returns null and the typed value (boxed, as it goes to COPY; null for an empty
/// optional field), or the problem in the words of <c>FILE:ROW: column: what is wrong, what was expected</c>.
/// </summary>
public delegate string? FieldParser(string raw, in ParseContext ctx, out object? value);

/// <summary>
/// The field rules of the register files (INTERFACES.md, Register files; DOMAIN.md §0 Identifiers).
/// Text is kept verbatim apart from surrounding white space: SQL and HTML in names are harmless here
/// (SQL is parameterised, pages escape) and formula-like text (<c>=cmd|…</c>) is neutralised where a
/// spreadsheet could read it (exports, the rejects file), not in the register.
/// </summary>
public static class Fields
{
    /// <summary>A name, an address part, a code: non-empty (unless optional), at most <paramref name="max"/> characters.</summary>
    public static FieldParser Text(int max, bool optional = false) => (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.Length == 0)
        {
            if (!optional) return "is empty, expected a value";
            value = "";
            return null;
        }
        if (s.Length > max) return $"is {s.Length} characters long, expected at most {max}";
        // One pass, no allocation: this runs for every name of a million-row file.
        var visible = false;
        foreach (var ch in s)
        {
            if (char.IsControl(ch) || ch is '\u2028' or '\u2029') return $"contains the control character U+{(int)ch:X4}, expected printable text";
            if (IsBidiControl(ch)) return $"contains the bidirectional control U+{(int)ch:X4}, expected plain text";
            visible |= !(char.IsWhiteSpace(ch) || IsInvisible(ch));
        }
        if (!visible) return "has only invisible characters, expected visible text";
        value = s;
        return null;
    };

    /// <summary>Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the marks U+200E, U+200F, U+061C: they reorder what a page or a letter shows.</summary>
    internal static bool IsBidiControl(char ch) => ch is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';

    /// <summary>Format characters that show nothing: zero-width space, (non-)joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator.</summary>
    internal static bool IsInvisible(char ch) => ch is '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' or '\u00AD' or '\u180E';

    /// <summary>A code of letters, digits and '-' (badge, card, bank, household, case numbers).</summary>
    public static FieldParser Code(int max) => (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.Length == 0) return "is empty, expected a code";
        if (s.Length > max) return $"is {s.Length} characters long, expected at most {max}";
        foreach (var ch in s)
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '/'))
                return $"contains '{Show(ch)}', expected letters, digits, '-', '_' or '/'";
        value = s;
        return null;
    };

    public static FieldParser Email(bool optional = false) => (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.Length == 0)
        {
            if (!optional) return "is empty, expected an e-mail address";
            value = "";
            return null;
        }
        var at = s.IndexOf('@');
        if (s.Length > 254 || at <= 0 || at != s.LastIndexOf('@') || s.IndexOf('.', at) < at + 2 || s.EndsWith('.')
            || s.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch) || ch is ',' or ';' or '<' or '>' or '"'))
            return "is not an e-mail address, expected name@domain";
        value = s;
        return null;
    };

    public static FieldParser Enum(params string[] allowed) => (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        foreach (var a in allowed)
            if (string.Equals(a, s, StringComparison.OrdinalIgnoreCase)) { value = a; return null; }
        return $"'{Clip(s)}' is not one of {string.Join(", ", allowed)}";
    };

    public static readonly FieldParser TrueFalse = (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.Equals("true", StringComparison.OrdinalIgnoreCase)) value = true;
        else if (s.Equals("false", StringComparison.OrdinalIgnoreCase)) value = false;
        else return $"'{Clip(s)}' is not a boolean, expected true or false";
        return null;
    };

    public static FieldParser Count(int max = 10_000_000) => (string raw, in ParseContext ctx, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.StartsWith('-') && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            return $"'{Clip(s)}' is negative, expected a whole number ≥ 0";
        if (s.Length == 0 || s.Length > 9 || !s.All(char.IsAsciiDigit))
            return $"'{Clip(s)}' is not a whole number, expected digits only";
        var n = int.Parse(s, CultureInfo.InvariantCulture);
        if (n > max) return $"{n} is too large, expected at most {max}";
        value = n;
        return null;
    };

    /// <summary>Money in yuan with at most two decimals, ≥ 0; the value is integer fen (never a double).</summary>
    public static FieldParser Yuan(long maxYuan = 100_000_000_000) => (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.StartsWith('-')) return $"'{Clip(s)}' is negative, expected an amount ≥ 0 in yuan";
        var dot = s.IndexOf('.');
        var whole = dot < 0 ? s : s[..dot];
        var frac = dot < 0 ? "" : s[(dot + 1)..];
        if (whole.Length == 0 || !whole.All(char.IsAsciiDigit) || !frac.All(char.IsAsciiDigit) || (dot >= 0 && frac.Length == 0))
            return $"'{Clip(s)}' is not an amount, expected yuan such as 1234.56 (no sign, no thousands separator)";
        if (frac.Length > 2) return $"'{Clip(s)}' has {frac.Length} decimals, expected at most 2 (fen)";
        if (whole.Length > 12) return $"'{Clip(s)}' is too large, expected at most {maxYuan} yuan";
        var fen = long.Parse(whole, CultureInfo.InvariantCulture) * 100 + (frac.Length == 0 ? 0 : int.Parse(frac.PadRight(2, '0'), CultureInfo.InvariantCulture));
        // The limit is inclusive and in fen: 1000000.00 is at most 1,000,000 yuan, 1000000.01 is not.
        if (fen > maxYuan * 100) return $"'{Clip(s)}' is too large, expected at most {maxYuan} yuan";
        value = fen;
        return null;
    };

    public static FieldParser Date(bool optional = false, bool notFuture = false) => (string raw, in ParseContext ctx, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.Length == 0) return optional ? null : "is empty, expected a date YYYY-MM-DD";
        if (!DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            return LooksLike(s, "dddd-dd-dd") ? $"'{Clip(s)}' is not a real date, expected YYYY-MM-DD" : $"'{Clip(s)}' is not a date, expected YYYY-MM-DD";
        if (d.Year < 1900) return $"'{s}' is before 1900, expected a date in the register's range";
        if (notFuture && d > ctx.Today) return $"'{s}' is in the future, expected a date on or before {ctx.Today:yyyy-MM-dd}";
        value = d;
        return null;
    };

    /// <summary>A month <c>YYYY-MM</c>, stored as its first day.</summary>
    public static FieldParser Period(bool optional = false) => (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        var s = raw.Trim();
        if (s.Length == 0) return optional ? null : "is empty, expected a period YYYY-MM";
        if (!DateOnly.TryParseExact(s + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) || s.Length != 7)
            return $"'{Clip(s)}' is not a period, expected YYYY-MM";
        if (d.Year < 1900) return $"'{s}' is before 1900, expected a period in the register's range";
        value = d;
        return null;
    };

    /// <summary>Resident ID number (GB 11643-1999): 17 digits, a real birth date not in the future, check character (Identifiers.cs).</summary>
    public static readonly FieldParser ResidentId = (string raw, in ParseContext ctx, out object? value) =>
    {
        value = null;
        if (Registers.IdNumber.Problem(raw, ctx.Today) is { } problem) return problem;
        value = Registers.IdNumber.Normalize(raw);
        return null;
    };

    /// <summary>Unified Social Credit Code (GB 32100-2015); spaces are stripped, letters upper-cased (Identifiers.cs).</summary>
    public static readonly FieldParser CreditCode = (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        if (Registers.Uscc.Problem(raw) is { } problem) return problem;
        value = Registers.Uscc.Normalize(raw);
        return null;
    };

    /// <summary>The bank account of a card's financial function: 16-19 digits, Luhn-checked (Identifiers.cs).</summary>
    public static readonly FieldParser CardAccount = (string raw, in ParseContext _, out object? value) =>
    {
        value = null;
        if (Registers.BankAccount.Problem(raw) is { } problem) return problem;
        value = raw.Trim();
        return null;
    };

    private static bool LooksLike(string s, string shape) =>
        s.Length == shape.Length && s.Zip(shape).All(p => p.Second == 'd' ? char.IsAsciiDigit(p.First) : p.First == p.Second);

    private static string Show(char ch) => char.IsControl(ch) ? $"U+{(int)ch:X4}" : ch.ToString();

    /// <summary>
    /// Quotes at most 40 characters of a bad value, so one problem stays one short line, with personal numbers
    /// masked as the pages mask them (a value in the wrong column may be an ID number, an account or a phone):
    /// a run of 11 or more digits (not next to a decimal point) is an ID number (15 or 18, 211382********123X), a bank account (16-19 or more,
    /// 6217********1234) or a phone (11-14, 138****5678). Error path only.
    /// </summary>
    internal static string Clip(string s, int max = 40)
    {
        var oneLine = MaskNumbers(string.Concat(s.Select(ch => char.IsControl(ch) || IsBidiControl(ch) ? '?' : ch)));
        return oneLine.Length <= max ? oneLine : oneLine[..max] + "…";
    }

    private static string MaskNumbers(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length);
        for (var i = 0; i < s.Length;)
        {
            if (!char.IsAsciiDigit(s[i])) { sb.Append(s[i++]); continue; }
            var end = i;
            while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
            if (end - i == 17 && end < s.Length && s[end] is 'X' or 'x') end++; // an ID number's check character
            var run = s[i..end];
            // Next to a decimal point it is an amount (up to 12 digits of yuan), not a personal number.
            var amount = (i > 0 && s[i - 1] == '.') || (end < s.Length && s[end] == '.');
            sb.Append(amount ? run : run.Length switch
            {
                < 11 => run,
                15 or 18 => Registers.IdNumber.Mask(run),
                >= 16 => Registers.BankAccount.Mask(run),
                _ => string.Concat(run.AsSpan(0, 3), new string('*', run.Length - 7), run.AsSpan(run.Length - 4)),
            });
            i = end;
        }
        return sb.ToString();
    }
}
