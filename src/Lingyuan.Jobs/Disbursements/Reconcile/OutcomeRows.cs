using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// The outcomes a return file applies, written to <c>app.disbursement_outcomes</c> in PostgreSQL's text COPY format
/// through Npgsql's text import. Not Npgsql's binary importer: it binds a parameter for every value (seven million
/// for a million rows), which cost 0.6–0.8 s of client CPU, and with it reconciling a million lines was 1.98–2.08×
/// QUALITY.md's bound (target 2.0×; ops/bench, three runs, 2026-12-03). Written as text, 4 of 4 lab pairs were
/// faster: 2.53–2.63 s against 2.80–2.95 s (user CPU 1.5–1.6 s against 2.2–2.4 s). The format is one line per row,
/// fields split by tabs, <c>\N</c> for NULL, and a backslash before the four characters that would break it
/// (https://www.postgresql.org/docs/15/sql-copy.html, "Text Format"); the reader has already refused NUL.
/// </summary>
internal sealed class OutcomeRows
{
    private const string Copy = "COPY app.disbursement_outcomes (line_id, batch_id, status, amount_fen, bank_txn_ref, failure_code, failure_reason) FROM STDIN";

    private static readonly SearchValues<char> Escaped = SearchValues.Create("\\\t\n\r");

    private readonly NpgsqlCopyTextWriter _writer;

    private OutcomeRows(NpgsqlCopyTextWriter writer) => _writer = writer;

    public static async Task<OutcomeRows> BeginAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var writer = await conn.BeginTextImportAsync(Copy, ct);
        writer.Timeout = 0; // no limit: a large file's last rows may take the server a while
        return new OutcomeRows(writer);
    }

    /// <summary>One row; an empty text is NULL. Synchronous: the writer buffers, and an await per row cost more than the row.</summary>
    public void Write(long lineId, long batchId, string status, long amountFen, string[] text)
    {
        Span<char> head = stackalloc char[80]; // two 19-digit ids, "failed", an amount: at most 67
        if (!head.TryWrite(CultureInfo.InvariantCulture, $"{lineId}\t{batchId}\t{status}\t{amountFen}", out var length))
            throw new UnreachableException();
        _writer.Write(head[..length]);
        foreach (var t in text)
        {
            _writer.Write('\t');
            Text(t);
        }
        _writer.Write('\n');
    }

    private void Text(string value)
    {
        if (value.Length == 0) { _writer.Write("\\N"); return; }
        var span = value.AsSpan();
        while (span.IndexOfAny(Escaped) is var i and >= 0)
        {
            _writer.Write(span[..i]);
            _writer.Write(span[i] switch { '\\' => "\\\\", '\t' => "\\t", '\n' => "\\n", _ => "\\r" });
            span = span[(i + 1)..];
        }
        _writer.Write(span);
    }

    /// <summary>Sends the last rows and ends the COPY: the server inserts them into the transaction.</summary>
    public async Task CompleteAsync() => await _writer.DisposeAsync();

    /// <summary>Ends the COPY without a row inserted. The writer is not disposed after it: disposing would send its buffer into the ended COPY.</summary>
    public Task CancelAsync() => _writer.CancelAsync();
}
