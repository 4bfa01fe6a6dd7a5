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
              WHERE l.batch_id = {batchId} AND l.status = 'payable' ORDER BY l.id
              """
            : $"SELECT id, amount_fen, NULL::text FROM app.disbursement_lines WHERE batch_id = {batchId} AND status = 'payable' ORDER BY id";
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

internal enum RowVerdict { Problem, AlreadyRecorded, Apply }

/// <summary>
/// Checks the rows of a return file against the batch's lines, in file order: a reference must be a payable
/// line of the batch, appear once in the file, carry the line's amount, and not contradict an outcome already
/// recorded. The messages and their order are those the operators know (file line, then the problem).
/// </summary>
internal sealed class ReturnRowCheck(BatchLines lines, long batchId)
{
    private readonly long[] _firstSeen = new long[lines.Count]; // file line where each batch line was first referenced; 0: not yet
    private readonly Dictionary<long, long> _unknownFirstSeen = [];

    /// <summary>Problems found so far (format problems included); only the first <see cref="Reconciler.MaxProblemsListed"/> are kept.</summary>
    public long Count { get; private set; }

    public List<(long Line, string Problem)> Listed { get; } = [];

    public void Problem(long line, string problem)
    {
        Count++;
        if (Listed.Count < Reconciler.MaxProblemsListed) Listed.Add((line, problem));
    }

    /// <summary>
    /// Checks one row. A row whose reference, status or amount did not parse (the caller reported that) still
    /// counts as the first occurrence of its reference, so a later row with the same one is its duplicate.
    /// </summary>
    public RowVerdict Row(long line, long? lineId, string? status, long? fen)
    {
        if (lineId is not { } id) return RowVerdict.Problem;
        var i = lines.IndexOf(id);
        var first = i >= 0 ? _firstSeen[i] : _unknownFirstSeen.GetValueOrDefault(id);
        if (first == 0)
        {
            if (i >= 0) _firstSeen[i] = line;
            else _unknownFirstSeen[id] = line;
        }
        if (status is null || fen is not { } amount) return RowVerdict.Problem;

        if (first != 0) Problem(line, $"line_ref {id}: duplicate (first on line {first}) / 流水引用重复");
        else if (i < 0) Problem(line, $"line_ref {id}: unknown in batch {batchId} / 本批次没有该流水引用");
        else if (lines.AmountFen(i) != amount) Problem(line, $"line_ref {id}: amount {amount} fen, the batch paid {lines.AmountFen(i)} fen / 金额与发放金额不符");
        else if (lines.Recorded(i) is { } recorded)
        {
            if (recorded == status) return RowVerdict.AlreadyRecorded; // the same answer again: nothing to apply
            Problem(line, $"line_ref {id}: already recorded as {recorded} / 已登记为 {recorded}");
        }
        else return RowVerdict.Apply;
        return RowVerdict.Problem;
    }
}
