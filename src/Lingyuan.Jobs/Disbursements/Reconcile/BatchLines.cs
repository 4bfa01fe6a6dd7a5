using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>The payable lines of a batch, ascending by id, with their amounts and any outcome already recorded.</summary>
/// <remarks>Sized for the batch's approved line count up front: grown by doubling, a million lines were copied
/// over and over into fresh memory.</remarks>
internal sealed class BatchLines(int capacity)
{
    private readonly List<long> _ids = new(capacity);
    private readonly List<long> _amountFen = new(capacity);
    private readonly List<byte> _recorded = new(capacity); // 0 none, 1 paid, 2 failed
    private readonly Dictionary<int, (string? Code, string? Reason)> _failedAs = []; // the bank's code and reason of each recorded failure (few)

    public int Count => _ids.Count;

    private int _next; // just after the line found last: a return file usually follows the bank file's line order

    /// <summary>The line's position, or -1 when the id is not a payable line of the batch.</summary>
    public int IndexOf(long id)
    {
        if (_next < _ids.Count && _ids[_next] == id) return _next++;
        var i = _ids.BinarySearch(id);
        if (i < 0) return -1;
        _next = i + 1;
        return i;
    }

    public long AmountFen(int i) => _amountFen[i];

    public string? Recorded(int i) => _recorded[i] switch { 1 => "paid", 2 => "failed", _ => null };

    /// <summary>Whether a recorded failure was given another code or reason than <paramref name="code"/> and <paramref name="reason"/> ("" for none).</summary>
    public bool FailedOtherwise(int i, string code, string reason) =>
        _failedAs.TryGetValue(i, out var r) && ((r.Code ?? "") != code || (r.Reason ?? "") != reason);

    /// <summary>
    /// Reads the lines; without outcomes from the batch's index alone (0170_batch_lines_covered.sql: it includes
    /// amount and status), once the batch's pages are marked all-visible (autovacuum does it after a build).
    /// </summary>
    public static async Task<BatchLines> ReadAsync(NpgsqlConnection conn, long batchId, bool withOutcomes, int expected, CancellationToken ct)
    {
        var select = withOutcomes
            ? $"""
              SELECT l.id, l.amount_fen, o.status, o.failure_code, o.failure_reason
              FROM app.disbursement_lines l LEFT JOIN app.disbursement_outcomes o ON o.line_id = l.id
              WHERE {BatchLineRange.Where(batchId, "l")} AND l.status = 'payable' ORDER BY l.id
              """
            : $"SELECT id, amount_fen, NULL::text FROM app.disbursement_lines WHERE {BatchLineRange.Where(batchId)} AND status = 'payable' ORDER BY id";
        var lines = new BatchLines(expected);
        await using var export = await conn.BeginBinaryExportAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", ct);
        // Synchronous reads: a row is a few small fields, nearly always in Npgsql's buffer already.
        while (export.StartRow() != -1)
        {
            lines._ids.Add(export.Read<long>());
            lines._amountFen.Add(export.Read<long>());
            var recorded = export.IsNull ? Skip(export) : export.Read<string>() == "paid" ? (byte)1 : (byte)2;
            lines._recorded.Add(recorded);
            if (!withOutcomes) continue;
            if (recorded == 2) lines._failedAs[lines._recorded.Count - 1] = (TextOrNull(export), TextOrNull(export));
            else { export.Skip(); export.Skip(); }
        }
        return lines;

        static byte Skip(NpgsqlBinaryExporter e) { e.Skip(); return 0; }
        static string? TextOrNull(NpgsqlBinaryExporter e) { if (e.IsNull) { e.Skip(); return null; } return e.Read<string>(); }
    }
}
