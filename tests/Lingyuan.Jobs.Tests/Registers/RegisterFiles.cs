using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Tests.Infrastructure;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>
/// Builds register files for the tests. Identifiers are computed by an implementation written here from the
/// formulas in DOMAIN.md (weights derived, not copied), so the validators are checked against a second source.
/// </summary>
public static class RegisterFiles
{
    public static readonly string[] PersonsHeader =
        ["id_number", "name", "household_no", "street", "community", "hukou", "able_to_work", "wants_work", "employment", "employment_since", "business_income"];

    public static string IdNumber(int n, DateOnly? born = null) =>
        IdNumberCheck(string.Create(CultureInfo.InvariantCulture, $"211382{born ?? new DateOnly(1980, 1, 1).AddDays(n % 9000):yyyyMMdd}{n % 1000:D3}"));

    /// <summary>The 17 digits with their GB 11643 check character appended.</summary>
    public static string IdNumberCheck(string first17)
    {
        var sum = 0;
        for (var i = 1; i <= 17; i++) sum += (first17[i - 1] - '0') * (int)(BigPow(2, 18 - i) % 11);
        return first17 + "10X98765432"[sum % 11];
    }

    /// <summary>The same ID with a wrong check character, and the right one.</summary>
    public static (string Bad, char Was, char Expected) WrongCheck(string id)
    {
        var was = id[17] == '0' ? '1' : '0';
        return (id[..17] + was, was, id[17]);
    }

    public static string Uscc(int n)
    {
        const string alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        var first17 = string.Create(CultureInfo.InvariantCulture, $"91211382MA{n:D7}");
        var sum = 0;
        for (var i = 1; i <= 17; i++) sum += alphabet.IndexOf(first17[i - 1]) * (int)(BigPow(3, i - 1) % 31);
        var c = 31 - sum % 31;
        return first17 + alphabet[c == 31 ? 0 : c];
    }

    public static string BankAccount(long n)
    {
        var payload = string.Create(CultureInfo.InvariantCulture, $"621700{n:D12}");
        var digits = (payload + "0").Select(ch => ch - '0').Reverse().ToArray();
        var sum = digits.Select((d, i) => i % 2 == 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d).Sum();
        return payload + (char)('0' + (10 - sum % 10) % 10);
    }

    private static System.Numerics.BigInteger BigPow(int b, int e) => System.Numerics.BigInteger.Pow(b, e);

    public static string[] Person(int n, string? name = null) =>
    [
        IdNumber(n), name ?? $"测试{n}", $"H-{n / 3:D5}", "城关街道", "和平社区", n % 2 == 0 ? "urban" : "rural",
        "true", "true", n % 3 == 0 ? "unemployed" : "employed", n % 3 == 0 ? "" : "2020-05-01", "false",
    ];

    public static string Csv(IEnumerable<string[]> rows) =>
        string.Concat(rows.Select(r => string.Join(',', r.Select(Quote)) + "\r\n"));

    private static string Quote(string f) =>
        f.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + f.Replace("\"", "\"\"") + "\"" : f;

    public static string Write(string dir, string name, string content, Encoding? encoding = null)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content, encoding ?? new UTF8Encoding(false));
        return path;
    }

    public static string PersonsFile(string dir, string name, IEnumerable<string[]> rows, Encoding? encoding = null) =>
        Write(dir, name, Csv([PersonsHeader, .. rows]), encoding);

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lingyuan-registers-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A digest of every row and column of a table, updated_at included: equal digests mean nothing changed.</summary>
    public static async Task<string> TableHashAsync(DatabaseFixture db, string table)
    {
        await using var cmd = db.DataSource.CreateCommand($"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t");
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task<long> CountAsync(DatabaseFixture db, string sql)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task ExecuteAsync(DatabaseFixture db, string sql)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A made-up but plausible 2027 (the State Council's notice is not out when these tests were written): 25 days off,
    /// 6 weekend working days, 249 working days in all.
    /// </summary>
    public static readonly string[][] Holidays2027 =
    [
        .. new[] { "2027-01-01" }.Concat(Enumerable.Range(5, 9).Select(d => $"2027-02-{d:D2}")).Append("2027-04-05")
            .Concat(Enumerable.Range(1, 5).Select(d => $"2027-05-0{d}")).Append("2027-06-09").Append("2027-09-15")
            .Concat(Enumerable.Range(1, 7).Select(d => $"2027-10-0{d}")).Select(d => new[] { d, "holiday" }),
        .. new[] { "2027-02-14", "2027-02-20", "2027-04-25", "2027-05-08", "2027-09-26", "2027-10-09" }.Select(d => new[] { d, "workday" }),
    ];

    public const string TruncateRegisters =
        "TRUNCATE app.employers, app.inspectors, app.conflicts, app.communities, app.persons, app.cards, app.entitlements, app.life_events, app.arrears_cases CASCADE";
}
