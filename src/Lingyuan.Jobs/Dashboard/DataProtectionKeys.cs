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
