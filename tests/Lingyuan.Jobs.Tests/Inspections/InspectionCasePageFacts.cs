using System.Net;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>
/// Issue #17 on the real Kestrel and the real executable: the opening and the extension from the draw's page and
/// the command line (劳动保障监察条例 art. 17), and a draws page that stays small when draws fail on a large register.
/// </summary>
public class InspectionCasePageFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static FormUrlEncodedContent Form(string token, params (string Key, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)).Append(KeyValuePair.Create("__RequestVerificationToken", token)));

    [Fact]
    public async Task The_team_records_the_opening_and_only_the_department_head_approves_the_extension_on_the_page_and_on_the_command_line()
    {
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        var street = $"街道{Guid.NewGuid():N}"[..10];
        await AddInspectorsAsync(db, $"{Guid.NewGuid():N}.test", ("CP-01", "甲", true), ("CP-02", "乙", true));
        var usccs = await AddEmployersAsync(db, street, ("戊公司", 'B', false), ("己公司", 'C', false));
        var plan = await AddPlanAsync(db, street);
        var run = await InspectionTestData.DrawAsync(db, plan.Id);
        var drawId = run.DrawId!.Value;
        var today = plan.DrawDate.ToString("yyyy-MM-dd");

        var inspector = await server.SignedInClientAsync("jc-case", Roles.Inspection);
        var head = await server.SignedInClientAsync("jc-head", Roles.Inspection);
        await server.App.Services.GetRequiredService<UserStore>().SetDeciderAsync("jc-head", true, "test", CancellationToken.None);
        var token = await TestServer.AntiforgeryTokenAsync(inspector, $"/hangfire/draws/{drawId}");
        var opened = await inspector.PostAsync($"/hangfire/draws/{drawId}/opening", Form(token, ("uscc", usccs[0]), ("openedOn", today)));
        Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);

        var refused = await inspector.PostAsync($"/hangfire/draws/{drawId}/extension", Form(token, ("uscc", usccs[0]), ("reason", "案情复杂")));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("部门负责人", await refused.Content.ReadAsStringAsync());
        var headToken = await TestServer.AntiforgeryTokenAsync(head, $"/hangfire/draws/{drawId}");
        var approved = await head.PostAsync($"/hangfire/draws/{drawId}/extension", Form(headToken, ("uscc", usccs[0]), ("reason", "涉及多家分包单位")));
        Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        var page = await inspector.GetStringAsync($"/hangfire/draws/{drawId}");
        Assert.Contains("已延期:涉及多家分包单位(jc-head 批准)", page);
        Assert.Contains(today, page);

        // The command line: an opening by any named user; an extension only by a decider who proves the password.
        var (code, text) = await ServiceProcess.RunAsync(db, $"inspection-case open {drawId} {usccs[1]} --on {today} --user jc-case");
        Assert.True(code == 0, text);
        (code, text) = await ServiceProcess.RunAsync(db, $"inspection-case extend {drawId} {usccs[1]} --reason 复杂 --user jc-case",
            stdin: await TestSignIn.StdinAsync(server.App.Services, "jc-case"));
        Assert.True(code == 1, text);
        (code, text) = await ServiceProcess.RunAsync(db, $"inspection-case extend {drawId} {usccs[1]} --reason 需调取工资台账 --user jc-head",
            stdin: await TestSignIn.StdinAsync(server.App.Services, "jc-head"));
        Assert.True(code == 0, text);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.inspection_extensions WHERE draw_id = @drawId AND approved_by = 'jc-head'", new { drawId }));
    }

    [Fact]
    public async Task A_draw_that_cannot_be_made_is_reported_in_a_few_lines_and_the_page_stays_small_even_with_a_first_format_report_of_megabytes()
    {
        var street = $"街道{Guid.NewGuid():N}"[..10];
        await AddInspectorsAsync(db, $"{Guid.NewGuid():N}.test", ("FX-01", "甲", true), ("FX-02", "乙", true), ("FX-03", "丙", true));
        await AddEmployersAsync(db, street, Enumerable.Range(1, 150).Select(i => ($"失败测试公司{i}", 'D', false)).ToArray());
        var plan = await AddPlanAsync(db, street, ratios: [100, 100, 100, 100], cap: 1);
        var run = await InspectionTestData.DrawAsync(db, plan.Id);
        Assert.False(run.Succeeded);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var stored = await conn.ExecuteScalarAsync<int>("SELECT octet_length(report::text) FROM app.draw_failures WHERE plan_id = @id", new { id = plan.Id });
        Assert.True(stored < 32 * 1024, $"{stored} bytes stored");

        // A report in the first format, as the county demo once stored (9.7 MB): one entry per employer and inspector.
        await conn.ExecuteAsync(
            """
            INSERT INTO app.draw_failures (plan_id, algorithm, snapshot_hash, report, operator)
            SELECT @id, 'ly-draw-1', sha256('legacy'::bytea), jsonb_agg(jsonb_build_object(
                       'uscc', lpad(e::text, 18, '9'), 'risk_class', 'D', 'candidates', 0, 'team_size', 2,
                       'excluded', (SELECT jsonb_agg(jsonb_build_object('badge', 'LYJC-' || lpad(i::text, 4, '0'), 'reasons', jsonb_build_array('cap')))
                                    FROM generate_series(1, 75) i))), 'test'
            FROM generate_series(1, 3000) e
            """, new { id = plan.Id });
        Assert.True(await conn.ExecuteScalarAsync<long>("SELECT max(octet_length(report::text)) FROM app.draw_failures WHERE plan_id = @id", new { id = plan.Id }) > 9_000_000);

        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        var op = await server.SignedInClientAsync("op-fail", Roles.Operator);
        var page = await op.GetStringAsync("/hangfire/draws");
        Assert.True(page.Length < 300_000, $"{page.Length} characters");
        Assert.Contains("3000 户无法组成每组 2 人的检查组", page);
        Assert.Contains("每人上限", page); // which setting to change
        Assert.Contains($"{run.Report!.Unassignable} 户无法组成每组 2 人的检查组", page);
    }
}
