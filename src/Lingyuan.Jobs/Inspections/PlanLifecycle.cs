using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// Where an inspection plan stands (DOMAIN.md §1). A draw takes the state of its plan's attempt: a standing
/// draw is <see cref="Drawn"/>, a cancelled one <see cref="Cancelled"/>. No column stores it: the records
/// are append-only, so the state is derived from them by <see cref="PlanLifecycle.StateSql"/> and
/// <see cref="PlanLifecycle.DrawStateSql"/>, the only place that knows how.
/// </summary>
public enum PlanState { Scheduled, Drawn, Failed, Cancelled, Withdrawn }

/// <summary>What can be done to a plan or its draw.</summary>
public enum PlanVerb { Draw, RecordFailure, Cancel, Publish, Freeze, Edit, Withdraw }

/// <summary>A plan as loaded for a move: the plan, its state and its standing draw (when drawn).</summary>
public sealed record LoadedPlan(Plan Plan, PlanState State, long? StandingDrawId);

/// <summary>A draw as loaded (and row-locked) for a move: its plan and its state.</summary>
public sealed record LoadedDraw(long DrawId, long PlanId, PlanState State);

/// <summary>
/// The lifecycle of a "double random" plan, written once: scheduled (its seed commitment published) →
/// drawn on or after its draw date, by an inspection user or the daily job; a draw the rules make
/// impossible is recorded as failed and the plan stays drawable (the job tries again when the registers
/// change); a draw is cancelled only with a reason, and the plan may then be drawn again (both stay on
/// record). Results of a standing draw are published (公示). The plan's draw lock and the loading of a plan
/// or a draw for a move are here too, and nowhere else.
/// </summary>
public static class PlanLifecycle
{
    private static readonly string[] Changers = [Roles.Inspection, Roles.Admin];

    public static StateTable<PlanState, PlanVerb> Table { get; } = new(
        "抽查计划",
        new Dictionary<PlanState, string>
        {
            [PlanState.Scheduled] = "未摇号",
            [PlanState.Drawn] = "有效",
            [PlanState.Failed] = "摇号失败",
            [PlanState.Cancelled] = "已撤销",
            [PlanState.Withdrawn] = "已撤回",
        },
        [
            // The draw date is checked beside the move (PlanLifecycle is about records, the date about the promise to the public).
            new(PlanVerb.Draw, [PlanState.Scheduled, PlanState.Failed, PlanState.Cancelled], PlanState.Drawn, Changers, "摇号"),
            // Not a choice anyone makes: a draw the rules make impossible is recorded, with its report.
            new(PlanVerb.RecordFailure, [PlanState.Scheduled, PlanState.Failed, PlanState.Cancelled], PlanState.Failed, [], "记录摇号失败"),
            new(PlanVerb.Cancel, [PlanState.Drawn], PlanState.Cancelled, Changers, "撤销"),
            new(PlanVerb.Publish, [PlanState.Drawn], PlanState.Drawn, Changers, "登记公示"),
            // The register snapshot is frozen (and its hash published) before the public random value exists;
            // the daily job does it the day before the draw date, a person may do it earlier.
            new(PlanVerb.Freeze, [PlanState.Scheduled, PlanState.Failed, PlanState.Cancelled], PlanState.Scheduled, Changers, "冻结名录快照"),
            // Until its draw a plan may be changed (withdrawn and replaced by a plan with a fresh commitment) or withdrawn.
            new(PlanVerb.Edit, [PlanState.Scheduled, PlanState.Failed], PlanState.Withdrawn, Changers, "修改"),
            new(PlanVerb.Withdraw, [PlanState.Scheduled, PlanState.Failed, PlanState.Cancelled], PlanState.Withdrawn, Changers, "撤回"),
        ]);

    /// <summary>
    /// A draw of plan <c>d.plan_id</c> stands (is not cancelled): the predicate every query about standing
    /// draws uses, for the draw aliased <paramref name="draw"/>.
    /// </summary>
    public static string Standing(string draw) =>
        $"NOT EXISTS (SELECT 1 FROM app.draw_cancellations dc WHERE dc.draw_id = {draw}.id)";

    /// <summary>The state of the plan aliased <c>p</c>, as stored text (one SQL expression).</summary>
    public static readonly string StateSql = $"""
        CASE
          WHEN EXISTS (SELECT 1 FROM app.plan_withdrawals sw WHERE sw.plan_id = p.id) THEN '{Table.Db(PlanState.Withdrawn)}'
          WHEN EXISTS (SELECT 1 FROM app.draws sd WHERE sd.plan_id = p.id AND {Standing("sd")}) THEN '{Table.Db(PlanState.Drawn)}'
          WHEN EXISTS (SELECT 1 FROM app.draw_failures sf WHERE sf.plan_id = p.id
                       AND sf.failed_at > coalesce((SELECT max(sc.cancelled_at) FROM app.draws sd JOIN app.draw_cancellations sc ON sc.draw_id = sd.id
                                                    WHERE sd.plan_id = p.id), '-infinity')) THEN '{Table.Db(PlanState.Failed)}'
          WHEN EXISTS (SELECT 1 FROM app.draws sd WHERE sd.plan_id = p.id) THEN '{Table.Db(PlanState.Cancelled)}'
          ELSE '{Table.Db(PlanState.Scheduled)}'
        END
        """;

    /// <summary>The state of the draw aliased <c>d</c> (drawn or cancelled), as stored text.</summary>
    public static readonly string DrawStateSql =
        $"CASE WHEN {Standing("d")} THEN '{Table.Db(PlanState.Drawn)}' ELSE '{Table.Db(PlanState.Cancelled)}' END";

    /// <summary>The states from which a verb may be made, as a SQL list for <c>IN (…)</c>.</summary>
    public static string SqlFrom(PlanVerb verb) => string.Join(", ", Table.MoveOf(verb).From.Select(s => $"'{Table.Db(s)}'"));

    /// <summary>
    /// The unit-of-work options of a draw of <paramref name="planId"/>: repeatable read, so the register
    /// queries see one snapshot, taken after a session lock on the plan. Two workers (or the job and an
    /// operator) drawing the same plan: one waits, then sees the other's draw.
    /// </summary>
    public static WorkOptions DrawWork(long planId) => new()
    {
        RecordId = $"plan:{planId}",
        Isolation = System.Data.IsolationLevel.RepeatableRead,
        SessionLock = $"inspection-draw:{planId}",
    };

    /// <summary>Loads a plan with its state and standing draw (the caller holds the plan's draw lock, see <see cref="DrawWork"/>).</summary>
    public static async Task<LoadedPlan> LoadAsync(UnitOfWork uow, long planId)
    {
        var plan = await uow.SingleOrDefaultAsync<Plan>($"SELECT {InspectionPlans.Columns} FROM app.inspection_plans p WHERE p.id = @planId", new { planId })
            ?? throw new DomainRuleException($"no inspection plan {planId} / 没有该抽查计划");
        var standing = await uow.SingleOrDefaultAsync<long?>(
            $"SELECT d.id FROM app.draws d WHERE d.plan_id = @planId AND {Standing("d")}", new { planId });
        return new LoadedPlan(plan, plan.State, standing);
    }

    /// <summary>
    /// Loads a draw with its state and locks its row, so two cancellations of one draw queue up. The state
    /// is read after the lock, in a statement of its own, so the second one sees the first one's cancellation.
    /// </summary>
    public static async Task<LoadedDraw> LoadDrawAsync(UnitOfWork uow, long drawId)
    {
        var planId = await uow.SingleOrDefaultAsync<long?>("SELECT plan_id FROM app.draws WHERE id = @drawId FOR NO KEY UPDATE", new { drawId })
            ?? throw new DomainRuleException($"no draw {drawId} / 没有该摇号记录");
        var state = await uow.SingleAsync<string>($"SELECT {DrawStateSql} FROM app.draws d WHERE d.id = @drawId", new { drawId });
        return new LoadedDraw(drawId, planId, Table.Parse(state));
    }
}
