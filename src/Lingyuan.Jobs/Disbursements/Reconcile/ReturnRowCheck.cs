namespace Lingyuan.Jobs.Disbursements;

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
