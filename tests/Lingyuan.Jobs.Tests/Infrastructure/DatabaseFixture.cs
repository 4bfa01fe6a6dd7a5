using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>
/// A database of its own for one test class (use as IClassFixture), migrated by the real migrator,
/// with the application's real services built against it (role Cli: nothing started).
/// </summary>
public class DatabaseFixture : IAsyncLifetime
{
    public string DatabaseName { get; } = $"t_{Guid.NewGuid():N}"[..20];
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public IServiceProvider Services => App.Services;

    /// <summary>Configuration every app built by this fixture gets (SMTP of the test run, etc.).</summary>
    public virtual Dictionary<string, string?> Settings() => new()
    {
        ["ConnectionStrings:Jobs"] = ConnectionString,
        ["Smtp:Host"] = "127.0.0.1",
        ["Smtp:Port"] = Environment.GetEnvironmentVariable("LINGYUAN_TEST_SMTP_PORT") ?? "2525",
        ["Smtp:Security"] = "None",
        ["Database:MigrateOnStart"] = "true",
    };

    /// <summary>The server the database is created on: the test run's shared cluster unless overridden.</summary>
    protected virtual string AdminConnectionString => TestEnv.AdminConnectionString;

    public virtual async Task InitializeAsync()
    {
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString);
        await using (var conn = new NpgsqlConnection(admin.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {DatabaseName}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        admin.Database = DatabaseName;
        admin.ApplicationName = "lingyuan-tests";
        ConnectionString = admin.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        App = BuildApp();
        await App.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
    }

    /// <summary>Builds another instance of the application against this database.</summary>
    public WebApplication BuildApp(AppRole role = AppRole.Cli, Dictionary<string, string?>? extra = null, Action<IServiceCollection>? testServices = null)
    {
        var settings = Settings();
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return Lingyuan.Jobs.Hosting.App.Build(role, settings, InProcessApps.Services(testServices));
    }

    public virtual async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(AdminConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {DatabaseName} WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
