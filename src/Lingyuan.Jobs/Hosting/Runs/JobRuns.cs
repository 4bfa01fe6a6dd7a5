using System.Text.Json;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>One stored run, as the 运行记录 page and <c>jobs run</c> show it.</summary>
public sealed record JobRunRow(
    long Id, string JobId, string? HangfireJobId, string Channel, string Actor,
    DateTime StartedAt, DateTime? FinishedAt, string Result, string Summary, string Counters, string? Error);

/// <summary>An open (or resolved) alert.</summary>
public sealed record JobAlertRow(long Id, string Cause, string JobId, string TextZh, DateTime OpenedAt, DateTime LastSeenAt, DateTime? LastMailedAt);

/// <summary>How a finished run was judged: its stored result and its one-line Chinese summary.</summary>
public sealed record RunOutcome(long RunId, string Result, string Summary);

/// <summary>
/// The Runs slice: stores one record per run (<c>app.job_runs</c>), raises and resolves alerts
/// (<c>app.job_alerts</c>) and mails each new cause to <c>Jobs:AlertRecipients</c> through the outbox,
/// at most once per cause per hour. A run resolves the open alerts of its job that it did not report
/// again (so a clean rerun clears them); a run that failed with an error resolves nothing.
/// </summary>
public sealed class JobRuns(Work work, BureauClock clock, JobCatalog catalog, IOptions<JobsOptions> options, ILogger<JobRuns> log)
{
    public const string Hangfire = "hangfire";
    public const string Cli = "cli";
    public static readonly TimeSpan MailInterval = TimeSpan.FromHours(1);

    /// <summary>Succeeded runs older than this are deleted (the outbox alone runs every minute); others are kept.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(90);

    public const string InterruptedSummary = "运行中断:运行它的进程在完成前退出(停机、部署或被终止),此后该任务已再次运行";

    /// <param name="triggeredBy">The person who started a Hangfire run by hand (立即执行); recorded as the run's actor.</param>
    public Task<long> StartAsync(string jobId, string? hangfireJobId, string channel, CancellationToken ct, string? triggeredBy = null) =>
        work.RunAsync("runs.start", async uow =>
        {
            // Hangfire runs a job again only when its earlier attempt's worker is gone: that attempt is over.
            if (hangfireJobId is not null)
                await CloseInterruptedAsync(uow, "hangfire_job_id = @hangfireJobId", new { hangfireJobId, now = clock.UtcNow });
            return await uow.SingleAsync<long>(
                """
                INSERT INTO app.job_runs (job_id, hangfire_job_id, channel, actor, started_at)
                VALUES (@jobId, @hangfireJobId, @channel, @actor, @now) RETURNING id
                """, new { jobId, hangfireJobId, channel, actor = triggeredBy ?? uow.Acting.Actor, now = clock.UtcNow });
        }, ct);

    private static Task<int> CloseInterruptedAsync(UnitOfWork uow, string where, object args) =>
        uow.ExecuteAsync(
            $"""
            UPDATE app.job_runs SET result = 'failed', finished_at = @now, summary = '{InterruptedSummary}',
                   error = 'interrupted: the process ended before the run finished'
            WHERE result = 'running' AND {where}
            """, args);

    /// <summary>
    /// Records how the run ended. <paramref name="finalFailure"/>: an error after which nothing retries
    /// (the command line; Hangfire reports its final failure later through <see cref="RaiseRunFailedAsync"/>).
    /// </summary>
    public Task<RunOutcome> FinishAsync(long runId, string jobId, RunReport report, Exception? error, bool finalFailure, CancellationToken ct) =>
        work.RunAsync("runs.finish", async uow =>
        {
            var problems = report.Problems.DistinctBy(p => p.Cause).ToList();
            var result = error is not null ? RunResult.Failed : problems.Count > 0 ? RunResult.Attention : RunResult.Succeeded;
            var summary = SummaryOf(report, error, problems);
            await uow.ExecuteAsync(
                """
                UPDATE app.job_runs SET finished_at = @now, result = @result, summary = @summary,
                       counters = CAST(@counters AS jsonb), error = @detail
                WHERE id = @runId
                """, new
                {
                    runId, now = clock.UtcNow, result, summary,
                    counters = JsonSerializer.Serialize(report.Counters),
                    detail = error is null ? null : RunErrors.Detail(error),
                });
            foreach (var p in problems)
                await RaiseAsync(uow, p.Cause, jobId, p.TextZh, runId);
            if (error is not null && finalFailure)
                await RaiseAsync(uow, RunFailedCause(jobId), jobId, RunFailedText(jobId, error), runId);
            // An earlier run of this job still "running" long after its start died with its process
            // (the stuck-run watch reported it): this later run has finished, so that one is over.
            await CloseInterruptedAsync(uow, "job_id = @jobId AND id < @runId AND started_at < @cutoff",
                new { jobId, runId, now = clock.UtcNow, cutoff = clock.UtcNow - options.Value.RunStuckAfter });
            if (error is null)
            {
                // What this run did not report again is over: a clean rerun clears every alert of its job.
                var still = problems.Select(p => p.Cause).ToArray();
                await uow.ExecuteAsync(
                    """
                    UPDATE app.job_alerts SET resolved_at = @now, resolved_by_run = @runId
                    WHERE job_id = @jobId AND resolved_at IS NULL AND NOT (cause = ANY(@still))
                    """, new { jobId, runId, still, now = clock.UtcNow });
            }
            if (result == RunResult.Succeeded)
                await uow.ExecuteAsync(
                    """
                    DELETE FROM app.job_runs r
                    WHERE r.job_id = @jobId AND r.result = 'succeeded' AND r.started_at < @cutoff
                      AND NOT EXISTS (SELECT 1 FROM app.job_alerts a WHERE a.opened_by_run = r.id OR a.resolved_by_run = r.id)
                    """, new { jobId, cutoff = clock.UtcNow - Retention });
            return new RunOutcome(runId, result, summary);
        }, ct, new WorkOptions { RecordId = runId.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>A Hangfire run failed and will not be retried: one alert for the job.</summary>
    public Task RaiseRunFailedAsync(string jobId, long? runId, Exception error, CancellationToken ct) =>
        work.RunAsync("runs.alert", uow => RaiseAsync(uow, RunFailedCause(jobId), jobId, RunFailedText(jobId, error), runId), ct);

    public static string RunFailedCause(string jobId) => $"run-failed:{jobId}";

    private string RunFailedText(string jobId, Exception error) =>
        $"定时任务“{NameOf(jobId)}”运行失败,重试后仍未成功:{RunErrors.ChineseFirstLine(error)}";

    public string NameOf(string jobId) => catalog.Find(jobId)?.NameZh ?? jobId;

    private static string SummaryOf(RunReport report, Exception? error, IReadOnlyList<RunProblem> problems)
    {
        var parts = new List<string>();
        if (error is not null) parts.Add("运行失败:" + RunErrors.ChineseFirstLine(error));
        if (!string.IsNullOrWhiteSpace(report.Summary)) parts.Add(report.Summary!);
        foreach (var p in problems) parts.Add(p.TextZh);
        return parts.Count == 0 ? "已完成" : string.Join(";", parts);
    }

    /// <summary>Opens the cause's alert (or notes it is still there) and mails it unless mailed within the hour.</summary>
    private async Task RaiseAsync(UnitOfWork uow, string cause, string jobId, string textZh, long? runId)
    {
        var now = clock.UtcNow;
        var id = await uow.SingleAsync<long>(
            """
            INSERT INTO app.job_alerts (cause, job_id, text_zh, opened_at, last_seen_at, opened_by_run)
            VALUES (@cause, @jobId, @textZh, @now, @now, @runId)
            ON CONFLICT (cause) WHERE resolved_at IS NULL
            DO UPDATE SET text_zh = EXCLUDED.text_zh, last_seen_at = EXCLUDED.last_seen_at
            RETURNING id
            """, new { cause, jobId, textZh, now, runId });
        // The upsert holds the open alert's row lock, so two runs raising the same cause mail once.
        var lastMail = await uow.ScalarAsync<DateTime?>("SELECT max(last_mailed_at) FROM app.job_alerts WHERE cause = @cause", new { cause });
        if (lastMail is { } last && new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)) > now - MailInterval) return;
        var recipients = options.Value.AlertRecipients.Where(r => !string.IsNullOrWhiteSpace(r)).ToArray();
        if (recipients.Length == 0)
        {
            log.LogWarning("alert {Cause} raised but Jobs:AlertRecipients is empty: shown on the dashboard only", cause);
            return;
        }
        await uow.ExecuteAsync("UPDATE app.job_alerts SET last_mailed_at = @now WHERE id = @id", new { id, now });
        var name = NameOf(jobId);
        var when = clock.Format(now);
        var subject = $"【定时任务告警】{name}:{Shorten(textZh, 60)}";
        var text = $"""
            {textZh}

            任务:{name}({jobId})
            时间:{when}
            请登录控制台查看“运行记录”页(/hangfire/runs)。问题解决、任务再次正常运行后,告警自动解除。
            同一原因一小时内只发送一封告警邮件。

            凌源市人力资源和社会保障局 定时任务系统
            """;
        var html = Html.Of($"""
            <html lang="zh-CN"><body>
            <p>{textZh}</p>
            <p>任务:{name}({jobId})<br>时间:{when}</p>
            <p>请登录控制台查看“运行记录”页(/hangfire/runs)。问题解决、任务再次正常运行后,告警自动解除。同一原因一小时内只发送一封告警邮件。</p>
            <p>凌源市人力资源和社会保障局 定时任务系统</p>
            </body></html>
            """);
        await uow.EnqueueAsync(new OutboxMessage($"alert:{cause}:{id}:{now:yyyyMMddHHmmss}", recipients, subject, text, html.Value,
            "job_alert", id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    public Task<List<JobAlertRow>> OpenAlertsAsync(CancellationToken ct) =>
        work.RunAsync("runs.alerts", uow => uow.ListAsync<JobAlertRow>(
            """
            SELECT id, cause, job_id AS JobId, text_zh AS TextZh, opened_at AS OpenedAt, last_seen_at AS LastSeenAt, last_mailed_at AS LastMailedAt
            FROM app.job_alerts WHERE resolved_at IS NULL ORDER BY opened_at DESC, id DESC LIMIT 200
            """), ct);

    /// <summary>The last <paramref name="perJob"/> runs of every catalog job, newest first.</summary>
    public Task<List<JobRunRow>> LatestAsync(int perJob, CancellationToken ct) =>
        work.RunAsync("runs.view", uow => uow.ListAsync<JobRunRow>(
            $"""
            SELECT r.* FROM unnest(@ids) AS j(id)
            CROSS JOIN LATERAL (
                SELECT {Columns} FROM app.job_runs WHERE job_id = j.id ORDER BY started_at DESC, id DESC LIMIT @perJob) r
            """, new { ids = catalog.All.Select(d => d.Id).ToArray(), perJob }), ct);

    public Task<List<JobRunRow>> OfJobAsync(string jobId, int limit, CancellationToken ct) =>
        work.RunAsync("runs.view", uow => uow.ListAsync<JobRunRow>(
            $"SELECT {Columns} FROM app.job_runs WHERE job_id = @jobId ORDER BY started_at DESC, id DESC LIMIT @limit", new { jobId, limit }), ct);

    public Task<JobRunRow?> OfHangfireJobAsync(string hangfireJobId, CancellationToken ct) =>
        work.RunAsync("runs.view", uow => uow.SingleOrDefaultAsync<JobRunRow>(
            $"SELECT {Columns} FROM app.job_runs WHERE hangfire_job_id = @hangfireJobId ORDER BY id DESC LIMIT 1", new { hangfireJobId }), ct);

    private const string Columns =
        "id, job_id AS JobId, hangfire_job_id AS HangfireJobId, channel, actor, started_at AS StartedAt, finished_at AS FinishedAt, " +
        "result, summary, counters::text AS Counters, error";
}
