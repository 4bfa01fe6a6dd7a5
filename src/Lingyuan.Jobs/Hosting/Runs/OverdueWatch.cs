using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// Work that should have happened by now and did not. A run reports what it could not do, but nothing
/// reports a run that never happened — the worker was down on the build day, a run was killed half-way.
/// A feature with such a deadline registers a watch; the <c>overdue-watch</c> job asks every watch each
/// quarter hour. What a watch finds is a problem of that run: one alert per cause, mailed at most once an
/// hour, resolved by the first check that no longer finds it (issue #18).
/// </summary>
public interface IOverdueWatch
{
    Task<IReadOnlyList<RunProblem>> CheckAsync(CancellationToken ct);
}

/// <summary><c>overdue-watch</c>: asks every <see cref="IOverdueWatch"/>.</summary>
public sealed class OverdueWatchJob(IEnumerable<IOverdueWatch> watches) : IRecurringJob
{
    public const string Id = "overdue-watch";

    public async Task RunAsync(CancellationToken ct)
    {
        var all = watches.ToList();
        var found = 0;
        foreach (var w in all)
            foreach (var p in await w.CheckAsync(ct))
            {
                RunReport.Problem(p.Cause, p.TextZh);
                found++;
            }
        RunReport.Done(found == 0 ? $"检查 {all.Count} 类到期工作,均已按时完成" : $"检查 {all.Count} 类到期工作,发现 {found} 项逾期未完成",
            new { watches = all.Count, overdue = found });
    }
}

/// <summary>
/// A run still "running" long after it started: the process that ran it has most likely ended (killed, a
/// deployment). Its record is closed as interrupted when a later run of the same job finishes
/// (<see cref="JobRuns.FinishAsync"/>); until then this watch reports it.
/// </summary>
public sealed class StuckRunsWatch(Work work, BureauClock clock, JobRuns runs, IOptions<JobsOptions> options) : IOverdueWatch
{
    public Task<IReadOnlyList<RunProblem>> CheckAsync(CancellationToken ct) =>
        work.RunAsync<IReadOnlyList<RunProblem>>("runs.stuck", async uow =>
        {
            var after = options.Value.RunStuckAfter;
            var stuck = await uow.ListAsync<(string JobId, DateTime StartedAt)>(
                """
                SELECT job_id, min(started_at) FROM app.job_runs
                WHERE result = 'running' AND started_at < @cutoff
                GROUP BY job_id ORDER BY job_id
                """, new { cutoff = clock.UtcNow - after });
            return stuck.Select(s => new RunProblem(
                $"run-stuck:{s.JobId}",
                $"定时任务“{runs.NameOf(s.JobId)}”有一次运行自 {clock.Format(new DateTimeOffset(DateTime.SpecifyKind(s.StartedAt, DateTimeKind.Utc)))} 开始," +
                $"超过 {after.TotalHours:0.#} 小时仍未结束,运行它的进程可能已退出。请在“运行记录”页查看,并重新运行该任务;再次运行结束后,这条记录标为“中断”。"))
                .ToList();
        }, ct);
}
