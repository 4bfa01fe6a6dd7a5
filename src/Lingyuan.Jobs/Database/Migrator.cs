using System.Reflection;
using System.Text.RegularExpressions;
using DbUp;
using DbUp.Engine;
using DbUp.Engine.Output;
using Hangfire;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Database;

/// <summary>
/// Applies the numbered plain-SQL migrations embedded in the assembly (each feature keeps its own
/// <c>NNNN_name.sql</c> in its folder; the number orders them globally) with DbUp, then lets
/// Hangfire.PostgreSql install or upgrade its schema. Safe to run concurrently: an advisory lock serialises it.
/// </summary>
public sealed partial class Migrator(NpgsqlDataSource db, IServiceProvider services, IOptions<DatabaseOptions> options, ILogger<Migrator> log)
{
    private const long MigrationLockKey = 0x4C59_4D49_4752; // "LYMIGR"

    [GeneratedRegex(@"\.(\d{4}_[A-Za-z0-9_\-]+\.sql)$")]
    private static partial Regex MigrationName();

    public static IReadOnlyList<SqlScript> Scripts()
    {
        var asm = typeof(Migrator).Assembly;
        return asm.GetManifestResourceNames()
            .Select(n => (Resource: n, Match: MigrationName().Match(n)))
            .Where(x => x.Match.Success)
            .OrderBy(x => x.Match.Groups[1].Value, StringComparer.Ordinal)
            .Select(x => new SqlScript(x.Match.Groups[1].Value, Read(asm, x.Resource)))
            .ToList();
    }

    private static string Read(Assembly asm, string resource)
    {
        using var s = asm.GetManifestResourceStream(resource)!;
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    public async Task EnsureReachableAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.ConnectTimeout);
        try
        {
            await using var conn = await db.OpenConnectionAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            var csb = new NpgsqlConnectionStringBuilder(db.ConnectionString);
            throw new ServiceUnavailableException(
                $"database {csb.Host}:{csb.Port}/{csb.Database} ({DatabaseSetup.ConnectionStringKey}) does not answer / 数据库无法连接: {ex.GetBaseException().Message}", ex);
        }
    }

    /// <summary>Returns the names of the scripts applied now (empty when the database was up to date).</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct)
    {
        await EnsureReachableAsync(ct);
        await using var lockConn = await db.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_lock(@k)", lockConn))
        {
            cmd.Parameters.AddWithValue("k", MigrationLockKey);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        try
        {
            await using (var cmd = new NpgsqlCommand("CREATE SCHEMA IF NOT EXISTS app", lockConn))
                await cmd.ExecuteNonQueryAsync(ct);

            var upgrader = DeployChanges.To
                .PostgresqlDatabase(db.ConnectionString)
                .WithScripts(Scripts())
                .JournalToPostgresqlTable("app", "schema_versions")
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(log))
                .Build();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
                throw new InvalidOperationException($"migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);

            // Resolving the storage makes Hangfire.PostgreSql install or upgrade schema "hangfire".
            _ = services.GetRequiredService<JobStorage>();
            return result.Scripts.Select(s => s.Name).ToList();
        }
        finally
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(@k)", lockConn);
            cmd.Parameters.AddWithValue("k", MigrationLockKey);
            await cmd.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private sealed class DbUpLog(ILogger log) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        public void LogInformation(string format, params object[] args) => log.LogInformation(format, args);
        public void LogWarning(string format, params object[] args) => log.LogWarning(format, args);
        public void LogError(string format, params object[] args) => log.LogError(format, args);
        public void LogError(Exception ex, string format, params object[] args) => log.LogError(ex, format, args);
    }
}

public sealed class MigrateCommand(Migrator migrator) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "migrate",
        "apply pending schema migrations / 执行数据库迁移",
        """
        usage: Lingyuan.Jobs migrate
        用法:  Lingyuan.Jobs migrate
        Applies the pending numbered SQL migrations and Hangfire's schema; running it twice changes nothing.
        执行未执行的数据库迁移脚本;重复执行不会改变任何内容。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        var applied = await migrator.MigrateAsync(ct);
        Console.WriteLine(applied.Count == 0
            ? "database is up to date / 数据库已是最新"
            : $"applied {applied.Count} migration(s) / 已执行 {applied.Count} 个迁移: {string.Join(", ", applied)}");
        return ExitCodes.Ok;
    }
}
