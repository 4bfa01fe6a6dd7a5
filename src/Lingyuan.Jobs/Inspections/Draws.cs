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
    /// <summary>The brief report of a failed draw (null when it succeeded).</summary>
    public DrawFailureReport? Report { get; init; }

    public bool Succeeded => DrawId is not null;
}

/// <summary>
/// The Draw slice: runs, verifies and cancels draws (<c>draw run|verify|cancel</c>, the daily job
/// <c>inspection-draws</c>, <c>POST /hangfire/draws/plans/{id}/run</c> and <c>/{id}/cancel</c>); the records
/// are append-only (0030_inspections.sql). Moves are guarded by <see cref="PlanLifecycle"/>.
/// </summary>
public sealed class DrawService(Work work, CalendarStore calendars, IOptions<InspectionOptions> options, BureauClock clock, PlanSecrets secrets, ILogger<DrawService> log)
{
    /// <summary>
    /// Draws a plan on its frozen snapshot with the public random value, as the acting person
    /// (<see cref="Acting"/>). A plan that has a standing draw is refused: a redraw needs a cancellation
    /// (and a new frozen snapshot). Refused with <see cref="BadInputException"/> (exit 65) before the
    /// commitment's lead time, before the public value exists, or with a source other than the one
    /// published with the snapshot.
    /// </summary>
    public async Task<DrawRun> RunAsync(long planId, PublicValue value, CancellationToken ct)
    {
        var started = clock.UtcNow;
        var run = await work.RunAsync("draw.run", uow => RunLockedAsync(uow, planId, value, started), ct, PlanLifecycle.DrawWork(planId));
        if (run.Succeeded && !run.Existing) TestHooks.Point("inspection-draw:committed");
        return run;
    }

    private async Task<DrawRun> RunLockedAsync(UnitOfWork uow, long planId, PublicValue value, DateTimeOffset started)
    {
        var (plan, state, standing) = await PlanLifecycle.LoadAsync(uow, planId);
        if (state == PlanState.Withdrawn)
            throw new DomainRuleException($"plan {planId} is withdrawn / 该计划已撤回,不能摇号");
        if (!PlanLifecycle.Table.Allows(PlanVerb.Draw, state))
            throw new DomainRuleException($"plan {planId} has draw {standing} already; cancel it with a reason to redraw / 该计划已有摇号结果 {standing},重新摇号须先撤销并说明理由");
        var calendar = await calendars.LoadAsync(uow.Cancellation);
        var frozen = await SnapshotFreeze.OpenAsync(uow, planId);
        var timing = DrawTiming.Of(plan, frozen, calendar, options.Value, clock);
        // Commit first, then the snapshot, then the public value: each refusal names the time it waits for.
        if (timing.Refusal(clock.Today) is { } refusal) throw new BadInputException(refusal);
        if (!string.Equals(value.Source, frozen!.PublicSource, StringComparison.Ordinal))
            throw new BadInputException($"the public value's source must be the one published with the snapshot: {frozen.PublicSource} / 公开随机数来源须与冻结快照时公布的来源一致:{frozen.PublicSource}");
        var attempt = await uow.ScalarAsync<int>("SELECT count(*) + 1 FROM app.draws WHERE plan_id = @planId", new { planId });
        var secret = await secrets.RevealAsync(uow, planId);

        DrawSnapshot snapshot;
        try { snapshot = DrawSnapshot.Decode(frozen.Snapshot); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new DomainRuleException($"plan {planId}: the frozen snapshot cannot be read: {e.Message} / 冻结的名录快照无法读取"); }
        var outcome = DrawAlgorithm.Run(snapshot, secret, planId, plan.DrawDate, value.Value);
        var actor = uow.Acting.Actor;

        if (!outcome.Succeeded)
        {
            PlanLifecycle.Table.Require(PlanVerb.RecordFailure, state, planId.ToString(CultureInfo.InvariantCulture));
            // Brief: counts by reason, the first employers, and which setting to change (DrawFailureReport).
            var failure = DrawFailureReport.Of(outcome, snapshot);
            var report = failure.ToJson();
            var failureId = await uow.ScalarAsync<long?>(
                """
                INSERT INTO app.draw_failures (plan_id, algorithm, snapshot_hash, report, operator, snapshot_id)
                VALUES (@planId, @Version, @hash, @report::jsonb, @actor, @snapshotId)
                ON CONFLICT DO NOTHING RETURNING id
                """, new { planId, snapshot.Version, hash = outcome.SnapshotHash, report, actor, snapshotId = frozen.Id });
            if (failureId is not null)
                await uow.AuditAsync("draw.fail", "inspection_plan", planId.ToString(CultureInfo.InvariantCulture),
                    details: $"{outcome.Unassignable.Count} employer(s) cannot get a team of {plan.TeamSize}");
            log.LogWarning("draw of plan {PlanId} failed: {Count} employer(s) unassignable", planId, outcome.Unassignable.Count);
            return new DrawRun(planId, null, false, failureId, outcome.Unassignable, 0) { Report = failure };
        }

        var drawId = await uow.ScalarAsync<long>(
            """
            INSERT INTO app.draws (plan_id, attempt, algorithm, draw_date, snapshot, snapshot_hash, secret, seed, result_hash,
                                   employer_count, operator, started_at, finished_at, snapshot_id, public_value, public_source)
            VALUES (@planId, @attempt, @Version, @drawDate, @snapshot, @snapshotHash, @secret, @seed, @resultHash, @count, @actor, @started,
                    @finished, @snapshotId, @publicValue, @publicSource)
            RETURNING id
            """,
            new
            {
                planId, attempt, snapshot.Version, drawDate = plan.DrawDate, snapshot = frozen.Snapshot, snapshotHash = outcome.SnapshotHash,
                secret, seed = outcome.Seed, resultHash = SHA256.HashData(outcome.ResultBytes()), count = outcome.Drawn.Count, actor, started,
                finished = clock.UtcNow, snapshotId = frozen.Id, publicValue = value.Value, publicSource = value.Source,
            });
        await CopyResultsAsync(uow, drawId, outcome.Drawn);
        TestHooks.Point("inspection-draw:recorded");
        var completion = calendar.AddWorkingDays(plan.DrawDate, options.Value.CompletionWorkingDays);
        var mails = await AssignmentMail.EnqueueAsync(uow, drawId, plan, completion, options.Value.CompletionWorkingDays, options.Value.PublicationWorkingDays);
        await uow.AuditAsync("draw.run", "draw", drawId.ToString(CultureInfo.InvariantCulture),
            after: new { planId, attempt, employers = outcome.Drawn.Count, seed = Convert.ToHexStringLower(outcome.Seed), publicValue = value.Value, publicSource = value.Source });
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
    /// The register snapshot of a plan: employers in scope (abnormal-operations list, or at least
    /// <paramref name="complaintsForClassD"/> complaints when non-zero → class D; drawn in a standing draw of
    /// another plan within <paramref name="excludeInspectedWithinMonths"/> months when non-zero → left out), every
    /// inspector with the active flag, conflicts of in-scope employers, and the teams of standing
    /// (not cancelled) draws of other plans drawn on or before this draw date within the rotation
    /// look-back, for in-scope employers.
    /// </summary>
    public static async Task<DrawSnapshot> LoadSnapshotAsync(UnitOfWork uow, Plan plan, int excludeInspectedWithinMonths = 0, int complaintsForClassD = 0)
    {
        var scope = new
        {
            streets = plan.Streets, industries = plan.Industries, drawDate = plan.DrawDate, lookback = (int)plan.RotationLookbackMonths, planId = plan.Id,
            excludeMonths = excludeInspectedWithinMonths, complaintsD = complaintsForClassD,
        };
        const string InScope = """
            (cardinality(@streets::text[]) = 0 OR e.street = ANY(@streets)) AND (cardinality(@industries::text[]) = 0 OR e.industry = ANY(@industries))
            """;
        var employers = await uow.ListAsync<(string Uscc, string Class)>(
            $"""
            SELECT e.uscc, CASE WHEN e.abnormal OR (@complaintsD > 0 AND e.complaints >= @complaintsD) THEN 'D' ELSE e.risk_class END
            FROM app.employers e
            WHERE {InScope}
              AND (@excludeMonths = 0 OR NOT EXISTS (
                  SELECT 1 FROM app.draw_results r JOIN app.draws d ON d.id = r.draw_id
                  WHERE r.uscc = e.uscc AND d.plan_id <> @planId AND {PlanLifecycle.Standing("d")}
                    AND d.draw_date <= @drawDate AND d.draw_date > @drawDate - make_interval(months => @excludeMonths)))
            """, scope);
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
            var d = await uow.SingleOrDefaultAsync<(long PlanId, string Algorithm, DateTime DrawDate, byte[] Snapshot, byte[] SnapshotHash, byte[] Secret, byte[] Seed, byte[] ResultHash, int EmployerCount, byte[] Commitment, string? PublicValue)?>(
                """
                SELECT d.plan_id, d.algorithm, d.draw_date, d.snapshot, d.snapshot_hash, d.secret, d.seed, d.result_hash, d.employer_count, p.commitment, d.public_value
                FROM app.draws d JOIN app.inspection_plans p ON p.id = d.plan_id WHERE d.id = @drawId
                """, new { drawId })
                ?? throw new DomainRuleException($"no draw {drawId} / 没有该摇号记录");
            var stored = (await uow.ListAsync<ResultRecord>(
                "SELECT position, risk_class AS RiskClass, uscc, team FROM app.draw_results WHERE draw_id = @drawId ORDER BY position", new { drawId }))
                .Select(r => new DrawnEmployer(r.RiskClass[0], r.Uscc, r.Team)).ToList();
            return Verify(d.PlanId, d.Algorithm, DateOnly.FromDateTime(d.DrawDate), d.Snapshot, d.SnapshotHash,
                d.Secret, d.Seed, d.ResultHash, d.EmployerCount, d.Commitment, stored, d.PublicValue);
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });

    /// <summary>The pure part of verification: every stored input and output against a recomputation.</summary>
    public static List<string> Verify(
        long planId, string algorithm, DateOnly drawDate, byte[] snapshotBytes, byte[] snapshotHash, byte[] secret, byte[] seed,
        byte[] resultHash, int employerCount, byte[] commitment, IReadOnlyList<DrawnEmployer> stored, string? publicValue = null)
    {
        var diffs = new List<string>();
        if (!DrawAlgorithm.Versions.Contains(algorithm))
        {
            diffs.Add($"algorithm: stored '{algorithm}', this program implements '{string.Join("', '", DrawAlgorithm.Versions)}'");
            return diffs;
        }
        if ((algorithm == DrawAlgorithm.Version1) != (publicValue is null))
        {
            diffs.Add(publicValue is null ? $"public value: missing, {algorithm} needs one" : $"public value: {algorithm} has none, one is stored");
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
            diffs.Add($"snapshot: not a canonical {algorithm} snapshot: {e.Message}");
            return diffs;
        }
        if (snapshot.Version != algorithm)
            diffs.Add($"snapshot: written for {snapshot.Version}, the draw says {algorithm}");
        if (!snapshot.Encode().AsSpan().SequenceEqual(snapshotBytes))
            diffs.Add("snapshot: stored bytes are not in canonical order or form");
        var recomputedSeed = DrawAlgorithm.SeedFor(algorithm, secret, planId, drawDate, actualSnapshotHash, publicValue);
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
            var f = await DrawsPage.FormAsync(ctx);
            var value = PublicValue.Parse(f["publicValue"].ToString(), f["publicSource"].ToString());
            DrawRun run;
            using (DrawsPage.ActingAs(ctx)) run = await draws.RunAsync(planId, value, ct);
            return run.Succeeded
                ? Results.Redirect($"{DrawsPage.Base}/{run.DrawId}")
                : await DrawsPage.IndexAsync(ctx, view, ct, error: $"计划 {planId} 摇号失败:{run.Unassignable.Count} 户单位无法组成检查组,未发送任何通知,详见失败记录。");
        }
        catch (Exception e) when (e is DomainRuleException or BadInputException or UsageException)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: DrawsPage.Zh(e));
        }
    }

    private static Task<IResult> Cancel(HttpContext ctx, long drawId, DrawService draws, InspectionsView view, CancellationToken ct) =>
        DrawsPage.ActAsync(ctx, view, ct, async f =>
        {
            await draws.CancelAsync(drawId, f["reason"].ToString(), ct);
            return $"摇号 {drawId} 已撤销,原记录与撤销理由均已留存。";
        });
}

/// <summary>
/// <c>inspection-draws</c>: freezes the register snapshot of every plan whose draw date is tomorrow or has
/// come and that has none waiting (docs/draw-algorithm.md §1). It does not draw: the draw needs the public
/// random value, which a person enters once it is drawn (the evening before the draw date). Idempotent: a
/// plan with a snapshot waiting for its draw is left alone.
/// </summary>
public sealed class InspectionDrawsJob(SnapshotFreeze freeze, BureauClock clock, ILogger<InspectionDrawsJob> log) : IRecurringJob
{
    public const string Id = "inspection-draws";

    public async Task RunAsync(CancellationToken ct)
    {
        // The freezes name the job as their operator however it is started (Hangfire, `jobs run`, a test).
        using var acting = Acting.Begin(new Acting($"job:{Id}", Acting.Job, Acting.Current.JobId));
        var due = await freeze.DueAsync(clock.Today.AddDays(1), ct);
        var frozen = 0;
        foreach (var planId in due)
        {
            // One plan's unreadable registers (or a plan withdrawn meanwhile) does not keep the others unfrozen.
            try { await freeze.FreezeAsync(planId, ct); frozen++; }
            catch (DomainRuleException e)
            {
                log.LogWarning("plan {PlanId}: snapshot not frozen: {Reason}", planId, e.Message);
                Hosting.Runs.RunReport.Problem($"freeze-failed:{planId}", $"抽查计划 {planId} 的名录快照未能冻结:{Dashboard.UserText.Zh(e.Message)}");
            }
        }
        // A draw that could not be made (a person ran it; it failed as a whole) needs someone until the plan is
        // drawn, edited or withdrawn: every daily run reports it, so it ends Failed and alerts (once an hour).
        var failed = await freeze.UndrawnFailuresAsync(ct);
        foreach (var (planId, unassignable) in failed)
            Hosting.Runs.RunReport.Problem($"draw-failed:{planId}",
                $"抽查计划 {planId} 摇号未能完成:{unassignable} 户单位无法组成检查组,未发送任何通知,请到“双随机抽查”页查看失败记录,调整后重新冻结快照并摇号");
        Hosting.Runs.RunReport.Done($"到期计划 {due.Count} 个,冻结名录快照 {frozen} 个,摇号失败待处理 {failed.Count} 个",
            new { due = due.Count, frozen, failed = failed.Count });
        if (due.Count > 0) log.LogInformation("{Frozen} of {Due} plan snapshot(s) frozen for tomorrow's draws", frozen, due.Count);
    }
}

public sealed class DrawRunCommand(DrawService draws, SnapshotFreeze freeze) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "draw run",
        "run a plan's draw now; prints the draw id / 立即对计划摇号,输出摇号编号",
        """
        usage: Lingyuan.Jobs draw run PLAN_ID --public-value "N N N ..." [--public-source TEXT] [--user NAME]
        用法:  Lingyuan.Jobs draw run 计划编号 --public-value 公开随机数 [--public-source 来源]
        Draws employers and inspection teams on the plan's frozen snapshot (`draw freeze`) with the public
        random value (the numbers drawn by the source published with the snapshot, on its public value date;
        the source defaults to that one) and queues the assignment e-mails. Refused with exit 65 before the
        commitment's lead time (Inspections:CommitmentLeadWorkingDays), without a frozen snapshot, or before
        the public value exists. A plan that has a draw is refused (cancel it first with `draw cancel`). When
        the rules leave an employer without a full team the draw fails as a whole (exit 1) with a brief report: exclusions counted by reason, the first 100
        employers, and which setting to change (ratios, team size, cap).
        在冻结的名录快照上,以公开随机数(快照冻结时公布的来源在其开奖日的开奖号码)抽取检查对象与执法人员;
        承诺值公开未满规定工作日、未冻结快照或公开随机数尚未产生时拒绝(退出码 65)。
        """,
        ValueOptions: ["user", "public-value", "public-source"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var planId = args.PositionalId(0, "PLAN_ID");
        args.ExpectPositionals(1);
        var value = PublicValue.Parse(
            args.Option("public-value") ?? throw new UsageException("--public-value is required / 需要 --public-value(公开随机数)"),
            args.Option("public-source") ?? await freeze.SourceAsync(planId, ct));
        DrawRun run;
        using (CliActor.Begin(args)) run = await draws.RunAsync(planId, value, ct);
        if (run.Succeeded)
        {
            Console.WriteLine($"draw {run.DrawId}");
            return ExitCodes.Ok;
        }
        foreach (var line in run.Report?.Lines(planId) ?? []) Console.Error.WriteLine(line);
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
