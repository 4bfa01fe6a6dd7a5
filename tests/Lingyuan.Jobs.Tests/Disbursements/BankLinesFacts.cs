using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Dapper;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>
/// The bank file's D lines are written by Sylvan's CSV writer (<see cref="BankLines"/>); approvals made
/// before that hashed PostgreSQL's own <c>COPY … (FORMAT csv)</c> output. Both must give the same bytes for
/// any text: commas, quotes, CR, LF, backslashes, <c>\.</c>, empty strings, NULLs, Chinese, amounts with any
/// fen, and a name longer than the reading block.
/// </summary>
public class BankLinesFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string PostgresCsv = """
        COPY (SELECT 'D', id, bank_code, bank_account, account_name,
                     (amount_fen / 100)::text || '.' || lpad((amount_fen % 100)::text, 2, '0'), benefit
              FROM bank_lines_t ORDER BY id) TO STDOUT (FORMAT csv)
        """;

    private static readonly Gen<string?> Text = Gen.OneOf(
        Gen.Const((string?)null),
        Gen.Const((string?)""),
        Gen.Const((string?)"\\."),
        Gen.Char[",\"\r\n\\. a0中文张三·é'"].Array[0, 12].Select(c => (string?)new string(c)),
        Gen.Char['\u0001', '\u9fff'].Array[0, 20].Select(c => (string?)new string(c))); // any character PostgreSQL stores (no NUL, no lone surrogate)

    private static readonly Gen<Row[]> Rows = Gen.Select(Text, Text, Text, Gen.Long[0, 100_000_000_00L], Text)
        .Select((code, account, name, fen, benefit) => new Row(code, account, name, fen, benefit))
        .Array[1, 400];

    public sealed record Row(string? Code, string? Account, string? Name, long Fen, string? Benefit);

    [Fact]
    public async Task Lines_are_the_bytes_of_PostgreSQLs_CSV_copy()
    {
        Rows.Sample(rows => AssertSameAsync(db.DataSource, rows).GetAwaiter().GetResult(), iter: 60);
    }

    [Fact]
    public async Task A_name_longer_than_the_reading_block_and_a_million_yuan_stay_whole()
    {
        var rows = Enumerable.Range(0, 3000).Select(i => new Row("102", $"6217{i:D12}", "李四", i * 101L, "enterprise_pension"))
            .Append(new Row("102", "6217", new string('名', 100_000) + ",\"", 100_000_000L, "work_injury"))
            .Append(new Row("102", "6217", "", 5, null))
            .ToArray();
        await AssertSameAsync(db.DataSource, rows);
    }

    private static async Task AssertSameAsync(NpgsqlDataSource dataSource, Row[] rows)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("""
            CREATE TEMP TABLE bank_lines_t (id bigint GENERATED ALWAYS AS IDENTITY, bank_code text, bank_account text,
                                            account_name text, amount_fen bigint, benefit text) ON COMMIT DROP
            """, transaction: tx);
        await conn.ExecuteAsync(
            "INSERT INTO bank_lines_t (bank_code, bank_account, account_name, amount_fen, benefit) VALUES (@Code, @Account, @Name, @Fen, @Benefit)",
            rows, tx);

        string expected;
        using (var reader = await conn.BeginTextExportAsync(PostgresCsv))
            expected = await reader.ReadToEndAsync();
        using var written = new MemoryStream();
        var sha = await BankLines.WriteAsync(conn, $"SELECT {BankLines.Columns} FROM bank_lines_t ORDER BY id",
            written, CancellationToken.None);

        var expectedBytes = Encoding.UTF8.GetBytes(expected);
        Assert.Equal(rows.Length, expected.Count(c => c == '\n') - rows.Sum(r => CountNewlines(r)));
        Assert.Equal(expected, Encoding.UTF8.GetString(written.ToArray()));
        Assert.Equal(expectedBytes, written.ToArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expectedBytes)), sha);
        await tx.RollbackAsync();
    }

    private static int CountNewlines(Row r) =>
        new[] { r.Code, r.Account, r.Name, r.Benefit }.Sum(s => s?.Count(c => c == '\n') ?? 0);
}
