using Dapper;
using Lingyuan.Jobs.Demo;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>
/// The demo's arrears story on the day it is seeded (issue 16): cases at each stage, no deadline passed by
/// accident, and the first daily run sends nothing to an employer.
/// </summary>
public sealed class ArrearsDemoFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_seeded_demo_has_a_case_at_each_stage_none_overdue_and_the_first_daily_run_mails_no_employer()
    {
        await Registers.RegisterFiles.ExecuteAsync(db, Registers.RegisterFiles.TruncateRegisters);
        await ActivatorUtilities.CreateInstance<DemoSeeder>(db.Services).SeedAsync(DemoScale.Small, 7, CancellationToken.None);

        var (app, clock) = App(db, Day("2026-01-01"));
        clock.SetUtcNow(DateTimeOffset.UtcNow);
        await using var _app = app;
        var today = app.Services.GetRequiredService<Lingyuan.Jobs.Calendar.BureauClock>().Today;
        var proc = app.Services.GetRequiredService<ArrearsProcedure>();
        await proc.RunDailyAsync(default);
        await proc.RunDailyAsync(default);

        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.outbox o WHERE EXISTS (SELECT 1 FROM app.employers e WHERE e.email = ANY (o.recipients))"));
        var states = (await conn.QueryAsync<string>("SELECT DISTINCT state FROM app.arrears_procedures")).ToHashSet();
        foreach (var s in new[] { "candidate", "notice_issued", "notice_served", "decision_proposed", "listed", "not_listed" })
            Assert.Contains(s, states);

        var open = (await conn.QueryAsync<CaseView>(CaseView.Select + " WHERE p.state = ANY(@open)", new { open = ProcedureLifecycle.Undecided })).ToList();
        Assert.NotEmpty(open);
        foreach (var c in open)
        {
            Assert.True(c.DecisionDueOn >= today, $"{c.CaseNo}: decision due {c.DecisionDueOn} is before today {today}");
            var (next, warning) = ArrearsPages.NextStep(c, today);
            Assert.NotEqual("—", next);
            Assert.True(warning is null || !warning.Contains("已超过"), $"{c.CaseNo}: {warning}");
        }
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_procedures WHERE statement_received_on IS NOT NULL AND statement_checked_on IS NULL AND statement_check_due_on < @today", new { today }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_removal_applications WHERE status = 'pending' AND due_on < @today", new { today }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.arrears_removal_applications WHERE status = 'pending'"));
    }
}
