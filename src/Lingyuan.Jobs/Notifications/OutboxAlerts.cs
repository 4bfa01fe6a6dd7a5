using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Notifications;

/// <summary>The outbox's state as alerts and metrics read it: pending count and age, recent permanent failures.</summary>
public sealed record OutboxHealth(long Pending, DateTime? OldestPendingSince, long FailedRecently);

/// <summary>
/// What a delivery run tells about itself (run record, issue #18): what it sent, and the two causes that need
/// a person — messages that failed permanently within the last day (open until they are re-queued and sent,
/// or a day has passed), and a backlog older than <c>Jobs:AlertBacklogAge</c>.
/// </summary>
public sealed class OutboxAlerts(Work work, BureauClock clock, IOptions<JobsOptions> jobs)
{
    public const string FailedCause = "outbox-failed";
    public const string BacklogCause = "outbox-backlog";
    public static readonly TimeSpan FailedWindow = TimeSpan.FromDays(1);

    public Task<OutboxHealth> HealthAsync(CancellationToken ct) =>
        work.RunAsync("outbox.health", uow => uow.SingleAsync<OutboxHealth>(
            """
            SELECT (SELECT count(*) FROM app.outbox WHERE state = 'pending') AS Pending,
                   (SELECT min(retry_from) FROM app.outbox WHERE state = 'pending') AS OldestPendingSince,
                   (SELECT count(*) FROM app.outbox WHERE state = 'failed' AND failed_at > @since) AS FailedRecently
            """, new { since = clock.UtcNow - FailedWindow }), ct);

    public async Task ReportAsync(DeliveryReport report, CancellationToken ct)
    {
        RunReport.Done($"发送 {report.Sent} 封,失败 {report.Failed} 封,推迟 {report.Deferred} 封",
            new { sent = report.Sent, failed = report.Failed, deferred = report.Deferred, skipped = report.SkippedLocked });
        var health = await HealthAsync(ct);
        if (health.FailedRecently > 0)
            RunReport.Problem(FailedCause, $"最近一天内有 {health.FailedRecently} 封邮件发送失败且不再自动重试,请到“邮件发送”页查看原因,更正后重新发送");
        var age = jobs.Value.AlertBacklogAge;
        if (health.OldestPendingSince is { } since && clock.UtcNow - new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)) > age)
        {
            var minutes = (int)(clock.UtcNow - new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc))).TotalMinutes;
            RunReport.Problem(BacklogCause, $"待发邮件积压:{health.Pending} 封待发,最早一封已等待 {minutes} 分钟(告警阈值 {(int)age.TotalMinutes} 分钟)");
        }
    }
}
