namespace Lingyuan.Jobs.Registers;

/// <summary>
/// Computes the check character of each identifier from its payload. The verdict on a whole identifier
/// belongs to Identifiers.cs (IdNumber, Uscc, BankAccount); these computations exist because the import
/// must say which character was <em>expected</em> and the demo generator must produce valid identifiers.
/// </summary>
public static class CheckCharacters
{
    // GB 11643-1999: W_i = 2^(18-i) mod 11 for positions 1..17.
    private static readonly int[] IdWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string IdChecks = "10X98765432";

    // GB 32100-2015: alphabet without I O S V Z; W_i = 3^(i-1) mod 31.
    public const string UsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    private static readonly int[] UsccWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    /// <summary>The check character of a resident ID number from its first 17 digits.</summary>
    public static char IdNumber(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17) throw new ArgumentException("17 digits expected", nameof(first17));
        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            var d = first17[i] - '0';
            if ((uint)d > 9) throw new ArgumentException("digits expected", nameof(first17));
            sum += d * IdWeights[i];
        }
        return IdChecks[sum % 11];
    }

    /// <summary>The check character of a USCC from its first 17 characters (upper case, USCC alphabet).</summary>
    public static char Uscc(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17) throw new ArgumentException("17 characters expected", nameof(first17));
        var sum = 0;
        for (var i = 0; i < 17; i++)
        {
            var v = UsccAlphabet.IndexOf(first17[i]);
            if (v < 0) throw new ArgumentException("USCC alphabet expected", nameof(first17));
            sum += v * UsccWeights[i];
        }
        var check = 31 - sum % 31;
        return UsccAlphabet[check == 31 ? 0 : check];
    }

    /// <summary>The Luhn (mod 10) check digit to append to <paramref name="payload"/>.</summary>
    public static char Luhn(ReadOnlySpan<char> payload)
    {
        var sum = 0;
        var doubleIt = true; // the rightmost payload digit is doubled once the check digit is appended
        for (var i = payload.Length - 1; i >= 0; i--)
        {
            var d = payload[i] - '0';
            if ((uint)d > 9) throw new ArgumentException("digits expected", nameof(payload));
            if (doubleIt) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
            doubleIt = !doubleIt;
        }
        return (char)('0' + (10 - sum % 10) % 10);
    }
}
