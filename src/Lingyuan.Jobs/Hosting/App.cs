namespace Lingyuan.Jobs.Hosting;

/// <summary>Which faces of the one executable a process runs (ARCHITECTURE.md: one process, three faces).</summary>
public enum AppRole
{
    /// <summary>Worker and dashboard in one process (the default of <c>serve</c>).</summary>
    All,
    Worker,
    Dashboard,
    /// <summary>A command-line verb: services only, no Hangfire server, no web server started.</summary>
    Cli,
}

public static class AppRoleExtensions
{
    public static bool RunsWorker(this AppRole role) => role is AppRole.All or AppRole.Worker;
    public static bool ServesDashboard(this AppRole role) => role is AppRole.All or AppRole.Dashboard;
    public static bool IsServer(this AppRole role) => role is not AppRole.Cli;
}

public static class App
{
    /// <summary>
    /// Builds the services of the application for a role, without the web pipeline (mapping Hangfire's
    /// dashboard opens its storage, which a verb such as --help must not wait for).
    /// </summary>
    public static WebApplication Build(
        AppRole role, IEnumerable<KeyValuePair<string, string?>>? overrides = null, Action<IServiceCollection>? testServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = FindContentRoot(),
            ApplicationName = typeof(App).Assembly.GetName().Name,
        });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        Program.Configure(builder, role);
        // Tests replace what cannot be driven for real (the clock) after the features registered theirs.
        testServices?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>
    /// The service as <c>serve</c> runs it (tests start it the same way): settings validated, the
    /// database reachable (else exit 69 at once), migrations applied when configured, pages mapped.
    /// </summary>
    public static async Task<WebApplication> CreateServerAsync(
        AppRole role, IEnumerable<KeyValuePair<string, string?>>? overrides = null, Action<IServiceCollection>? testServices = null)
    {
        var app = Build(role, overrides, testServices);
        try
        {
            app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
            var migrator = app.Services.GetRequiredService<Database.Migrator>();
            await migrator.EnsureReachableAsync(CancellationToken.None);
            if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Database.DatabaseOptions>>().Value.MigrateOnStart)
                await migrator.MigrateAsync(CancellationToken.None);
            Program.Map(app);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// appsettings.json lives at the repository root (and beside the binaries when deployed):
    /// LINGYUAN_CONTENT_ROOT, then the working directory, then the binaries' folder and its parents.
    /// </summary>
    public static string FindContentRoot()
    {
        var env = Environment.GetEnvironmentVariable("LINGYUAN_CONTENT_ROOT");
        if (!string.IsNullOrEmpty(env)) return env;
        if (File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"))) return Directory.GetCurrentDirectory();
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "appsettings.json"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
