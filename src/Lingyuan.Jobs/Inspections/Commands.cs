using System.Globalization;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Inspections;

internal static class CliActor
{
    /// <summary>Who the records name for a command-line action: <c>--user</c>, else the OS account.</summary>
    public static string Of(CommandArgs args) => args.Option("user") is { Length: > 0 } u ? u : $"cli:{Environment.UserName}";

    public static DateOnly Date(string? text, string option) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d : throw new UsageException($"--{option} must be a date YYYY-MM-DD, got '{text}' / --{option} 应为日期 YYYY-MM-DD");

    public static int Int(CommandArgs args, string option, int? fallback = null) =>
        args.Option(option) is not { } v ? fallback ?? throw new UsageException($"--{option} is required / 需要 --{option}")
        : int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"--{option} must be a whole number, got '{v}' / --{option} 应为整数");

    public static string[]? List(CommandArgs args, string option) =>
        args.Option(option)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
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
        var plan = await plans.CreateAsync(input, CliActor.Of(args), ct);
        Console.WriteLine($"plan {plan.Id}");
        Console.WriteLine($"commitment {plan.CommitmentHex}");
        return ExitCodes.Ok;
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
        var run = await draws.RunAsync(planId, CliActor.Of(args), onlyIfNone: false, ct);
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
        var planId = await draws.CancelAsync(drawId, args.Option("reason") ?? "", CliActor.Of(args), ct);
        Console.WriteLine($"draw {drawId} cancelled; plan {planId} may be drawn again / 已撤销");
        return ExitCodes.Ok;
    }
}
