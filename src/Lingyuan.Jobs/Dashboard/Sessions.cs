using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Database;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>Claims the sign-in cookie carries besides name and role.</summary>
public static class SessionClaims
{
    public const string SessionId = "lingyuan:sid";
    /// <summary>Present on a restricted session: <c>enrol-totp</c> or <c>change-password</c>.</summary>
    public const string Restriction = "lingyuan:restriction";
    public const string EnrolTotp = "enrol-totp";
    public const string ChangePassword = "change-password";
}

/// <summary>
/// Sign-in sessions the database can end (<c>app.user_sessions</c>). The cookie carries a random
/// 256-bit session id; every request checks it against the database (remembered for at most
/// <c>Dashboard:SessionCheckInterval</c>, 10 s by default) together with the account: it must
/// still exist, be enabled and have the role the session was opened with. Logout, disabling the
/// account, changing its role or password end its sessions.
/// </summary>
public sealed class SessionStore(Work work, IOptions<DashboardOptions> options, ILogger<SessionStore> log)
{
    private sealed record Checked(string UserName, bool Valid, long UntilMs);

    private readonly ConcurrentDictionary<string, Checked> _cache = new(StringComparer.Ordinal);

    public static byte[] Hash(string sessionId) => SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(sessionId));

    /// <summary>Opens a session (and audits the sign-in) and returns the principal for the cookie.</summary>
    public async Task<ClaimsPrincipal> OpenAsync(DashboardUser user, string? restriction, string address, CancellationToken ct)
    {
        var id = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        await work.RunAsync("sign-in", async uow =>
        {
            await uow.ExecuteAsync(
                """
                INSERT INTO app.user_sessions (id_hash, user_name, role, channel, restriction, client_address)
                VALUES (@hash, @name, @role, 'web', @restriction, @address)
                """, new { hash = Hash(id), name = user.Name, role = user.Role, restriction, address });
            // Not uow.AuditAsync: the request signing in is still anonymous, the act is the user's own.
            await AuditLog.WriteAsync(uow.Connection, uow.Transaction, user.Name, "sign-in", "user", user.Name,
                details: $"来源地址 {address}" + restriction switch
                {
                    SessionClaims.ChangePassword => ";仅可修改密码(须先修改初始密码)",
                    SessionClaims.EnrolTotp => ";仅可绑定动态口令(须先绑定)",
                    null => "",
                    _ => ";受限会话",
                }, channel: "web");
        }, ct, new WorkOptions { RecordId = user.Name });
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, user.Name),
            new(ClaimTypes.Role, user.Role),
            new(SessionClaims.SessionId, id),
        };
        if (restriction is not null) claims.Add(new Claim(SessionClaims.Restriction, restriction));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme));
    }

    /// <summary>Ends one session (logout); true when it was open.</summary>
    public async Task<bool> RevokeAsync(string sessionId, string actor, string reason, CancellationToken ct)
    {
        var hash = Hash(sessionId);
        _cache.TryRemove(Convert.ToHexString(hash), out _);
        var user = await work.RunAsync("session.revoke", async uow =>
        {
            var user = await uow.SingleOrDefaultAsync<string>(
                "UPDATE app.user_sessions SET revoked_at = now(), revoked_reason = @reason WHERE id_hash = @hash AND revoked_at IS NULL RETURNING user_name",
                new { hash, reason });
            // Not uow.AuditAsync: the caller names the actor (the user signing out) and a session is always a web one,
            // whichever door (a request, a test) ends it.
            if (user is not null)
                await AuditLog.WriteAsync(uow.Connection, uow.Transaction, actor, reason == "logout" ? "sign-out" : "session.revoke", "user", user, details: ReasonZh(reason), channel: "web");
            return user;
        }, ct);
        return user is not null;
    }

    /// <summary>Ends every open session of a user, inside the caller's unit of work (with its audit row, as the acting person).</summary>
    /// <summary>Why a session ended, as the users page's audit trail shows it (the stored reason stays a code).</summary>
    public static string ReasonZh(string reason) => reason switch
    {
        "logout" => "本人退出登录",
        "session upgraded after enrolment" => "绑定动态口令后换发新会话",
        "keys rotate" => "密钥轮换,全部会话失效",
        _ => reason,
    };

    public static async Task<int> RevokeAllAsync(UnitOfWork uow, string userName, string reason)
    {
        var n = await uow.ExecuteAsync(
            "UPDATE app.user_sessions SET revoked_at = now(), revoked_reason = @reason WHERE user_name = @userName AND revoked_at IS NULL",
            new { userName, reason });
        if (n > 0)
            await uow.AuditAsync("session.revoke-all", "user", userName, details: $"{n} session(s): {reason}");
        return n;
    }

    /// <summary>Forgets what this instance remembers about a user's sessions (other instances forget within the check interval).</summary>
    public void Forget(string userName)
    {
        foreach (var (key, value) in _cache)
            if (value.UserName == userName) _cache.TryRemove(key, out _);
    }

    /// <summary>The cookie's <c>OnValidatePrincipal</c>: refuses a cookie whose session or account no longer holds.</summary>
    public async Task ValidateAsync(CookieValidatePrincipalContext ctx)
    {
        var principal = ctx.Principal;
        var sid = principal?.FindFirst(SessionClaims.SessionId)?.Value;
        var name = principal?.Identity?.Name;
        var role = principal?.FindFirst(ClaimTypes.Role)?.Value;
        var restriction = principal?.FindFirst(SessionClaims.Restriction)?.Value;
        var valid = sid is null || name is null || role is null ? false
            : await IsValidAsync(sid, name, role, restriction, ctx.HttpContext.RequestAborted);
        if (valid == true) return;
        ctx.RejectPrincipal();
        // A session known to be over loses its cookie; while the database cannot answer the
        // request is only treated as anonymous, and the cookie works again once it answers.
        if (valid == false) await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    private async Task<bool?> IsValidAsync(string sid, string name, string role, string? restriction, CancellationToken ct)
    {
        var hash = Hash(sid);
        var key = Convert.ToHexString(hash);
        // A monotonic clock: the cache must expire even where a test fixes the service's TimeProvider.
        var now = Environment.TickCount64;
        if (_cache.TryGetValue(key, out var c) && c.UntilMs > now && c.UserName == name) return c.Valid;

        var idle = options.Value.SessionIdleTimeout;
        bool valid;
        try
        {
            valid = await work.RunAsync("session.check", async uow =>
            {
                var row = await uow.SingleOrDefaultAsync<SessionRow>(
                    """
                    SELECT s.user_name AS SessionUser, s.role AS SessionRole, s.restriction AS SessionRestriction, s.revoked_at AS RevokedAt,
                           s.last_seen_at > now() - @idle AS Fresh, s.last_seen_at < now() - interval '5 minutes' AS Stale,
                           u.role AS UserRole, u.disabled AS Disabled
                    FROM app.user_sessions s LEFT JOIN app.users u ON u.name = s.user_name
                    WHERE s.id_hash = @hash
                    """, new { hash, idle });
                var ok = row is not null && row.SessionUser == name && row.SessionRole == role && row.SessionRestriction == restriction
                    && row.RevokedAt is null && row.UserRole == role && row.Disabled == false
                    && row.Fresh;
                // Remember activity coarsely: a write every few minutes per session, not one per request.
                if (ok && row!.Stale)
                    await uow.ExecuteAsync("UPDATE app.user_sessions SET last_seen_at = now() WHERE id_hash = @hash", new { hash });
                return ok;
            }, ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The database cannot vouch for the session: treat the request as anonymous, do not remember it.
            log.LogWarning("session check failed: {Message}", ex.Message);
            return null;
        }
        _cache[key] = new Checked(name, valid, now + (long)options.Value.SessionCheckInterval.TotalMilliseconds);
        if (_cache.Count > 10_000)
            foreach (var (k, v) in _cache)
                if (v.UntilMs <= now) _cache.TryRemove(k, out _);
        return valid;
    }

    private sealed class SessionRow
    {
        public string SessionUser { get; init; } = "";
        public string SessionRole { get; init; } = "";
        public string? SessionRestriction { get; init; }
        public DateTime? RevokedAt { get; init; }
        public bool Fresh { get; init; }
        public bool Stale { get; init; }
        public string? UserRole { get; init; }
        public bool? Disabled { get; init; }
    }

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
