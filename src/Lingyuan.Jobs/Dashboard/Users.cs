using System.Text.RegularExpressions;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Identity;

namespace Lingyuan.Jobs.Dashboard;

public sealed class DashboardUser
{
    public DashboardUser() { }

    public DashboardUser(string name, string role, string passwordHash, bool disabled)
    {
        Name = name;
        Role = role;
        PasswordHash = passwordHash;
        Disabled = disabled;
    }

    public string Name { get; init; } = "";
    public string Role { get; init; } = "";
    public string PasswordHash { get; init; } = "";
    public bool Disabled { get; init; }
    public string? TotpSecret { get; init; }
    public long? TotpLastStep { get; init; }
    public bool MustChangePassword { get; init; }
}

/// <summary>An account as the users page lists it.</summary>
public sealed record UserRow(string Name, string Role, string? Email, bool Decider, bool Disabled, bool TotpEnrolled, bool MustChangePassword,
    DateTime CreatedAt, DateTime? LastSignIn);

/// <summary>One audited act on an account.</summary>
public sealed record UserAuditRow(DateTime At, string Actor, string Action, string Channel, string? Before, string? After, string? Details);

public enum SignInOutcome
{
    /// <summary>Name, password (and code where needed) match; <see cref="SignInResult.Restriction"/> may limit the session.</summary>
    Ok,
    /// <summary>Unknown name, wrong password, missing or wrong code: one answer for all, so none is revealed.</summary>
    Refused,
    /// <summary>Too many failures for the account or the client address.</summary>
    Locked,
    /// <summary>The password was not hashable (over 1 KB, not UTF-8); refused without hashing.</summary>
    Unhashable,
}

public sealed record SignInResult(SignInOutcome Outcome, DashboardUser? User = null, string? Restriction = null, TimeSpan RetryAfter = default);

/// <summary>
/// Dashboard accounts in <c>app.users</c>; passwords hashed with Identity's PBKDF2 hasher. Signing in
/// reads the account with a short connection, releases it, then hashes: no database connection is
/// held while the CPU works, so a flood of sign-ins cannot empty the pool.
/// </summary>
public sealed partial class UserStore(Work work, TwoFactor twoFactor, SignInThrottle throttle, SessionStore sessions)
{
    private static readonly PasswordHasher<DashboardUser> Hasher = new();
    private static readonly string DummyHash = Hasher.HashPassword(new DashboardUser("x", "", "", false), "not-a-password");

    [GeneratedRegex("^[A-Za-z0-9_.@-]{2,64}$")]
    private static partial Regex ValidName();

    public static bool IsValidName(string? name) => name is not null && ValidName().IsMatch(name);

    public async Task AddAsync(string name, string role, string password, string actor, CancellationToken ct)
    {
        if (!Roles.All.Contains(role))
            throw new UsageException($"--role must be one of {string.Join(", ", Roles.All)}, got '{role}' / 角色无效");
        if (!IsValidName(name))
            throw new UsageException($"user name '{name}' must be 2-64 letters, digits or _.@- / 用户名只能包含字母、数字和 _.@-");
        if (PasswordRules.Problem(name, password) is { } problem) throw new UsageException(problem);
        var hash = Hasher.HashPassword(new DashboardUser(name, role, "", false), password);
        using var acting = As(actor);
        await work.RunAsync("user.add", async uow =>
        {
            var inserted = await uow.ExecuteAsync(
                "INSERT INTO app.users (name, role, password_hash, password_changed_at) VALUES (@name, @role, @hash, now()) ON CONFLICT (name) DO NOTHING",
                new { name, role, hash });
            if (inserted == 0)
                throw new DomainRuleException($"user '{name}' exists already / 用户 '{name}' 已存在");
            await uow.AuditAsync("user.add", "user", name, after: new { name, role });
        }, ct, new WorkOptions { RecordId = name });
    }

    /// <summary>The account named by the caller (the signed-in user, the command line's person) is who acts and is audited.</summary>
    private static IDisposable As(string actor) => Acting.Begin(Acting.Current with { Actor = actor });

    public async Task<DashboardUser?> FindAsync(string name, CancellationToken ct)
    {
        if (!IsValidName(name)) return null;
        // A unit of work of its own: it ends (the connection is back in the pool) before the caller hashes.
        return await work.RunAsync("user.find", uow => uow.SingleOrDefaultAsync<DashboardUser>(
            """
            SELECT name, role, password_hash AS PasswordHash, disabled, totp_secret AS TotpSecret,
                   totp_last_step AS TotpLastStep, must_change_password AS MustChangePassword
            FROM app.users WHERE name = @name
            """, new { name }), ct);
    }

    /// <summary>
    /// Proves a person: name, password and, when the account has enrolled, a one-time code. Failures
    /// are counted (per account and per client address) and audited on the given channel; successes
    /// are not counted. Used by the sign-in page and by command-line verbs that act as a person.
    /// </summary>
    public async Task<SignInResult> AuthenticateAsync(string name, string? password, string? code, string channel, string address, CancellationToken ct)
    {
        var accountKey = name.Length <= 64 ? name : name[..64];
        if (!PasswordRules.IsHashable(password))
        {
            await throttle.RecordFailureAsync(accountKey, address, channel, "密码无法校验(为空、超过 1 KB 或不是 UTF-8)", ct);
            return new SignInResult(SignInOutcome.Unhashable);
        }
        if (await throttle.CheckAsync(accountKey, address, ct) is { } locked)
            return new SignInResult(SignInOutcome.Locked, RetryAfter: locked.RetryAfter);

        var user = await FindAsync(name, ct); // the connection is back in the pool before hashing starts
        if (user is null || user.Disabled)
        {
            // Hash anyway so a missing account costs the same time as a wrong password.
            Hasher.VerifyHashedPassword(new DashboardUser(name, "", "", false), DummyHash, password!);
            await throttle.RecordFailureAsync(accountKey, address, channel, user is null ? "账号不存在" : "账号已停用", ct);
            return new SignInResult(SignInOutcome.Refused);
        }
        var verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password!);
        if (verdict == PasswordVerificationResult.Failed)
        {
            await throttle.RecordFailureAsync(accountKey, address, channel, "密码错误", ct);
            return new SignInResult(SignInOutcome.Refused);
        }
        if (user.TotpSecret is not null)
        {
            var step = twoFactor.Match(twoFactor.Unprotect(user.TotpSecret), code);
            if (step is null || !await UseStepAsync(user.Name, step.Value, ct))
            {
                await throttle.RecordFailureAsync(accountKey, address, channel, step is null ? "动态口令缺失或错误" : "动态口令已使用过", ct);
                return new SignInResult(SignInOutcome.Refused);
            }
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            var rehash = Hasher.HashPassword(user, password!); // hashed before the unit of work opens its connection
            await work.RunAsync("user.rehash", uow =>
                uow.ExecuteAsync("UPDATE app.users SET password_hash = @rehash WHERE name = @name", new { rehash, name = user.Name }), ct);
        }
        string? restriction = user.MustChangePassword ? SessionClaims.ChangePassword
            : user.TotpSecret is null && twoFactor.RoleNeedsIt(user.Role) ? SessionClaims.EnrolTotp
            : null;
        return new SignInResult(SignInOutcome.Ok, user, restriction);
    }

    /// <summary>Marks a time step used; false when it (or a later one) was used already.</summary>
    private async Task<bool> UseStepAsync(string name, long step, CancellationToken ct)
    {
        return await work.RunAsync("user.totp-step", uow => uow.ExecuteAsync(
            "UPDATE app.users SET totp_last_step = @step WHERE name = @name AND (totp_last_step IS NULL OR totp_last_step < @step)",
            new { name, step }), ct) == 1;
    }

    /// <summary>Sets a new password (rules applied), ends every session of the user; audited.</summary>
    public async Task SetPasswordAsync(string name, string newPassword, bool mustChange, string actor, string action, CancellationToken ct)
    {
        if (PasswordRules.Problem(name, newPassword) is { } problem) throw new BadInputException(problem);
        var user = await FindAsync(name, ct) ?? throw new DomainRuleException($"no user '{name}' / 没有账号 '{name}'");
        var hash = Hasher.HashPassword(user, newPassword); // hashed between two units of work, no connection held
        using var acting = As(actor);
        await work.RunAsync(action, async uow =>
        {
            await uow.ExecuteAsync(
                "UPDATE app.users SET password_hash = @hash, must_change_password = @mustChange, password_changed_at = now() WHERE name = @name",
                new { hash, mustChange, name });
            await uow.AuditAsync(action, "user", name, after: new { must_change_password = mustChange });
            await SessionStore.RevokeAllAsync(uow, name, action);
        }, ct, new WorkOptions { RecordId = name });
        sessions.Forget(name);
    }

    /// <summary>True when the password is the user's current one (no counting: the caller is signed in).</summary>
    public async Task<bool> CheckPasswordAsync(string name, string password, CancellationToken ct)
    {
        if (!PasswordRules.IsHashable(password)) return false;
        var user = await FindAsync(name, ct);
        return user is not null && Hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;
    }

    public Task SetDisabledAsync(string name, bool disabled, string actor, CancellationToken ct) =>
        ChangeAccountAsync(name, actor, disabled ? "user.disable" : "user.enable",
            "UPDATE app.users SET disabled = @value WHERE name = @name RETURNING disabled::text", disabled, revoke: disabled, ct);

    public Task SetRoleAsync(string name, string role, string actor, CancellationToken ct)
    {
        if (!Roles.All.Contains(role))
            throw new UsageException($"--role must be one of {string.Join(", ", Roles.All)}, got '{role}' / 角色无效");
        return ChangeAccountAsync(name, actor, "user.set-role", "UPDATE app.users SET role = @value WHERE name = @name RETURNING role", role, revoke: true, ct);
    }

    private async Task ChangeAccountAsync(string name, string actor, string action, string sql, object value, bool revoke, CancellationToken ct)
    {
        using var acting = As(actor);
        await work.RunAsync(action, async uow =>
        {
            var before = await uow.SingleOrDefaultAsync<(string Role, bool Disabled)?>(
                "SELECT role, disabled FROM app.users WHERE name = @name FOR UPDATE", new { name })
                ?? throw new DomainRuleException($"no user '{name}' / 没有账号 '{name}'");
            await uow.ScalarAsync<string>(sql, new { name, value });
            await uow.AuditAsync(action, "user", name,
                before: new { role = before.Role, disabled = before.Disabled }, after: new { value });
            if (revoke) await SessionStore.RevokeAllAsync(uow, name, action);
        }, ct, new WorkOptions { RecordId = name });
        sessions.Forget(name);
    }

    /// <summary>
    /// Grants or withdraws the decider duty (the department head who approves listing decisions and
    /// inspection extensions); audited. Sessions stay open: a slice checks the flag in its own unit of work.
    /// </summary>
    public Task SetDeciderAsync(string name, bool decider, string actor, CancellationToken ct) =>
        ChangeAccountAsync(name, actor, "user.set-decider",
            "UPDATE app.users SET decider = @value WHERE name = @name RETURNING decider::text", decider, revoke: false, ct);

    /// <summary>Sets the account's e-mail (a caseworker's communities are those whose register row names it); audited.</summary>
    public Task SetEmailAsync(string name, string? email, string actor, CancellationToken ct)
    {
        if (email is not null && !IsValidEmail(email))
            throw new UsageException($"'{email}' is not an e-mail address / 电子邮箱格式不正确");
        return ChangeAccountAsync(name, actor, "user.set-email",
            "UPDATE app.users SET email = @value WHERE name = @name RETURNING coalesce(email, '')", (object?)email ?? DBNull.Value, revoke: false, ct);
    }

    public static bool IsValidEmail(string email) =>
        email.Length <= 254 && email.IndexOf('@') is > 0 and var at && at < email.Length - 1 && !email.Any(char.IsWhiteSpace);

    /// <summary>
    /// True when the account exists, is enabled and carries the decider duty. Call it inside the unit of
    /// work that records the decision, so a duty withdrawn a moment ago is already refused.
    /// </summary>
    public static Task<bool> IsDeciderAsync(UnitOfWork uow, string name) =>
        uow.ScalarAsync<bool>("SELECT coalesce((SELECT decider AND NOT disabled FROM app.users WHERE name = @name), false)", new { name });

    /// <summary>Makes a secret the account's second factor (self-service after confirming, or an admin at the command line); audited.</summary>
    public async Task EnrolTotpAsync(string name, string secretBase32, string actor, CancellationToken ct, long? usedStep = null)
    {
        var protectedSecret = twoFactor.Protect(secretBase32);
        using var acting = As(actor);
        await work.RunAsync("user.totp-enrol", async uow =>
        {
            var n = await uow.ExecuteAsync(
                "UPDATE app.users SET totp_secret = @s, totp_last_step = @usedStep WHERE name = @name",
                new { s = protectedSecret, usedStep, name });
            if (n == 0) throw new DomainRuleException($"no user '{name}' / 没有账号 '{name}'");
            await uow.AuditAsync("user.totp-enrol", "user", name);
        }, ct, new WorkOptions { RecordId = name });
    }

    /// <summary>Clears the second factor (a lost phone): the user enrols again at the next sign-in; sessions end.</summary>
    public async Task ResetTotpAsync(string name, string actor, CancellationToken ct)
    {
        using var acting = As(actor);
        await work.RunAsync("user.totp-reset", async uow =>
        {
            var n = await uow.ExecuteAsync(
                "UPDATE app.users SET totp_secret = NULL, totp_last_step = NULL WHERE name = @name", new { name });
            if (n == 0) throw new DomainRuleException($"no user '{name}' / 没有账号 '{name}'");
            await uow.AuditAsync("user.totp-reset", "user", name);
            await SessionStore.RevokeAllAsync(uow, name, "user.totp-reset");
        }, ct, new WorkOptions { RecordId = name });
        sessions.Forget(name);
    }

    /// <summary>
    /// Creates an account from the users page: role, e-mail and decider duty in one audited unit of work. The
    /// password is the one the admin typed or, when none, a generated one (returned, shown once); either way the
    /// person must set their own at the first sign-in.
    /// </summary>
    public async Task<string> CreateAsync(string name, string role, string? email, bool decider, string? password, string actor, CancellationToken ct)
    {
        if (!Roles.All.Contains(role)) throw new BadInputException($"role must be one of {string.Join(", ", Roles.All)} / 角色无效");
        if (!IsValidName(name)) throw new BadInputException("user name must be 2-64 letters, digits or _.@- / 用户名只能包含 2 到 64 个字母、数字和 _.@-");
        email = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        if (email is not null && !IsValidEmail(email)) throw new BadInputException($"'{email}' is not an e-mail address / 电子邮箱格式不正确");
        password = string.IsNullOrEmpty(password) ? GeneratePassword(name) : password;
        if (PasswordRules.Problem(name, password) is { } problem) throw new BadInputException(problem);
        var hash = Hasher.HashPassword(new DashboardUser(name, role, "", false), password); // before the unit of work opens its connection
        using var acting = As(actor);
        await work.RunAsync("user.add", async uow =>
        {
            var inserted = await uow.ExecuteAsync(
                """
                INSERT INTO app.users (name, role, password_hash, password_changed_at, email, decider, must_change_password)
                VALUES (@name, @role, @hash, now(), @email, @decider, true) ON CONFLICT (name) DO NOTHING
                """, new { name, role, hash, email, decider });
            if (inserted == 0) throw new DomainRuleException($"user '{name}' exists already / 用户 '{name}' 已存在");
            await uow.AuditAsync("user.add", "user", name, after: new { name, role, email, decider, must_change_password = true });
        }, ct, new WorkOptions { RecordId = name });
        return password;
    }

    /// <summary>Resets the password to a generated one (returned, shown once) the person must change at the next sign-in; sessions end.</summary>
    public async Task<string> ResetPasswordAsync(string name, string actor, CancellationToken ct)
    {
        var password = GeneratePassword(name);
        await SetPasswordAsync(name, password, mustChange: true, actor, "user.reset-password", ct);
        return password;
    }

    /// <summary>A temporary password of 20 random letters and digits in groups (about 100 bits), passing the password rules.</summary>
    public static string GeneratePassword(string name)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        while (true)
        {
            var chars = System.Security.Cryptography.RandomNumberGenerator.GetItems<char>(alphabet, 20);
            var password = string.Join("-", Enumerable.Range(0, 4).Select(i => new string(chars, i * 5, 5)));
            if (PasswordRules.Problem(name, password) is null) return password;
        }
    }

    /// <summary>Every account as the users page lists it, with its last sign-in.</summary>
    public Task<List<UserRow>> ListAsync(CancellationToken ct) =>
        work.RunAsync("users.list", uow => uow.ListAsync<UserRow>(
            """
            SELECT u.name AS Name, u.role AS Role, u.email AS Email, u.decider AS Decider, u.disabled AS Disabled,
                   u.totp_secret IS NOT NULL AS TotpEnrolled, u.must_change_password AS MustChangePassword, u.created_at AS CreatedAt,
                   (SELECT max(s.created_at) FROM app.user_sessions s WHERE s.user_name = u.name) AS LastSignIn
            FROM app.users u ORDER BY u.disabled, u.role, u.name
            """), ct);

    /// <summary>One account as its page shows it, or null.</summary>
    public async Task<UserRow?> RowAsync(string name, CancellationToken ct) =>
        (await ListAsync(ct)).FirstOrDefault(u => u.Name == name);

    /// <summary>The audit trail of an account: every act recorded with the account as its subject, newest first.</summary>
    public Task<List<UserAuditRow>> AuditTrailAsync(string name, int limit, CancellationToken ct) =>
        work.RunAsync("users.audit", uow => uow.ListAsync<UserAuditRow>(
            """
            SELECT at AS At, actor AS Actor, action AS Action, coalesce(channel, '') AS Channel,
                   before::text AS Before, after::text AS After, details AS Details
            FROM app.audit_log WHERE subject_type = 'user' AND subject_id = @name
            ORDER BY at DESC, id DESC LIMIT @limit
            """, new { name, limit }), ct);

    /// <summary>The stored secret of an enrolled account (tests and the demo compute codes from it).</summary>
    public async Task<string?> TotpSecretAsync(string name, CancellationToken ct) =>
        (await FindAsync(name, ct))?.TotpSecret is { } s ? twoFactor.Unprotect(s) : null;
}
