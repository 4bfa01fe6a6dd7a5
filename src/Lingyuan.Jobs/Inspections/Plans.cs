using System.Globalization;
using System.Security.Cryptography;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Inspections;

/// <summary>What a user asks for when scheduling a plan; null fields take the settings' defaults.</summary>
public sealed record PlanInput(
    string Name, string Period, DateOnly DrawDate,
    int[]? Ratios = null, int? TeamSize = null, int? WorkloadCap = null, int? RotationLookbackMonths = null,
    string[]? Streets = null, string[]? Industries = null);

/// <summary>What an edit changes; null keeps the old plan's value.</summary>
public sealed record PlanChange(
    string? Name = null, string? Period = null, DateOnly? DrawDate = null, int[]? Ratios = null, int? TeamSize = null,
    int? WorkloadCap = null, int? RotationLookbackMonths = null, string[]? Streets = null, string[]? Industries = null);

/// <summary>A scheduled plan as stored (the secret is never loaded with it).</summary>
public sealed class Plan
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Period { get; init; } = "";
    public string[] Streets { get; init; } = [];
    public string[] Industries { get; init; } = [];
    public short RatioA { get; init; }
    public short RatioB { get; init; }
    public short RatioC { get; init; }
    public short RatioD { get; init; }
    public short TeamSize { get; init; }
    public int WorkloadCap { get; init; }
    public short RotationLookbackMonths { get; init; }
    public DateOnly DrawDate { get; init; }
    public byte[] Commitment { get; init; } = [];
    public string CreatedBy { get; init; } = "";
    /// <summary>When the commitment was published: the plan's creation (UTC).</summary>
    public DateTime CreatedAt { get; init; }
    /// <summary>The plan this one replaced (an edit before the draw), if any.</summary>
    public long? ReplacesPlanId { get; init; }
    /// <summary>The state as stored text (derived, see <see cref="PlanLifecycle.StateSql"/>).</summary>
    public string StateDb { get; init; } = "";

    public PlanState State => PlanLifecycle.Table.Parse(StateDb);

    public DrawParameters Parameters => new([RatioA, RatioB, RatioC, RatioD], TeamSize, WorkloadCap);
    public InspectionPeriod Window => InspectionPeriod.TryParse(Period, out var p) ? p : throw new InvalidOperationException($"plan {Id}: bad period");
    public string CommitmentHex => Convert.ToHexStringLower(Commitment);
    public string RatiosText => $"A={RatioA},B={RatioB},C={RatioC},D={RatioD}";
}

/// <summary>
/// The Plans slice: scheduling a plan (<c>plan add</c>, <c>POST /hangfire/draws/plans</c>) with its seed
/// commitment; changing or withdrawing it before its draw (<c>plan edit|withdraw</c>, <c>POST …/plans/{id}/edit|withdraw</c>).
/// Plan rows are records: never updated, never deleted (0030_inspections.sql); an edit is a withdrawal and a
/// replacement with a fresh commitment (0140_draw_proof.sql).
/// </summary>
public sealed class InspectionPlans(Work work, IOptions<InspectionOptions> options, BureauClock clock, PlanSecrets secrets)
{
    /// <summary>A plan's columns, for the table aliased <c>p</c> (the secret is never among them).</summary>
    public static readonly string Columns = $"""
        p.id, p.name, p.period, p.streets, p.industries, p.ratio_a AS RatioA, p.ratio_b AS RatioB, p.ratio_c AS RatioC, p.ratio_d AS RatioD,
        p.team_size AS TeamSize, p.workload_cap AS WorkloadCap, p.rotation_lookback_months AS RotationLookbackMonths,
        p.draw_date AS DrawDate, p.commitment, p.created_by AS CreatedBy, p.created_at AS CreatedAt, p.replaces_plan_id AS ReplacesPlanId,
        {PlanLifecycle.StateSql} AS StateDb
        """;

    /// <summary>Today in the bureau's time zone (<see cref="BureauClock"/>).</summary>
    public DateOnly Today => clock.Today;

    /// <summary>A stored UTC time as people read it.</summary>
    public string Format(DateTime utc) => clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));

    /// <summary>Each problem of the input, one line each (empty when valid).</summary>
    public List<string> Problems(PlanInput input)
    {
        var o = options.Value;
        var problems = new List<string>();
        if (Dashboard.TextRules.Problem(input.Name, "name", "计划名称", Dashboard.TextRules.NameMaxLength) is { } nameProblem) problems.Add(nameProblem);
        if (!InspectionPeriod.TryParse(input.Period, out _)) problems.Add($"period: '{input.Period}' is not YYYY-MM or YYYY-Qn / 期间格式应为 YYYY-MM 或 YYYY-Qn");
        if (input.DrawDate < Today) problems.Add($"draw date: {input.DrawDate:yyyy-MM-dd} is in the past / 摇号日期不能早于今天");
        var parameters = new DrawParameters(input.Ratios ?? o.DefaultRatios, input.TeamSize ?? o.DefaultTeamSize, input.WorkloadCap ?? o.DefaultWorkloadCap);
        problems.AddRange(parameters.Problems());
        if ((input.RotationLookbackMonths ?? o.DefaultRotationLookbackMonths) is < 0 or > 240) problems.Add("rotation look-back: 0-240 months / 轮换回溯月数应为 0-240");
        foreach (var s in (input.Streets ?? []).Concat(input.Industries ?? []))
            if (Dashboard.TextRules.Problem(s, "streets/industries", "街道或行业名称", Dashboard.TextRules.NameMaxLength) is { } listProblem) problems.Add(listProblem);
        return problems;
    }

    /// <summary>
    /// Schedules a plan: a fresh 32-byte secret from the OS CSPRNG is sealed (<see cref="PlanSecrets"/>) and only
    /// its SHA-256 commitment is returned and published, now (commit–reveal, docs/draw-algorithm.md §1).
    /// </summary>
    public async Task<Plan> CreateAsync(PlanInput input, CancellationToken ct)
    {
        var problems = Problems(input);
        if (problems.Count > 0) throw new BadInputException(problems);
        return await work.RunAsync("inspection-plan.add", async uow =>
        {
            var plan = await InsertAsync(uow, input, replaces: null);
            await uow.AuditAsync("inspection-plan.add", "inspection_plan", plan.Id.ToString(CultureInfo.InvariantCulture), after: AuditView(plan));
            return plan;
        }, ct, new WorkOptions { Lock = NamesLock });
    }

    /// <summary>
    /// Changes a plan before its draw: the plan is withdrawn (with the reason) and a new plan with the changed
    /// fields and a fresh secret and commitment takes its place; both stay on record and on the public page.
    /// Fields left null keep the old plan's values. Returns the new plan.
    /// </summary>
    public async Task<Plan> EditAsync(long planId, PlanChange change, string reason, CancellationToken ct)
    {
        reason = Reason(reason);
        return await work.RunAsync("inspection-plan.edit", async uow =>
        {
            var (old, state, _) = await PlanLifecycle.LoadAsync(uow, planId);
            PlanLifecycle.Table.Require(PlanVerb.Edit, state, planId.ToString(CultureInfo.InvariantCulture));
            var input = new PlanInput(change.Name ?? old.Name, change.Period ?? old.Period, change.DrawDate ?? old.DrawDate,
                change.Ratios ?? [old.RatioA, old.RatioB, old.RatioC, old.RatioD], change.TeamSize ?? old.TeamSize,
                change.WorkloadCap ?? old.WorkloadCap, change.RotationLookbackMonths ?? old.RotationLookbackMonths,
                change.Streets ?? old.Streets, change.Industries ?? old.Industries);
            var problems = Problems(input);
            if (problems.Count > 0) throw new BadInputException(problems);
            var plan = await InsertAsync(uow, input, replaces: planId);
            await WithdrawRowAsync(uow, planId, reason, replacedBy: plan.Id);
            await uow.AuditAsync("inspection-plan.edit", "inspection_plan", planId.ToString(CultureInfo.InvariantCulture),
                before: AuditView(old), after: AuditView(plan), details: reason);
            return plan;
        }, ct, new WorkOptions { Lock = NamesLock, RecordId = $"plan:{planId}" });
    }

    /// <summary>Withdraws a plan before its draw, with a reason; it stays on record (and on the public page) as withdrawn.</summary>
    public async Task WithdrawAsync(long planId, string reason, CancellationToken ct)
    {
        reason = Reason(reason);
        await work.RunAsync("inspection-plan.withdraw", async uow =>
        {
            var (plan, state, _) = await PlanLifecycle.LoadAsync(uow, planId);
            PlanLifecycle.Table.Require(PlanVerb.Withdraw, state, planId.ToString(CultureInfo.InvariantCulture));
            await WithdrawRowAsync(uow, planId, reason, replacedBy: null);
            await uow.AuditAsync("inspection-plan.withdraw", "inspection_plan", planId.ToString(CultureInfo.InvariantCulture), before: AuditView(plan), details: reason);
        }, ct, new WorkOptions { RecordId = $"plan:{planId}" });
    }

    private const string NamesLock = "inspection-plan-names";

    private static string Reason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new UsageException("a reason is required / 须说明理由");
        return Dashboard.TextRules.SingleLine(reason, "reason", "理由", Dashboard.TextRules.ReasonMaxLength).Trim();
    }

    private async Task WithdrawRowAsync(UnitOfWork uow, long planId, string reason, long? replacedBy)
    {
        // The plan's draw lock is not needed: a draw checks the plan's state under its own lock, and the
        // withdrawal row makes the state "withdrawn" for every later look (one row per plan: a second one fails).
        var inserted = await uow.ExecuteAsync(
            """
            INSERT INTO app.plan_withdrawals (plan_id, reason, replaced_by, withdrawn_by, withdrawn_at)
            VALUES (@planId, @reason, @replacedBy, @actor, @now) ON CONFLICT (plan_id) DO NOTHING
            """, new { planId, reason, replacedBy, actor = uow.Acting.Actor, now = clock.UtcNow });
        if (inserted == 0) throw new DomainRuleException($"plan {planId} is withdrawn already / 该计划已撤回");
    }

    private async Task<Plan> InsertAsync(UnitOfWork uow, PlanInput input, long? replaces)
    {
        var o = options.Value;
        var ratios = input.Ratios ?? o.DefaultRatios;
        var name = input.Name.Trim();
        var taken = await uow.ScalarAsync<bool>(
            """
            SELECT EXISTS (SELECT 1 FROM app.inspection_plans p WHERE p.name = @name AND p.period = @Period AND p.id IS DISTINCT FROM @replaces
                           AND NOT EXISTS (SELECT 1 FROM app.plan_withdrawals w WHERE w.plan_id = p.id))
            """, new { name, input.Period, replaces });
        if (taken) throw new DomainRuleException($"a plan named '{name}' exists for {input.Period} / 该期间已有同名计划");
        var secret = RandomNumberGenerator.GetBytes(32);
        var id = await uow.ScalarAsync<long>(
            """
            INSERT INTO app.inspection_plans (name, period, streets, industries, ratio_a, ratio_b, ratio_c, ratio_d,
                team_size, workload_cap, rotation_lookback_months, draw_date, sealed_secret, commitment, created_by, created_at, replaces_plan_id)
            VALUES (@name, @Period, @streets, @industries, @a, @b, @c, @d, @team, @cap, @lookback, @DrawDate, @sealedSecret, sha256(@secret), @actor, @now, @replaces)
            RETURNING id
            """,
            new
            {
                name, input.Period, input.DrawDate, secret, sealedSecret = secrets.Seal(secret), actor = uow.Acting.Actor, now = clock.UtcNow, replaces,
                streets = Clean(input.Streets), industries = Clean(input.Industries),
                a = (short)ratios[0], b = (short)ratios[1], c = (short)ratios[2], d = (short)ratios[3],
                team = (short)(input.TeamSize ?? o.DefaultTeamSize), cap = input.WorkloadCap ?? o.DefaultWorkloadCap,
                lookback = (short)(input.RotationLookbackMonths ?? o.DefaultRotationLookbackMonths),
            });
        CryptographicOperations.ZeroMemory(secret);
        return await GetAsync(uow, id) ?? throw new InvalidOperationException("plan vanished");
    }

    private static object AuditView(Plan plan) => new
    {
        plan.Name, plan.Period, plan.Streets, plan.Industries, plan.RatiosText, plan.TeamSize, plan.WorkloadCap, plan.RotationLookbackMonths,
        DrawDate = plan.DrawDate.ToString("yyyy-MM-dd"), Commitment = plan.CommitmentHex, plan.ReplacesPlanId,
    };

    private static string[] Clean(string[]? names) =>
        (names ?? []).Select(s => s.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    public static Task<Plan?> GetAsync(UnitOfWork uow, long id) =>
        uow.SingleOrDefaultAsync<Plan>($"SELECT {Columns} FROM app.inspection_plans p WHERE p.id = @id", new { id });

    /// <summary>The slice's endpoint: <c>POST /hangfire/draws/plans</c> (inspection and admin users).</summary>
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/plans", CreatePlan).RequireAuthorization(Policies.Inspection);
        g.MapPost("/plans/{planId:long}/edit", EditPlan).RequireAuthorization(Policies.Inspection);
        g.MapPost("/plans/{planId:long}/withdraw", WithdrawPlan).RequireAuthorization(Policies.Inspection);
    }

    private static Task<IResult> EditPlan(HttpContext ctx, long planId, InspectionPlans plans, InspectionsView view, CancellationToken ct) =>
        DrawsPage.ActAsync(ctx, view, ct, async f =>
        {
            static int? Int(string? s, string what) => string.IsNullOrWhiteSpace(s) ? null
                : int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"{what}应为整数");
            static string[]? List(string? s) => s is null ? null : s.Split([',', ',', '、'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            static string? Text(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
            var drawDate = f["drawDate"].ToString();
            var change = new PlanChange(Text(f["name"]), Text(f["period"]),
                string.IsNullOrWhiteSpace(drawDate) ? null
                    : DateOnly.TryParseExact(drawDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : throw new UsageException("摇号日期应为 YYYY-MM-DD"),
                Text(f["ratios"]) is { } r ? ParseRatios(r) : null, Int(f["teamSize"], "每组人数"), Int(f["cap"], "每人上限"), Int(f["rotationMonths"], "轮换回溯月数"),
                List(f["streets"]), List(f["industries"]));
            var plan = await plans.EditAsync(planId, change, f["reason"].ToString(), ct);
            return $"计划 {planId} 已撤回并由计划 {plan.Id} 取代;新的种子承诺值 {plan.CommitmentHex} 已公开,原计划及其承诺值仍留存并公开。";
        });

    private static Task<IResult> WithdrawPlan(HttpContext ctx, long planId, InspectionPlans plans, InspectionsView view, CancellationToken ct) =>
        DrawsPage.ActAsync(ctx, view, ct, async f =>
        {
            await plans.WithdrawAsync(planId, f["reason"].ToString(), ct);
            return $"计划 {planId} 已撤回,计划及其种子承诺值仍留存并公开。";
        });

    private static async Task<IResult> CreatePlan(HttpContext ctx, InspectionPlans plans, InspectionsView view, CancellationToken ct)
    {
        if (!DrawsPage.CanChange(ctx)) return DrawsPage.Forbidden(ctx);
        var f = await DrawsPage.FormAsync(ctx);
        var form = new DrawsPage.PlanForm
        {
            Name = f["name"], Period = f["period"], DrawDate = f["drawDate"], Ratios = f["ratios"], TeamSize = f["teamSize"],
            Cap = f["cap"], RotationMonths = f["rotationMonths"], Streets = f["streets"], Industries = f["industries"],
        };
        try
        {
            static int? Int(string? s, string what) => string.IsNullOrWhiteSpace(s) ? null
                : int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"{what}应为整数");
            static string[] List(string? s) => (s ?? "").Split([',', ',', '、'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var input = new PlanInput(form.Name ?? "", form.Period ?? "",
                DateOnly.TryParseExact(form.DrawDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : throw new UsageException("摇号日期应为 YYYY-MM-DD"),
                string.IsNullOrWhiteSpace(form.Ratios) ? null : ParseRatios(form.Ratios),
                Int(form.TeamSize, "每组人数"), Int(form.Cap, "每人上限"), Int(form.RotationMonths, "轮换回溯月数"), List(form.Streets), List(form.Industries));
            Plan plan;
            using (DrawsPage.ActingAs(ctx)) plan = await plans.CreateAsync(input, ct);
            // Post/redirect/get: a reload of the page shows the plans, it does not post the form again.
            return Results.Redirect($"{DrawsPage.Base}?saved={plan.Id}");
        }
        catch (Exception e) when (e is UsageException or BadInputException or DomainRuleException)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: DrawsPage.Zh(e));
        }
    }

    /// <summary>Parses <c>A=3,B=5,C=20,D=60</c> (every class given once).</summary>
    public static int[] ParseRatios(string text)
    {
        var ratios = new int?[4];
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            var c = kv[0].Length == 1 ? RiskClasses.IndexOf(char.ToUpperInvariant(kv[0][0])) : -1;
            if (kv.Length != 2 || c < 0 || ratios[c] is not null
                || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v > 100)
                throw new UsageException($"--ratios: '{part}' is not CLASS=PERCENT with CLASS A-D once each and PERCENT 0-100 / 抽查比例格式应为 A=3,B=5,C=20,D=60");
            ratios[c] = v;
        }
        if (ratios.Any(r => r is null)) throw new UsageException("--ratios: give all four classes A, B, C and D / 需给出 A、B、C、D 四类比例");
        return ratios.Select(r => r!.Value).ToArray();
    }
}

public sealed class PlanAddCommand(InspectionPlans plans) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "plan add",
        "schedule an inspection plan; prints its id and seed commitment / 新建双随机抽查计划",
        """
        usage: Lingyuan.Jobs plan add --name TEXT --period YYYY-MM|YYYY-Qn --draw-date DATE
                 [--ratios A=3,B=5,C=20,D=60] [--team-size 2] [--cap N] [--rotation-months 24]
                 [--streets S1,S2] [--industries I1,I2] [--user NAME]
        用法:  Lingyuan.Jobs plan add --name 计划名称 --period 期间 --draw-date 摇号日期 [选项]
          --ratios          sampling percent per risk class / 各信用风险类别抽查比例(%)
          --team-size       inspectors per employer, at least 2 / 每户执法人员数,至少 2
          --cap             most employers per inspector in this draw / 每名执法人员本次最多检查户数
          --rotation-months no inspector for an employer he inspected within N months (0 = off) / 轮换回溯月数
          --streets, --industries  scope; empty = all / 抽查范围(街道、行业),缺省为全部
        Prints the plan id and the SHA-256 commitment of its secret seed: publish the commitment before the draw.
        输出计划编号与随机种子承诺值(SHA-256),请在摇号前公开承诺值。
        """,
        ValueOptions: ["name", "period", "draw-date", "ratios", "team-size", "cap", "rotation-months", "streets", "industries", "user"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        var input = new PlanInput(
            // Bad text in the name is bad data (exit 65), as a 1 MB reason is; the plan's other problems are usage (64).
            Dashboard.TextRules.SingleLine(args.Option("name") ?? throw new UsageException("--name is required / 需要 --name"),
                "--name", "计划名称", Dashboard.TextRules.NameMaxLength),
            args.Option("period") ?? throw new UsageException("--period is required / 需要 --period"),
            CliActor.Date(args.Option("draw-date") ?? throw new UsageException("--draw-date is required / 需要 --draw-date"), "draw-date"),
            args.Option("ratios") is { } r ? InspectionPlans.ParseRatios(r) : null,
            args.Option("team-size") is null ? null : CliActor.Int(args, "team-size"),
            args.Option("cap") is null ? null : CliActor.Int(args, "cap"),
            args.Option("rotation-months") is null ? null : CliActor.Int(args, "rotation-months"),
            CliActor.List(args, "streets"), CliActor.List(args, "industries"));
        var problems = plans.Problems(input);
        if (problems.Count > 0) throw new UsageException(string.Join("; ", problems));
        Plan plan;
        using (CliActor.Begin(args)) plan = await plans.CreateAsync(input, ct);
        Console.WriteLine($"plan {plan.Id}");
        Console.WriteLine($"commitment {plan.CommitmentHex}");
        Console.WriteLine($"published {plans.Format(plan.CreatedAt)}");
        return ExitCodes.Ok;
    }
}

public sealed class PlanEditCommand(InspectionPlans plans) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "plan edit",
        "change a plan before its draw: withdrawn and replaced, with a fresh commitment / 修改未摇号的计划(原计划撤回,新计划重新生成承诺值)",
        """
        usage: Lingyuan.Jobs plan edit PLAN_ID --reason TEXT [--name TEXT] [--period P] [--draw-date DATE]
                 [--ratios A=3,B=5,C=20,D=60] [--team-size N] [--cap N] [--rotation-months N]
                 [--streets S1,S2] [--industries I1,I2] [--user NAME]
        用法:  Lingyuan.Jobs plan edit 计划编号 --reason 理由 [要修改的选项]
        Options not given keep the plan's values. The plan is withdrawn with the reason and a new plan takes
        its place with a new secret and commitment; both stay on record and on the public page. Prints the new
        plan's id and commitment. Refused once the plan has a standing draw.
        未给出的选项保持不变;原计划撤回并留存,新计划重新生成并公开承诺值;已摇号的计划不能修改。
        """,
        ValueOptions: ["reason", "name", "period", "draw-date", "ratios", "team-size", "cap", "rotation-months", "streets", "industries", "user"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var planId = args.PositionalId(0, "PLAN_ID");
        args.ExpectPositionals(1);
        var change = new PlanChange(
            args.Option("name") is { } n ? Dashboard.TextRules.SingleLine(n, "--name", "计划名称", Dashboard.TextRules.NameMaxLength) : null,
            args.Option("period"),
            args.Option("draw-date") is { } d ? CliActor.Date(d, "draw-date") : null,
            args.Option("ratios") is { } r ? InspectionPlans.ParseRatios(r) : null,
            args.Option("team-size") is null ? null : CliActor.Int(args, "team-size"),
            args.Option("cap") is null ? null : CliActor.Int(args, "cap"),
            args.Option("rotation-months") is null ? null : CliActor.Int(args, "rotation-months"),
            CliActor.List(args, "streets"), CliActor.List(args, "industries"));
        Plan plan;
        using (CliActor.Begin(args)) plan = await plans.EditAsync(planId, change, args.Option("reason") ?? "", ct);
        Console.WriteLine($"plan {planId} withdrawn, replaced by plan {plan.Id} / 原计划已撤回");
        Console.WriteLine($"plan {plan.Id}");
        Console.WriteLine($"commitment {plan.CommitmentHex}");
        Console.WriteLine($"published {plans.Format(plan.CreatedAt)}");
        return ExitCodes.Ok;
    }
}

public sealed class PlanWithdrawCommand(InspectionPlans plans) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "plan withdraw",
        "withdraw a plan before its draw, with a reason / 撤回未摇号的计划(须说明理由)",
        """
        usage: Lingyuan.Jobs plan withdraw PLAN_ID --reason TEXT [--user NAME]
        用法:  Lingyuan.Jobs plan withdraw 计划编号 --reason 理由
        The plan and its commitment stay on record and on the public page, marked withdrawn.
        计划及其承诺值仍留存并在公开页面标明已撤回。
        """,
        ValueOptions: ["reason", "user"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var planId = args.PositionalId(0, "PLAN_ID");
        args.ExpectPositionals(1);
        using (CliActor.Begin(args)) await plans.WithdrawAsync(planId, args.Option("reason") ?? "", ct);
        Console.WriteLine($"plan {planId} withdrawn / 计划已撤回");
        return ExitCodes.Ok;
    }
}
