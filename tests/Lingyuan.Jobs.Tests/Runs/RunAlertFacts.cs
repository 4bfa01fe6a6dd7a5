using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Runs;

/// <summary>
/// Issue #18, per job: a run whose work (partly) fails is not Succeeded, is recorded with a Chinese summary,
/// mails one alert to <c>Jobs:AlertRecipients</c> (through the outbox, to smtp4dev), and a clean rerun
/// clears the alert. Runs go through <see cref="JobRunner"/>, which is what <c>jobs run</c> calls.
/// The jobs other than the draw and the outbox do their work in one transaction, so their partial
/// failure is the whole run failing (a table they read is missing); the alert is the same.
/// </summary>
public class RunAlertFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_draw_that_cannot_be_made_makes_the_run_need_attention_alerts_once_and_a_clean_rerun_clears_it()
    {
        var alertDomain = OutboxDomain();
        await using var app = AppWithAlerts(alertDomain);
        var domain = $"{Guid.NewGuid():N}.test";
        await AddInspectorsAsync(db, domain, ("RA-01", "甲", true), ("RA-02", "乙", true));
        var usccs = await AddEmployersAsync(db, "告警街道", ("告警一号公司", 'A', false));
        foreach (var u in usccs) await AddConflictAsync(db, "RA-02", u);
        var plan = await AddPlanAsync(db, "告警街道");
        // The draw is a person's (it needs the public value); it fails as a whole: RA-02 may not inspect the employer.
        var drawn = await DrawAsync(db, plan.Id);
        Assert.False(drawn.Succeeded);

        // Every daily run reports the plan whose draw could not be made until it is drawn, edited or withdrawn.
        var first = await RunAsync(app, "inspection-draws");
        Assert.Equal(RunResult.Attention, first.Result);
        Assert.Contains($"抽查计划 {plan.Id} 摇号未能完成", first.Summary);
        Assert.Contains("摇号失败待处理 1 个", first.Summary);
        // Rerunning with nothing changed: still needs attention, and no second mail within the hour.
        Assert.Equal(RunResult.Attention, (await RunAsync(app, "inspection-draws")).Result);
        Assert.Equal([$"draw-failed:{plan.Id}"], await OpenCausesAsync("inspection-draws"));

        await DeliverAsync(app);
        var mails = await Smtp4dev.WaitForAsync(alertDomain, 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        mails = await Smtp4dev.MessagesToAsync(alertDomain);
        Assert.Single(mails);
        Assert.Contains("双随机抽查摇号", mails[0].Subject);

        // The inspection staff withdraw the plan (a new one would be scheduled); the next run is clean.
        await db.Services.GetRequiredService<Lingyuan.Jobs.Inspections.InspectionPlans>().WithdrawAsync(plan.Id, "回避人员过多,重新编制计划", CancellationToken.None);
        var clean = await RunAsync(app, "inspection-draws");
        Assert.Equal(RunResult.Succeeded, clean.Result);
        Assert.Empty(await OpenCausesAsync("inspection-draws"));
    }

    [Theory]
    [InlineData("disbursement-build", "disbursement_batches")]
    [InlineData("zero-employment-check", "persons")]
    [InlineData("wage-arrears-daily", "arrears_procedures")]
    [InlineData("inspection-deadlines", "inspection_deadlines")]
    public async Task A_run_that_fails_is_recorded_failed_alerts_once_and_a_clean_rerun_clears_it(string jobId, string table)
    {
        var alertDomain = OutboxDomain();
        await using var app = AppWithAlerts(alertDomain);
        // A clean run first: the job works on this database.
        var baseline = await RunAsync(app, jobId);
        output.WriteLine($"baseline: {baseline.Result} {baseline.Summary}");
        Assert.Equal(RunResult.Succeeded, baseline.Result);

        await RenameAsync(table, table + "_gone");
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => RunAsync(app, jobId));
            await Assert.ThrowsAnyAsync<Exception>(() => RunAsync(app, jobId));
        }
        finally
        {
            await RenameAsync(table + "_gone", table);
        }
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            var last = await conn.QuerySingleAsync<(string Result, string Summary, string Error)>(
                "SELECT result, summary, error FROM app.job_runs WHERE job_id = @jobId ORDER BY id DESC LIMIT 1", new { jobId });
            output.WriteLine($"{last.Result} {last.Summary}\n{last.Error}");
            Assert.Equal(RunResult.Failed, last.Result);
            Assert.StartsWith("运行失败:", last.Summary);
            Assert.Contains(table, last.Error);
        }
        Assert.Equal([JobRuns.RunFailedCause(jobId)], await OpenCausesAsync(jobId));

        await DeliverAsync(app);
        await Smtp4dev.WaitForAsync(alertDomain, 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        var mails = await Smtp4dev.MessagesToAsync(alertDomain);
        Assert.Single(mails);
        Assert.Contains("定时任务告警", mails[0].Subject);

        var clean = await RunAsync(app, jobId);
        Assert.Equal(RunResult.Succeeded, clean.Result);
        Assert.Empty(await OpenCausesAsync(jobId));
    }

    private static string OutboxDomain() => $"alerts-{Guid.NewGuid():N}"[..20] + ".test";

    private WebApplication AppWithAlerts(string alertDomain) =>
        db.BuildApp(AppRole.Cli, new() { ["Jobs:AlertRecipients:0"] = $"duty@{alertDomain}" });

    private static async Task<RunOutcome> RunAsync(WebApplication app, string jobId)
    {
        var catalog = app.Services.GetRequiredService<JobCatalog>();
        return await app.Services.GetRequiredService<JobRunner>().RunNowAsync(catalog.Find(jobId)!, CancellationToken.None);
    }

    private static Task DeliverAsync(WebApplication app) => RunAsync(app, "outbox-delivery");

    private async Task<string[]> OpenCausesAsync(string jobId)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("SELECT cause FROM app.job_alerts WHERE job_id = @jobId AND resolved_at IS NULL ORDER BY cause", new { jobId })).ToArray();
    }

    private async Task RenameAsync(string from, string to)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync($"ALTER TABLE app.{from} RENAME TO {to}");
    }
}
