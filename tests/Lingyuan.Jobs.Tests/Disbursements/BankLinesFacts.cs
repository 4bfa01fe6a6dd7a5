using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Dapper;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>
/// The bank file's D lines (<see cref="BankLines"/>, PostgreSQL's CSV copy): the exact bytes of awkward values
/// (docs/bank-file.md), and for generated text — commas, quotes, CR, LF, backslashes, <c>\.</c>, empty strings,
/// NULLs, Chinese, amounts with any fen, a name longer than a read block — a file that reads back (RFC 4180) to
/// the very values, whose SHA-256 is the one returned.
/// </summary>
public class BankLinesFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly Gen<string?> Text = Gen.OneOf(
        Gen.Const((string?)null),
        Gen.Const((string?)""),
        Gen.Const((string?)"\\."),
        Gen.Char[",\"\r\n\\. a0中文张三·é'#"].Array[0, 12].Select(c => (string?)new string(c)),
        Gen.Char['\u0001', '\u9fff'].Array[0, 20].Select(c => (string?)new string(c))); // any character PostgreSQL stores (no NUL, no lone surrogate)

    private static readonly Gen<Row[]> Rows = Gen.Select(Text, Text, Text, Gen.Long[0, 100_000_000_00L], Text)
        .Select((code, account, name, fen, benefit) => new Row(code, account, name, fen, benefit))
        .Array[1, 400];

    public sealed record Row(string? Code, string? Account, string? Name, long Fen, string? Benefit);

    [Fact]
    public async Task Awkward_values_are_written_as_the_bank_file_format_says()
    {
        var rows = new[]
        {
            new Row("102", "6217000000000001", "张三", 150_001, "enterprise_pension"),
            new Row("102", "62,17", "王\"小\"明", 5, null),
            new Row("102", "", "李\n四", 100_000_000_00L, "work_injury"),
            new Row("102", "6217", "#注释", 0, " x "),
        };
        var (bytes, sha) = await WriteAsync(db.DataSource, rows);
        const string Expected =
            "D,1,102,6217000000000001,张三,1500.01,enterprise_pension\n" +
            "D,2,102,\"62,17\",\"王\"\"小\"\"明\",0.05,\n" +
            "D,3,102,\"\",\"李\n四\",100000000.00,work_injury\n" +
            "D,4,102,6217,#注释,0.00, x \n";
        Assert.Equal(Expected, Encoding.UTF8.GetString(bytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Expected))), sha);
    }

    [Fact]
    public async Task Generated_lines_read_back_to_their_values_and_hash_to_what_was_written()
    {
        Rows.Sample(rows => AssertReadsBackAsync(db.DataSource, rows).GetAwaiter().GetResult(), iter: 60);
    }

    [Fact]
    public async Task A_name_longer_than_the_reading_block_and_a_million_yuan_stay_whole()
    {
        var rows = Enumerable.Range(0, 3000).Select(i => new Row("102", $"6217{i:D12}", "李四", i * 101L, "enterprise_pension"))
            .Append(new Row("102", "6217", new string('名', 100_000) + ",\"", 100_000_000L, "work_injury"))
            .Append(new Row("102", "6217", "", 5, null))
            .ToArray();
        await AssertReadsBackAsync(db.DataSource, rows);
    }

    private static async Task AssertReadsBackAsync(NpgsqlDataSource dataSource, Row[] rows)
    {
        var (bytes, sha) = await WriteAsync(dataSource, rows);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha);
        var records = Records(Encoding.UTF8.GetString(bytes));
        Assert.Equal(rows.Length, records.Count);
        for (var i = 0; i < rows.Length; i++)
        {
            var r = rows[i];
            Assert.Equal(["D", (i + 1).ToString(), r.Code ?? "", r.Account ?? "", r.Name ?? "", $"{r.Fen / 100}.{r.Fen % 100:D2}", r.Benefit ?? ""],
                records[i]);
        }
    }

    /// <summary>
    /// The reading side of RFC 4180 with LF records, written out here as the oracle (Sylvan 1.4.4 misreads the
    /// records after a first record whose quoted field holds a CR).
    /// </summary>
    private static List<string[]> Records(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (c == '\n') { fields.Add(field.ToString()); field.Clear(); records.Add([.. fields]); fields.Clear(); }
            else field.Append(c);
        }
        Assert.False(quoted, "the text ends inside a quoted field");
        Assert.True(field.Length == 0 && fields.Count == 0, "the last record has no line end");
        return records;
    }

    private static async Task<(byte[] Bytes, string Sha)> WriteAsync(NpgsqlDataSource dataSource, Row[] rows)
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
        using var written = new MemoryStream();
        var sha = await BankLines.WriteAsync(conn, $"SELECT {BankLines.Columns} FROM bank_lines_t ORDER BY id",
            written, CancellationToken.None);
        await tx.RollbackAsync();
        return (written.ToArray(), sha);
    }
}
