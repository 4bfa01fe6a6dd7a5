using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>
/// A draw (<c>draw run</c>; the daily job only freezes snapshots now) killed (SIGKILL) at points before and after
/// its commit, ten times, then run again.
/// </summary>
public class DrawCrashFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_draw_job_killed_at_random_points_ten_times_ends_with_one_draw_per_plan_and_one_mail_per_inspector()
    {
        await AddInspectorsAsync(db, $"{Guid.NewGuid():N}.test", ("CR-01", "甲", true), ("CR-02", "乙", true), ("CR-03", "丙", true));
        // Kill points across the draw: rows written, mail queued (just before commit), just after commit.
        string[] points = ["inspection-draw:recorded", "inspection-draw:before-commit", "inspection-draw:committed"];
        const int Trials = 10;
        for (var trial = 1; trial <= Trials; trial++)
        {
            var point = points[Random.Shared.Next(points.Length)];
            var street = $"街道{Guid.NewGuid():N}"[..10];
            await AddEmployersAsync(db, street, ("一公司", 'D', false), ("二公司", 'C', false));
            var plan = await AddPlanAsync(db, street);
            await FreezeAsync(db, plan.Id);
            var draw = $"draw run {plan.Id} --public-value {TestPublicValue.Replace(' ', ',')}";

            await using (var killed = ServiceProcess.Start(db, draw, killAt: $"{point}:1"))
            {
                await killed.WaitForExitAsync(TimeSpan.FromMinutes(2));
                Assert.True(killed.WasKilled, killed.Output);
            }
            await using var conn = await db.DataSource.OpenConnectionAsync();
            var afterKill = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws WHERE plan_id = @id", new { id = plan.Id });
            Assert.Equal(point == "inspection-draw:committed" ? 1 : 0, afterKill);

            // Run again: a draw committed before the kill stands (the rerun is refused, exit 1); otherwise it draws.
            var (code, text) = await ServiceProcess.RunAsync(db, draw);
            Assert.True(code == (afterKill == 1 ? 1 : 0), text);
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws WHERE plan_id = @id", new { id = plan.Id }));
            var drawId = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.draws WHERE plan_id = @id", new { id = plan.Id });
            var inspectors = await conn.ExecuteScalarAsync<int>("SELECT count(DISTINCT b) FROM app.draw_results, unnest(team) b WHERE draw_id = @id", new { id = drawId });
            var mails = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE regarding_type = 'draw' AND regarding_id = @id", new { id = drawId.ToString() });
            Assert.Equal(inspectors, mails);
            output.WriteLine($"trial {trial}: killed at {point}, after the rerun: 1 draw ({drawId}), {mails} mail(s) for {inspectors} inspector(s)");
        }
    }

    [Fact]
    public async Task A_bad_inspection_setting_stops_the_command_with_exit_64_naming_the_key()
    {
        var (code, text) = await ServiceProcess.RunAsync(db, "draw verify 1", new() { ["Inspections:DefaultTeamSize"] = "1" });
        Assert.Equal(64, code);
        Assert.Contains("Inspections:DefaultTeamSize", text);
    }
}
