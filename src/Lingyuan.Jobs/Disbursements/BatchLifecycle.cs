using System.Globalization;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>The states of a disbursement batch (DOMAIN.md §2); stored as snake_case text.</summary>
public enum BatchState { Draft, Submitted, Approved, Rejected, Exported, Reconciled }

/// <summary>What can be done to a batch.</summary>
public enum BatchVerb { Submit, Approve, Reject, Export, Reconcile }

/// <summary>The header of a batch: its state, its counters and who did what.</summary>
public sealed record BatchHeader(
    long Id, Period Period, BatchState State, string BuiltBy, long PayableCount, long PayableTotalFen, long HeldCount,
    string? SubmittedBy, string? DecidedBy, string? RejectReason, long? ApprovedLineCount, long? ApprovedTotalFen, string? ApprovedSha256,
    long OutcomeCount);

/// <summary>
/// The lifecycle of a batch, written once: draft → submitted → approved by another finance user (four
/// eyes) → exported (bank file) → reconciled (return file); a draft or submitted batch may be rejected with
/// a reason. The database's CHECK on <c>app.disbursement_batches.state</c> is tested against this table.
/// </summary>
public static class BatchLifecycle
{
    private static readonly string[] Reviewers = [Roles.Finance, Roles.Admin];

    public static StateTable<BatchState, BatchVerb> Table { get; } = new(
        "批次",
        new Dictionary<BatchState, string>
        {
            [BatchState.Draft] = "草稿",
            [BatchState.Submitted] = "待审批",
            [BatchState.Approved] = "已审批",
            [BatchState.Rejected] = "已退回",
            [BatchState.Exported] = "已生成银行文件",
            [BatchState.Reconciled] = "已对账",
        },
        [
            new(BatchVerb.Submit, [BatchState.Draft], BatchState.Submitted, Reviewers, "提交审批"),
            new(BatchVerb.Approve, [BatchState.Submitted], BatchState.Approved, Reviewers, "审批通过"),
            new(BatchVerb.Reject, [BatchState.Draft, BatchState.Submitted], BatchState.Rejected, Reviewers, "退回"),
            // Export again is allowed (a lost file is written again from the same approved lines); the state stays.
            new(BatchVerb.Export, [BatchState.Approved, BatchState.Exported, BatchState.Reconciled], BatchState.Exported, Reviewers, "生成银行文件"),
            // A return file may come in parts: the batch is reconciled when every approved line has its outcome.
            new(BatchVerb.Reconcile, [BatchState.Exported, BatchState.Reconciled], BatchState.Reconciled, Reviewers, "导入银行回盘"),
        ]);

    /// <summary>Set on a refusal the dashboard answers with 403 (wrong person), rather than 409 (wrong state).</summary>
    public const string ForbiddenKey = "forbidden";

    /// <summary>SQL: the batch (alias <paramref name="alias"/>) counts, i.e. was not rejected; a period has at most one such batch.</summary>
    public static string LiveSql(string? alias = null) =>
        $"{(alias is null ? "" : alias + ".")}state <> '{Table.Db(BatchState.Rejected)}'";

    /// <summary>SQL: the batch is in <paramref name="state"/>.</summary>
    public static string InSql(BatchState state) => $"state = '{Table.Db(state)}'";

    /// <summary>The header of a batch, or null (no lock).</summary>
    public static async Task<BatchHeader?> FindAsync(UnitOfWork uow, long id) =>
        (await uow.SingleOrDefaultAsync<HeaderRow>($"{HeaderSelect} WHERE id = @id", new { id }))?.ToHeader();

    /// <summary>The header of a batch, locked for the rest of the work (other acts on it wait); refused when there is none.</summary>
    public static async Task<BatchHeader> LockAsync(UnitOfWork uow, long id) =>
        (await uow.SingleOrDefaultAsync<HeaderRow>($"{HeaderSelect} WHERE id = @id FOR UPDATE", new { id }))?.ToHeader() ?? throw Missing(id);

    /// <summary>The latest batches, newest period first (the batches page).</summary>
    public static async Task<List<BatchHeader>> LatestAsync(UnitOfWork uow, int limit) =>
        (await uow.ListAsync<HeaderRow>($"{HeaderSelect} ORDER BY period DESC, id DESC LIMIT @limit", new { limit })).Select(r => r.ToHeader()).ToList();

    /// <summary>The live batch of a period, if any.</summary>
    public static Task<long?> LiveBatchOfAsync(UnitOfWork uow, Period period) =>
        uow.ScalarAsync<long?>($"SELECT id FROM app.disbursement_batches WHERE period = @p AND {LiveSql()}", new { p = period.FirstDay });

    /// <summary>
    /// Makes <paramref name="verb"/>'s move on a locked batch: the guard, then the conditional update (setting
    /// <paramref name="set"/> too, with <paramref name="args"/>). Returns the move.
    /// </summary>
    public static async Task<Move<BatchState, BatchVerb>> MoveAsync(UnitOfWork uow, BatchHeader b, BatchVerb verb, string set, object? args = null)
    {
        var move = Table.Require(verb, b.State, Id(b.Id));
        var p = new DynamicParameters(args);
        p.Add("batchId", b.Id);
        p.Add("to", Table.Db(move.To));
        p.Add("from", move.From.Select(Table.Db).ToArray());
        await uow.ExecuteAsync($"UPDATE app.disbursement_batches SET state = @to{set} WHERE id = @batchId AND state = ANY(@from)", p);
        return move;
    }

    public static DomainRuleException Missing(long id) => new($"batch {id} does not exist / 批次 {id} 不存在");

    public static DomainRuleException Forbidden(string message)
    {
        var e = new DomainRuleException(message);
        e.Data[ForbiddenKey] = true;
        return e;
    }

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private const string HeaderSelect = """
        SELECT id AS Id, period AS Period, state AS State, built_by AS BuiltBy, payable_count AS PayableCount,
               payable_total_fen AS PayableTotalFen, held_count AS HeldCount, submitted_by AS SubmittedBy, decided_by AS DecidedBy,
               reject_reason AS RejectReason, approved_line_count AS ApprovedLineCount, approved_total_fen AS ApprovedTotalFen,
               approved_sha256 AS ApprovedSha256, outcome_count AS OutcomeCount
        FROM app.disbursement_batches
        """;

    // The row as stored: the state is text, read through the table.
    private sealed record HeaderRow(
        long Id, DateOnly Period, string State, string BuiltBy, long PayableCount, long PayableTotalFen, long HeldCount,
        string? SubmittedBy, string? DecidedBy, string? RejectReason, long? ApprovedLineCount, long? ApprovedTotalFen, string? ApprovedSha256,
        long OutcomeCount)
    {
        public BatchHeader ToHeader() => new(
            Id, Disbursements.Period.Of(Period), Table.Parse(State), BuiltBy, PayableCount, PayableTotalFen, HeldCount,
            SubmittedBy, DecidedBy, RejectReason, ApprovedLineCount, ApprovedTotalFen, ApprovedSha256, OutcomeCount);
    }
}
