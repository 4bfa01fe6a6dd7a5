namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// Checks the rows of a return file against the batch's lines, in file order: a reference must be a payable
/// line of the batch, appear once in the file, carry the line's amount, and not contradict an outcome already
/// recorded. The messages and their order are those the operators know (file line, then the problem).
/// Rows are added as the file is read (the batch's lines may still be on their way) and checked at the end
/// (<see cref="Check"/>); a row keeps only what the check needs (32 bytes: a million rows hold 32 MB).
/// </summary>
internal sealed class ReturnRowCheck(long batchId, int expectedRows = 0)
{
    private const byte None = 0, Paid = 1, Failed = 2;

    private struct Row
    {
        public long Line, Id, Fen;
        public byte Status;
        public bool HasId, HasFen, Malformed;
    }

    private readonly List<Row> _rows = new(expectedRows);
    private readonly List<string> _formatProblems = []; // the first ones, in file order; a malformed row beyond them is only counted
    private readonly Dictionary<long, long> _unknownFirstSeen = [];
    private long _unlistedWithoutReference; // malformed rows with no reference beyond the listed format problems
    private long[] _firstSeen = []; // file line where each batch line was first referenced; 0: not yet

    /// <summary>Problems found (format problems as rows are added; the rest once checked); only the first <see cref="Reconciler.MaxProblemsListed"/> are kept.</summary>
    public long Count { get; private set; }

    /// <summary>Whether a row so far did not parse (its reference, status or amount, or its column count).</summary>
    public bool Malformed { get; private set; }

    /// <summary>Rows added (blank lines are not rows).</summary>
    public long Rows => _rows.Count + _unlistedWithoutReference;

    public long Applied { get; private set; }
    public long PaidCount { get; private set; }
    public long FailedCount { get; private set; }

    /// <summary>
    /// Rows repeating a recorded failure with another code or reason: nothing is applied for them (the first
    /// answer stays, append-only), and the result says how many there were, so that the clerk asks the bank.
    /// </summary>
    public long FailedOtherwise { get; private set; }

    /// <summary>Counts a row that repeats a recorded failure with another code or reason (the reader compares them).</summary>
    public void CountFailedOtherwise() => FailedOtherwise++;

    public List<(long Line, string Problem)> Listed { get; } = [];

    /// <summary>
    /// Adds a row as read. A row whose reference, status or amount did not parse comes with the reason
    /// (<paramref name="formatProblem"/>) and still counts as the first occurrence of its reference, so a
    /// later row with the same one is its duplicate.
    /// </summary>
    public void Add(long line, long? lineId, string? status, long? fen, string? formatProblem)
    {
        var malformed = formatProblem is not null;
        if (malformed)
        {
            Malformed = true;
            if (_formatProblems.Count < Reconciler.MaxProblemsListed) _formatProblems.Add(formatProblem!);
            // Beyond the listed ones a row without a reference matters only as a number: a file of garbage
            // keeps no memory per row.
            else if (lineId is null) { _unlistedWithoutReference++; return; }
        }
        _rows.Add(new Row
        {
            Line = line, Id = lineId ?? 0, HasId = lineId is not null, Fen = fen ?? 0, HasFen = fen is not null,
            Status = status == "paid" ? Paid : status == "failed" ? Failed : None, Malformed = malformed,
        });
    }

    /// <summary>Checks every row added, in file order, against the batch's lines; counts what would be applied.</summary>
    public void Check(BatchLines lines)
    {
        _firstSeen = new long[lines.Count];
        Count += _unlistedWithoutReference; // never listed: the first problems listed come before them
        var formatProblem = 0;
        foreach (var row in _rows)
        {
            if (row.Malformed)
                Problem(row.Line, formatProblem < _formatProblems.Count ? _formatProblems[formatProblem++] : null);
            if (Verdict(lines, row) != RowVerdict.Apply) continue;
            Applied++;
            if (row.Status == Paid) PaidCount++; else FailedCount++;
        }
    }

    private void Problem(long line, string? problem)
    {
        Count++;
        if (Listed.Count < Reconciler.MaxProblemsListed && problem is not null) Listed.Add((line, problem));
    }

    private RowVerdict Verdict(BatchLines lines, Row row)
    {
        if (!row.HasId) return RowVerdict.Problem;
        var id = row.Id;
        var i = lines.IndexOf(id);
        var first = i >= 0 ? _firstSeen[i] : _unknownFirstSeen.GetValueOrDefault(id);
        if (first == 0)
        {
            if (i >= 0) _firstSeen[i] = row.Line;
            else _unknownFirstSeen[id] = row.Line;
        }
        if (row.Malformed) return RowVerdict.Problem;

        // Each problem in English for the command line, then in Chinese with the same details (amounts in yuan)
        // for the batch page, which shows the Chinese half.
        var status = row.Status == Paid ? "paid" : "failed";
        if (first != 0) Problem(row.Line, $"line_ref {id}: duplicate (first on line {first}) / 流水引用 {id} 重复(首次出现在第 {first} 行)");
        else if (i < 0) Problem(row.Line, $"line_ref {id}: unknown in batch {batchId} / 本批次(编号 {batchId})没有流水引用 {id}");
        else if (lines.AmountFen(i) != row.Fen)
            Problem(row.Line, $"line_ref {id}: amount {row.Fen} fen, the batch paid {lines.AmountFen(i)} fen / 流水引用 {id} 回盘金额 {Money.Yuan(row.Fen)} 元,与发放金额 {Money.Yuan(lines.AmountFen(i))} 元不符");
        else if (lines.Recorded(i) is { } recorded)
        {
            if (recorded == status) return RowVerdict.AlreadyRecorded; // the same answer again: nothing to apply
            Problem(row.Line, $"line_ref {id}: already recorded as {recorded} / 流水引用 {id} 已登记为{Zh(recorded)},本文件为{Zh(status)}");
        }
        else return RowVerdict.Apply;
        return RowVerdict.Problem;
    }

    private static string Zh(string outcome) => outcome == "paid" ? "成功" : "失败";

    private enum RowVerdict { Problem, AlreadyRecorded, Apply }
}
