using System.Diagnostics;
using System.Globalization;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.Storage;
using Lingyuan.Jobs.Bench;
using Lingyuan.Jobs.Bench.Mail;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.DependencyInjection;

// The in-process workloads of ops/bench. Each prints lines "ROW<TAB>name<TAB>rows<TAB>our seconds<TAB>bound seconds"
// (bound 0 = none), which ops/bench turns into table rows with the peak RSS it measured around this process.
//   Lingyuan.Jobs.Bench draw EMPLOYERS INSPECTORS CONFLICTS REPEATS
//   Lingyuan.Jobs.Bench hangfire JOBS          (PostgreSQL from ConnectionStrings__Jobs, then Hangfire.InMemory)
//   Lingyuan.Jobs.Bench trigger RECURRING_ID   (a running worker's recurring job, now; prints the seconds
//                                               from the trigger to its success)
// and one verb run through the service's command-line frame (its configuration, services and exit codes):
//   Lingyuan.Jobs.Bench mail [--count N]       (the real outbox delivery path; prints a Markdown table)
const string Usage = "usage: Lingyuan.Jobs.Bench draw EMPLOYERS INSPECTORS CONFLICTS REPEATS | hangfire JOBS | trigger RECURRING_ID | mail [--count N]";

if (args is ["mail", ..])
{
    return await CommandLine.RunAsync(args, new CliTool(
        "Lingyuan.Jobs.Bench",
        "Lingyuan.Jobs.Bench — benchmarks of the Lingyuan HRSS jobs service (ops/bench/run) / 性能基准工具",
        services => services.AddCommand<MailBenchCommand>()));
}
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    switch (args)
    {
        case ["draw", var e, var i, var c, var r]:
            Draw(int.Parse(e), int.Parse(i), int.Parse(c), int.Parse(r));
            return 0;
        case ["hangfire", var n]:
            Hangfire(int.Parse(n));
            return 0;
        case ["trigger", var id]:
            Trigger(id);
            return 0;
        case ["--help" or "-h" or "help"]:
            Console.WriteLine(Usage);
            return 0;
        default:
            Console.Error.WriteLine(Usage);
            return 64;
    }
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"bad number: {ex.Message}");
    return 64;
}

static void Row(string name, long rows, double ours, double bound) =>
    Console.WriteLine($"ROW\t{name}\t{rows}\t{ours:0.0000}\t{bound:0.0000}");

static void Draw(int employers, int inspectors, int conflicts, int repeats)
{
    // Teams of 2 (DrawBenchmark.Synthetic's default); the figures are the best of `repeats` runs.
    var f = DrawBenchmark.Measure(employers, inspectors, conflicts, repeats);
    var what = $"{f.Employers:N0} employers, {f.Inspectors:N0} inspectors, {f.Conflicts:N0} conflicts, teams of 2; {f.Drawn:N0} drawn";
    Row($"double-random draw ({what})", f.Employers, f.Draw.TotalSeconds, 0);
    Row($"double-random verify ({what})", f.Employers, f.Verify.TotalSeconds, 0);
}

// The app's global configuration and storage options (src/Lingyuan.Jobs/Hosting/HangfireSetup.cs).
static IGlobalConfiguration AppConfiguration() => GlobalConfiguration.Configuration
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings();

static PostgreSqlStorage UseAppStorage(IGlobalConfiguration config)
{
    var cs = Environment.GetEnvironmentVariable("ConnectionStrings__Jobs")
        ?? throw new InvalidOperationException("ConnectionStrings__Jobs is not set");
    return config.UsePostgreSqlStorage(c => c.UseNpgsqlConnection(HangfireSetup.StorageConnectionString(cs)), new PostgreSqlStorageOptions
    {
        SchemaName = HangfireSetup.Schema,
        PrepareSchemaIfNecessary = true,
        QueuePollInterval = TimeSpan.FromSeconds(1),
        InvisibilityTimeout = TimeSpan.FromMinutes(30),
        DistributedLockTimeout = TimeSpan.FromMinutes(1),
    }).Entry;
}

// Triggers a recurring job the worker registered (waiting for the worker to register it) and waits for that run to succeed.
static void Trigger(string recurringId)
{
    var storage = UseAppStorage(AppConfiguration());
    var deadline = DateTime.UtcNow.AddMinutes(2);
    while (true)
    {
        using (var conn = storage.GetConnection())
            if (conn.GetRecurringJobs().Any(r => r.Id == recurringId)) break;
        if (DateTime.UtcNow > deadline) throw new TimeoutException($"no worker registered the recurring job '{recurringId}'");
        Thread.Sleep(200);
    }
    var started = Stopwatch.GetTimestamp();
    var jobId = new RecurringJobManager(storage).TriggerJob(recurringId)
        ?? throw new InvalidOperationException($"'{recurringId}' was not triggered");
    var monitor = storage.GetMonitoringApi();
    deadline = DateTime.UtcNow.AddMinutes(15);
    while (true)
    {
        var history = monitor.JobDetails(jobId)?.History ?? [];
        var state = history.FirstOrDefault()?.StateName;
        if (state == "Succeeded") break;
        // A failure is moved on to Scheduled (a retry minutes later): the first failure ends the measurement.
        var failed = history.FirstOrDefault(h => h.StateName == "Failed");
        if (failed is not null)
            throw new InvalidOperationException($"job {jobId} ({recurringId}) failed: {failed.Data["ExceptionType"]}: {failed.Data["ExceptionMessage"]}");
        if (state == "Deleted") throw new InvalidOperationException($"job {jobId} ({recurringId}) was deleted");
        if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {jobId} ({recurringId}) did not succeed within 15 minutes");
        Thread.Sleep(100);
    }
    Console.WriteLine($"{Stopwatch.GetElapsedTime(started).TotalSeconds:0.0000}");
}

static void Hangfire(int jobs)
{
    var config = AppConfiguration();
    var pg = UseAppStorage(config);
    var (onPg, pgEnqueue) = RoundTrip(pg, jobs);
    var mem = config.UseInMemoryStorage(new InMemoryStorageOptions()).Entry;
    var (inMemory, _) = RoundTrip(mem, jobs);
    var workers = new JobsOptions().WorkerCount;
    Row($"Hangfire round trip, PostgreSQL storage vs Hangfire.InMemory ({workers} workers; jobs/s)", jobs, onPg, inMemory);
    Row("Hangfire round trip, Hangfire.InMemory (the bound alone)", jobs, inMemory, 0);
    Row($"Hangfire, PostgreSQL storage: enqueueing alone ({workers} producers, one job per transaction)", jobs, pgEnqueue, 0);
}

// From the first enqueue to the last job succeeded, with a server of the app's worker count running;
// also how long the enqueue loop alone took.
static (double Total, double Enqueue) RoundTrip(JobStorage storage, int jobs)
{
    var options = new BackgroundJobServerOptions
    {
        ServerName = $"bench:{Environment.ProcessId}:{Guid.NewGuid():N}",
        WorkerCount = new JobsOptions().WorkerCount,
        SchedulePollingInterval = TimeSpan.FromSeconds(5),
    };
    var monitor = storage.GetMonitoringApi();
    var before = monitor.SucceededListCount();
    using var server = new BackgroundJobServer(options, storage);
    var client = new BackgroundJobClient(storage);
    var started = Stopwatch.GetTimestamp();
    // Jobs are created by many requests and jobs at once in the service, not by one loop: enqueue from
    // as many producers as there are workers (PostgreSQL then shares one WAL flush among the commits).
    Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = options.WorkerCount }, _ => client.Enqueue(() => TrivialJob.Run()));
    var enqueue = Stopwatch.GetElapsedTime(started).TotalSeconds;
    var deadline = DateTime.UtcNow.AddMinutes(15);
    // Counted every 200 ms: the count is a query over the job table, and at every 20 ms (as before) this
    // watching loop took a share of the two cores from the jobs it watched. It adds at most 0.2 s to the time.
    while (monitor.SucceededListCount() - before < jobs)
    {
        if (DateTime.UtcNow > deadline) throw new TimeoutException($"{jobs} jobs did not all succeed within 15 minutes");
        Thread.Sleep(200);
    }
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    server.SendStop();
    return (seconds, enqueue);
}

/// <summary>The trivial job of the round trip: does nothing, so the figure is Hangfire's own cost.</summary>
public static class TrivialJob
{
    public static void Run() { }
}
