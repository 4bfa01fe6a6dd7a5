using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>The states of a zero-employment case (DOMAIN.md §3); stored as snake_case text.</summary>
public enum CaseState { Proposed, Identified, Overdue, Cleared, Rejected, Closed }

/// <summary>What can happen to a case.</summary>
public enum CaseVerb { RemindProposal, Confirm, Reject, Remind, MarkOverdue, Clear, CloseNoLongerQualifying, Close }

/// <summary>
/// The lifecycle of a zero-employment case, written once: the daily check proposes a household (proposed)
/// and reminds the caseworker of a proposal left unconfirmed; identification is a person's act
/// (就业促进法 art. 56; 就业服务与就业管理规定 arts. 40-43): the community caseworker whose e-mail the
/// communities register names (or an admin) confirms it (identified: the clearing deadline starts) or
/// rejects it, each with a reason. The check then reminds the caseworker before the deadline, marks it overdue after it, clears it when a working-age
/// member is employed and closes it when the household no longer qualifies; an admin closes an open case
/// for a reason the registers cannot show (moved, refused three referrals). A cleared, rejected or closed case is a
/// record and never changes (a trigger of migrations 0050/0115 refuses it). The database's CHECK on
/// <c>app.zero_employment_cases.state</c> is tested against this table. This is also the only code that
/// locks a case.
/// </summary>
public static class CaseLifecycle
{
    /// <summary>Cases the check still follows: a proposal and an identified case not yet cleared.</summary>
    private static readonly CaseState[] Open = [CaseState.Proposed, CaseState.Identified, CaseState.Overdue];

    /// <summary>Confirmed cases not yet cleared: they count as open in the ledger and can be cleared.</summary>
    private static readonly CaseState[] Active = [CaseState.Identified, CaseState.Overdue];

    public static StateTable<CaseState, CaseVerb> Table { get; } = new(
        "零就业家庭案件",
        new Dictionary<CaseState, string>
        {
            [CaseState.Proposed] = "待确认",
            [CaseState.Identified] = "帮扶中",
            [CaseState.Overdue] = "已逾期",
            [CaseState.Cleared] = "已清零",
            [CaseState.Rejected] = "不予认定",
            [CaseState.Closed] = "已结案",
        },
        [
            // A person's act: the caseworker of the household's community (or an admin) decides on the proposal.
            new(CaseVerb.Confirm, [CaseState.Proposed], CaseState.Identified, [Dashboard.Roles.Caseworker, Dashboard.Roles.Admin], "确认认定"),
            new(CaseVerb.Reject, [CaseState.Proposed], CaseState.Rejected, [Dashboard.Roles.Caseworker, Dashboard.Roles.Admin], "不予认定"),
            // The daily check's moves (no role: only the service makes them).
            new(CaseVerb.RemindProposal, [CaseState.Proposed], CaseState.Proposed, [], "提醒确认"),
            new(CaseVerb.Remind, [CaseState.Identified], CaseState.Identified, [], "提醒"),
            new(CaseVerb.MarkOverdue, [CaseState.Identified], CaseState.Overdue, [], "逾期报送"),
            new(CaseVerb.Clear, Active, CaseState.Cleared, [], "清零"),
            new(CaseVerb.CloseNoLongerQualifying, Open, CaseState.Closed, [], "不再符合条件结案"),
            // A person's move: closing for another reason is an admin's business action.
            new(CaseVerb.Close, Active, CaseState.Closed, [Dashboard.Roles.Admin], "结案"),
        ]);

    /// <summary>The open states (a case the check still follows), as the database stores them.</summary>
    public static string[] OpenStates { get; } = [.. Open.Select(Table.Db)];

    /// <summary>
    /// The open states as a SQL list, <c>('identified', 'overdue')</c>, built from the table: for the daily
    /// check's set-based statements, whose <c>ON CONFLICT</c> target must repeat the predicate of the partial
    /// unique index <c>zero_employment_cases_one_open</c> as text (and whose other open-case filters keep the
    /// same text, so their plans are those measured in BENCH.md). Elsewhere the states go as parameters.
    /// </summary>
    public static string OpenSqlList { get; } = "(" + string.Join(", ", OpenStates.Select(s => $"'{s}'")) + ")";

    /// <summary>The confirmed, not yet cleared states as a SQL list, <c>('identified', 'overdue')</c>: the cases the check may clear.</summary>
    public static string ActiveSqlList { get; } = "(" + string.Join(", ", Active.Select(s => $"'{Table.Db(s)}'")) + ")";

    public static bool IsOpen(CaseState state) => Open.Contains(state);

    /// <summary>Locks a case for a person's move (a concurrent check waits, then finds it moved on) and returns its state.</summary>
    public static async Task<CaseState> LockAsync(UnitOfWork uow, long id)
    {
        var state = await uow.SingleOrDefaultAsync<string>(
            "SELECT state FROM app.zero_employment_cases WHERE id = @id FOR UPDATE", new { id })
            ?? throw new DomainRuleException($"no zero-employment case {id} / 没有编号为 {id} 的案件");
        return Table.Parse(state);
    }
}
