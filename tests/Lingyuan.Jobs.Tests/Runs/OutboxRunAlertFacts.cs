using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.Tests.Notifications;

namespace Lingyuan.Jobs.Tests.Runs;

/// <summary>
/// <c>outbox-delivery</c>: a message that fails permanently (an address no server can take) makes the run
/// need attention, mails one alert, and stays alerted until the message is corrected, re-queued and sent;
/// then the clean run clears the alert. A backlog older than <c>Jobs:AlertBacklogAge</c> is a cause too.
/// </summary>
public class OutboxRunAlertFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_permanently_failed_message_needs_attention_alerts_once_and_the_clean_run_after_requeue_clears_it()
    {
        var alertDomain = $"alerts-{Guid.NewGuid():N}"[..20] + ".test";
        await using var app = db.BuildApp(AppRole.Cli, new() { ["Jobs:AlertRecipients:0"] = $"duty@{alertDomain}" });
        var domain = OutboxTestData.Domain();
        var ids = await OutboxTestData.QueueAsync(db.DataSource, domain, 2);
        await using (var conn = await db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("UPDATE app.outbox SET recipients = ARRAY['no-at-sign@@' || @domain] WHERE id = @id", new { id = ids[0], domain });

        var first = await RunAsync(app);
        Assert.Equal(RunResult.Attention, first.Result);
        Assert.Contains("发送 1 封,失败 1 封", first.Summary);
        Assert.Contains("封邮件发送失败", first.Summary);

        // The next run sends the alert mail; the failed message still needs a person, so it still needs attention.
        Assert.Equal(RunResult.Attention, (await RunAsync(app)).Result);
        Assert.Equal(RunResult.Attention, (await RunAsync(app)).Result);
        await Smtp4dev.WaitForAsync(alertDomain, 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        var mails = await Smtp4dev.MessagesToAsync(alertDomain);
        Assert.Single(mails);
        Assert.Contains("发送待发邮件", mails[0].Subject);

        await using (var conn = await db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("UPDATE app.outbox SET recipients = ARRAY['p0@' || @domain] WHERE id = @id", new { id = ids[0], domain });
        Assert.Equal(RequeueResult.Requeued, await app.Services.GetRequiredService<OutboxRequeue>().RequeueAsync(ids[0], CancellationToken.None));
        var clean = await RunAsync(app);
        Assert.Equal(RunResult.Succeeded, clean.Result);
        await using (var conn = await db.DataSource.OpenConnectionAsync())
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.job_alerts WHERE job_id = 'outbox-delivery' AND resolved_at IS NULL"));
    }

    internal static Task<RunOutcome> RunAsync(WebApplication app) =>
        app.Services.GetRequiredService<JobRunner>().RunNowAsync(app.Services.GetRequiredService<JobCatalog>().Find("outbox-delivery")!, CancellationToken.None);
}

/// <summary>A backlog older than <c>Jobs:AlertBacklogAge</c> is a cause of its own (a database of its own: it leaves an old message pending).</summary>
public class OutboxBacklogAlertFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_backlog_older_than_the_setting_is_an_alert()
    {
        await using var app = db.BuildApp(AppRole.Cli, new() { ["Jobs:AlertBacklogAge"] = "00:10:00", ["Smtp:Port"] = "1" });
        var domain = OutboxTestData.Domain();
        var ids = await OutboxTestData.QueueAsync(db.DataSource, domain, 1, prefix: "backlog");
        await using (var conn = await db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("UPDATE app.outbox SET retry_from = now() - interval '2 hours', created_at = now() - interval '2 hours' WHERE id = @id", new { id = ids[0] });
        // The server is down (port 1): the run fails, and the backlog is reported with it.
        await Assert.ThrowsAnyAsync<Exception>(() => OutboxRunAlertFacts.RunAsync(app));
        await using var c = await db.DataSource.OpenConnectionAsync();
        var causes = (await c.QueryAsync<string>("SELECT cause FROM app.job_alerts WHERE resolved_at IS NULL")).ToList();
        Assert.Contains(OutboxAlerts.BacklogCause, causes);
        Assert.Contains(JobRuns.RunFailedCause("outbox-delivery"), causes);
    }

}
