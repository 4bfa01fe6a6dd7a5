using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Identity;
using Npgsql;

namespace Lingyuan.Jobs.Dashboard;

public sealed record DashboardUser(string Name, string Role, string PasswordHash, bool Disabled);

/// <summary>Dashboard accounts in <c>app.users</c>; passwords hashed with Identity's PBKDF2 hasher.</summary>
public sealed class UserStore(NpgsqlDataSource db)
{
    private static readonly PasswordHasher<DashboardUser> Hasher = new();
    public const int MinPasswordLength = 8;

    public async Task AddAsync(string name, string role, string password, string actor, CancellationToken ct)
    {
        if (!Roles.All.Contains(role))
            throw new UsageException($"--role must be one of {string.Join(", ", Roles.All)}, got '{role}' / 角色无效");
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_.@-]{2,64}$"))
            throw new UsageException($"user name '{name}' must be 2-64 letters, digits or _.@- / 用户名只能包含字母、数字和 _.@-");
        if (password.Length < MinPasswordLength)
            throw new UsageException($"password must have at least {MinPasswordLength} characters / 密码至少 {MinPasswordLength} 位");
        var hash = Hasher.HashPassword(new DashboardUser(name, role, "", false), password);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(
            "INSERT INTO app.users (name, role, password_hash) VALUES (@name, @role, @hash) ON CONFLICT (name) DO NOTHING",
            new { name, role, hash }, tx);
        if (inserted == 0)
            throw new DomainRuleException($"user '{name}' exists already / 用户 '{name}' 已存在");
        await AuditLog.WriteAsync(conn, tx, actor, "user.add", "user", name, after: new { name, role });
        await tx.CommitAsync(ct);
    }

    /// <summary>The user when name and password match an enabled account; null otherwise.</summary>
    public async Task<DashboardUser?> VerifyAsync(string name, string password, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await conn.QuerySingleOrDefaultAsync<DashboardUser>(
            "SELECT name, role, password_hash AS PasswordHash, disabled FROM app.users WHERE name = @name", new { name });
        if (user is null || user.Disabled)
        {
            // Hash anyway so a missing account costs the same time as a wrong password.
            Hasher.VerifyHashedPassword(new DashboardUser(name, "", "", false), DummyHash, password);
            return null;
        }
        return Hasher.VerifyHashedPassword(user, user.PasswordHash, password) == PasswordVerificationResult.Failed ? null : user;
    }

    private static readonly string DummyHash = Hasher.HashPassword(new DashboardUser("x", "", "", false), "not-a-password");
}

public sealed class UsersAddCommand(UserStore users) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "users add",
        "create a dashboard account (password from stdin) / 新建控制台账号(密码从标准输入读取)",
        """
        usage: Lingyuan.Jobs users add NAME --role admin|operator|finance|inspection   (password on stdin)
        用法:  Lingyuan.Jobs users add 用户名 --role admin|operator|finance|inspection (密码从标准输入读取)
          admin 管理员; operator 值班操作员(只读); finance 财务审核; inspection 劳动监察
        example: echo 'a-long-password' | Lingyuan.Jobs users add zhangsan --role finance
        """,
        ValueOptions: ["role"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var name = args.Positional(0, "NAME");
        args.ExpectPositionals(1);
        var role = args.Option("role") ?? throw new UsageException("--role is required / 需要 --role");
        string? password;
        if (Console.IsInputRedirected)
        {
            password = Console.In.ReadLine();
        }
        else
        {
            Console.Error.Write("password / 密码: ");
            password = ReadHidden();
        }
        if (string.IsNullOrEmpty(password)) throw new UsageException("no password on stdin / 标准输入中没有密码");
        await users.AddAsync(name, role, password, actor: $"cli:{Environment.UserName}", ct);
        Console.WriteLine($"user {name} ({role}) created / 已创建账号 {name}({Roles.NameZh(role)})");
        return ExitCodes.Ok;
    }

    private static string ReadHidden()
    {
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
