namespace Lingyuan.Jobs.Registers;

public enum Sex { Male, Female }

/// <summary>Resident ID number (居民身份证号码), GB 11643-1999. See DOMAIN.md §0.</summary>
public static class IdNumber
{
    private static readonly int[] Weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string CheckChars = "10X98765432";

    /// <summary>The register's range starts here, as for every other date of the register files (nobody living was born earlier).</summary>
    public static readonly DateOnly MinBirthDate = new(1900, 1, 1);

    /// <summary>Trims and upper-cases a trailing 'x' (accepted, normalised to 'X').</summary>
    public static string Normalize(string value) => value.Trim().ToUpperInvariant();

    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        var sum = 0;
        for (var i = 0; i < 17; i++) sum += (first17[i] - '0') * Weights[i];
        return CheckChars[sum % 11];
    }

    /// <summary>Null when valid; otherwise what is wrong and what was expected (for import error lines).</summary>
    public static string? Problem(string? raw, DateOnly? today = null)
    {
        if (string.IsNullOrWhiteSpace(raw)) return "is empty, expected an 18-character ID number";
        var v = Normalize(raw);
        if (v.Length != 18) return $"has {v.Length} characters, expected 18";
        for (var i = 0; i < 17; i++)
            if (!char.IsAsciiDigit(v[i])) return $"character {i + 1} is '{v[i]}', expected a digit";
        if (!char.IsAsciiDigit(v[17]) && v[17] != 'X') return $"check character is '{v[17]}', expected a digit or X";
        if (!TryBirthDate(v, out var birth)) return $"birth date '{v.Substring(6, 8)}' is not a real date";
        if (birth < MinBirthDate) return $"birth date {birth:yyyy-MM-dd} is before {MinBirthDate:yyyy-MM-dd}, expected a birth date in the register's range";
        if (birth > (today ?? DateOnly.FromDateTime(DateTime.UtcNow))) return $"birth date {birth:yyyy-MM-dd} is in the future";
        var expected = CheckCharacter(v.AsSpan(0, 17));
        return v[17] == expected ? null : $"check character is '{v[17]}', expected '{expected}'";
    }

    public static bool IsValid(string? raw, DateOnly? today = null) => Problem(raw, today) is null;

    /// <summary>Birth date and sex derived from a valid number (never stored twice).</summary>
    public static (DateOnly Birth, Sex Sex) Parse(string valid)
    {
        var v = Normalize(valid);
        if (!TryBirthDate(v, out var birth)) throw new FormatException("not a valid ID number");
        return (birth, (v[16] - '0') % 2 == 1 ? Sex.Male : Sex.Female);
    }

    private static bool TryBirthDate(string v, out DateOnly birth) =>
        DateOnly.TryParseExact(v.AsSpan(6, 8), "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out birth);

    /// <summary>For anyone reading outside the review pages: first 6, last 4 (211382********123X).</summary>
    public static string Mask(string? value)
    {
        var v = (value ?? "").Trim();
        return v.Length < 10 ? new string('*', v.Length) : string.Concat(v.AsSpan(0, 6), new string('*', v.Length - 10), v.AsSpan(v.Length - 4));
    }
}

/// <summary>Unified Social Credit Code (统一社会信用代码), GB 32100-2015. See DOMAIN.md §0.</summary>
public static class Uscc
{
    public const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    private static readonly int[] Weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    /// <summary>Strips spaces and upper-cases.</summary>
    public static string Normalize(string value) => value.Replace(" ", "").Trim().ToUpperInvariant();

    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        var sum = 0;
        for (var i = 0; i < 17; i++) sum += Alphabet.IndexOf(first17[i]) * Weights[i];
        var check = 31 - sum % 31;
        return Alphabet[check == 31 ? 0 : check];
    }

    public static string? Problem(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return "is empty, expected an 18-character credit code";
        var v = Normalize(raw);
        if (v.Length != 18) return $"has {v.Length} characters, expected 18";
        for (var i = 0; i < 17; i++)
            if (Alphabet.IndexOf(v[i]) < 0) return $"character {i + 1} is '{v[i]}', expected one of {Alphabet}";
        for (var i = 2; i < 8; i++)
            if (!char.IsAsciiDigit(v[i])) return $"character {i + 1} is '{v[i]}', expected a digit (region code)";
        var expected = CheckCharacter(v.AsSpan(0, 17));
        return v[17] == expected ? null : $"check character is '{v[17]}', expected '{expected}'";
    }

    public static bool IsValid(string? raw) => Problem(raw) is null;
}

/// <summary>The bank account of a social security card's financial function: 16–19 digits, Luhn checked.</summary>
public static class BankAccount
{
    public static string? Problem(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw)) return "is empty, expected 16-19 digits";
        var v = raw.Trim();
        if (v.Length is < 16 or > 19) return $"has {v.Length} characters, expected 16-19 digits";
        foreach (var c in v)
            if (!char.IsAsciiDigit(c)) return $"contains '{c}', expected digits only";
        var expected = LuhnCheckDigit(v.AsSpan(0, v.Length - 1));
        return v[^1] == expected ? null : $"Luhn check digit is '{v[^1]}', expected '{expected}'";
    }

    public static bool IsValid(string? raw) => Problem(raw) is null;

    /// <summary>The digit that makes <paramref name="payload"/> + digit pass the Luhn (mod 10) check.</summary>
    public static char LuhnCheckDigit(ReadOnlySpan<char> payload)
    {
        var sum = 0;
        var doubleIt = true; // the rightmost payload digit is doubled once the check digit is appended
        for (var i = payload.Length - 1; i >= 0; i--)
        {
            var d = payload[i] - '0';
            if (doubleIt) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
            doubleIt = !doubleIt;
        }
        return (char)('0' + (10 - sum % 10) % 10);
    }

    /// <summary>6217********1234: first 4, last 4.</summary>
    public static string Mask(string? value)
    {
        var v = (value ?? "").Trim();
        return v.Length < 8 ? new string('*', v.Length) : string.Concat(v.AsSpan(0, 4), new string('*', v.Length - 8), v.AsSpan(v.Length - 4));
    }
}
