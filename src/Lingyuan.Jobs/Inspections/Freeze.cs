using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// The public random value a ly-draw-2 seed depends on: the numbers a public lottery drew on the public
/// value date (docs/draw-algorithm.md §3), in canonical form (decimal numbers separated by one space).
/// </summary>
public sealed partial record PublicValue(string Value, string Source)
{
    /// <summary>
    /// Reads what a person typed: numbers separated by spaces, commas or 、; each number 1-4 digits, at most
    /// 40 numbers. Leading zeros are kept as typed (the lottery's announcement is copied, not interpreted).
    /// </summary>
    public static PublicValue Parse(string? value, string? source)
    {
        var parts = (value ?? "").Split([' ', ',', ',', '、', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var canonical = string.Join(' ', parts);
        if (parts.Length is 0 or > 40 || !Canonical().IsMatch(canonical))
            throw new BadInputException($"public value: '{Show(value)}' is not 1-40 numbers of 1-4 digits separated by spaces / 公开随机数应为 1-40 个数字(每个 1-4 位),以空格分隔");
        var s = (source ?? "").Trim();
        if (s.Length is 0 or > 200 || s.Any(char.IsControl))
            throw new BadInputException("public value source: one line of at most 200 characters / 公开随机数来源应为一行文字(不超过200字)");
        return new PublicValue(canonical, s);

        static string Show(string? v) => v is null ? "" : v.Length > 60 ? v[..60] + "…" : v;
    }

    [GeneratedRegex("^[0-9]{1,4}( [0-9]{1,4})*$")]
    private static partial Regex Canonical();
}

/// <summary>
/// The plan's secret, sealed until the draw (docs/draw-algorithm.md §1): encrypted with the Data Protection
/// key ring, so that reading <c>app.inspection_plans</c> (a report query, a table export, a backup of the
/// plan tables) does not reveal it. The draw unseals it and records it, revealed, with the draw.
/// </summary>
public sealed class PlanSecrets(IDataProtectionProvider dp)
{
    private readonly IDataProtector _protector = dp.CreateProtector("Lingyuan.Jobs.Inspections.PlanSecret.v1");

    public byte[] Seal(byte[] secret) => _protector.Protect(secret);

    /// <summary>
    /// The secret of a plan, unsealed (or the plain secret of a plan made before sealing), checked against
    /// the published commitment. A key revoked by <c>keys rotate</c> still opens it: revocation protects
    /// sign-in cookies, and a plan's commitment cannot be re-issued silently.
    /// </summary>
    public async Task<byte[]> RevealAsync(UnitOfWork uow, long planId)
    {
        var row = await uow.SingleAsync<(byte[]? Secret, byte[]? Sealed, byte[] Commitment)>(
            "SELECT secret, sealed_secret, commitment FROM app.inspection_plans WHERE id = @planId", new { planId });
        var secret = row.Secret
            ?? ((IPersistedDataProtector)_protector).DangerousUnprotect(row.Sealed!, ignoreRevocationErrors: true, out _, out _);
        if (!SHA256.HashData(secret).AsSpan().SequenceEqual(row.Commitment))
            throw new InvalidOperationException($"plan {planId}: the unsealed secret does not match the published commitment");
        return secret;
    }
}

/// <summary>A register snapshot frozen for a plan and not yet used by a draw or a failure.</summary>
public sealed class FrozenSnapshot
{
    public long Id { get; init; }
    public long PlanId { get; init; }
    public string Algorithm { get; init; } = "";
    public byte[] Snapshot { get; init; } = [];
    public byte[] SnapshotHash { get; init; } = [];
    public string PublicSource { get; init; } = "";
    public DateOnly PublicValueDate { get; init; }
    public string FrozenBy { get; init; } = "";
    public DateTime FrozenAt { get; init; }
}

/// <summary>
/// When a plan may be drawn: not before its draw date, not before <c>CommitmentLeadWorkingDays</c> working days
/// after its commitment was published, and only on a frozen snapshot whose public value exists (the day
/// after the public value date).
/// </summary>
public sealed record DrawTiming(long PlanId, DateTimeOffset PublishedAt, int LeadWorkingDays, DateOnly EarliestByLead, DateOnly DrawDate, FrozenSnapshot? Frozen, BureauClock Clock)
{
    public static DrawTiming Of(Plan plan, FrozenSnapshot? frozen, WorkingCalendar calendar, InspectionOptions options, BureauClock clock)
    {
        var published = new DateTimeOffset(DateTime.SpecifyKind(plan.CreatedAt, DateTimeKind.Utc));
        var earliest = calendar.AddWorkingDays(LocalDate(published, clock), options.CommitmentLeadWorkingDays).Date;
        return new DrawTiming(plan.Id, published, options.CommitmentLeadWorkingDays, earliest, plan.DrawDate, frozen, clock);
    }

    public static DateOnly LocalDate(DateTimeOffset instant, BureauClock clock) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, clock.Zone).DateTime);

    /// <summary>
    /// The date whose public value a snapshot frozen at <paramref name="frozenAt"/> waits for: the day before the
    /// plan's draw date, or — when frozen later than the cutoff of that day — the first day whose cutoff is
    /// still ahead (docs/draw-algorithm.md §1).
    /// </summary>
    public static DateOnly PublicValueDate(DateOnly drawDate, DateTimeOffset frozenAt, TimeOnly cutoff, BureauClock clock)
    {
        var local = TimeZoneInfo.ConvertTime(frozenAt, clock.Zone);
        var first = DateOnly.FromDateTime(local.DateTime);
        if (TimeOnly.FromDateTime(local.DateTime) >= cutoff) first = first.AddDays(1);
        var dayBefore = drawDate.AddDays(-1);
        return first > dayBefore ? first : dayBefore;
    }

    /// <summary>The first day the draw may run, once the snapshot is frozen.</summary>
    public DateOnly? EarliestDraw => Frozen is null ? null : Max(Max(DrawDate, EarliestByLead), Frozen.PublicValueDate.AddDays(1));

    /// <summary>Why the plan may not be drawn on <paramref name="today"/> (English / Chinese), or null.</summary>
    public string? Refusal(DateOnly today)
    {
        if (today < EarliestByLead)
            return $"plan {PlanId}: its commitment was published {Clock.Format(PublishedAt)}; it may be drawn from {EarliestByLead:yyyy-MM-dd} ({LeadWorkingDays} working day(s) later) / "
                + $"计划 {PlanId} 的种子承诺值于 {Clock.Format(PublishedAt)} 公开,须满 {LeadWorkingDays} 个工作日方可摇号,最早 {EarliestByLead:yyyy-MM-dd}";
        if (today < DrawDate)
            return $"plan {PlanId} is to be drawn on {DrawDate:yyyy-MM-dd}, not before / 未到计划摇号日期 {DrawDate:yyyy-MM-dd}";
        if (Frozen is null)
            return $"plan {PlanId} has no frozen register snapshot; freeze it first (draw freeze) / 计划 {PlanId} 尚未冻结名录快照,须先冻结快照并公布其哈希值";
        if (today <= Frozen.PublicValueDate)
            return $"plan {PlanId}: the public value of {Frozen.PublicValueDate:yyyy-MM-dd} does not exist yet; draw from {Frozen.PublicValueDate.AddDays(1):yyyy-MM-dd} / "
                + $"公开随机数({Frozen.PublicSource},{Frozen.PublicValueDate:yyyy-MM-dd})尚未产生,{Frozen.PublicValueDate.AddDays(1):yyyy-MM-dd} 起方可摇号";
        return null;
    }

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;
}

/// <summary>
/// The Freeze slice: fixes a plan's register snapshot and publishes its hash with the source and date of the
/// public value the draw will use (<c>draw freeze</c>, the daily job, <c>POST /hangfire/draws/plans/{id}/freeze</c>).
/// </summary>
public sealed class SnapshotFreeze(Work work, IOptions<InspectionOptions> options, BureauClock clock)
{
    private const string FrozenColumns = """
        s.id, s.plan_id AS PlanId, s.algorithm, s.snapshot, s.snapshot_hash AS SnapshotHash, s.public_source AS PublicSource,
        s.public_value_date AS PublicValueDate, s.frozen_by AS FrozenBy, s.frozen_at AS FrozenAt
        """;

    /// <summary>The plan's snapshot waiting for its draw (frozen, used by no draw and no failure), or null.</summary>
    public static Task<FrozenSnapshot?> OpenAsync(UnitOfWork uow, long planId) =>
        uow.SingleOrDefaultAsync<FrozenSnapshot>(
            $"""
            SELECT {FrozenColumns} FROM app.draw_snapshots s
            WHERE s.plan_id = @planId
              AND NOT EXISTS (SELECT 1 FROM app.draws d WHERE d.snapshot_id = s.id)
              AND NOT EXISTS (SELECT 1 FROM app.draw_failures f WHERE f.snapshot_id = s.id)
            ORDER BY s.id DESC LIMIT 1
            """, new { planId });

    /// <summary>
    /// Plans whose latest draw attempt failed and that have no draw since (not withdrawn): the plan id and how
    /// many employers could not get a team. A draw, an edit or a withdrawal ends it.
    /// </summary>
    public Task<List<(long PlanId, int Unassignable)>> UndrawnFailuresAsync(CancellationToken ct) =>
        work.RunAsync("draw.failures-open", uow => uow.ListAsync<(long, int)>(
            """
            SELECT f.plan_id, coalesce((f.report ->> 'unassignable')::int, 0)
            FROM app.draw_failures f
            WHERE f.id = (SELECT max(id) FROM app.draw_failures g WHERE g.plan_id = f.plan_id)
              AND NOT EXISTS (SELECT 1 FROM app.draws d WHERE d.plan_id = f.plan_id AND d.started_at > f.failed_at)
              AND NOT EXISTS (SELECT 1 FROM app.plan_withdrawals w WHERE w.plan_id = f.plan_id)
            ORDER BY f.plan_id
            """), ct);

    /// <summary>Plans due for a freeze: draw date on or before <paramref name="until"/>, drawable, none waiting.</summary>
    public Task<List<long>> DueAsync(DateOnly until, CancellationToken ct) =>
        work.RunAsync("draw.freeze-due", uow => uow.ListAsync<long>(
            $"""
            SELECT p.id FROM app.inspection_plans p
            WHERE p.draw_date <= @until AND {PlanLifecycle.StateSql} IN ({PlanLifecycle.SqlFrom(PlanVerb.Freeze)})
              AND NOT EXISTS (SELECT 1 FROM app.draw_snapshots s WHERE s.plan_id = p.id
                              AND NOT EXISTS (SELECT 1 FROM app.draws d WHERE d.snapshot_id = s.id)
                              AND NOT EXISTS (SELECT 1 FROM app.draw_failures f WHERE f.snapshot_id = s.id))
            ORDER BY p.draw_date, p.id
            """, new { until }), ct);

    /// <summary>The source published with the plan's waiting snapshot (the setting when there is none).</summary>
    public Task<string> SourceAsync(long planId, CancellationToken ct) =>
        work.RunAsync("draw.freeze-source", async uow => (await OpenAsync(uow, planId))?.PublicSource ?? options.Value.PublicValueSource, ct);

    /// <summary>
    /// Freezes the plan's register snapshot now, as the acting person. Refused when a snapshot is already
    /// waiting (a second one would let someone choose between snapshots) or the plan cannot be drawn.
    /// </summary>
    public Task<FrozenSnapshot> FreezeAsync(long planId, CancellationToken ct) =>
        work.RunAsync("draw.freeze", async uow =>
        {
            var (plan, state, _) = await PlanLifecycle.LoadAsync(uow, planId);
            PlanLifecycle.Table.Require(PlanVerb.Freeze, state, planId.ToString(CultureInfo.InvariantCulture));
            if (await OpenAsync(uow, planId) is { } open)
                throw new DomainRuleException($"plan {planId} has a snapshot waiting for its draw since {clock.Format(new DateTimeOffset(DateTime.SpecifyKind(open.FrozenAt, DateTimeKind.Utc)))} / 该计划已冻结名录快照,等待摇号");
            DrawSnapshot snapshot;
            try { snapshot = await DrawService.LoadSnapshotAsync(uow, plan, options.Value.ExcludeInspectedWithinMonths, options.Value.ComplaintsForClassD); }
            catch (ArgumentException e) { throw new DomainRuleException($"plan {planId}: the registers cannot be drawn from: {e.Message} / 名录数据有误"); }
            var bytes = snapshot.Encode();
            var now = clock.UtcNow;
            var publicDate = DrawTiming.PublicValueDate(plan.DrawDate, now, options.Value.Cutoff, clock);
            var id = await uow.ScalarAsync<long>(
                """
                INSERT INTO app.draw_snapshots (plan_id, algorithm, snapshot, snapshot_hash, public_source, public_value_date, frozen_by, frozen_at)
                VALUES (@planId, @Version, @bytes, sha256(@bytes), @source, @publicDate, @actor, @now) RETURNING id
                """, new { planId, snapshot.Version, bytes, source = options.Value.PublicValueSource, publicDate, actor = uow.Acting.Actor, now });
            await uow.AuditAsync("draw.freeze", "inspection_plan", planId.ToString(CultureInfo.InvariantCulture),
                after: new { snapshotId = id, snapshotSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), publicSource = options.Value.PublicValueSource, publicValueDate = publicDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
            return (await OpenAsync(uow, planId))!;
        }, ct, PlanLifecycle.DrawWork(planId));

    /// <summary>The slice's endpoint: freeze a plan's snapshot now (inspection and admin users).</summary>
    internal static void Map(RouteGroupBuilder g) => g.MapPost("/plans/{planId:long}/freeze", Freeze).RequireAuthorization(Policies.Inspection);

    private static Task<IResult> Freeze(HttpContext ctx, long planId, SnapshotFreeze freeze, InspectionsView view, CancellationToken ct) =>
        DrawsPage.ActAsync(ctx, view, ct, async _ =>
        {
            var f = await freeze.FreezeAsync(planId, ct);
            return $"计划 {planId} 的名录快照已冻结,哈希值 {Convert.ToHexStringLower(f.SnapshotHash)} 已公开;摇号须使用 {f.PublicSource}({f.PublicValueDate:yyyy-MM-dd})。";
        });
}

public sealed class DrawFreezeCommand(SnapshotFreeze freeze) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "draw freeze",
        "freeze a plan's register snapshot and publish its hash / 冻结计划的名录快照并公开其哈希值",
        """
        usage: Lingyuan.Jobs draw freeze PLAN_ID [--user NAME]
        用法:  Lingyuan.Jobs draw freeze 计划编号
        Fixes the registers the draw will use and prints the snapshot's SHA-256, the public value's source and
        the date whose value the draw needs (the day before the draw date, or the first day whose cutoff
        Inspections:PublicValueCutoff is still ahead). The daily job inspection-draws does this the day before.
        固定摇号所用名录快照,输出其 SHA-256、公开随机数来源及其开奖日期。
        """,
        ValueOptions: ["user"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var planId = args.PositionalId(0, "PLAN_ID");
        args.ExpectPositionals(1);
        FrozenSnapshot f;
        using (CliActor.Begin(args)) f = await freeze.FreezeAsync(planId, ct);
        Console.WriteLine($"snapshot_sha256 {Convert.ToHexStringLower(f.SnapshotHash)}");
        Console.WriteLine($"public_source {f.PublicSource}");
        Console.WriteLine($"public_value_date {f.PublicValueDate:yyyy-MM-dd}");
        return ExitCodes.Ok;
    }
}
