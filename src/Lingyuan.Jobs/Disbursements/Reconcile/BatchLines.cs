using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>The payable lines of a batch, ascending by id, with their amounts and any outcome already recorded.</summary>
internal sealed class BatchLines
{
    private readonly List<long> _ids = [];
    private readonly List<long> _amountFen = [];
    private readonly List<byte> _recorded = []; // 0 none, 1 paid, 2 failed

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

    public static async Task<BatchLines> ReadAsync(NpgsqlConnection conn, long batchId, bool withOutcomes, CancellationToken ct)
    {
        var select = withOutcomes
            ? $"""
              SELECT l.id, l.amount_fen, o.status FROM app.disbursement_lines l LEFT JOIN app.disbursement_outcomes o ON o.line_id = l.id
              WHERE {BatchLineRange.Where(batchId, "l")} AND l.status = 'payable' ORDER BY l.id
              """
            : $"SELECT id, amount_fen, NULL::text FROM app.disbursement_lines WHERE {BatchLineRange.Where(batchId)} AND status = 'payable' ORDER BY id";
        var lines = new BatchLines();
        await using var export = await conn.BeginBinaryExportAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", ct);
        // Synchronous reads: a row is three small fields, nearly always in Npgsql's buffer already.
        while (export.StartRow() != -1)
        {
            lines._ids.Add(export.Read<long>());
            lines._amountFen.Add(export.Read<long>());
            lines._recorded.Add(export.IsNull ? Skip(export) : export.Read<string>() == "paid" ? (byte)1 : (byte)2);
        }
        return lines;

        static byte Skip(NpgsqlBinaryExporter e) { e.Skip(); return 0; }
    }
}
