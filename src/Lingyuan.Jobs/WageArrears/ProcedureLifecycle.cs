using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>The states of a listing procedure (人社部令第45号, DOMAIN.md §4); stored as snake_case text.</summary>
public enum ProcedureState { ScreenedOut, Candidate, NoticeIssued, NoticeServed, DecisionProposed, Listed, NotListed, Removed }

/// <summary>What can happen to a procedure.</summary>
public enum ProcedureVerb
{
    Retest, IssueNotice, RecordService, RecordStatement, CheckStatement, Propose, Approve, ReturnProposal, Extend,
    RemoveExpired, ApplyRemoval, GrantRemoval, RefuseRemoval, RevokeRemoval, Overturn,
}

/// <summary>
/// The lifecycle of a listing procedure, written once. The daily job only screens: a case whose payment
/// deadline passed unpaid enters as <c>candidate</c> (listable; the notice is drafted) or <c>screened_out</c>,
/// and a screened-out case whose register data changed may become a candidate. Every other move is a named
/// person's: an inspection user issues the notice, records its service (送达; the statement period runs from
/// the day after), records and checks a statement, and proposes a decision; a decider other than the
/// proposer approves it (four eyes) or returns it; a decider extends the decision deadline once (+20 working
/// days, art. 8), decides early removal (arts. 12-14) and revokes one obtained by fraud (art. 15). Removal
/// when the period ends is recorded by a person too (the public list drops the party on that day by itself).
/// The database's CHECK on <c>app.arrears_procedures.state</c> is tested against this table. This is also the
/// only code that loads and locks a procedure.
/// </summary>
public static class ProcedureLifecycle
{
    /// <summary>Who prepares and proposes on a case (an admin may do everything, as <see cref="Roles.IsAny"/>).</summary>
    public static readonly string[] ActRoles = [Roles.Inspection, Roles.Admin];

    /// <summary>
    /// The moves a decider (the department head, <c>app.users.decider</c>) makes: the role is checked as for
    /// any move, the duty inside the unit of work (<see cref="UserStore.IsDeciderAsync"/>).
    /// </summary>
    public static readonly ProcedureVerb[] DeciderVerbs =
        [ProcedureVerb.Approve, ProcedureVerb.ReturnProposal, ProcedureVerb.Extend, ProcedureVerb.GrantRemoval,
         ProcedureVerb.RefuseRemoval, ProcedureVerb.RevokeRemoval, ProcedureVerb.Overturn];

    private static readonly ProcedureState[] Open =
        [ProcedureState.Candidate, ProcedureState.NoticeIssued, ProcedureState.NoticeServed, ProcedureState.DecisionProposed];

    public static StateTable<ProcedureState, ProcedureVerb> Table { get; } = new(
        "欠薪案件",
        new Dictionary<ProcedureState, string>
        {
            [ProcedureState.ScreenedOut] = "未达列入标准",
            [ProcedureState.Candidate] = "拟列入(待发告知书)",
            [ProcedureState.NoticeIssued] = "告知书已发出(待登记送达)",
            [ProcedureState.NoticeServed] = "已送达(陈述申辩/待提出决定)",
            [ProcedureState.DecisionProposed] = "决定待审批",
            [ProcedureState.Listed] = "已列入",
            [ProcedureState.NotListed] = "不予列入",
            [ProcedureState.Removed] = "已移出",
        },
        [
            // The daily job's only move (no role: only the service makes it).
            new(ProcedureVerb.Retest, [ProcedureState.ScreenedOut], ProcedureState.Candidate, [], "重新检验"),
            // People's moves.
            new(ProcedureVerb.IssueNotice, [ProcedureState.Candidate], ProcedureState.NoticeIssued, ActRoles, "发出告知书"),
            new(ProcedureVerb.RecordService, [ProcedureState.NoticeIssued], ProcedureState.NoticeServed, ActRoles, "登记送达"),
            new(ProcedureVerb.RecordStatement, [ProcedureState.NoticeServed], ProcedureState.NoticeServed, ActRoles, "登记陈述申辩"),
            new(ProcedureVerb.CheckStatement, [ProcedureState.NoticeServed], ProcedureState.NoticeServed, ActRoles, "登记陈述申辩核查结果"),
            new(ProcedureVerb.Propose, [ProcedureState.NoticeServed], ProcedureState.DecisionProposed, ActRoles, "提出决定(待审批)"),
            new(ProcedureVerb.Approve, [ProcedureState.DecisionProposed], ProcedureState.Listed, ActRoles, "审批决定"),
            new(ProcedureVerb.ReturnProposal, [ProcedureState.DecisionProposed], ProcedureState.NoticeServed, ActRoles, "退回决定"),
            // Extend leaves the state as it is (its To is not used); Approve ends in not_listed when that was proposed.
            new(ProcedureVerb.Extend, Open, ProcedureState.NoticeServed, ActRoles, "延长决定期限"),
            new(ProcedureVerb.RemoveExpired, [ProcedureState.Listed], ProcedureState.Removed, ActRoles, "期满移出"),
            new(ProcedureVerb.ApplyRemoval, [ProcedureState.Listed], ProcedureState.Listed, ActRoles, "登记提前移出申请"),
            new(ProcedureVerb.GrantRemoval, [ProcedureState.Listed], ProcedureState.Removed, ActRoles, "准予提前移出"),
            new(ProcedureVerb.RefuseRemoval, [ProcedureState.Listed], ProcedureState.Listed, ActRoles, "不予提前移出"),
            new(ProcedureVerb.RevokeRemoval, [ProcedureState.Removed], ProcedureState.Listed, ActRoles, "撤销提前移出(恢复列入)"),
            new(ProcedureVerb.Overturn, [ProcedureState.Listed], ProcedureState.Removed, ActRoles, "撤销列入决定并移出"),
        ]);

    /// <summary>What a proposal asks for, as people read it.</summary>
    public static string ProposalZh(string? kind) => kind switch
    {
        "listed" => "列入名单",
        "not_listed" => "不予列入",
        _ => "—",
    };

    /// <summary>A procedure's state as people read it; a case that has not entered the procedure has none.</summary>
    public static string Label(string? db) => db is null ? "未进入程序" : Table.Label(db);

    /// <summary>Where the screening enters a case: a candidate when the listing test says listable.</summary>
    public static ProcedureState Entry(bool listable) => listable ? ProcedureState.Candidate : ProcedureState.ScreenedOut;

    /// <summary>The states of a case still waiting for its decision (the work queue, staff reminders).</summary>
    public static string[] Undecided { get; } = Open.Select(Table.Db).ToArray();

    /// <summary>The states in which a party is on the list (a pending early-removal application does not change it).</summary>
    public static string ListedDb => Table.Db(ProcedureState.Listed);

    /// <summary>Set on a refusal the dashboard answers with 403 (wrong person), rather than 409 (wrong state).</summary>
    public const string ForbiddenKey = "forbidden";

    public static DomainRuleException Forbidden(string message)
    {
        var e = new DomainRuleException(message);
        e.Data[ForbiddenKey] = true;
        return e;
    }

    /// <summary>
    /// Locks the procedure row (a concurrent decision or removal waits, then finds the state moved on) and
    /// reads the case.
    /// </summary>
    public static async Task<CaseView> LoadForUpdateAsync(UnitOfWork uow, string caseNo)
    {
        await uow.ExecuteAsync("SELECT 1 FROM app.arrears_procedures WHERE case_no = @caseNo FOR UPDATE", new { caseNo });
        return await uow.SingleOrDefaultAsync<CaseView>(CaseView.Select + " WHERE c.case_no = @caseNo", new { caseNo })
            ?? throw new DomainRuleException($"没有案件 {caseNo}");
    }
}
