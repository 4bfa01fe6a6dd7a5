using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// The Data Protection key ring (sign-in cookies, antiforgery tokens, TOTP secrets) kept in the
/// service's own database, table <c>app.data_protection_keys</c>: every instance of one deployment
/// (one database) shares the keys, and a cookie made by another deployment cannot be read here.
/// </summary>
public sealed class DatabaseXmlRepository(NpgsqlDataSource db) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var conn = db.OpenConnection();
        return conn.Query<string>("SELECT xml FROM app.data_protection_keys ORDER BY id")
            .Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var conn = db.OpenConnection();
        conn.Execute(
            "INSERT INTO app.data_protection_keys (friendly_name, xml) VALUES (@friendlyName, @xml) ON CONFLICT (friendly_name) DO NOTHING",
            new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}

public static class DataProtectionKeys
{
    public const string ApplicationName = "Lingyuan.Jobs";

    public static IServiceCollection AddDatabaseKeyRing(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new DatabaseXmlRepository(sp.GetRequiredService<NpgsqlDataSource>())));
        return services;
    }
}

/// <summary>
/// <c>keys rotate</c>: revokes every key of the ring (a suspected leak), makes a new one, and
/// re-encrypts the stored TOTP secrets with it; every session ends, so every cookie made with an
/// old key is refused twice over.
/// </summary>
public sealed class KeysRotateCommand(IKeyManager keys, Database.Work work, IDataProtectionProvider dp) : Hosting.ICliCommand
{
    public static Hosting.CommandSpec Spec { get; } = new(
        "keys rotate",
        "replace the sign-in key ring now (suspected leak) / 立即轮换登录密钥环(疑似泄露时)",
        """
        usage: Lingyuan.Jobs keys rotate
        用法:  Lingyuan.Jobs keys rotate
        Revokes every Data Protection key in app.data_protection_keys, creates a new one, re-encrypts the
        stored one-time-code secrets with it and ends every session: everybody signs in again.
        撤销全部密钥、生成新密钥、用新密钥重新加密动态口令密钥,并结束全部会话(所有人需重新登录)。
        """);

    public async Task<int> RunAsync(Hosting.CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        var protector = dp.CreateProtector("Lingyuan.Jobs.Dashboard.Totp.v1");
        var secrets = (await work.RunAsync("keys.rotate.read", uow => uow.ListAsync<(string Name, string Stored)>(
            "SELECT name, totp_secret FROM app.users WHERE totp_secret IS NOT NULL"), ct))
            .Select(r => (r.Name, Plain: protector.Unprotect(r.Stored))).ToList();
        keys.RevokeAllKeys(DateTimeOffset.UtcNow, "keys rotate");
        var now = DateTimeOffset.UtcNow;
        keys.CreateNewKey(now, now.AddDays(90));
        // Creating a key invalidates the cached ring: the protector now encrypts with the new key.
        var reprotected = secrets.Select(x => (x.Name, Stored: protector.Protect(x.Plain))).ToList();
        // Audited as the acting person: the dispatcher sets cli:USER for every verb.
        var ended = await work.RunAsync("keys.rotate", async uow =>
        {
            foreach (var (name, stored) in reprotected)
                await uow.ExecuteAsync("UPDATE app.users SET totp_secret = @s WHERE name = @name", new { s = stored, name });
            var n = await uow.ExecuteAsync("UPDATE app.user_sessions SET revoked_at = now(), revoked_reason = 'keys rotate' WHERE revoked_at IS NULL");
            await uow.AuditAsync("keys.rotate", "key_ring", "data_protection",
                details: $"all keys revoked, new key made; {secrets.Count} TOTP secret(s) re-encrypted; {n} session(s) ended");
            return n;
        }, ct);
        Console.WriteLine($"key ring rotated; {secrets.Count} one-time-code secret(s) re-encrypted, {ended} session(s) ended / 密钥环已轮换");
        return Hosting.ExitCodes.Ok;
    }
}
