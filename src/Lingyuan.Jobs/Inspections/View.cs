using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.Inspections;

/// <summary>A draw as listed (its secret and snapshot are loaded only where shown).</summary>
public sealed class DrawRow
{
    public long Id { get; init; }
    public long PlanId { get; init; }
    public int Attempt { get; init; }
    public string Algorithm { get; init; } = "";
    public DateOnly DrawDate { get; init; }
    public byte[] SnapshotHash { get; init; } = [];
    public byte[] Seed { get; init; } = [];
    public byte[] ResultHash { get; init; } = [];
    public int EmployerCount { get; init; }
    public string Operator { get; init; } = "";
    public DateTime StartedAt { get; init; }
    public DateTime FinishedAt { get; init; }
    public string? CancelReason { get; init; }
    public string? CancelledBy { get; init; }
    public DateTime? CancelledAt { get; init; }
    /// <summary>When the plan's commitment was published (the plan's creation).</summary>
    public DateTime CommitmentPublishedAt { get; init; }
    /// <summary>When the snapshot the draw used was frozen (null for ly-draw-1 draws).</summary>
    public DateTime? SnapshotFrozenAt { get; init; }
    public string? PublicValue { get; init; }
    public string? PublicSource { get; init; }
    /// <summary>The state as stored text (derived, see <see cref="PlanLifecycle.DrawStateSql"/>).</summary>
    public string StateDb { get; init; } = "";

    public PlanState State => PlanLifecycle.Table.Parse(StateDb);
    public bool Cancelled => State == PlanState.Cancelled;
}

public sealed class DrawFailureRow
{
    public long Id { get; init; }
    public long PlanId { get; init; }
    public DateTime FailedAt { get; init; }
    public string Operator { get; init; } = "";
    public string Report { get; init; } = "";
}

public sealed class OverdueRow
{
    public long DrawId { get; init; }
    public string Uscc { get; init; } = "";
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public DateTime DueOn { get; init; }
    public bool Missing { get; init; }
}

public sealed class DrawResultRow
{
    public int Position { get; init; }
    public string RiskClass { get; init; } = "";
    public string Uscc { get; init; } = "";
    public string Name { get; init; } = "";
    public string[] Team { get; init; } = [];
    public string[] Names { get; init; } = [];
    public DateOnly? CompletedOn { get; init; }
    public string? Finding { get; init; }
    /// <summary>Case opening (立案) and the completion deadline with its extension (劳动保障监察条例 art. 17).</summary>
    public DateOnly? OpenedOn { get; init; }
    public DateOnly? DueOn { get; init; }
    public bool Overdue { get; init; }
    public string? ExtendedBy { get; init; }
    public string? ExtensionReason { get; init; }
}

/// <summary>What the draws page lists: plans, draws, recent failures, overdue inspections.</summary>
public sealed record InspectionsOverview(
    IReadOnlyList<Plan> Plans, IReadOnlyList<DrawRow> Draws, IReadOnlyList<DrawFailureRow> Failures, IReadOnlyList<OverdueRow> Overdue, bool CalendarMissing)
{
    /// <summary>When each plan may be drawn: commitment published, earliest by the lead time, frozen snapshot, public value date.</summary>
    public IReadOnlyDictionary<long, DrawTiming> Timings { get; init; } = new Dictionary<long, DrawTiming>();
}

/// <summary>One draw as its page shows it: the record, the revealed secret, the drawn employers, inspectors without e-mail.</summary>
public sealed record DrawDetail(DrawRow Draw, byte[] Secret, IReadOnlyList<DrawResultRow> Results, IReadOnlyList<string> InspectorsWithoutEmail);

/// <summary>The View slice: the queries of the draws page (<c>/hangfire/draws</c>); reads only.</summary>
public sealed class InspectionsView(Work work, Lingyuan.Jobs.Calendar.CalendarStore calendars, Microsoft.Extensions.Options.IOptions<InspectionOptions> options, Lingyuan.Jobs.Calendar.BureauClock clock)
{
    private static readonly string DrawColumns = $"""
        d.id, d.plan_id AS PlanId, d.attempt, d.algorithm, d.draw_date AS DrawDate, d.snapshot_hash AS SnapshotHash, d.seed,
        d.result_hash AS ResultHash, d.employer_count AS EmployerCount, d.operator, d.started_at AS StartedAt, d.finished_at AS FinishedAt,
        c.reason AS CancelReason, c.cancelled_by AS CancelledBy, c.cancelled_at AS CancelledAt, {PlanLifecycle.DrawStateSql} AS StateDb,
        (SELECT p.created_at FROM app.inspection_plans p WHERE p.id = d.plan_id) AS CommitmentPublishedAt,
        (SELECT s.frozen_at FROM app.draw_snapshots s WHERE s.id = d.snapshot_id) AS SnapshotFrozenAt, d.public_value AS PublicValue, d.public_source AS PublicSource
        """;

    /// <summary>
    /// A stored failure report as the page reads it: the brief report as it is; a report of the first format (an
    /// array with one entry per employer, up to megabytes) trimmed in the database to its length and first 100 entries.
    /// </summary>
    public const string FailureReportSql = """
        CASE WHEN jsonb_typeof(report) = 'array'
             THEN jsonb_build_object('legacy_count', jsonb_array_length(report), 'items', jsonb_path_query_array(report, '$[0 to 99]'))::text
             ELSE report::text END
        """;

    /// <summary>The draws page: every plan; one page of draws, failures and overdue inspections (newest first).</summary>
    public Task<InspectionsOverview> OverviewAsync(CancellationToken ct, int page = 1, int pageSize = 50) =>
        work.RunAsync("draws.view", async uow =>
        {
            var offset = (page - 1) * pageSize;
            var plans = await PlansAsync(uow);
            var draws = await uow.ListAsync<DrawRow>(
                $"SELECT {DrawColumns} FROM app.draws d LEFT JOIN app.draw_cancellations c ON c.draw_id = d.id ORDER BY d.id DESC LIMIT @pageSize OFFSET @offset",
                new { pageSize, offset });
            var failures = await uow.ListAsync<DrawFailureRow>(
                $"SELECT id, plan_id AS PlanId, failed_at AS FailedAt, operator, {FailureReportSql} AS Report FROM app.draw_failures ORDER BY id DESC LIMIT @pageSize OFFSET @offset",
                new { pageSize, offset });
            var overdue = await uow.ListAsync<OverdueRow>(
                $"""
                SELECT x.draw_id AS DrawId, x.uscc, coalesce(e.name, '') AS Name, x.kind, x.due_on AS DueOn, x.calendar_missing AS Missing
                FROM app.inspection_deadlines x LEFT JOIN app.employers e ON e.uscc = x.uscc JOIN app.draws d ON d.id = x.draw_id
                WHERE x.met_on IS NULL AND x.overdue_since IS NOT NULL AND {PlanLifecycle.Standing("d")}
                ORDER BY x.due_on, x.draw_id, x.uscc LIMIT @pageSize OFFSET @offset
                """, new { pageSize, offset });
            var missingCalendar = await uow.ScalarAsync<bool>(
                "SELECT EXISTS (SELECT 1 FROM app.inspection_deadlines WHERE met_on IS NULL AND calendar_missing)");
            var calendar = await calendars.LoadAsync(uow.Cancellation);
            var timings = new Dictionary<long, DrawTiming>();
            foreach (var p in plans.Where(p => PlanLifecycle.Table.Allows(PlanVerb.Freeze, p.State)))
                timings[p.Id] = DrawTiming.Of(p, await SnapshotFreeze.OpenAsync(uow, p.Id), calendar, options.Value, clock);
            return new InspectionsOverview(plans, draws, failures, overdue, missingCalendar) { Timings = timings };
        }, ct);

    /// <summary>A stored UTC time as people read it ("2026-12-02 10:38 (北京时间)").</summary>
    public string Format(DateTime utc) => clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));

    /// <summary>One plan (any state), or null.</summary>
    public Task<Plan?> PlanAsync(long planId, CancellationToken ct) => work.RunAsync("draws.view", uow => InspectionPlans.GetAsync(uow, planId), ct);

    /// <summary>Every plan, latest draw date first, with its state.</summary>
    public Task<List<Plan>> PlansAsync(CancellationToken ct) => work.RunAsync("draws.view", PlansAsync, ct);

    /// <summary>Every draw, latest first, with its cancellation.</summary>
    public Task<List<DrawRow>> DrawsAsync(CancellationToken ct) => work.RunAsync("draws.view", DrawsAsync, ct);

    /// <summary>
    /// The home page's counts: plans whose draw is due by <paramref name="horizon"/> and not yet made (or failed),
    /// inspection deadlines (completion, publication) open and due by then, and those already overdue.
    /// </summary>
    public Task<(long DrawsDue, long DeadlinesDue, long Overdue)> DueAsync(DateOnly horizon, CancellationToken ct) =>
        work.RunAsync("draws.due", uow => uow.SingleAsync<(long, long, long)>(
            $"""
            SELECT (SELECT count(*) FROM app.inspection_plans p
                    WHERE p.draw_date <= @horizon AND ({PlanLifecycle.StateSql}) IN ('{PlanLifecycle.Table.Db(PlanState.Scheduled)}', '{PlanLifecycle.Table.Db(PlanState.Failed)}')),
                   (SELECT count(*) FROM app.inspection_deadlines x JOIN app.draws d ON d.id = x.draw_id
                    WHERE x.met_on IS NULL AND x.overdue_since IS NULL AND x.due_on <= @horizon AND {PlanLifecycle.Standing("d")}),
                   (SELECT count(*) FROM app.inspection_deadlines x JOIN app.draws d ON d.id = x.draw_id
                    WHERE x.met_on IS NULL AND x.overdue_since IS NOT NULL AND {PlanLifecycle.Standing("d")})
            """, new { horizon }), ct);

    private static Task<List<Plan>> PlansAsync(UnitOfWork uow) =>
        uow.ListAsync<Plan>($"SELECT {InspectionPlans.Columns} FROM app.inspection_plans p ORDER BY p.draw_date DESC, p.id DESC");

    private static Task<List<DrawRow>> DrawsAsync(UnitOfWork uow) =>
        uow.ListAsync<DrawRow>($"SELECT {DrawColumns} FROM app.draws d LEFT JOIN app.draw_cancellations c ON c.draw_id = d.id ORDER BY d.id DESC");

    /// <summary>One draw with its results (at most 5,000 rows shown), or null when there is no such draw.</summary>
    public Task<DrawDetail?> DetailAsync(long drawId, CancellationToken ct) =>
        work.RunAsync("draws.view", async uow =>
        {
            var draw = await uow.SingleOrDefaultAsync<DrawRow>(
                $"SELECT {DrawColumns} FROM app.draws d LEFT JOIN app.draw_cancellations c ON c.draw_id = d.id WHERE d.id = @drawId", new { drawId });
            if (draw is null) return null;
            var secret = await uow.ScalarAsync<byte[]>("SELECT secret FROM app.draws WHERE id = @drawId", new { drawId });
            var rows = await uow.ListAsync<DrawResultRow>(
                """
                SELECT r.position, r.risk_class AS RiskClass, r.uscc, coalesce(e.name, '') AS Name, r.team,
                       ARRAY(SELECT coalesce(i.name, '') FROM unnest(r.team) WITH ORDINALITY t(b, n) LEFT JOIN app.inspectors i ON i.badge_no = t.b ORDER BY t.n) AS Names,
                       x.completed_on AS CompletedOn, x.finding,
                       o.opened_on AS OpenedOn, dl.due_on AS DueOn, (dl.overdue_since IS NOT NULL AND dl.met_on IS NULL) AS Overdue,
                       ext.approved_by AS ExtendedBy, ext.reason AS ExtensionReason
                FROM app.draw_results r LEFT JOIN app.employers e ON e.uscc = r.uscc
                LEFT JOIN app.inspection_results x ON x.draw_id = r.draw_id AND x.uscc = r.uscc
                LEFT JOIN app.inspection_openings o ON o.draw_id = r.draw_id AND o.uscc = r.uscc
                LEFT JOIN app.inspection_extensions ext ON ext.draw_id = r.draw_id AND ext.uscc = r.uscc
                LEFT JOIN app.inspection_deadlines dl ON dl.draw_id = r.draw_id AND dl.uscc = r.uscc AND dl.kind = 'completion'
                WHERE r.draw_id = @drawId ORDER BY r.position LIMIT 5000
                """, new { drawId });
            var noEmail = await uow.ListAsync<string>(
                """
                SELECT DISTINCT b FROM app.draw_results r CROSS JOIN LATERAL unnest(r.team) b
                LEFT JOIN app.inspectors i ON i.badge_no = b
                WHERE r.draw_id = @drawId AND btrim(coalesce(i.email, '')) = '' ORDER BY b
                """, new { drawId });
            return new DrawDetail(draw, secret!, rows, noEmail);
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });

    /// <summary>The stored register snapshot of a draw (canonical text), or null when there is no such draw.</summary>
    public Task<byte[]?> SnapshotAsync(long drawId, CancellationToken ct) =>
        work.RunAsync("draws.view", uow => uow.ScalarAsync<byte[]?>("SELECT snapshot FROM app.draws WHERE id = @drawId", new { drawId }), ct);
}
