using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>The daily job killed mid-run, and run by two workers at once: each notice still exactly once.</summary>
public class ArrearsReliabilityFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private async Task<Dictionary<string, int>> NoticeCountsAsync(IEnumerable<string> cases)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = await conn.QueryAsync<(string Id, int N)>(
            "SELECT regarding_id, count(*)::int FROM app.outbox WHERE regarding_type = 'arrears_case' AND regarding_id = ANY(@ids) GROUP BY regarding_id",
            new { ids = cases.ToArray() });
        return rows.ToDictionary(r => r.Id, r => r.N);
    }

    [Fact]
    public async Task A_run_killed_between_two_notices_resumes_and_sends_each_notice_once()
    {
        // The child process runs on the real clock: deadlines are yesterday in Lingyuan.
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime);
        var cases = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var uscc = await EmployerAsync(db.DataSource, $"凌源市断电测试{i}有限公司", $"boss{i}@{Guid.NewGuid():N}.test");
            cases.Add(await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, today.AddDays(-1), prefix: "KILL"));
        }

        await using (var killed = ServiceProcess.Start(db, "jobs run wage-arrears-daily", killAt: "wage-arrears:notice:2"))
        {
            await killed.WaitForExitAsync(TimeSpan.FromMinutes(2));
            Assert.True(killed.WasKilled, killed.Output);
        }
        var afterKill = await NoticeCountsAsync(cases);
        Assert.Equal(1, afterKill.Values.Sum()); // the first notice committed, the second died with its transaction

        var (code, output) = await ServiceProcess.RunAsync(db, "jobs run wage-arrears-daily");
        Assert.True(code == 0, output);
        var counts = await NoticeCountsAsync(cases);
        Assert.All(cases, c => Assert.Equal(1, counts.GetValueOrDefault(c)));
        foreach (var c in cases) Assert.Equal("notice_sent", (await ViewAsync(db.DataSource, c)).State);
    }

    [Fact]
    public async Task Two_workers_running_the_daily_job_at_once_send_each_notice_and_decision_once()
    {
        var settings = new Dictionary<string, string?> { ["WageArrears:PartnerRecipients:0"] = $"partner@{Guid.NewGuid():N}.test" };
        var (app1, clock1) = App(db, Day("2026-06-02"), settings);
        var (app2, clock2) = App(db, Day("2026-06-02"), settings);
        await using var _1 = app1;
        await using var _2 = app2;
        var cases = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var uscc = await EmployerAsync(db.DataSource, $"凌源市并发测试{i}有限公司", $"boss{i}@{Guid.NewGuid():N}.test");
            cases.Add(await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-06-01"), prefix: "TWO"));
        }
        async Task Both(DateTimeOffset at)
        {
            clock1.SetUtcNow(at);
            clock2.SetUtcNow(at);
            await Task.WhenAll(
                Task.Run(() => app1.Services.GetRequiredService<ArrearsProcedure>().RunDailyAsync(default)),
                Task.Run(() => app2.Services.GetRequiredService<ArrearsProcedure>().RunDailyAsync(default)));
        }

        await Both(At(Day("2026-06-02"), 7));
        await Both(At(Day("2026-06-10"), 7)); // statement period ended 06-09

        var counts = await NoticeCountsAsync(cases);
        Assert.All(cases, c => Assert.Equal(2, counts.GetValueOrDefault(c))); // notice + decision
        foreach (var c in cases) Assert.Equal("listed", (await ViewAsync(db.DataSource, c)).State);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE dedupe_key = 'wage-arrears:digest:2026-06-10'"));
        Assert.Equal(8, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.arrears_digest_items WHERE digest_on = '2026-06-10'"));
        Assert.Equal(8 * 3, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_events WHERE case_no = ANY(@cases)", new { cases = cases.ToArray() })); // candidate, notice_sent, listed
    }
}
