using Dapper;
using Hangfire;
using Hangfire.States;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Runs;

/// <summary>
/// Through a real Hangfire worker: the run-record filter records the run, a run that needs attention ends
/// Failed (not retried) with the Chinese list of what failed, a clean run ends Succeeded with its summary as
/// the state's result, and takes the job's earlier failure out of Hangfire's failed list.
/// </summary>
public class HangfireRunFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_draw_that_cannot_be_made_ends_Failed_in_Hangfire_and_a_clean_run_ends_Succeeded_with_its_summary()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        await AddInspectorsAsync(db, domain, ("HF-01", "甲", true), ("HF-02", "乙", true));
        var usccs = await AddEmployersAsync(db, "工作街道", ("工作一号公司", 'A', false));
        foreach (var u in usccs) await AddConflictAsync(db, "HF-02", u);
        var plan = await AddPlanAsync(db, "工作街道");
        // The draw is a person's (it needs the public value) and fails as a whole; the daily job reports it until resolved.
        Assert.False((await DrawAsync(db, plan.Id)).Succeeded);

        await using var server = await TestServer.StartAsync(db, AppRole.Worker);
        var manager = server.App.Services.GetRequiredService<IRecurringJobManager>();
        var monitoring = server.App.Services.GetRequiredService<JobStorage>().GetMonitoringApi();

        manager.Trigger("inspection-draws");
        var failedJob = await WaitForHangfireRunAsync(1);
        var failedState = await WaitForStateAsync(monitoring, failedJob, FailedState.StateName);
        Assert.Contains("部分工作未完成", failedState.Reason);
        Assert.Contains("摇号未能完成", failedState.Data["ExceptionMessage"]);
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            Assert.Equal(RunResult.Attention, await conn.ExecuteScalarAsync<string>(
                "SELECT result FROM app.job_runs WHERE hangfire_job_id = @failedJob", new { failedJob }));
        }
        // The inspection staff withdraw the plan (a corrected one would be scheduled): the next run is clean.
        await db.Services.GetRequiredService<Lingyuan.Jobs.Inspections.InspectionPlans>().WithdrawAsync(plan.Id, "回避人员过多,重新编制计划", CancellationToken.None);

        manager.Trigger("inspection-draws");
        var cleanJob = await WaitForHangfireRunAsync(2);
        var succeeded = await WaitForStateAsync(monitoring, cleanJob, SucceededState.StateName);
        Assert.Contains("摇号失败待处理 0 个", succeeded.Data["Result"]);
        await WaitForStateAsync(monitoring, failedJob, DeletedState.StateName);
    }

    [Fact]
    public async Task A_run_an_admin_starts_by_hand_on_the_recurring_jobs_page_is_recorded_as_theirs_and_a_scheduled_one_as_the_jobs()
    {
        await using var server = await TestServer.StartAsync(db, AppRole.All);
        var admin = await server.SignedInClientAsync("hand-admin", Lingyuan.Jobs.Dashboard.Roles.Admin);
        var csrf = System.Text.RegularExpressions.Regex.Match(await admin.GetStringAsync("/hangfire/recurring"), "<meta name=\"csrf-token\" content=\"([^\"]*)\"").Groups[1].Value;
        var trigger = new HttpRequestMessage(HttpMethod.Post, "/hangfire/recurring/trigger")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "inspection-deadlines" }),
        };
        trigger.Headers.Add("RequestVerificationToken", csrf);
        trigger.Headers.Add("Origin", server.BaseAddress.GetLeftPart(UriPartial.Authority));
        Assert.True((await admin.SendAsync(trigger)).IsSuccessStatusCode);
        // The schedule's own firing of another job, for contrast.
        server.App.Services.GetRequiredService<IRecurringJobManager>().Trigger("zero-employment-check");

        var until = DateTime.UtcNow.AddSeconds(60);
        List<(string JobId, string Actor)> runs;
        while (true)
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            runs = (await conn.QueryAsync<(string, string)>(
                "SELECT job_id, actor FROM app.job_runs WHERE channel = 'hangfire' AND job_id IN ('inspection-deadlines', 'zero-employment-check') AND result <> 'running'")).ToList();
            if (runs.Select(r => r.JobId).Distinct().Count() == 2) break;
            if (DateTime.UtcNow > until) throw new TimeoutException("the two runs did not finish: " + string.Join(", ", runs));
            await Task.Delay(250);
        }
        Assert.Contains(("inspection-deadlines", "hand-admin"), runs);
        Assert.Contains(("zero-employment-check", "job:zero-employment-check"), runs);
        var page = System.Net.WebUtility.HtmlDecode(await admin.GetStringAsync("/hangfire/runs"));
        Assert.Contains("手动触发(hand-admin)", page);
        Assert.Contains("计划任务", page);
    }

    private async Task<string> WaitForHangfireRunAsync(int count)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            var ids = (await conn.QueryAsync<string>(
                "SELECT hangfire_job_id FROM app.job_runs WHERE channel = 'hangfire' AND job_id = 'inspection-draws' AND result <> 'running' ORDER BY id")).ToList();
            if (ids.Count >= count) return ids[count - 1];
            if (DateTime.UtcNow > until) throw new TimeoutException($"no finished Hangfire run #{count} of inspection-draws");
            await Task.Delay(250);
        }
    }

    private static async Task<Hangfire.Storage.Monitoring.StateHistoryDto> WaitForStateAsync(Hangfire.Storage.IMonitoringApi monitoring, string jobId, string state)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var details = monitoring.JobDetails(jobId);
            var current = details?.History.FirstOrDefault();
            if (current?.StateName == state) return current;
            if (DateTime.UtcNow > until) throw new TimeoutException($"job {jobId} is {current?.StateName}, expected {state}");
            await Task.Delay(250);
        }
    }
}
