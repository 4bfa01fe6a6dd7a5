namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// Runs a catalog job now in this process, as <c>jobs run</c> does (and tests do): recorded like a Hangfire
/// run, with channel <c>cli</c>. Nothing retries a command-line run, so an error is final: it raises the
/// job's alert, is recorded, and escapes to the verb's usual error handling.
/// </summary>
public sealed class JobRunner(IServiceProvider services, JobRuns runs, JobMetrics metrics)
{
    public async Task<RunOutcome> RunNowAsync(RecurringJobDefinition d, CancellationToken ct)
    {
        var report = new RunReport();
        var runId = await runs.StartAsync(d.Id, null, JobRuns.Cli, ct);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Exception? error = null;
        using (report.Begin())
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var job = (IRecurringJob)scope.ServiceProvider.GetRequiredService(d.JobType);
                await job.RunAsync(ct);
            }
            catch (Exception e)
            {
                error = e;
            }
        }
        var outcome = await runs.FinishAsync(runId, d.Id, report, error, finalFailure: true, CancellationToken.None);
        metrics.Record(d.Id, outcome.Result, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        return outcome;
    }
}
