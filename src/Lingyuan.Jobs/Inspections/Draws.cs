using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;
using NpgsqlTypes;

namespace Lingyuan.Jobs.Inspections;

/// <summary>What running a plan's draw came to: a recorded draw, a recorded failure, or an existing draw left alone.</summary>
public sealed record DrawRun(long PlanId, long? DrawId, bool Existing, long? FailureId, IReadOnlyList<Unassignable> Unassignable, int MailsQueued)
{
    public bool Succeeded => DrawId is not null;
}

/// <summary>
/// The Draw slice: runs, verifies and cancels draws (<c>draw run|verify|cancel</c>, the daily job
/// <c>inspection-draws</c>, <c>POST /hangfire/draws/plans/{id}/run</c> and <c>/{id}/cancel</c>); the records
/// are append-only (0030_inspections.sql). Moves are guarded by <see cref="PlanLifecycle"/>.
/// </summary>
public sealed class DrawService(Work work, CalendarStore calendars, IOptions<InspectionOptions> options, BureauClock clock, ILogger<DrawService> log)
{
    /// <summary>
    /// Draws a plan, as the acting person (<see cref="Acting"/>). With <paramref name="onlyIfNone"/> (the daily
    /// job) a plan that has a standing draw is left alone; otherwise (an operator's <c>draw run</c>) that is
    /// refused: a redraw needs a cancellation.
    /// </summary>
    public async Task<DrawRun> RunAsync(long planId, bool onlyIfNone, CancellationToken ct)
    {
        var started = clock.UtcNow;
        var run = await work.RunAsync("draw.run", uow => RunLockedAsync(uow, planId, onlyIfNone, started), ct, PlanLifecycle.DrawWork(planId));
        if (run.Succeeded && !run.Existing) TestHooks.Point("inspection-draw:committed");
        return run;
    }

    private async Task<DrawRun> RunLockedAsync(UnitOfWork uow, long planId, bool onlyIfNone, DateTimeOffset started)
    {
        var (plan, state, standing) = await PlanLifecycle.LoadAsync(uow, planId);
        // The commitment was published for this date: drawing earlier would break the promise to the public.
        if (plan.DrawDate > clock.Today)
            throw new DomainRuleException($"plan {planId} is to be drawn on {plan.DrawDate:yyyy-MM-dd}, not before / 未到计划摇号日期");
        if (!PlanLifecycle.Table.Allows(PlanVerb.Draw, state))
        {
            if (onlyIfNone && standing is { } drawn) return new DrawRun(planId, drawn, true, null, [], 0);
            throw new DomainRuleException($"plan {planId} has draw {standing} already; cancel it with a reason to redraw / 该计划已有摇号结果 {standing},重新摇号须先撤销并说明理由");
        }
        var attempt = await uow.ScalarAsync<int>("SELECT count(*) + 1 FROM app.draws WHERE plan_id = @planId", new { planId });
        var secret = await uow.ScalarAsync<byte[]>("SELECT secret FROM app.inspection_plans WHERE id = @planId", new { planId });

        DrawSnapshot snapshot;
        try { snapshot = await LoadSnapshotAsync(uow, plan); }
        catch (ArgumentException e) { throw new DomainRuleException($"plan {planId}: the registers cannot be drawn from: {e.Message} / 名录数据有误"); }
        var outcome = DrawAlgorithm.Run(snapshot, secret!, planId, plan.DrawDate);
        var actor = uow.Acting.Actor;

        if (!outcome.Succeeded)
        {
            PlanLifecycle.Table.Require(PlanVerb.RecordFailure, state, planId.ToString(CultureInfo.InvariantCulture));
            var report = JsonSerializer.Serialize(outcome.Unassignable.Select(u => new
            {
                uscc = u.Uscc, risk_class = u.RiskClass.ToString(), candidates = u.Candidates, team_size = plan.TeamSize,
                excluded = u.Excluded.Select(x => new { badge = x.Badge, reasons = x.Reasons.Select(ReasonCode).ToArray() }),
            }));
            var failureId = await uow.ScalarAsync<long?>(
                """
                INSERT INTO app.draw_failures (plan_id, algorithm, snapshot_hash, report, operator)
                VALUES (@planId, @Version, @hash, @report::jsonb, @actor)
                ON CONFLICT (plan_id, snapshot_hash) DO NOTHING RETURNING id
                """, new { planId, DrawAlgorithm.Version, hash = outcome.SnapshotHash, report, actor });
            if (failureId is not null)
                await uow.AuditAsync("draw.fail", "inspection_plan", planId.ToString(CultureInfo.InvariantCulture),
                    details: $"{outcome.Unassignable.Count} employer(s) cannot get a team of {plan.TeamSize}");
            log.LogWarning("draw of plan {PlanId} failed: {Count} employer(s) unassignable", planId, outcome.Unassignable.Count);
            return new DrawRun(planId, null, false, failureId, outcome.Unassignable, 0);
        }

        var drawId = await uow.ScalarAsync<long>(
            """
            INSERT INTO app.draws (plan_id, attempt, algorithm, draw_date, snapshot, snapshot_hash, secret, seed, result_hash,
                                   employer_count, operator, started_at)
            VALUES (@planId, @attempt, @Version, @drawDate, @snapshot, @snapshotHash, @secret, @seed, @resultHash, @count, @actor, @started)
            RETURNING id
            """,
            new
            {
                planId, attempt, DrawAlgorithm.Version, drawDate = plan.DrawDate, snapshot = snapshot.Encode(), snapshotHash = outcome.SnapshotHash,
                secret, seed = outcome.Seed, resultHash = SHA256.HashData(outcome.ResultBytes()), count = outcome.Drawn.Count, actor, started,
            });
        await CopyResultsAsync(uow, drawId, outcome.Drawn);
        TestHooks.Point("inspection-draw:recorded");
        var calendar = await calendars.LoadAsync(uow.Cancellation);
        var completion = calendar.AddWorkingDays(plan.DrawDate, options.Value.CompletionWorkingDays);
        var mails = await AssignmentMail.EnqueueAsync(uow, drawId, plan, completion, options.Value.CompletionWorkingDays, options.Value.PublicationWorkingDays);
        await uow.AuditAsync("draw.run", "draw", drawId.ToString(CultureInfo.InvariantCulture),
            after: new { planId, attempt, employers = outcome.Drawn.Count, seed = Convert.ToHexStringLower(outcome.Seed) });
        TestHooks.Point("inspection-draw:before-commit");
        log.LogInformation("plan {PlanId}: draw {DrawId} drew {Count} employer(s), {Mails} assignment mail(s) queued", planId, drawId, outcome.Drawn.Count, mails);
        return new DrawRun(planId, drawId, false, null, [], mails);
    }

    public static string ReasonCode(Exclusion e) => e switch
    {
        Exclusion.Inactive => "inactive",
        Exclusion.Conflict => "conflict",
        Exclusion.Rotation => "rotation",
        _ => "cap",
    };

    public static string ReasonZh(string code) => code switch
    {
        "inactive" => "非在岗",
        "conflict" => "回避(利害关系)",
        "rotation" => "轮换(近期检查过)",
        "cap" => "已达工作量上限",
        _ => code,
    };

    private static async Task CopyResultsAsync(UnitOfWork uow, long drawId, IReadOnlyList<DrawnEmployer> drawn)
    {
        var ct = uow.Cancellation;
        await using var w = await uow.Connection.BeginBinaryImportAsync("COPY app.draw_results (draw_id, position, risk_class, uscc, team) FROM STDIN (FORMAT BINARY)", ct);
        var position = 0;
        foreach (var d in drawn)
        {
            await w.StartRowAsync(ct);
            await w.WriteAsync(drawId, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(++position, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(d.RiskClass.ToString(), NpgsqlDbType.Char, ct);
            await w.WriteAsync(d.Uscc, NpgsqlDbType.Char, ct);
            await w.WriteAsync(d.Team, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
        }
        await w.CompleteAsync(ct);
    }

    /// <summary>
    /// The register snapshot of a plan: employers in scope (abnormal-operations list → class D), every
    /// inspector with the active flag, conflicts of in-scope employers, and the teams of standing
    /// (not cancelled) draws of other plans drawn on or before this draw date within the rotation
    /// look-back, for in-scope employers.
    /// </summary>
    public static async Task<DrawSnapshot> LoadSnapshotAsync(UnitOfWork uow, Plan plan)
    {
        var scope = new { streets = plan.Streets, industries = plan.Industries, drawDate = plan.DrawDate, lookback = (int)plan.RotationLookbackMonths, planId = plan.Id };
        const string InScope = """
            (cardinality(@streets::text[]) = 0 OR e.street = ANY(@streets)) AND (cardinality(@industries::text[]) = 0 OR e.industry = ANY(@industries))
            """;
        var employers = await uow.ListAsync<(string Uscc, string Class)>(
            $"SELECT e.uscc, CASE WHEN e.abnormal THEN 'D' ELSE e.risk_class END FROM app.employers e WHERE {InScope}", scope);
        var inspectors = await uow.ListAsync<(string Badge, bool Active)>("SELECT badge_no, active FROM app.inspectors");
        var conflicts = await uow.ListAsync<(string Badge, string Uscc)>(
            $"""
            SELECT c.badge_no, c.uscc FROM app.conflicts c
            JOIN app.employers e ON e.uscc = c.uscc JOIN app.inspectors i ON i.badge_no = c.badge_no
            WHERE {InScope}
            """, scope);
        var rotation = plan.RotationLookbackMonths == 0 ? [] : await uow.ListAsync<(string Badge, string Uscc)>(
            $"""
            SELECT DISTINCT t.badge, r.uscc
            FROM app.draws d
            JOIN app.draw_results r ON r.draw_id = d.id
            CROSS JOIN LATERAL unnest(r.team) AS t(badge)
            JOIN app.employers e ON e.uscc = r.uscc
            WHERE d.plan_id <> @planId
              AND d.draw_date <= @drawDate AND d.draw_date >= @drawDate - make_interval(months => @lookback)
              AND {PlanLifecycle.Standing("d")}
              AND {InScope}
            """, scope);
        return DrawSnapshot.Create(
            plan.Parameters,
            employers.Select(e => new SnapshotEmployer(e.Uscc, e.Class[0])),
            inspectors.Select(i => new SnapshotInspector(i.Badge, i.Active)),
            conflicts.Select(c => new InspectorEmployer(c.Badge, c.Uscc)),
            rotation.Select(r => new InspectorEmployer(r.Badge, r.Uscc)));
    }

    /// <summary>Recomputes a draw from its stored inputs; returns each difference (empty = identical).</summary>
    public Task<IReadOnlyList<string>> VerifyAsync(long drawId, CancellationToken ct) =>
        work.RunAsync<IReadOnlyList<string>>("draw.verify", async uow =>
        {
            var d = await uow.SingleOrDefaultAsync<(long PlanId, string Algorithm, DateTime DrawDate, byte[] Snapshot, byte[] SnapshotHash, byte[] Secret, byte[] Seed, byte[] ResultHash, int EmployerCount, byte[] Commitment)?>(
                """
                SELECT d.plan_id, d.algorithm, d.draw_date, d.snapshot, d.snapshot_hash, d.secret, d.seed, d.result_hash, d.employer_count, p.commitment
                FROM app.draws d JOIN app.inspection_plans p ON p.id = d.plan_id WHERE d.id = @drawId
                """, new { drawId })
                ?? throw new DomainRuleException($"no draw {drawId} / 没有该摇号记录");
            var stored = (await uow.ListAsync<ResultRecord>(
                "SELECT position, risk_class AS RiskClass, uscc, team FROM app.draw_results WHERE draw_id = @drawId ORDER BY position", new { drawId }))
                .Select(r => new DrawnEmployer(r.RiskClass[0], r.Uscc, r.Team)).ToList();
            return Verify(d.PlanId, d.Algorithm, DateOnly.FromDateTime(d.DrawDate), d.Snapshot, d.SnapshotHash,
                d.Secret, d.Seed, d.ResultHash, d.EmployerCount, d.Commitment, stored);
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });

    /// <summary>The pure part of verification: every stored input and output against a recomputation.</summary>
    public static List<string> Verify(
        long planId, string algorithm, DateOnly drawDate, byte[] snapshotBytes, byte[] snapshotHash, byte[] secret, byte[] seed,
        byte[] resultHash, int employerCount, byte[] commitment, IReadOnlyList<DrawnEmployer> stored)
    {
        var diffs = new List<string>();
        if (algorithm != DrawAlgorithm.Version)
        {
            diffs.Add($"algorithm: stored '{algorithm}', this program implements '{DrawAlgorithm.Version}'");
            return diffs;
        }
        if (!DrawAlgorithm.Commitment(secret).AsSpan().SequenceEqual(commitment))
            diffs.Add($"secret: SHA-256 of the revealed secret is {Hex(DrawAlgorithm.Commitment(secret))}, the published commitment is {Hex(commitment)}");
        var actualSnapshotHash = SHA256.HashData(snapshotBytes);
        if (!actualSnapshotHash.AsSpan().SequenceEqual(snapshotHash))
            diffs.Add($"snapshot hash: stored {Hex(snapshotHash)}, SHA-256 of the stored snapshot is {Hex(actualSnapshotHash)}");
        DrawSnapshot snapshot;
        try { snapshot = DrawSnapshot.Decode(snapshotBytes); }
        catch (Exception e) when (e is FormatException or ArgumentException or DecoderFallbackException)
        {
            diffs.Add($"snapshot: not a canonical {DrawAlgorithm.Version} snapshot: {e.Message}");
            return diffs;
        }
        if (!snapshot.Encode().AsSpan().SequenceEqual(snapshotBytes))
            diffs.Add("snapshot: stored bytes are not in canonical order or form");
        var recomputedSeed = DrawAlgorithm.Seed(secret, planId, drawDate, actualSnapshotHash);
        if (!recomputedSeed.AsSpan().SequenceEqual(seed))
            diffs.Add($"seed: stored {Hex(seed)}, recomputed {Hex(recomputedSeed)}");
        var (drawn, unassignable, _) = DrawAlgorithm.Draw(snapshot, recomputedSeed);
        if (unassignable.Count > 0)
            diffs.Add($"result: the recomputed draw fails ({unassignable.Count} employer(s) without a full team), the stored one succeeded");
        if (employerCount != stored.Count)
            diffs.Add($"employer count: stored {employerCount}, stored result rows {stored.Count}");
        if (drawn.Count != stored.Count)
            diffs.Add($"result rows: stored {stored.Count}, recomputed {drawn.Count}");
        for (var i = 0; i < Math.Min(drawn.Count, stored.Count); i++)
        {
            if (drawn[i].Line == stored[i].Line) continue;
            diffs.Add($"result row {i + 1}: stored {Show(stored[i])}, recomputed {Show(drawn[i])}");
            if (diffs.Count > 50) { diffs.Add("… more differences not shown"); break; }
        }
        var recomputedResultHash = SHA256.HashData(DrawAlgorithm.EncodeResult(drawn));
        if (!recomputedResultHash.AsSpan().SequenceEqual(resultHash))
            diffs.Add($"result hash: stored {Hex(resultHash)}, recomputed {Hex(recomputedResultHash)}");
        return diffs;

        static string Show(DrawnEmployer d) => $"{d.RiskClass} {d.Uscc} [{string.Join(",", d.Team)}]";
    }

    private sealed class ResultRecord
    {
        public int Position { get; init; }
        public string RiskClass { get; init; } = "";
        public string Uscc { get; init; } = "";
        public string[] Team { get; init; } = [];
    }

    private static string Hex(byte[] b) => Convert.ToHexStringLower(b);

    /// <summary>Cancels a standing draw (the reason is required), as the acting person; both stay on record. Returns the plan id.</summary>
    public async Task<long> CancelAsync(long drawId, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new UsageException("a cancellation needs a reason / 撤销须说明理由");
        reason = Dashboard.TextRules.SingleLine(reason, "reason", "撤销理由", Dashboard.TextRules.ReasonMaxLength);
        return await work.RunAsync("draw.cancel", async uow =>
        {
            var draw = await PlanLifecycle.LoadDrawAsync(uow, drawId);
            // A draw is drawn or cancelled: the one state the table does not allow to cancel is "cancelled".
            if (!PlanLifecycle.Table.Allows(PlanVerb.Cancel, draw.State)) throw new DomainRuleException($"draw {drawId} is cancelled already / 该摇号已撤销");
            var inserted = await uow.ExecuteAsync(
                "INSERT INTO app.draw_cancellations (draw_id, reason, cancelled_by) VALUES (@drawId, @reason, @actor) ON CONFLICT (draw_id) DO NOTHING",
                new { drawId, reason = reason.Trim(), actor = uow.Acting.Actor });
            if (inserted == 0) throw new DomainRuleException($"draw {drawId} is cancelled already / 该摇号已撤销");
            await uow.AuditAsync("draw.cancel", "draw", drawId.ToString(CultureInfo.InvariantCulture), details: reason.Trim());
            return draw.PlanId;
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });
    }

    /// <summary>Plans whose draw date has come (in the bureau's time zone) and that may be drawn (no standing draw).</summary>
    public Task<List<long>> DuePlansAsync(DateOnly today, CancellationToken ct) =>
        work.RunAsync("draw.due", uow => uow.ListAsync<long>(
            $"""
            SELECT p.id FROM app.inspection_plans p
            WHERE p.draw_date <= @today AND {PlanLifecycle.StateSql} IN ({PlanLifecycle.SqlFrom(PlanVerb.Draw)})
            ORDER BY p.draw_date, p.id
            """, new { today }), ct);

    /// <summary>The slice's endpoints: run a plan's draw, cancel a draw (inspection and admin users).</summary>
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/plans/{planId:long}/run", RunDraw).RequireAuthorization(Policies.Inspection);
        g.MapPost("/{drawId:long}/cancel", Cancel).RequireAuthorization(Policies.Inspection);
    }

    private static async Task<IResult> RunDraw(HttpContext ctx, long planId, DrawService draws, InspectionsView view, CancellationToken ct)
    {
        if (!DrawsPage.CanChange(ctx)) return DrawsPage.Forbidden(ctx);
        try
        {
            DrawRun run;
            using (DrawsPage.ActingAs(ctx)) run = await draws.RunAsync(planId, onlyIfNone: false, ct);
            return run.Succeeded
                ? Results.Redirect($"{DrawsPage.Base}/{run.DrawId}")
                : await DrawsPage.IndexAsync(ctx, view, ct, error: $"计划 {planId} 摇号失败:{run.Unassignable.Count} 户单位无法组成检查组,未发送任何通知,详见失败记录。");
        }
        catch (DomainRuleException e)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: e.Message);
        }
    }

    private static async Task<IResult> Cancel(HttpContext ctx, long drawId, DrawService draws, InspectionsView view, CancellationToken ct)
    {
        if (!DrawsPage.CanChange(ctx)) return DrawsPage.Forbidden(ctx);
        try
        {
            var reason = (await DrawsPage.FormAsync(ctx))["reason"].ToString();
            using (DrawsPage.ActingAs(ctx)) await draws.CancelAsync(drawId, reason, ct);
            return await DrawsPage.IndexAsync(ctx, view, ct, message: $"摇号 {drawId} 已撤销,原记录与撤销理由均已留存。");
        }
        catch (Exception e) when (e is UsageException or DomainRuleException or BadInputException)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: e.Message);
        }
    }
}

/// <summary>
/// <c>inspection-draws</c>: draws every plan whose draw date has come and that has no standing draw.
/// Idempotent: the plan lock and the one-draw-per-plan key make a rerun (or a second worker) a no-op.
/// </summary>
public sealed class InspectionDrawsJob(DrawService draws, BureauClock clock, ILogger<InspectionDrawsJob> log) : IRecurringJob
{
    public const string Id = "inspection-draws";

    public async Task RunAsync(CancellationToken ct)
    {
        // The draws name the job as their operator however it is started (Hangfire, `jobs run`, a test):
        // the job draws on the published date, nobody chose to.
        using var acting = Acting.Begin(new Acting($"job:{Id}", Acting.Job, Acting.Current.JobId));
        var due = await draws.DuePlansAsync(clock.Today, ct);
        var failed = 0;
        foreach (var planId in due)
        {
            var run = await draws.RunAsync(planId, onlyIfNone: true, ct);
            if (!run.Succeeded && !run.Existing)
            {
                failed++;
                Hosting.Runs.RunReport.Problem($"draw-failed:{planId}", $"抽查计划 {planId} 摇号未能完成:{run.Unassignable.Count} 户单位无法组成检查组,未发送任何通知,请到“双随机抽查”页查看失败记录");
            }
        }
        Hosting.Runs.RunReport.Done($"到期计划 {due.Count} 个,摇号失败 {failed} 个", new { due = due.Count, failed });
        // A failed draw is recorded with its report; the run reports it as a problem, so it ends Failed
        // (not retried: that cannot help until the registers change; tomorrow's run tries again) and alerts.
        if (due.Count > 0) log.LogInformation("{Due} plan(s) due, {Failed} failed", due.Count, failed);
    }
}

public sealed class DrawRunCommand(DrawService draws) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "draw run",
        "run a plan's draw now; prints the draw id / 立即对计划摇号,输出摇号编号",
        """
        usage: Lingyuan.Jobs draw run PLAN_ID [--user NAME]
        用法:  Lingyuan.Jobs draw run 计划编号
        Draws employers and inspection teams and queues the assignment e-mails. A plan that has a draw is
        refused (cancel it first with `draw cancel`). When the rules leave an employer without a full team
        the draw fails as a whole: the report names each employer and why each inspector was excluded (exit 1).
        抽取检查对象与执法人员并发送任务通知;如有单位无法组成检查组,则整体失败并列出原因(退出码 1)。
        """,
        ValueOptions: ["user"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var planId = args.PositionalId(0, "PLAN_ID");
        args.ExpectPositionals(1);
        DrawRun run;
        using (CliActor.Begin(args)) run = await draws.RunAsync(planId, onlyIfNone: false, ct);
        if (run.Succeeded)
        {
            Console.WriteLine($"draw {run.DrawId}");
            return ExitCodes.Ok;
        }
        foreach (var u in run.Unassignable)
        {
            Console.Error.WriteLine($"plan {planId}: employer {u.Uscc} (class {u.RiskClass}) cannot get a team: {u.Candidates} eligible inspector(s) / 无法组成检查组");
            foreach (var (badge, reasons) in u.Excluded)
                Console.Error.WriteLine($"  inspector {badge}: {string.Join("+", reasons.Select(DrawService.ReasonCode))}");
        }
        Console.Error.WriteLine($"refused / 拒绝: draw of plan {planId} failed; nothing was e-mailed; failure recorded / 摇号失败,未发送任何通知");
        return ExitCodes.Failure;
    }
}

public sealed class DrawVerifyCommand(DrawService draws) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "draw verify",
        "recompute a draw from its stored inputs; exit 0 only if identical / 复核摇号结果",
        """
        usage: Lingyuan.Jobs draw verify DRAW_ID
        用法:  Lingyuan.Jobs draw verify 摇号编号
        Recomputes the draw from the stored snapshot, the revealed secret and the published algorithm
        (docs/draw-algorithm.md). Exit 0 only when every hash and every result row is identical;
        otherwise exit 1 and one line per difference.
        依据存档的名录快照、公开的种子与公开算法重新计算;完全一致时退出码为 0,否则逐条列出差异。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var drawId = args.PositionalId(0, "DRAW_ID");
        args.ExpectPositionals(1);
        var diffs = await draws.VerifyAsync(drawId, ct);
        if (diffs.Count == 0)
        {
            Console.WriteLine($"draw {drawId} verified: identical / 复核一致");
            return ExitCodes.Ok;
        }
        foreach (var d in diffs) Console.Error.WriteLine($"draw {drawId}: {d}");
        Console.Error.WriteLine($"draw {drawId} does NOT verify: {diffs.Count} difference(s) / 复核不一致");
        return ExitCodes.Failure;
    }
}

public sealed class DrawCancelCommand(DrawService draws) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "draw cancel",
        "cancel a draw with a reason, so its plan can be drawn again / 撤销摇号(须说明理由)",
        """
        usage: Lingyuan.Jobs draw cancel DRAW_ID --reason TEXT [--user NAME]
        用法:  Lingyuan.Jobs draw cancel 摇号编号 --reason 理由
        The draw and its cancellation both stay on record.
        原摇号记录与撤销记录均永久保留。
        """,
        ValueOptions: ["reason", "user"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var drawId = args.PositionalId(0, "DRAW_ID");
        args.ExpectPositionals(1);
        long planId;
        using (CliActor.Begin(args)) planId = await draws.CancelAsync(drawId, args.Option("reason") ?? "", ct);
        Console.WriteLine($"draw {drawId} cancelled; plan {planId} may be drawn again / 已撤销");
        return ExitCodes.Ok;
    }
}
