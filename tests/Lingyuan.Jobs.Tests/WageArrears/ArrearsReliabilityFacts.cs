using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>
/// Concurrency. Issue 16 took notices and decisions away from the daily job, so the old "job killed between
/// two notices" and "two workers send each notice once" tests became: two workers screen each case once
/// and queue nothing for employers; two deciders approving the same proposal at once make one decision.
/// </summary>
public class ArrearsReliabilityFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Two_workers_running_the_daily_job_at_once_screen_each_case_once_and_queue_nothing_for_employers()
    {
        var (app1, clock1) = App(db, Day("2026-06-02"));
        var (app2, clock2) = App(db, Day("2026-06-02"));
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
        await Both(At(Day("2026-06-10"), 7));

        await using var conn = await db.DataSource.OpenConnectionAsync();
        foreach (var c in cases) Assert.Equal("candidate", (await ViewAsync(db.DataSource, c)).State);
        Assert.Equal(8, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_events WHERE case_no = ANY(@cases)", new { cases = cases.ToArray() })); // one 'candidate' each
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.outbox WHERE regarding_type = 'arrears_case' AND regarding_id = ANY(@cases)", new { cases = cases.ToArray() }));
    }

    [Fact]
    public async Task Two_deciders_approving_the_same_proposal_at_once_make_one_decision()
    {
        var (app, clock) = App(db, Day("2026-06-02"));
        await using var _app = app;
        var acts = app.Services.GetRequiredService<ArrearsActs>();
        var inspector = await UserAsync(db.DataSource, "rel-insp");
        var h1 = await UserAsync(db.DataSource, "rel-head1", decider: true);
        var h2 = await UserAsync(db.DataSource, "rel-head2", decider: true);
        var uscc = await EmployerAsync(db.DataSource, "凌源市双审批测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-06-01"));
        await app.Services.GetRequiredService<ArrearsProcedure>().RunDailyAsync(default);
        await acts.IssueNoticeAsync(caseNo, inspector, ServiceMethods.Post, false, default);
        await acts.RecordServiceAsync(caseNo, inspector, ServiceMethods.Post, Day("2026-06-02"), "回执", default);
        clock.SetUtcNow(At(Day("2026-06-10")));
        await acts.ProposeAsync(caseNo, inspector, DecisionKind.Listed, null, default);

        var results = await Task.WhenAll(
            Task.Run(async () => { try { await acts.ApproveAsync(caseNo, h1, default); return true; } catch (DomainRuleException) { return false; } }),
            Task.Run(async () => { try { await acts.ApproveAsync(caseNo, h2, default); return true; } catch (DomainRuleException) { return false; } }));
        Assert.Equal(1, results.Count(r => r));
        Assert.Single(await DocumentsAsync(db.DataSource, caseNo), d => d.Kind == "listing_decision");
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.arrears_events WHERE case_no = @caseNo AND kind = 'listed'", new { caseNo }));
    }
}
