using Dapper;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Runs;

/// <summary>
/// Issue #18, the alerts no run of the late job can raise itself: a month whose batch was not built by its day,
/// and a run left "running" by a process that ended. The <c>overdue-watch</c> run reports each, one alert mail
/// per cause reaches the alert address (smtp4dev), and the first check after the work is done clears it.
/// </summary>
public class OverdueWatchFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_month_without_a_batch_after_its_build_day_alerts_once_and_the_check_after_it_is_built_clears_it()
    {
        var alertDomain = $"late-{Guid.NewGuid():N}"[..20] + ".test";
        var latest = db.Services.GetRequiredService<BatchBuilder>().LatestDuePeriod();
        var first = Period.Of(latest.FirstDay.AddMonths(-2));
        await using var app = db.BuildApp(AppRole.Cli, new()
        {
            ["Jobs:AlertRecipients:0"] = $"duty@{alertDomain}",
            ["Disbursements:FirstPeriod"] = first.ToString(),
        });

        // The build job did not run for three months: each is late (its build day is weeks ago).
        var watch = await RunAsync(app, OverdueWatchJob.Id);
        output.WriteLine(watch.Summary);
        Assert.Equal(RunResult.Attention, watch.Result);
        var expected = new[] { first, first.Next(), latest }.Select(p => $"batch-late:{p}").ToArray();
        Assert.Equal(expected, await OpenCausesAsync("batch-late:%"));
        Assert.Contains($"{first} 期待遇发放批次应于 {first.FirstDay.AddDays(4):yyyy-MM-dd} 02:00 (北京时间)生成,至今没有批次", watch.Summary);
        // Checked again within the hour: the same alerts, no second mail.
        Assert.Equal(RunResult.Attention, (await RunAsync(app, OverdueWatchJob.Id)).Result);

        await RunAsync(app, "outbox-delivery");
        await Smtp4dev.WaitForAsync(alertDomain, 3, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        var mails = await Smtp4dev.MessagesToAsync(alertDomain);
        Assert.Equal(3, mails.Count);
        Assert.All(mails, m => Assert.Contains("逾期工作巡查", m.Subject));

        // A finance user builds the earliest month by hand: that alert ends, the others stay.
        await app.Services.GetRequiredService<BatchBuilder>().BuildAsync(first, "late-finance", CancellationToken.None);
        Assert.Equal(RunResult.Attention, (await RunAsync(app, OverdueWatchJob.Id)).Result);
        Assert.Equal(expected[1..], await OpenCausesAsync("batch-late:%"));

        // The build job catches up the rest; the next check is clean.
        Assert.Equal(RunResult.Succeeded, (await RunAsync(app, "disbursement-build")).Result);
        var clean = await RunAsync(app, OverdueWatchJob.Id);
        Assert.Equal(RunResult.Succeeded, clean.Result);
        Assert.Contains("均已按时完成", clean.Summary);
        Assert.Empty(await OpenCausesAsync("batch-late:%"));
    }

    [Fact]
    public async Task A_run_left_running_by_a_process_that_ended_alerts_until_a_later_run_of_its_job_closes_it_as_interrupted()
    {
        var alertDomain = $"stuck-{Guid.NewGuid():N}"[..20] + ".test";
        await using var app = db.BuildApp(AppRole.Cli, new() { ["Jobs:AlertRecipients:0"] = $"duty@{alertDomain}" });
        long dead;
        await using (var conn = await db.DataSource.OpenConnectionAsync())
            dead = await conn.ExecuteScalarAsync<long>(
                """
                INSERT INTO app.job_runs (job_id, channel, actor, started_at)
                VALUES ('inspection-deadlines', 'cli', 'job:inspection-deadlines', now() - interval '7 hours') RETURNING id
                """);

        var watch = await RunAsync(app, OverdueWatchJob.Id);
        output.WriteLine(watch.Summary);
        Assert.Equal(RunResult.Attention, watch.Result);
        Assert.Equal(["run-stuck:inspection-deadlines"], await OpenCausesAsync("run-stuck:%"));
        Assert.Contains("双随机抽查期限提醒", watch.Summary);
        Assert.Contains("进程可能已退出", watch.Summary);
        await RunAsync(app, "outbox-delivery");
        var mails = await Smtp4dev.WaitForAsync(alertDomain, 1, TimeSpan.FromSeconds(30));
        Assert.Contains("逾期工作巡查", mails[0].Subject);

        // The job runs again and finishes: the dead run is closed as interrupted, the next check is clean.
        Assert.Equal(RunResult.Succeeded, (await RunAsync(app, "inspection-deadlines")).Result);
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            var row = await conn.QuerySingleAsync<(string Result, string Summary, DateTime? FinishedAt)>(
                "SELECT result, summary, finished_at FROM app.job_runs WHERE id = @dead", new { dead });
            Assert.Equal(RunResult.Failed, row.Result);
            Assert.Equal(JobRuns.InterruptedSummary, row.Summary);
            Assert.NotNull(row.FinishedAt);
        }
        Assert.Equal(RunResult.Succeeded, (await RunAsync(app, OverdueWatchJob.Id)).Result);
        Assert.Empty(await OpenCausesAsync("run-stuck:%"));
    }

    [Fact]
    public async Task When_hangfire_runs_a_job_again_after_its_worker_died_the_earlier_attempt_is_recorded_interrupted()
    {
        var runs = db.Services.GetRequiredService<JobRuns>();
        var hangfireId = $"hf-{Guid.NewGuid():N}";
        var killed = await runs.StartAsync("zero-employment-check", hangfireId, JobRuns.Hangfire, CancellationToken.None);
        var again = await runs.StartAsync("zero-employment-check", hangfireId, JobRuns.Hangfire, CancellationToken.None);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(long Id, string Result, string Summary)>(
            "SELECT id, result, summary FROM app.job_runs WHERE hangfire_job_id = @hangfireId ORDER BY id", new { hangfireId })).ToList();
        Assert.Equal([(killed, RunResult.Failed, JobRuns.InterruptedSummary), (again, RunResult.Running, "")], rows);
    }

    private static async Task<RunOutcome> RunAsync(WebApplication app, string jobId)
    {
        var catalog = app.Services.GetRequiredService<JobCatalog>();
        return await app.Services.GetRequiredService<JobRunner>().RunNowAsync(catalog.Find(jobId)!, CancellationToken.None);
    }

    private async Task<string[]> OpenCausesAsync(string like)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>(
            "SELECT cause FROM app.job_alerts WHERE job_id = @job AND cause LIKE @like AND resolved_at IS NULL ORDER BY cause",
            new { job = OverdueWatchJob.Id, like })).ToArray();
    }
}
