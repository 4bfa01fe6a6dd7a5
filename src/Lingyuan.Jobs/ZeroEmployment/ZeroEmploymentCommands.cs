using System.Globalization;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary><c>zero-employment check [--as-of DATE] [--dry-run]</c>: the daily check, now.</summary>
public sealed class ZeroEmploymentCheckCommand(ZeroEmploymentCheck check) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "zero-employment check",
        "find zero-employment households and move their cases on / 零就业家庭排查",
        """
        usage: Lingyuan.Jobs zero-employment check [--as-of YYYY-MM-DD] [--dry-run]
        用法:  Lingyuan.Jobs zero-employment check [--as-of 日期] [--dry-run]
          --as-of    the day to check as of (default today in Jobs:TimeZone); never before the last check
                     排查基准日(默认今天);不能早于上次排查
          --dry-run  do everything, print the counts and the scan time, then roll back (nothing changed, nothing sent)
                     试运行:统计并打印结果与扫描耗时,然后回滚(不改变数据、不发送邮件)
        The same work as the recurring job zero-employment-check; running it twice on a day changes nothing.
        与定时任务 zero-employment-check 相同;同一天重复运行不会重复处理。
        """,
        ValueOptions: ["as-of"],
        Flags: ["dry-run"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        var asOf = check.Today();
        if (args.Option("as-of") is { } s && !DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out asOf))
            throw new UsageException($"--as-of must be a date YYYY-MM-DD, got '{s}' / --as-of 应为日期 YYYY-MM-DD");
        var r = await check.RunAsync(asOf, ct, dryRun: args.Flag("dry-run"));
        Console.WriteLine($"as_of\tqualifying\tproposed\tproposals_reminded\tcleared\tclosed\treminded\toverdue\tmessages\tscan_ms\tdry_run");
        Console.WriteLine(string.Join('\t', r.AsOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.Qualifying, r.Opened, r.ProposalsReminded, r.Cleared,
            r.ClosedNoLongerQualifying, r.Reminded, r.Overdue, r.MessagesQueued, (long)r.ScanTime.TotalMilliseconds, r.DryRun ? "yes" : "no"));
        return ExitCodes.Ok;
    }
}

/// <summary><c>zero-employment close CASE_ID --reason moved|refused_referrals --note TEXT --user NAME</c>.</summary>
public sealed class ZeroEmploymentCloseCommand(ZeroEmploymentCases cases, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "zero-employment close",
        "close an open zero-employment case for another reason / 零就业家庭案件结案(其他原因)",
        """
        usage: Lingyuan.Jobs zero-employment close CASE_ID --reason moved|refused_referrals --note TEXT --user NAME
        用法:  Lingyuan.Jobs zero-employment close 案件编号 --reason moved|refused_referrals --note 说明 --user 账号
          moved              the household moved away / 已迁出本辖区
          refused_referrals  refused three referrals to suitable work / 三次拒绝推荐就业
          --user             an enabled admin account (as on the dashboard) / 须为启用的管理员账号
        Clearing (a member employed) and "no longer qualifies" are recorded by the daily check itself.
        清零(成员已就业)和"不再符合条件"由每日排查自动记录。
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["reason", "note", "user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "CASE_ID");
        args.ExpectPositionals(1);
        var reason = args.Option("reason") ?? throw new UsageException("--reason is required / 需要 --reason");
        var note = args.Option("note") ?? throw new UsageException("--note is required / 需要 --note");
        var user = await identity.ProveAsync(args, ct);
        await cases.CloseAsAccountAsync(id, reason, note, user, ct);
        Console.WriteLine($"case {id} closed ({reason}) / 案件 {id} 已结案({ZeroEmploymentMail.CloseReasonZh(reason)})");
        return ExitCodes.Ok;
    }
}

/// <summary>
/// <c>zero-employment confirm|reject CASE_ID --note TEXT --user NAME</c>: the caseworker's (or an admin's)
/// decision on a proposal, the same rule as the dashboard's.
/// </summary>
public sealed class ZeroEmploymentDecideCommand(ZeroEmploymentCases cases, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "zero-employment decide",
        "confirm or reject a proposed zero-employment household / 确认或不予认定疑似零就业家庭",
        """
        usage: Lingyuan.Jobs zero-employment decide CASE_ID confirm|reject --note TEXT --user NAME
        用法:  Lingyuan.Jobs zero-employment decide 案件编号 confirm|reject --note 理由 --user 账号
          confirm   the household is identified today; the clearing deadline starts / 确认认定,自今日起计算清零期限
          reject    the household is not a zero-employment household / 不予认定
          --note    the reason (required) / 理由(必填)
          --user    the caseworker of the household's community, or an admin / 该社区的社区协理员或管理员
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["note", "user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "CASE_ID");
        var decision = args.Positional(1, "confirm|reject");
        args.ExpectPositionals(2);
        if (decision is not ("confirm" or "reject"))
            throw new UsageException($"the decision must be confirm or reject, got '{decision}' / 决定应为 confirm 或 reject");
        var note = args.Option("note") ?? throw new UsageException("--note is required / 需要 --note");
        var user = await identity.ProveAsync(args, ct);
        await cases.DecideAsync(id, decision == "confirm", note, user, ct);
        Console.WriteLine(decision == "confirm"
            ? $"case {id} confirmed / 案件 {id} 已确认认定"
            : $"case {id} rejected / 案件 {id} 不予认定");
        return ExitCodes.Ok;
    }
}
