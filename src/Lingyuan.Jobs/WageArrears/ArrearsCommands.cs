using System.Globalization;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>
/// The people's moves at the command line (INTERFACES.md): each verb proves the account (password from stdin,
/// one-time code when it has one) and acts as that person, exactly as on the dashboard.
/// </summary>
internal static class ArrearsCli
{
    public const string Help = CliIdentity.HelpZhEn;

    public static async Task<int> RunAsync(CommandArgs args, CliIdentity identity, Func<string, string, Task<string>> act, CancellationToken ct)
    {
        var caseNo = args.Positional(0, "CASE_NO");
        args.ExpectPositionals(1);
        var user = await identity.ProveAsync(args, ct);
        string message;
        using (Acting.Begin(new Acting(user, Acting.Cli)))
            message = await act(caseNo, user);
        Console.WriteLine(message);
        return ExitCodes.Ok;
    }

    public static DateOnly Date(CommandArgs args, string name) =>
        args.Option(name) is { } s && DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : throw new UsageException($"--{name} must be a date YYYY-MM-DD / --{name} 应为日期 YYYY-MM-DD");

    public static string Required(CommandArgs args, string name) =>
        args.Option(name) ?? throw new UsageException($"--{name} is required / 需要 --{name}");
}

public sealed class ArrearsNoticeCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears notice",
        "issue the drafted pre-listing notice / 发出拟列入告知书",
        """
        usage: Lingyuan.Jobs arrears notice CASE_NO --channel post|personal|email [--agreed] --user NAME
        用法:  Lingyuan.Jobs arrears notice 案件编号 --channel post|personal|email [--agreed] --user 账号
          --channel  post or personal: printed for service; email: mailed to the employer, only with --agreed
                     (the party agreed to electronic service) / 邮寄、直接送达打印文书;电子送达须当事人同意(--agreed)
        """ + ArrearsCli.Help,
        ValueOptions: ["channel", "user", "code"], Flags: ["agreed"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        await acts.IssueNoticeAsync(caseNo, user, ArrearsCli.Required(args, "channel"), args.Flag("agreed"), ct);
        return $"notice issued for {caseNo} / 案件 {caseNo} 告知书已发出";
    }, ct);
}

public sealed class ArrearsServiceCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears service",
        "record how and when the notice was served / 登记告知书送达",
        """
        usage: Lingyuan.Jobs arrears service CASE_NO --method email|post|personal [--served-on YYYY-MM-DD --evidence TEXT] --user NAME
        用法:  Lingyuan.Jobs arrears service 案件编号 --method email|post|personal [--served-on 签收日期 --evidence 凭证] --user 账号
          email: the day the mail was delivered; post/personal: the date on the receipt, with its evidence.
          电子送达按邮件投递日期;邮寄或直接送达按回执签收日期并填写凭证。陈述申辩期自送达次日起计算。
        """ + ArrearsCli.Help,
        ValueOptions: ["method", "served-on", "evidence", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var method = ArrearsCli.Required(args, "method");
        DateOnly? served = args.Option("served-on") is null ? null : ArrearsCli.Date(args, "served-on");
        var due = await acts.RecordServiceAsync(caseNo, user, method, served, args.Option("evidence"), ct);
        return $"service recorded; statement period ends {due:yyyy-MM-dd} / 已登记送达,陈述申辩期至 {due:yyyy-MM-dd}";
    }, ct);
}

public sealed class ArrearsStatementCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears statement",
        "record a statement (陈述申辩) received / 登记陈述申辩",
        """
        usage: Lingyuan.Jobs arrears statement CASE_NO --received-on YYYY-MM-DD --summary TEXT --user NAME
        用法:  Lingyuan.Jobs arrears statement 案件编号 --received-on 收到日期 --summary 要点 --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["received-on", "summary", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        await acts.RecordStatementAsync(caseNo, user, ArrearsCli.Date(args, "received-on"), ArrearsCli.Required(args, "summary"), ct);
        return $"statement recorded for {caseNo} / 已登记陈述申辩";
    }, ct);
}

public sealed class ArrearsCheckCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears check",
        "record the result of checking a statement and tell the party / 登记陈述申辩核查结果并告知当事人",
        """
        usage: Lingyuan.Jobs arrears check CASE_NO --upheld yes|no --result TEXT --user NAME
        用法:  Lingyuan.Jobs arrears check 案件编号 --upheld yes|no --result 核查结果 --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["upheld", "result", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var upheld = ArrearsCli.Required(args, "upheld") switch
        {
            "yes" => true,
            "no" => false,
            var v => throw new UsageException($"--upheld must be yes or no, got '{v}' / --upheld 应为 yes 或 no"),
        };
        await acts.CheckStatementAsync(caseNo, user, upheld, ArrearsCli.Required(args, "result"), ct);
        return $"check recorded for {caseNo} / 已登记核查结果";
    }, ct);
}

public sealed class ArrearsProposeCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears propose",
        "propose a decision for a decider's approval / 提出列入或不予列入决定(待审批)",
        """
        usage: Lingyuan.Jobs arrears propose CASE_NO --decision listed|not_listed [--reason TEXT] --user NAME
        用法:  Lingyuan.Jobs arrears propose 案件编号 --decision listed|not_listed [--reason 理由] --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["decision", "reason", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var kind = ArrearsCli.Required(args, "decision") switch
        {
            "listed" => DecisionKind.Listed,
            "not_listed" => DecisionKind.NotListed,
            var v => throw new UsageException($"--decision must be listed or not_listed, got '{v}' / --decision 应为 listed 或 not_listed"),
        };
        await acts.ProposeAsync(caseNo, user, kind, args.Option("reason"), ct);
        return $"decision proposed for {caseNo}; a decider must approve it / 已提出决定,待部门负责人审批";
    }, ct);
}

public sealed class ArrearsApproveCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears approve",
        "approve a proposed decision (decider, four eyes) / 审批列入决定(部门负责人,双人复核)",
        """
        usage: Lingyuan.Jobs arrears approve CASE_NO --user NAME
        用法:  Lingyuan.Jobs arrears approve 案件编号 --user 账号
        NAME has the decider duty and is not the proposer. / 账号须有决定权限且不是提出人。
        """ + ArrearsCli.Help,
        ValueOptions: ["user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var kind = await acts.ApproveAsync(caseNo, user, ct);
        return $"{caseNo}: {(kind == DecisionKind.Listed ? "listed / 已列入" : "not listed / 不予列入")}";
    }, ct);
}

public sealed class ArrearsExtendCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears extend",
        "extend the decision deadline of a complex case once (decider) / 延长决定期限(部门负责人)",
        """
        usage: Lingyuan.Jobs arrears extend CASE_NO --reason TEXT --user NAME
        用法:  Lingyuan.Jobs arrears extend 案件编号 --reason 理由 --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["reason", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var due = await acts.ExtendAsync(caseNo, user, args.Option("reason") ?? "", ct);
        return $"decision due {due:yyyy-MM-dd} / 决定期限延长至 {due:yyyy-MM-dd}";
    }, ct);
}

public sealed class ArrearsReturnCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears return",
        "return a proposed decision with a reason (decider) / 退回拟作决定(部门负责人)",
        """
        usage: Lingyuan.Jobs arrears return CASE_NO --reason TEXT --user NAME
        用法:  Lingyuan.Jobs arrears return 案件编号 --reason 理由 --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["reason", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        await acts.ReturnProposalAsync(caseNo, user, ArrearsCli.Required(args, "reason"), ct);
        return $"proposal returned / 已退回";
    }, ct);
}

public sealed class ArrearsExpireCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears expire",
        "record removal of a party whose listing period has ended / 登记期满移出",
        """
        usage: Lingyuan.Jobs arrears expire CASE_NO --user NAME
        用法:  Lingyuan.Jobs arrears expire 案件编号 --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        await acts.RemoveExpiredAsync(caseNo, user, ct);
        return $"{caseNo} removed (period ended) / 已期满移出";
    }, ct);
}

public sealed class ArrearsRemovalApplyCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears removal-apply",
        "record an application for early removal (信用修复) / 登记提前移出申请",
        """
        usage: Lingyuan.Jobs arrears removal-apply CASE_NO --applied-on DATE --corrected-on DATE --proof TEXT --promise-on DATE --user NAME
        用法:  Lingyuan.Jobs arrears removal-apply 案件编号 --applied-on 申请日期 --corrected-on 改正日期 --proof 支付证明 --promise-on 信用承诺日期 --user 账号
        The decision is due 15 working days after the application. / 自申请之日起15个工作日内作出决定。
        """ + ArrearsCli.Help,
        ValueOptions: ["applied-on", "corrected-on", "proof", "promise-on", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var due = await acts.ApplyRemovalAsync(caseNo, user, ArrearsCli.Date(args, "applied-on"), ArrearsCli.Date(args, "corrected-on"),
            ArrearsCli.Required(args, "proof"), ArrearsCli.Date(args, "promise-on"), ct);
        return $"application recorded; decision due {due:yyyy-MM-dd} / 已登记申请,应于 {due:yyyy-MM-dd} 前决定";
    }, ct);
}

public sealed class ArrearsRemovalDecideCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears removal-decide",
        "grant or refuse early removal (decider) / 决定是否提前移出(部门负责人)",
        """
        usage: Lingyuan.Jobs arrears removal-decide CASE_NO --grant yes|no [--reason TEXT] --user NAME
        用法:  Lingyuan.Jobs arrears removal-decide 案件编号 --grant yes|no [--reason 不予移出的理由] --user 账号
        A refusal needs written reasons; granting is refused while a condition is unmet or article 13 bars it.
        不予移出须书面说明理由;不符合条件或存在第十三条情形的,不能准予移出。
        """ + ArrearsCli.Help,
        ValueOptions: ["grant", "reason", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        var grant = ArrearsCli.Required(args, "grant") switch
        {
            "yes" => true,
            "no" => false,
            var v => throw new UsageException($"--grant must be yes or no, got '{v}' / --grant 应为 yes 或 no"),
        };
        await acts.DecideRemovalAsync(caseNo, user, grant, args.Option("reason"), ct);
        return grant ? $"{caseNo} removed early / 已提前移出" : $"early removal refused / 不予提前移出";
    }, ct);
}

public sealed class ArrearsRevokeRemovalCommand(ArrearsActs acts, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "arrears revoke-removal",
        "revoke an early removal obtained by fraud; the original period is restored (decider) / 撤销提前移出,恢复列入(部门负责人)",
        """
        usage: Lingyuan.Jobs arrears revoke-removal CASE_NO --reason TEXT --user NAME
        用法:  Lingyuan.Jobs arrears revoke-removal 案件编号 --reason 理由 --user 账号
        """ + ArrearsCli.Help,
        ValueOptions: ["reason", "user", "code"]);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct) => ArrearsCli.RunAsync(args, identity, async (caseNo, user) =>
    {
        await acts.RevokeRemovalAsync(caseNo, user, ArrearsCli.Required(args, "reason"), ct);
        return $"{caseNo} listed again for the original period / 已恢复列入";
    }, ct);
}
