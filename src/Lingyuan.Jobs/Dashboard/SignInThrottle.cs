using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Database;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// Failed sign-ins counted per account and per client address in <c>app.sign_in_failures</c>
/// (successes are never counted). Kept in the database rather than in memory so that every
/// instance of a deployment sees the same count (round-robin behind a proxy does not multiply the
/// attempts an attacker gets) and a restart does not reset a lockout.
/// An account or address is locked while it has as many failures as its limit within
/// <c>Dashboard:LoginFailureWindow</c>; the lock ends when the oldest of them leaves the window.
/// </summary>
public sealed class SignInThrottle(Work work, IOptions<DashboardOptions> options)
{
    public sealed record Lock(string Scope, TimeSpan RetryAfter);

    /// <summary>The lock that refuses this attempt now, or null.</summary>
    public async Task<Lock?> CheckAsync(string userName, string address, CancellationToken ct)
    {
        var o = options.Value;
        var row = await work.RunAsync("sign-in.check", uow => uow.SingleAsync<(long ByUser, DateTime? UserOldest, long ByAddress, DateTime? AddressOldest)>(
            """
            WITH u AS (SELECT at FROM app.sign_in_failures WHERE user_name = @userName AND at > now() - @window ORDER BY at DESC LIMIT @userLimit),
                 a AS (SELECT at FROM app.sign_in_failures WHERE client_address = @address AND at > now() - @window ORDER BY at DESC LIMIT @addressLimit)
            SELECT (SELECT count(*) FROM u), (SELECT min(at) FROM u), (SELECT count(*) FROM a), (SELECT min(at) FROM a)
            """,
            new { userName, address, window = o.LoginFailureWindow, userLimit = o.LoginFailuresPerAccount, addressLimit = o.LoginFailuresPerAddress }), ct);
        var now = DateTime.UtcNow;
        if (row.ByUser >= o.LoginFailuresPerAccount)
            return new Lock("account", Remaining(row.UserOldest, o.LoginFailureWindow, now));
        if (row.ByAddress >= o.LoginFailuresPerAddress)
            return new Lock("address", Remaining(row.AddressOldest, o.LoginFailureWindow, now));
        return null;
    }

    private static TimeSpan Remaining(DateTime? oldest, TimeSpan window, DateTime now)
    {
        var left = (oldest ?? now) + window - now;
        return left < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : left;
    }

    /// <summary>Records a failure with its audit row; audits a lockout when this failure reached a limit.</summary>
    public async Task RecordFailureAsync(string userName, string address, string channel, string reason, CancellationToken ct)
    {
        var o = options.Value;
        await work.RunAsync("sign-in.failed", async uow =>
        {
            // One writer per account and per address at a time (always account first, so no deadlock):
            // the count below is then exact and a lockout is audited once, not once per racing failure.
            // (Two-key locks on hashtext, not WorkOptions.Lock: they are shared with no other work.)
            await uow.ExecuteAsync("SELECT pg_advisory_xact_lock(1, hashtext(@userName))", new { userName });
            await uow.ExecuteAsync("SELECT pg_advisory_xact_lock(2, hashtext(@address))", new { address });
            await uow.ExecuteAsync("INSERT INTO app.sign_in_failures (user_name, client_address) VALUES (@userName, @address)", new { userName, address });
            // Explicit actors, not uow.AuditAsync: the request is anonymous; a failure is recorded against the
            // account it tried, a lockout as the system's own act, on the channel the attempt came through.
            await AuditLog.WriteAsync(uow.Connection, uow.Transaction, userName, "sign-in.failed", "user", userName, details: $"{reason};来源地址 {address}", channel: channel);
            var (byUser, byAddress) = await uow.SingleAsync<(long, long)>(
                """
                SELECT (SELECT count(*) FROM app.sign_in_failures WHERE user_name = @userName AND at > now() - @window),
                       (SELECT count(*) FROM app.sign_in_failures WHERE client_address = @address AND at > now() - @window)
                """, new { userName, address, window = o.LoginFailureWindow });
            if (byUser == o.LoginFailuresPerAccount)
                await AuditLog.WriteAsync(uow.Connection, uow.Transaction, "system", "sign-in.lockout", "user", userName,
                    details: $"{o.LoginFailureWindow.TotalMinutes:0} 分钟内失败 {byUser} 次,账号已临时锁定", channel: channel);
            if (byAddress == o.LoginFailuresPerAddress)
                await AuditLog.WriteAsync(uow.Connection, uow.Transaction, "system", "sign-in.lockout", "address", address,
                    details: $"{o.LoginFailureWindow.TotalMinutes:0} 分钟内失败 {byAddress} 次,来源地址已临时锁定", channel: channel);
            // Keep the table small: failures older than a day count for nothing.
            if (Random.Shared.Next(200) == 0)
                await uow.ExecuteAsync("DELETE FROM app.sign_in_failures WHERE at < now() - interval '1 day'");
        }, ct);
    }
}
