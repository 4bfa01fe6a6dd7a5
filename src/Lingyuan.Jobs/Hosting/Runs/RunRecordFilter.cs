using System.Collections.Concurrent;
using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// Records every Hangfire run of a catalog job (recurring, or enqueued by hand such as the outbox signal)
/// in <c>app.job_runs</c> and makes its outcome honest on the dashboard:
/// <list type="bullet">
/// <item>a run whose job reported problems (<see cref="RunReport.Problem"/>) ends <b>Failed</b> with the Chinese
/// list of what failed, not Succeeded, and is not retried (a person must act; the next scheduled run tries again);</item>
/// <item>a succeeded run carries its Chinese summary as the state's result, shown on the job's page;</item>
/// <item>a final failure (no retry left) gets a Chinese message with the technical detail below it, and an alert;</item>
/// <item>after a clean run, the job's earlier failed runs leave Hangfire's failed list (their records stay on 运行记录).</item>
/// </list>
/// Ordered after <see cref="AutomaticRetryAttribute"/> (Order 20): a Failed candidate seen here is final.
/// </summary>
// AllowMultiple: Hangfire keeps only the last filter of a type that does not allow several, and its filter list is
// process-wide — with two apps in one process (the tests), only the app configured last recorded its runs.
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class RunRecordFilter : JobFilterAttribute, IServerFilter, IElectStateFilter, IApplyStateFilter
{
    // Per filter: a process that built several apps holds several filters, and a job's Items are shared by all.
    private readonly string ItemKey = "lingyuan.run:" + Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, Finished> _finished = new();
    private readonly IServiceProvider services;

    public RunRecordFilter(IServiceProvider services)
    {
        this.services = services;
        Order = 100;
    }

    private sealed record Started(long RunId, string JobId, RunReport Report, IDisposable Scope, long StartTimestamp);

    private sealed record Finished(long RunId, string JobId, RunOutcome Outcome);

    private ILogger Log => services.GetRequiredService<ILoggerFactory>().CreateLogger("Lingyuan.Jobs.Runs");

    public static string? JobIdOf(JobCatalog catalog, Job? job, string? recurringId) =>
        recurringId is not null && catalog.Find(recurringId) is not null ? recurringId
        : job is null ? null : catalog.All.FirstOrDefault(d => d.JobType == job.Type)?.Id;

    /// <summary>
    /// Hangfire's filters are process-wide (GlobalJobFilters): a process that built several apps (the tests)
    /// holds one filter per app. Each acts only for jobs of its own app's storage.
    /// </summary>
    private bool Mine(JobStorage storage)
    {
        // Another app's storage may be gone with its database (a test fixture that ended): not ours either way.
        try { return ReferenceEquals(storage, services.GetService<JobStorage>()); }
        catch (Exception) { return false; }
    }

    public void OnPerforming(PerformingContext context)
    {
        if (!Mine(context.Storage)) return;
        var catalog = services.GetRequiredService<JobCatalog>();
        var jobId = JobIdOf(catalog, context.BackgroundJob.Job, context.GetJobParameter<string>("RecurringJobId", allowStale: true));
        if (jobId is null) return;
        var report = new RunReport();
        try
        {
            var triggeredBy = context.GetJobParameter<string>(TriggeredByFilter.Parameter, allowStale: true);
            var runId = services.GetRequiredService<JobRuns>().StartAsync(jobId, context.BackgroundJob.Id, JobRuns.Hangfire, context.CancellationToken.ShutdownToken, triggeredBy)
                .GetAwaiter().GetResult();
            context.Items[ItemKey] = new Started(runId, jobId, report, report.Begin(), System.Diagnostics.Stopwatch.GetTimestamp());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The record is the operator's view, not the work: the job runs even if its record cannot be written.
            Log.LogWarning(ex, "could not record the start of {Job}", jobId);
        }
    }

    public void OnPerformed(PerformedContext context)
    {
        if (!context.Items.TryGetValue(ItemKey, out var s) || s is not Started started || !Mine(context.Storage)) return;
        started.Scope.Dispose();
        var error = context.Exception is { } e && !context.ExceptionHandled ? Unwrap(e) : null;
        try
        {
            var outcome = services.GetRequiredService<JobRuns>()
                .FinishAsync(started.RunId, started.JobId, started.Report, error, finalFailure: false, CancellationToken.None)
                .GetAwaiter().GetResult();
            _finished[context.BackgroundJob.Id] = new Finished(started.RunId, started.JobId, outcome);
            services.GetService<JobMetrics>()?.Record(started.JobId, outcome.Result, System.Diagnostics.Stopwatch.GetElapsedTime(started.StartTimestamp));
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "could not record the end of {Job} run {RunId}", started.JobId, started.RunId);
        }
    }

    public void OnStateElection(ElectStateContext context)
    {
        if (!Mine(context.Storage)) return;
        switch (context.CandidateState)
        {
            case SucceededState succeeded when _finished.TryRemove(context.BackgroundJob.Id, out var f):
                context.CandidateState = f.Outcome.Result == RunResult.Attention
                    ? new FailedState(new RunNeedsAttentionException(f.Outcome.Summary)) { Reason = "部分工作未完成,需要人工处理" }
                    : new SucceededState(f.Outcome.Summary, succeeded.Latency, succeeded.PerformanceDuration) { Reason = succeeded.Reason };
                break;
            case FailedState failed when failed.Exception is not RunNeedsAttentionException and not JobRunFailedException:
                // Final: the retry filter ran before this one and left it Failed.
                _finished.TryRemove(context.BackgroundJob.Id, out var ff);
                var catalog = services.GetRequiredService<JobCatalog>();
                var jobId = ff?.JobId ?? JobIdOf(catalog, context.BackgroundJob.Job, context.GetJobParameter<string>("RecurringJobId", allowStale: true));
                if (jobId is null) return;
                var error = Unwrap(failed.Exception);
                context.CandidateState = new FailedState(new JobRunFailedException(RunErrors.ChineseFirstLine(error), error))
                {
                    Reason = "运行失败,已不再重试",
                };
                try
                {
                    services.GetRequiredService<JobRuns>().RaiseRunFailedAsync(jobId, ff?.RunId, error, CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (Exception ex)
                {
                    Log.LogWarning(ex, "could not raise the alert of {Job}", jobId);
                }
                break;
            case ScheduledState:
                // A retry is coming: forget this attempt's outcome (its record stays, result failed).
                _finished.TryRemove(context.BackgroundJob.Id, out _);
                break;
        }
    }

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        if (context.NewState is not SucceededState || context.BackgroundJob.Job is not { } job || !Mine(context.Storage)) return;
        // A clean run answers the earlier failures of the same job: they leave the failed list (to Deleted,
        // with the reason), so the list shows only what still needs a person. Their run records stay.
        try
        {
            var monitoring = context.Storage.GetMonitoringApi();
            var stale = monitoring.FailedJobs(0, 100)
                .Where(kv => kv.Value.Job?.Type == job.Type && kv.Key != context.BackgroundJob.Id)
                .Select(kv => kv.Key).ToList();
            if (stale.Count == 0) return;
            var client = new BackgroundJobClient(context.Storage);
            foreach (var id in stale)
                client.ChangeState(id, new DeletedState { Reason = "同一任务此后已成功运行,失败记录移出失败列表(运行记录中仍保留)" }, FailedState.StateName);
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "could not clear the earlier failures of {Job}", job.Type.Name);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction) { }

    private static Exception Unwrap(Exception e) =>
        e is JobPerformanceException { InnerException: { } inner } ? inner : e;
}

/// <summary>A run's final failure as Hangfire shows it: the Chinese line first, the original exception inside.</summary>
public sealed class JobRunFailedException(string messageZh, Exception inner) : Exception(messageZh, inner);
