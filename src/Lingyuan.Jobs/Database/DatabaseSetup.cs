using Lingyuan.Jobs.Hosting;
using Npgsql;

namespace Lingyuan.Jobs.Database;

/// <summary>Settings of the database (section <c>Database</c>; the connection string is <c>ConnectionStrings:Jobs</c>).</summary>
public sealed class DatabaseOptions
{
    /// <summary>Apply pending migrations when <c>serve</c> starts.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How long a process waits for the database to answer at start before giving up (exit 69).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

public static class DatabaseSetup
{
    public const string ConnectionStringKey = "ConnectionStrings:Jobs";

    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        // A missing or malformed connection string stops whatever needs the database (exit 64, one line), not
        // what does not: --help lists the verbs on a machine not configured yet.
        var cs = builder.Configuration.GetConnectionString("Jobs");
        NpgsqlConnectionStringBuilder? csb = null;
        UsageException? problem = null;
        if (string.IsNullOrWhiteSpace(cs))
            problem = new UsageException($"{ConnectionStringKey} is not set (appsettings.json or ConnectionStrings__Jobs) / 未配置数据库连接串");
        else
            try { csb = new NpgsqlConnectionStringBuilder(cs); }
            catch (ArgumentException ex) { problem = new UsageException($"{ConnectionStringKey}: {ex.Message} / 数据库连接串无效"); }
        if (csb is not null)
        {
            csb.ApplicationName ??= "Lingyuan.Jobs";
            // Text crosses as UTF-8 whatever the connection string says: the bank file's bytes are copied as the
            // server sends them (BankLines), and the file is UTF-8.
            csb.ClientEncoding = "UTF8";
            csb.Encoding = "UTF8";
            builder.Services.AddNpgsqlDataSource(csb.ConnectionString);
        }
        else
            builder.Services.AddSingleton<NpgsqlDataSource>(_ => throw problem!);
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration("Database").ValidateOnStart();
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddSingleton<Work>();
        builder.Services.AddCommand<MigrateCommand>();
        return builder;
    }

    /// <summary><c>/healthz</c>: 200 when the database answers, 503 otherwise. Anonymous by design.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", async (NpgsqlDataSource db, CancellationToken ct) =>
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await using var cmd = db.CreateCommand("SELECT 1");
                await cmd.ExecuteScalarAsync(timeout.Token);
                return Results.Text("ok\n", statusCode: 200);
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
            {
                // No pool is cleared here: clearing every pool on one failed probe (a timeout under load
                // included) would cut the connections of every request in flight. Npgsql drops a
                // connection it finds broken, and the next probe opens a fresh one.
                return Results.Text("database unavailable / 数据库不可用\n", statusCode: 503);
            }
        }).AllowAnonymous();
        return app;
    }
}
