using System.Data;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Lingyuan.Jobs.Inspections;

/// <summary>What running a plan's draw came to: a recorded draw, a recorded failure, or an existing draw left alone.</summary>
public sealed record DrawRun(long PlanId, long? DrawId, bool Existing, long? FailureId, IReadOnlyList<Unassignable> Unassignable, int MailsQueued)
{
    public bool Succeeded => DrawId is not null;
}

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
    public bool Cancelled => CancelReason is not null;
}

/// <summary>Runs, verifies and cancels draws; the records are append-only (0030_inspections.sql).</summary>
public sealed class DrawService(
    NpgsqlDataSource db, CalendarStore calendars, IOptions<InspectionOptions> options, TimeProvider clock, IOptions<JobsOptions> jobs, ILogger<DrawService> log)
{
    public const string DrawColumns = """
        d.id, d.plan_id AS PlanId, d.attempt, d.algorithm, d.draw_date AS DrawDate, d.snapshot_hash AS SnapshotHash, d.seed,
        d.result_hash AS ResultHash, d.employer_count AS EmployerCount, d.operator, d.started_at AS StartedAt, d.finished_at AS FinishedAt,
        c.reason AS CancelReason, c.cancelled_by AS CancelledBy, c.cancelled_at AS CancelledAt
        """;

    /// <summary>
    /// Draws a plan. With <paramref name="onlyIfNone"/> (the daily job) a plan that has a standing draw is
    /// left alone; otherwise (an operator's <c>draw run</c>) that is refused: a redraw needs a cancellation.
    /// </summary>
    public async Task<DrawRun> RunAsync(long planId, string actor, bool onlyIfNone, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        // Two workers (or the job and an operator) drawing the same plan: one waits, then sees the draw.
        // A session lock taken before the transaction starts, so that the repeatable-read snapshot is
        // taken after the wait; it ends with the session even if the process is killed.
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(hashtextextended('inspection-draw', @planId))", new { planId }, cancellationToken: ct));
        try
        {
            return await RunLockedAsync(conn, planId, actor, onlyIfNone, started, ct);
        }
        finally
        {
            if (conn.State == ConnectionState.Open)
                await conn.ExecuteAsync("SELECT pg_advisory_unlock(hashtextextended('inspection-draw', @planId))", new { planId });
        }
    }

    private async Task<DrawRun> RunLockedAsync(NpgsqlConnection conn, long planId, string actor, bool onlyIfNone, DateTimeOffset started, CancellationToken ct)
    {
        // Repeatable read: the four register queries see one consistent snapshot.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var plan = await InspectionPlans.GetAsync(conn, tx, planId, ct)
            ?? throw new DomainRuleException($"no inspection plan {planId} / 没有该抽查计划");
        // The commitment was published for this date: drawing earlier would break the promise to the public.
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), jobs.Value.GetZone()).DateTime);
        if (plan.DrawDate > today)
            throw new DomainRuleException($"plan {planId} is to be drawn on {plan.DrawDate:yyyy-MM-dd}, not before / 未到计划摇号日期");
        var standing = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            """
            SELECT d.id FROM app.draws d
            WHERE d.plan_id = @planId AND NOT EXISTS (SELECT 1 FROM app.draw_cancellations c WHERE c.draw_id = d.id)
            """, new { planId }, tx, cancellationToken: ct));
        if (standing is { } existing)
        {
            if (onlyIfNone) return new DrawRun(planId, existing, true, null, [], 0);
            throw new DomainRuleException($"plan {planId} has draw {existing} already; cancel it with a reason to redraw / 该计划已有摇号结果 {existing},重新摇号须先撤销并说明理由");
        }
        var attempt = await conn.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT count(*) + 1 FROM app.draws WHERE plan_id = @planId", new { planId }, tx, cancellationToken: ct));
        var secret = await conn.ExecuteScalarAsync<byte[]>(new CommandDefinition(
            "SELECT secret FROM app.inspection_plans WHERE id = @planId", new { planId }, tx, cancellationToken: ct));

        DrawSnapshot snapshot;
        try { snapshot = await LoadSnapshotAsync(conn, tx, plan, ct); }
        catch (ArgumentException e) { throw new DomainRuleException($"plan {planId}: the registers cannot be drawn from: {e.Message} / 名录数据有误"); }
        var outcome = DrawAlgorithm.Run(snapshot, secret!, planId, plan.DrawDate);

        if (!outcome.Succeeded)
        {
            var report = JsonSerializer.Serialize(outcome.Unassignable.Select(u => new
            {
                uscc = u.Uscc, risk_class = u.RiskClass.ToString(), candidates = u.Candidates, team_size = plan.TeamSize,
                excluded = u.Excluded.Select(x => new { badge = x.Badge, reasons = x.Reasons.Select(ReasonCode).ToArray() }),
            }));
            var failureId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
                """
                INSERT INTO app.draw_failures (plan_id, algorithm, snapshot_hash, report, operator)
                VALUES (@planId, @Version, @hash, @report::jsonb, @actor)
                ON CONFLICT (plan_id, snapshot_hash) DO NOTHING RETURNING id
                """, new { planId, DrawAlgorithm.Version, hash = outcome.SnapshotHash, report, actor }, tx, cancellationToken: ct));
            if (failureId is not null)
                await AuditLog.WriteAsync(conn, tx, actor, "draw.fail", "inspection_plan", planId.ToString(CultureInfo.InvariantCulture),
                    details: $"{outcome.Unassignable.Count} employer(s) cannot get a team of {plan.TeamSize}");
            await tx.CommitAsync(ct);
            log.LogWarning("draw of plan {PlanId} failed: {Count} employer(s) unassignable", planId, outcome.Unassignable.Count);
            return new DrawRun(planId, null, false, failureId, outcome.Unassignable, 0);
        }

        var drawId = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
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
            }, tx, cancellationToken: ct));
        await CopyResultsAsync(conn, drawId, outcome.Drawn, ct);
        TestHooks.Point("inspection-draw:recorded");
        var calendar = await calendars.LoadAsync(ct);
        var completion = calendar.AddWorkingDays(plan.DrawDate, options.Value.CompletionWorkingDays);
        var mails = await AssignmentMail.EnqueueAsync(conn, tx, drawId, plan, completion, options.Value.CompletionWorkingDays, options.Value.PublicationWorkingDays, ct);
        await AuditLog.WriteAsync(conn, tx, actor, "draw.run", "draw", drawId.ToString(CultureInfo.InvariantCulture),
            after: new { planId, attempt, employers = outcome.Drawn.Count, seed = Convert.ToHexStringLower(outcome.Seed) });
        TestHooks.Point("inspection-draw:before-commit");
        await tx.CommitAsync(ct);
        TestHooks.Point("inspection-draw:committed");
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

    private static async Task CopyResultsAsync(NpgsqlConnection conn, long drawId, IReadOnlyList<DrawnEmployer> drawn, CancellationToken ct)
    {
        await using var w = await conn.BeginBinaryImportAsync("COPY app.draw_results (draw_id, position, risk_class, uscc, team) FROM STDIN (FORMAT BINARY)", ct);
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
    public static async Task<DrawSnapshot> LoadSnapshotAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Plan plan, CancellationToken ct)
    {
        var scope = new { streets = plan.Streets, industries = plan.Industries, drawDate = plan.DrawDate, lookback = (int)plan.RotationLookbackMonths, planId = plan.Id };
        const string InScope = """
            (cardinality(@streets::text[]) = 0 OR e.street = ANY(@streets)) AND (cardinality(@industries::text[]) = 0 OR e.industry = ANY(@industries))
            """;
        var employers = await conn.QueryAsync<(string Uscc, string Class)>(new CommandDefinition(
            $"SELECT e.uscc, CASE WHEN e.abnormal THEN 'D' ELSE e.risk_class END FROM app.employers e WHERE {InScope}",
            scope, tx, cancellationToken: ct));
        var inspectors = await conn.QueryAsync<(string Badge, bool Active)>(new CommandDefinition(
            "SELECT badge_no, active FROM app.inspectors", transaction: tx, cancellationToken: ct));
        var conflicts = await conn.QueryAsync<(string Badge, string Uscc)>(new CommandDefinition(
            $"""
            SELECT c.badge_no, c.uscc FROM app.conflicts c
            JOIN app.employers e ON e.uscc = c.uscc JOIN app.inspectors i ON i.badge_no = c.badge_no
            WHERE {InScope}
            """, scope, tx, cancellationToken: ct));
        var rotation = plan.RotationLookbackMonths == 0 ? [] : await conn.QueryAsync<(string Badge, string Uscc)>(new CommandDefinition(
            $"""
            SELECT DISTINCT t.badge, r.uscc
            FROM app.draws d
            JOIN app.draw_results r ON r.draw_id = d.id
            CROSS JOIN LATERAL unnest(r.team) AS t(badge)
            JOIN app.employers e ON e.uscc = r.uscc
            WHERE d.plan_id <> @planId
              AND d.draw_date <= @drawDate AND d.draw_date >= @drawDate - make_interval(months => @lookback)
              AND NOT EXISTS (SELECT 1 FROM app.draw_cancellations c WHERE c.draw_id = d.id)
              AND {InScope}
            """, scope, tx, cancellationToken: ct));
        return DrawSnapshot.Create(
            plan.Parameters,
            employers.Select(e => new SnapshotEmployer(e.Uscc, e.Class[0])),
            inspectors.Select(i => new SnapshotInspector(i.Badge, i.Active)),
            conflicts.Select(c => new InspectorEmployer(c.Badge, c.Uscc)),
            rotation.Select(r => new InspectorEmployer(r.Badge, r.Uscc)));
    }

    /// <summary>Recomputes a draw from its stored inputs; returns each difference (empty = identical).</summary>
    public async Task<IReadOnlyList<string>> VerifyAsync(long drawId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var d = await conn.QuerySingleOrDefaultAsync<(long PlanId, string Algorithm, DateTime DrawDate, byte[] Snapshot, byte[] SnapshotHash, byte[] Secret, byte[] Seed, byte[] ResultHash, int EmployerCount, byte[] Commitment)?>(
            new CommandDefinition(
                """
                SELECT d.plan_id, d.algorithm, d.draw_date, d.snapshot, d.snapshot_hash, d.secret, d.seed, d.result_hash, d.employer_count, p.commitment
                FROM app.draws d JOIN app.inspection_plans p ON p.id = d.plan_id WHERE d.id = @drawId
                """, new { drawId }, cancellationToken: ct))
            ?? throw new DomainRuleException($"no draw {drawId} / 没有该摇号记录");
        var stored = (await conn.QueryAsync<ResultRecord>(new CommandDefinition(
            "SELECT position, risk_class AS RiskClass, uscc, team FROM app.draw_results WHERE draw_id = @drawId ORDER BY position", new { drawId }, cancellationToken: ct)))
            .Select(r => new DrawnEmployer(r.RiskClass[0], r.Uscc, r.Team)).ToList();
        return Verify(d.PlanId, d.Algorithm, DateOnly.FromDateTime(d.DrawDate), d.Snapshot, d.SnapshotHash,
            d.Secret, d.Seed, d.ResultHash, d.EmployerCount, d.Commitment, stored);
    }

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

    /// <summary>Cancels a standing draw (the reason is required); both stay on record. Returns the plan id.</summary>
    public async Task<long> CancelAsync(long drawId, string reason, string actor, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new UsageException("a cancellation needs a reason / 撤销须说明理由");
        reason = Dashboard.TextRules.SingleLine(reason, "reason", "撤销理由", Dashboard.TextRules.ReasonMaxLength);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var planId = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "SELECT plan_id FROM app.draws WHERE id = @drawId", new { drawId }, tx, cancellationToken: ct))
            ?? throw new DomainRuleException($"no draw {drawId} / 没有该摇号记录");
        var inserted = await conn.ExecuteAsync(new CommandDefinition(
            "INSERT INTO app.draw_cancellations (draw_id, reason, cancelled_by) VALUES (@drawId, @reason, @actor) ON CONFLICT (draw_id) DO NOTHING",
            new { drawId, reason = reason.Trim(), actor }, tx, cancellationToken: ct));
        if (inserted == 0) throw new DomainRuleException($"draw {drawId} is cancelled already / 该摇号已撤销");
        await AuditLog.WriteAsync(conn, tx, actor, "draw.cancel", "draw", drawId.ToString(CultureInfo.InvariantCulture), details: reason.Trim());
        await tx.CommitAsync(ct);
        return planId;
    }

    /// <summary>Plans whose draw date has come (Asia/Shanghai) and that have no standing draw.</summary>
    public async Task<IReadOnlyList<long>> DuePlansAsync(DateOnly today, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition(
            """
            SELECT p.id FROM app.inspection_plans p
            WHERE p.draw_date <= @today
              AND NOT EXISTS (SELECT 1 FROM app.draws d WHERE d.plan_id = p.id
                              AND NOT EXISTS (SELECT 1 FROM app.draw_cancellations c WHERE c.draw_id = d.id))
            ORDER BY p.draw_date, p.id
            """, new { today }, cancellationToken: ct))).ToList();
    }

    public async Task<IReadOnlyList<DrawRow>> ListAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<DrawRow>(new CommandDefinition(
            $"SELECT {DrawColumns} FROM app.draws d LEFT JOIN app.draw_cancellations c ON c.draw_id = d.id ORDER BY d.id DESC",
            cancellationToken: ct))).ToList();
    }
}
