using Dapper;
using Lingyuan.Jobs.Demo;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>The county demo's own database for this class: the seeder fills empty registers only.</summary>
public sealed class CountyDemoFixture : DatabaseFixture;

/// <summary>
/// Issue #17, "done means": on the county demo data (tools/Lingyuan.Jobs.Demo, DemoScale.County, as ops/run seeds
/// it), a plan with the default ratios, team size and cap draws; the zero-employment check sends at most one mail
/// per caseworker (the demo once sent 8,291 mails, 120 to one caseworker).
/// </summary>
public sealed class CountyDemoZeroEmploymentAndDrawFacts(CountyDemoFixture db, ITestOutputHelper output) : IClassFixture<CountyDemoFixture>
{
    [Fact]
    public async Task On_the_county_demo_the_default_plan_draws_and_the_zero_employment_check_sends_each_caseworker_at_most_one_mail()
    {
        var seeded = await ActivatorUtilities.CreateInstance<DemoSeeder>(db.Services).SeedAsync(DemoScale.County, 1, CancellationToken.None);
        output.WriteLine($"seeded in {seeded.Elapsed.TotalSeconds:0} s: {string.Join(", ", seeded.Rows.Select(r => $"{r.Key} {r.Value}"))}");

        // The default plan: every setting from Inspections (ratios A 3 %, B 5 %, C 20 %, D 60 %; team of 2; the default cap).
        // Scheduled three days ago (the commitment's lead time), frozen then, drawn now with the public value.
        var plans = InspectionTestData.PastApp(db).Services.GetRequiredService<InspectionPlans>();
        var plan = await plans.CreateAsync(new PlanInput("全市2026年第四季度双随机抽查", "2026-Q4", plans.Today), CancellationToken.None);
        var run = await InspectionTestData.DrawAsync(db, plan.Id);
        Assert.True(run.Succeeded, string.Join(" ", run.Report?.Advice ?? []));
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var (drawn, maxLoad) = await conn.QuerySingleAsync<(int, int)>(
            """
            SELECT (SELECT count(*)::int FROM app.draw_results WHERE draw_id = @id),
                   (SELECT max(n)::int FROM (SELECT count(*) n FROM app.draw_results, unnest(team) b WHERE draw_id = @id GROUP BY b) q)
            """, new { id = run.DrawId });
        output.WriteLine($"drawn {drawn} employers, busiest inspector {maxLoad} (cap {plan.WorkloadCap})");
        Assert.True(drawn > 3_000);
        Assert.True(maxLoad <= plan.WorkloadCap);

        // The zero-employment check as of today: proposals, one digest per caseworker address.
        var check = db.Services.GetRequiredService<ZeroEmploymentCheck>();
        var result = await check.RunAsync(check.Today(), CancellationToken.None);
        output.WriteLine($"zero-employment: {result.Qualifying} qualifying, {result.Opened} proposed, {result.MessagesQueued} mails");
        Assert.True(result.Opened > 100);
        var perRecipient = (await conn.QueryAsync<(string To, int Mails)>(
            """
            SELECT r, count(*)::int FROM app.outbox, unnest(recipients) r
            WHERE regarding_type LIKE 'zero_employment%' GROUP BY r ORDER BY 2 DESC
            """)).ToList();
        Assert.NotEmpty(perRecipient);
        Assert.All(perRecipient, p => Assert.True(p.Mails == 1, $"{p.To}: {p.Mails} mails"));
        var caseworkers = await conn.ExecuteScalarAsync<int>("SELECT count(DISTINCT lower(btrim(caseworker_email))) FROM app.communities");
        Assert.True(perRecipient.Count <= caseworkers + 1, $"{perRecipient.Count} recipients, {caseworkers} caseworkers");
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases WHERE state <> 'proposed'"));
    }
}
