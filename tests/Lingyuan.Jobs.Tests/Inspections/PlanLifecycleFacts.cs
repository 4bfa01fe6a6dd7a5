using System.Security.Claims;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>The plan/draw lifecycle: one table of moves, and one derivation of the state from the append-only records.</summary>
public class PlanLifecycleFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private DrawService Draws => db.Services.GetRequiredService<DrawService>();
    private InspectionsView View => db.Services.GetRequiredService<InspectionsView>();
    private SnapshotFreeze Freeze => db.Services.GetRequiredService<SnapshotFreeze>();

    private async Task<PlanState> StateAsync(long planId) => (await View.PlansAsync(CancellationToken.None)).Single(p => p.Id == planId).State;

    [Fact]
    public void The_derivation_Should_name_every_state_of_the_table_and_each_state_has_a_label()
    {
        var t = PlanLifecycle.Table;
        foreach (var s in t.States)
        {
            Assert.Contains($"'{t.Db(s)}'", PlanLifecycle.StateSql);
            Assert.False(string.IsNullOrWhiteSpace(t.Label(s)));
        }
        Assert.Contains($"'{t.Db(PlanState.Drawn)}'", PlanLifecycle.DrawStateSql);
        Assert.Contains($"'{t.Db(PlanState.Cancelled)}'", PlanLifecycle.DrawStateSql);
    }

    [Fact]
    public void A_draw_button_Should_be_offered_to_inspection_users_only_and_never_on_a_drawn_plan()
    {
        static ClaimsPrincipal As(string role) => new(new ClaimsIdentity([new Claim(ClaimTypes.Role, role)], "test"));
        var t = PlanLifecycle.Table;
        Assert.True(t.Offers(PlanVerb.Draw, PlanState.Scheduled, As(Roles.Inspection)));
        Assert.True(t.Offers(PlanVerb.Draw, PlanState.Cancelled, As(Roles.Admin)));
        Assert.False(t.Offers(PlanVerb.Draw, PlanState.Scheduled, As(Roles.Operator)));
        Assert.False(t.Offers(PlanVerb.Draw, PlanState.Drawn, As(Roles.Inspection)));
        Assert.False(t.Offers(PlanVerb.Cancel, PlanState.Cancelled, As(Roles.Inspection)));
        Assert.False(t.Offers(PlanVerb.RecordFailure, PlanState.Scheduled, As(Roles.Admin))); // only the service records a failure
    }

    [Fact]
    public async Task A_plan_Should_go_scheduled_failed_drawn_cancelled_as_its_records_are_written_and_the_acting_person_is_named()
    {
        var street = $"街道{Guid.NewGuid():N}"[..10];
        await AddInspectorsAsync(db, $"{Guid.NewGuid():N}.test", ("LC-01", "甲", true), ("LC-02", "乙", true));
        var uscc = (await AddEmployersAsync(db, street, ("生命周期公司", 'D', false))).Single();
        await AddConflictAsync(db, "LC-02", uscc);
        var plan = await AddPlanAsync(db, street);
        var today = db.Services.GetRequiredService<InspectionPlans>().Today;
        Assert.Equal(PlanState.Scheduled, await StateAsync(plan.Id));

        // No team of two: the failure is recorded and the plan stays due.
        Assert.False((await DrawAsync(db, plan.Id)).Succeeded);
        Assert.Equal(PlanState.Failed, await StateAsync(plan.Id));
        Assert.Contains(plan.Id, await Freeze.DueAsync(today, CancellationToken.None)); // the failure used its snapshot: a new one is due

        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("DELETE FROM app.conflicts WHERE badge_no = 'LC-02' AND uscc = @uscc", new { uscc });
        DrawRun run;
        using (Acting.Begin(new Acting("li.si", Acting.Web)))
            run = await DrawAsync(db, plan.Id);
        Assert.True(run.Succeeded);
        Assert.Equal(PlanState.Drawn, await StateAsync(plan.Id));
        Assert.DoesNotContain(plan.Id, await Freeze.DueAsync(today, CancellationToken.None));
        Assert.Equal("li.si", await conn.ExecuteScalarAsync<string>("SELECT operator FROM app.draws WHERE id = @id", new { id = run.DrawId }));
        Assert.Equal("li.si", await conn.ExecuteScalarAsync<string>(
            "SELECT actor FROM app.audit_log WHERE action = 'draw.run' AND subject_id = @id", new { id = run.DrawId.ToString() }));

        var results = db.Services.GetRequiredService<InspectionResults>();
        Assert.Equal(0, await results.MarkPublishedAsync(run.DrawId!.Value, CancellationToken.None));
        await Draws.CancelAsync(run.DrawId!.Value, "名录有误", CancellationToken.None);
        Assert.Equal(PlanState.Cancelled, await StateAsync(plan.Id));
        Assert.Equal(PlanState.Cancelled, (await View.DrawsAsync(CancellationToken.None)).Single(d => d.Id == run.DrawId).State);
        Assert.Contains(plan.Id, await Freeze.DueAsync(today, CancellationToken.None));

        // The table's guards: a cancelled draw is not cancelled twice, nor are its results published.
        var twice = await Assert.ThrowsAsync<DomainRuleException>(() => Draws.CancelAsync(run.DrawId!.Value, "再次", CancellationToken.None));
        Assert.Contains("已撤销", twice.Message);
        await Assert.ThrowsAsync<DomainRuleException>(() => results.MarkPublishedAsync(run.DrawId!.Value, CancellationToken.None));
    }
}
