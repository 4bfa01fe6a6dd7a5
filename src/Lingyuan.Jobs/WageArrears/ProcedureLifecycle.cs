using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>The states of a listing procedure (人社部令第45号, DOMAIN.md §4); stored as snake_case text.</summary>
public enum ProcedureState { ScreenedOut, Candidate, NoticeSent, Listed, NotListed, Removed }

/// <summary>What can happen to a procedure.</summary>
public enum ProcedureVerb { Retest, SendNotice, RecordStatement, List, NotList, Expire, Repair, Overturn }

/// <summary>
/// The lifecycle of a listing procedure, written once: the daily screening enters a case whose payment
/// deadline passed unpaid as <c>candidate</c> (listable) or <c>screened_out</c>; a screened-out case whose
/// register data changed may become a candidate; the pre-listing notice opens the statement period; after it
/// the case is listed or not listed; a listed case is removed when its period ends, on credit repair, or when
/// the decision is overturned. The database's CHECK on <c>app.arrears_procedures.state</c> is tested against
/// this table. This is also the only code that loads and locks a procedure.
/// Today's procedure, modelled as it is: the daily job also decides a case whose statement period ended
/// without a statement (a later issue moves every decision to a person).
/// </summary>
public static class ProcedureLifecycle
{
    /// <summary>Who acts on a case on the dashboard (an admin may do everything, as <see cref="Roles.IsAny"/>).</summary>
    public static readonly string[] ActRoles = [Roles.Inspection, Roles.Admin];

    public static StateTable<ProcedureState, ProcedureVerb> Table { get; } = new(
        "欠薪案件",
        new Dictionary<ProcedureState, string>
        {
            [ProcedureState.ScreenedOut] = "未达列入标准",
            [ProcedureState.Candidate] = "拟列入(待发告知书)",
            [ProcedureState.NoticeSent] = "已告知(陈述申辩/待决定)",
            [ProcedureState.Listed] = "已列入",
            [ProcedureState.NotListed] = "不予列入",
            [ProcedureState.Removed] = "已移出",
        },
        [
            // The daily job's moves (no role: only the service makes them).
            new(ProcedureVerb.Retest, [ProcedureState.ScreenedOut], ProcedureState.Candidate, [], "重新检验"),
            new(ProcedureVerb.SendNotice, [ProcedureState.Candidate], ProcedureState.NoticeSent, [], "发出告知书"),
            new(ProcedureVerb.Expire, [ProcedureState.Listed], ProcedureState.Removed, [], "期满移出"),
            // People's moves on the dashboard; List and NotList are also made by the daily job when due (above).
            new(ProcedureVerb.RecordStatement, [ProcedureState.NoticeSent], ProcedureState.NoticeSent, ActRoles, "登记陈述申辩"),
            new(ProcedureVerb.List, [ProcedureState.NoticeSent], ProcedureState.Listed, ActRoles, "列入名单"),
            new(ProcedureVerb.NotList, [ProcedureState.NoticeSent], ProcedureState.NotListed, ActRoles, "不予列入"),
            new(ProcedureVerb.Repair, [ProcedureState.Listed], ProcedureState.Removed, ActRoles, "信用修复提前移出"),
            new(ProcedureVerb.Overturn, [ProcedureState.Listed], ProcedureState.Removed, ActRoles, "撤销并移出"),
        ]);

    /// <summary>A procedure's state as people read it; a case that has not entered the procedure has none.</summary>
    public static string Label(string? db) => db is null ? "未进入程序" : Table.Label(db);

    /// <summary>Where the screening enters a case: a candidate when the listing test says listable.</summary>
    public static ProcedureState Entry(bool listable) => listable ? ProcedureState.Candidate : ProcedureState.ScreenedOut;

    /// <summary>The states of a case still waiting for its decision (the to-do list, staff reminders).</summary>
    public static string[] Undecided { get; } = [Table.Db(ProcedureState.Candidate), Table.Db(ProcedureState.NoticeSent)];

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
