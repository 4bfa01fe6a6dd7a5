using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>Reads secrets from the terminal without echo, or line by line from redirected stdin.</summary>
public static class ConsoleSecrets
{
    public static string? ReadLine(string prompt)
    {
        if (Console.IsInputRedirected) return Console.In.ReadLine();
        Console.Error.Write(prompt);
        var chars = new List<char>();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (chars.Count > 0) chars.RemoveAt(chars.Count - 1); continue; }
            chars.Add(key.KeyChar);
        }
        Console.Error.WriteLine();
        return new string([.. chars]);
    }
}

/// <summary>
/// A command-line verb that acts as a person proves it is that person (finding 8): the password
/// on the first line of stdin and, for an account with a second factor, the one-time code on the
/// second line or in <c>--code</c>. Wrong → exit 65, audited as a failed sign-in on channel cli.
/// </summary>
public sealed class CliIdentity(UserStore users)
{
    public const string HelpZhEn = """
          --user NAME        the account acting; its password is read from stdin (first line) /
                             操作账号;密码从标准输入第一行读取
          --code 123456      its one-time code when the account has one (or the second line of stdin) /
                             已绑定动态口令的账号需提供当前动态口令(或标准输入第二行)
        Exit 65 when the account cannot be proved (wrong password or code, locked, disabled).
        账号验证失败(密码或动态口令错误、已锁定、已停用)时退出码为 65。
        """;

    /// <summary>The proved account name; throws (exit 65 or 64) otherwise.</summary>
    public async Task<string> ProveAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Option("user") ?? throw new UsageException("--user is required / 需要 --user");
        var password = ConsoleSecrets.ReadLine($"password of {name} / {name} 的密码: ");
        var code = args.Option("code");
        var user = await users.FindAsync(name, ct);
        if (code is null && user?.TotpSecret is not null)
            code = ConsoleSecrets.ReadLine("one-time code / 动态口令: ");
        var result = await users.AuthenticateAsync(name, password, code, "cli", $"cli:{Environment.UserName}", ct);
        return result.Outcome switch
        {
            SignInOutcome.Ok when result.Restriction == SessionClaims.ChangePassword => throw new BadInputException(
                $"account {name} must set a new password on the dashboard first / 账号 {name} 须先在控制台修改密码"),
            SignInOutcome.Ok when result.Restriction == SessionClaims.EnrolTotp => throw new BadInputException(
                $"account {name} must enrol its one-time code on the dashboard first / 账号 {name} 须先在控制台绑定动态口令"),
            SignInOutcome.Ok => result.User!.Name,
            SignInOutcome.Locked => throw new BadInputException(
                $"account {name} is locked after repeated failures; try again in {Math.Ceiling(result.RetryAfter.TotalMinutes)} min / 账号因多次验证失败已临时锁定,请 {Math.Ceiling(result.RetryAfter.TotalMinutes)} 分钟后再试"),
            _ => throw new BadInputException(
                $"cannot prove account {name}: wrong password or one-time code / 无法验证账号 {name}:密码或动态口令错误"),
        };
    }
}

public sealed class UsersAddCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users add",
        "create a dashboard account (password from stdin) / 新建控制台账号(密码从标准输入读取)",
        $"""
        usage: Lingyuan.Jobs users add NAME --role admin|operator|finance|inspection|caseworker [--email ADDR] [--decider]   (password on stdin)
        用法:  Lingyuan.Jobs users add 用户名 --role admin|operator|finance|inspection|caseworker [--email 邮箱] [--decider] (密码从标准输入读取)
          admin 管理员; operator 值班操作员(只读); finance 财务审核; inspection 劳动监察; caseworker 社区就业协理员
          --email    the caseworker's e-mail as the communities register names it / 协理员在社区名册中的邮箱
          --decider  department head who approves listing decisions and extensions / 部门负责人(审批列入决定、延期)
        Password: at least {PasswordRules.MinLength} characters, not containing the name, hard to guess (zxcvbn score >= {PasswordRules.MinScore}), at most {PasswordRules.MaxBytes} bytes.
        密码:至少 {PasswordRules.MinLength} 位,不含用户名,不易猜测(zxcvbn 评分不低于 {PasswordRules.MinScore}),不超过 {PasswordRules.MaxBytes} 字节。
        example: echo 'Mild-otter-42-Lamp' | Lingyuan.Jobs users add zhangsan --role finance
        """,
        ValueOptions: ["role", "email"],
        Flags: ["decider"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        var role = args.Option("role") ?? throw new UsageException("--role is required / 需要 --role");
        var password = ConsoleSecrets.ReadLine("password / 密码: ");
        if (string.IsNullOrEmpty(password)) throw new UsageException("no password on stdin / 标准输入中没有密码");
        var email = args.Option("email");
        if (email is not null && !UserStore.IsValidEmail(email))
            throw new UsageException($"'{email}' is not an e-mail address / 电子邮箱格式不正确");
        var actor = $"cli:{Environment.UserName}";
        await users.AddAsync(name, role, password, actor, ct);
        if (email is not null) await users.SetEmailAsync(name, email, actor, ct);
        if (args.Flag("decider")) await users.SetDeciderAsync(name, true, actor, ct);
        Console.WriteLine($"user {name} ({role}) created / 已创建账号 {name}({Roles.NameZh(role)})");
        return ExitCodes.Ok;
    }
}

public sealed class UsersDisableCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users disable",
        "disable an account and end its sessions / 停用账号并结束其全部会话",
        """
        usage: Lingyuan.Jobs users disable NAME
        用法:  Lingyuan.Jobs users disable 用户名
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        await users.SetDisabledAsync(name, true, $"cli:{Environment.UserName}", ct);
        Console.WriteLine($"user {name} disabled, sessions ended / 账号 {name} 已停用,会话已结束");
        return ExitCodes.Ok;
    }
}

public sealed class UsersEnableCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users enable",
        "enable a disabled account / 启用已停用的账号",
        """
        usage: Lingyuan.Jobs users enable NAME
        用法:  Lingyuan.Jobs users enable 用户名
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        await users.SetDisabledAsync(name, false, $"cli:{Environment.UserName}", ct);
        Console.WriteLine($"user {name} enabled / 账号 {name} 已启用");
        return ExitCodes.Ok;
    }
}

public sealed class UsersSetRoleCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users set-role",
        "change an account's role and end its sessions / 修改账号角色并结束其全部会话",
        """
        usage: Lingyuan.Jobs users set-role NAME --role admin|operator|finance|inspection
        用法:  Lingyuan.Jobs users set-role 用户名 --role admin|operator|finance|inspection
        """,
        ValueOptions: ["role"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        var role = args.Option("role") ?? throw new UsageException("--role is required / 需要 --role");
        await users.SetRoleAsync(name, role, $"cli:{Environment.UserName}", ct);
        Console.WriteLine($"user {name} is now {role}, sessions ended / 账号 {name} 角色改为{Roles.NameZh(role)},会话已结束");
        return ExitCodes.Ok;
    }
}

public sealed class UsersResetPasswordCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users reset-password",
        "set a temporary password the person must change at the next sign-in / 重置密码(下次登录须修改)",
        """
        usage: Lingyuan.Jobs users reset-password NAME   (temporary password on stdin)
        用法:  Lingyuan.Jobs users reset-password 用户名 (临时密码从标准输入读取)
        The account's sessions end; at the next sign-in it can only reach the password change page.
        账号现有会话全部结束;下次登录后只能进入修改密码页面。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        var password = ConsoleSecrets.ReadLine("temporary password / 临时密码: ");
        if (string.IsNullOrEmpty(password)) throw new UsageException("no password on stdin / 标准输入中没有密码");
        await users.SetPasswordAsync(name, password, mustChange: true, $"cli:{Environment.UserName}", "user.reset-password", ct);
        Console.WriteLine($"password of {name} reset; it must be changed at the next sign-in / 账号 {name} 的密码已重置,下次登录须修改");
        return ExitCodes.Ok;
    }
}

public sealed class UsersTotpCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users totp",
        "enrol or reset an account's one-time code / 绑定或重置账号的动态口令",
        """
        usage: Lingyuan.Jobs users totp NAME --enrol [--secret BASE32]   prints the secret and otpauth:// URI
               Lingyuan.Jobs users totp NAME --reset                     the person enrols again at the next sign-in
        用法:  Lingyuan.Jobs users totp 用户名 --enrol [--secret BASE32]  输出密钥与 otpauth:// 地址
               Lingyuan.Jobs users totp 用户名 --reset                    下次登录时重新绑定
        Normally people enrol themselves on the dashboard (扫码绑定); --enrol is for the demo and for handing out tokens.
        """,
        ValueOptions: ["secret"], Flags: ["enrol", "reset"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        var actor = $"cli:{Environment.UserName}";
        if (args.Flag("reset") == args.Flag("enrol")) throw new UsageException("give one of --enrol or --reset / 需要 --enrol 或 --reset 之一");
        if (args.Flag("reset"))
        {
            await users.ResetTotpAsync(name, actor, ct);
            Console.WriteLine($"one-time code of {name} reset / 账号 {name} 的动态口令已重置");
            return ExitCodes.Ok;
        }
        var secret = (args.Option("secret") ?? TwoFactor.NewSecret()).Trim().ToUpperInvariant();
        try { _ = OtpNet.Base32Encoding.ToBytes(secret); }
        catch (ArgumentException) { throw new UsageException("--secret must be Base32 (A-Z, 2-7) / 密钥须为 Base32 编码"); }
        if (secret.Length < 16) throw new UsageException("--secret must have at least 16 Base32 characters (80 bits) / 密钥至少 16 个字符");
        await users.EnrolTotpAsync(name, secret, actor, ct);
        Console.WriteLine($"secret {secret}");
        Console.WriteLine(TwoFactor.OtpAuthUri(name, secret));
        return ExitCodes.Ok;
    }
}

public sealed class UsersSetDeciderCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users set-decider",
        "grant or withdraw the department head's approval duty / 授予或收回部门负责人审批职责",
        """
        usage: Lingyuan.Jobs users set-decider NAME on|off
        用法:  Lingyuan.Jobs users set-decider 用户名 on|off
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        var value = args.Positional(1, "on|off");
        args.ExpectPositionals(2);
        var on = value switch
        {
            "on" => true,
            "off" => false,
            _ => throw new UsageException($"expected on or off, got '{value}' / 应为 on 或 off"),
        };
        await users.SetDeciderAsync(name, on, $"cli:{Environment.UserName}", ct);
        Console.WriteLine(on ? $"user {name} may approve decisions / 账号 {name} 已授予审批职责"
                             : $"user {name} may no longer approve decisions / 账号 {name} 已收回审批职责");
        return ExitCodes.Ok;
    }
}

public sealed class UsersSetEmailCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users set-email",
        "set an account's e-mail (a caseworker's communities follow it) / 设置账号邮箱(协理员据此对应社区)",
        """
        usage: Lingyuan.Jobs users set-email NAME ADDRESS|-
        用法:  Lingyuan.Jobs users set-email 用户名 邮箱|-      (- 表示清除)
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        var value = args.Positional(1, "ADDRESS");
        args.ExpectPositionals(2);
        await users.SetEmailAsync(name, value == "-" ? null : value, $"cli:{Environment.UserName}", ct);
        Console.WriteLine($"user {name} e-mail set / 账号 {name} 邮箱已设置");
        return ExitCodes.Ok;
    }
}
