using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Lingyuan.Jobs.Hosting.Runs;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Hosting;

/// <summary>A recurring job: a thin class resolved from DI that calls its feature's service.</summary>
public interface IRecurringJob
{
    Task RunAsync(CancellationToken ct);
}

/// <summary>One recurring job of the catalog: its stable id, its Chinese name, its default schedule.</summary>
public sealed record RecurringJobDefinition(string Id, string NameZh, string Cron, Type JobType)
{
    public Hangfire.Common.Job ToHangfireJob() =>
        (Hangfire.Common.Job)typeof(RecurringJobDefinition).GetMethod(nameof(Make), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(JobType).Invoke(null, null)!;

    private static Hangfire.Common.Job Make<T>() where T : IRecurringJob =>
        Hangfire.Common.Job.FromExpression<T>(j => j.RunAsync(CancellationToken.None));
}

/// <summary>All recurring jobs the features registered; also names jobs on the dashboard in Chinese.</summary>
public sealed class JobCatalog(IEnumerable<RecurringJobDefinition> definitions, IOptions<JobsOptions> options)
{
    public IReadOnlyList<RecurringJobDefinition> All { get; } = definitions.OrderBy(d => d.Id, StringComparer.Ordinal).ToList();

    public RecurringJobDefinition? Find(string id) => All.FirstOrDefault(d => d.Id == id);

    public string CronOf(RecurringJobDefinition d) => options.Value.Schedules.GetValueOrDefault(d.Id) ?? d.Cron;

    public string? DisplayName(Hangfire.Common.Job job) =>
        All.FirstOrDefault(d => d.JobType == job.Type)?.NameZh;
}

public static class HangfireSetup
{
    public const string Schema = "hangfire";

    private static readonly object ConfigurationGate = new();

    public static WebApplicationBuilder AddRecurringJob<TJob>(this WebApplicationBuilder builder, string id, string nameZh, string cron)
        where TJob : class, IRecurringJob
    {
        builder.Services.AddTransient<TJob>();
        builder.Services.AddSingleton(new RecurringJobDefinition(id, nameZh, cron, typeof(TJob)));
        return builder;
    }

    /// <summary>
    /// The storage's connection string: the app's, with Npgsql's automatic preparation. Hangfire runs the same
    /// few statements for every job; prepared, PostgreSQL parses and plans each once per connection instead of
    /// once per job (3,000 jobs: 33-36 s → 30-32 s, ops/bench lab, 2026-12-02). Only Hangfire's own connections:
    /// its tables change only with a package upgrade, at a restart, so no prepared statement outlives its table's shape.
    /// </summary>
    public static string StorageConnectionString(string appConnectionString) =>
        new NpgsqlConnectionStringBuilder(appConnectionString) { MaxAutoPrepare = 32 }.ConnectionString;

    public static WebApplicationBuilder AddHangfireJobs(this WebApplicationBuilder builder, AppRole role)
    {
        builder.Services.AddSingleton<JobCatalog>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<Dashboard.IHomeWork, JobsHomeWork>();
        // This app's own storage and activator, registered before AddHangfire (which only adds its own when none
        // is): Hangfire's defaults read the statics JobStorage.Current and JobActivator.Current after configuring
        // them, so two apps starting in one process (the tests) could each be handed the other's database.
        builder.Services.AddSingleton<JobStorage>(sp =>
        {
            var options = new PostgreSqlStorageOptions
            {
                SchemaName = Schema,
                PrepareSchemaIfNecessary = true,
                QueuePollInterval = TimeSpan.FromSeconds(1),
                // A job still running after this is handed to another worker: jobs are idempotent anyway.
                InvisibilityTimeout = TimeSpan.FromMinutes(30),
                DistributedLockTimeout = TimeSpan.FromMinutes(1),
            };
            var connections = new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(
                StorageConnectionString(sp.GetRequiredService<NpgsqlDataSource>().ConnectionString), options);
            return new PostgreSqlStorage(connections, options);
        });
        builder.Services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        builder.Services.AddHangfire((sp, config) =>
        {
            // Hangfire's configuration is process-wide and its filter list is not thread-safe: apps configuring at
            // once (the tests start several) take turns. (Each app's run-record filter stays: see its AllowMultiple.)
            lock (ConfigurationGate)
                DashboardAdditions.Once(config)
                    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                    .UseSimpleAssemblyNameTypeSerializer()
                    .UseRecommendedSerializerSettings()
                    .UseFilter(new JobActingFilter(sp.GetRequiredService<ILoggerFactory>()))
                    .UseFilter(new Runs.RunRecordFilter(sp))
                    .UseFilter(new TriggeredByFilter(sp.GetRequiredService<IHttpContextAccessor>()))
                    .UseStorage(sp.GetRequiredService<JobStorage>());
        });

        if (role.RunsWorker())
        {
            builder.Services.AddHangfireServer((sp, o) =>
            {
                var jobs = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
                o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                o.WorkerCount = jobs.WorkerCount;
                o.ShutdownTimeout = jobs.ShutdownTimeout;
                o.SchedulePollingInterval = TimeSpan.FromSeconds(5);
                o.TimeZoneResolver = new DefaultTimeZoneResolver();
            });
        }
        if (role.IsServer())
            builder.Services.AddHostedService<RecurringJobRegistrar>();

        builder.Services.AddCommand<JobsListCommand>();
        builder.Services.AddCommand<JobsRunCommand>();
        builder.AddRuns(role);
        return builder;
    }
}

/// <summary>Registers (AddOrUpdate) every catalog job at start, in the configured time zone; idempotent across processes.</summary>
public sealed class RecurringJobRegistrar(JobCatalog catalog, IRecurringJobManager manager, JobStorage storage, IOptions<JobsOptions> options, ILogger<RecurringJobRegistrar> log)
    : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        var zone = options.Value.GetZone();
        foreach (var d in catalog.All)
            manager.AddOrUpdate(d.Id, d.ToHangfireJob(), catalog.CronOf(d), new RecurringJobOptions { TimeZone = zone });

        // A job dropped from the code must not keep firing from storage.
        using var conn = storage.GetConnection();
        foreach (var stale in conn.GetRecurringJobs().Select(r => r.Id).Where(id => catalog.Find(id) is null))
            manager.RemoveIfExists(stale);
        log.LogInformation("registered {Count} recurring jobs in {Zone}", catalog.All.Count, zone.Id);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

public sealed class JobsListCommand(JobCatalog catalog, JobStorage storage, IOptions<JobsOptions> options, Calendar.BureauClock clock) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "jobs list",
        "list the recurring jobs / 列出定时任务",
        """
        usage: Lingyuan.Jobs jobs list
        用法:  Lingyuan.Jobs jobs list
        Prints each recurring job: id, Chinese name, schedule, time zone, next and last run.
        列出每个定时任务:编号、名称、计划、时区、下次与上次执行时间。
        """);

    public Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        using var conn = storage.GetConnection();
        var stored = conn.GetRecurringJobs().ToDictionary(r => r.Id);
        Console.WriteLine("id\tname\tcron\ttime_zone\tnext_run\tlast_run");
        foreach (var d in catalog.All)
        {
            stored.TryGetValue(d.Id, out var s);
            Console.WriteLine(string.Join('\t', d.Id, d.NameZh, catalog.CronOf(d), options.Value.TimeZone,
                Format(s?.NextExecution), Format(s?.LastExecution)));
        }
        return Task.FromResult(ExitCodes.Ok);

        string Format(DateTime? utc) => utc is null ? "-" : clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc.Value, DateTimeKind.Utc)));
    }
}

public sealed class JobsRunCommand(JobCatalog catalog, Runs.JobRunner runner, TimeProvider clock) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "jobs run",
        "run one recurring job now, in this process / 立即在本进程中运行一个定时任务",
        """
        usage: Lingyuan.Jobs jobs run ID
        用法:  Lingyuan.Jobs jobs run 任务编号
        Runs the job now in this process and waits for it (jobs are idempotent: running one twice is safe).
        The run is recorded on the dashboard's 运行记录 page and its summary printed; exit 1 when part of
        its work failed (the problems are listed, and alerted as from a scheduled run).
        在本进程中立即运行该任务并等待完成(任务是幂等的,重复运行是安全的)。运行结果记入“运行记录”,
        并输出摘要;部分工作未完成时退出码为 1。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.Positional(0, "ID");
        args.ExpectPositionals(1);
        var d = catalog.Find(id) ?? throw new UsageException(
            $"no recurring job '{id}'; known: {string.Join(", ", catalog.All.Select(j => j.Id))} / 没有该任务");
        var started = clock.GetTimestamp();
        var outcome = await runner.RunNowAsync(d, ct);
        Console.WriteLine($"{d.Id} ({d.NameZh}) done in {clock.GetElapsedTime(started).TotalSeconds:0.0} s / 已完成");
        Console.WriteLine($"{Runs.RunResult.Label(outcome.Result)}:{outcome.Summary}");
        return outcome.Result == Runs.RunResult.Succeeded ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
