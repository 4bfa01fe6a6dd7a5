using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>A register with two inspectors, one conflicted with every employer: no team of two can be formed.</summary>
public class InfeasibleDrawFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task An_infeasible_plan_fails_as_a_whole_with_a_brief_report_naming_the_employers_the_reasons_and_the_setting_to_change_and_nothing_is_emailed()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        await AddInspectorsAsync(db, domain, ("JC-01", "甲", true), ("JC-02", "乙", true));
        var usccs = await AddEmployersAsync(db, "城关街道", ("一号公司", 'A', false), ("二号公司", 'D', false));
        foreach (var u in usccs) await AddConflictAsync(db, "JC-02", u);
        var plan = await AddPlanAsync(db, "城关街道");

        await FreezeAsync(db, plan.Id);
        var (code, text) = await ServiceProcess.RunAsync(db, $"draw run {plan.Id} --public-value {TestPublicValue.Replace(' ', ',')}");
        output.WriteLine(text);

        Assert.Equal(1, code);
        foreach (var u in usccs)
        {
            Assert.Contains($"employer {u} ", text);
        }
        Assert.Contains("inspector JC-02: conflict", text);
        Assert.Contains("nothing was e-mailed", text);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox"));
        var report = await conn.ExecuteScalarAsync<string>("SELECT report::text FROM app.draw_failures WHERE plan_id = @id", new { id = plan.Id });
        // The brief report (issue #17): counts by reason, the first employers with the badges a conflict names, the advice.
        Assert.Contains("\"by_reason\": {\"conflict\": 2}", report);
        Assert.Contains("\"conflict\": [\"JC-02\"]", report);
        Assert.Contains("回避名录", report);

        // The daily job freezes a new snapshot (the failure used the first); it records no failure and sends nothing.
        await db.Services.GetRequiredService<Lingyuan.Jobs.Inspections.InspectionDrawsJob>().RunAsync(CancellationToken.None);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draw_failures WHERE plan_id = @id", new { id = plan.Id }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox"));
    }
}
