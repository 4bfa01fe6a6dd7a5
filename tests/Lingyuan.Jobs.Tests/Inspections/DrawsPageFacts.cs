using System.Net;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>The /hangfire/draws page on the real Kestrel: who sees what, who may change what.</summary>
public class DrawsPageFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static FormUrlEncodedContent Form(string token, params (string Key, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)).Append(KeyValuePair.Create("__RequestVerificationToken", token)));

    [Fact]
    public async Task Inspection_users_create_a_plan_and_run_its_draw_while_an_operator_sees_the_page_but_gets_403_on_every_change()
    {
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        var inspector = await server.SignedInClientAsync("jc-user", Roles.Inspection);
        var operatorClient = await server.SignedInClientAsync("op-user", Roles.Operator);
        var street = $"街道{Guid.NewGuid():N}"[..10];
        await AddInspectorsAsync(db, $"{Guid.NewGuid():N}.test", ("PG-01", "甲", true), ("PG-02", "乙", true));
        await AddEmployersAsync(db, street, ("<img src=x onerror=alert(1)>公司", 'D', false));
        var today = DateTime.UtcNow.AddHours(8).ToString("yyyy-MM-dd");

        // Operator: reads, cannot create.
        var opToken = await TestServer.AntiforgeryTokenAsync(operatorClient, "/hangfire/draws");
        var refused = await operatorClient.PostAsync("/hangfire/draws/plans", Form(opToken, ("name", "越权计划"), ("period", "2026-Q2"), ("drawDate", today)));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.inspection_plans WHERE name = '越权计划'"));

        // Without the antiforgery token even the inspection user is refused.
        var noToken = await inspector.PostAsync("/hangfire/draws/plans", new FormUrlEncodedContent([KeyValuePair.Create("name", "x")]));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);

        var token = await TestServer.AntiforgeryTokenAsync(inspector, "/hangfire/draws");
        var created = await inspector.PostAsync("/hangfire/draws/plans", Form(token,
            ("name", "页面计划"), ("period", "2026-Q2"), ("drawDate", today), ("ratios", "A=3,B=5,C=20,D=100"), ("teamSize", "2"), ("streets", street)));
        // Post/redirect/get (issue #18): the answer is a redirect to the page, which names the saved plan.
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var createdHtml = await inspector.GetStringAsync(created.Headers.Location!.OriginalString);
        var plan = await conn.QuerySingleAsync<(long Id, byte[] Commitment)>("SELECT id, commitment FROM app.inspection_plans WHERE name = '页面计划'");
        Assert.Contains(Convert.ToHexStringLower(plan.Commitment), createdHtml);

        // The plan made now cannot be drawn today: its commitment has not been public for a working day yet.
        var early = await inspector.PostAsync($"/hangfire/draws/plans/{plan.Id}/run", Form(token, ("publicValue", TestPublicValue), ("publicSource", Value.Source)));
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.Contains("须满 1 个工作日方可摇号", await early.Content.ReadAsStringAsync());
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws WHERE plan_id = @id", new { id = plan.Id }));

        // A plan whose commitment was published three days ago and whose snapshot was frozen then is drawn
        // through the page with the public value (the plan's dates are made in the past; the clock is the only fake).
        var past = await AddPlanAsync(db, street, [3, 5, 20, 100], name: "页面摇号计划");
        await FreezeAsync(db, past.Id);
        var opPage = await operatorClient.GetStringAsync("/hangfire/draws");
        Assert.Contains(Convert.ToHexStringLower(plan.Commitment), opPage);
        Assert.DoesNotContain("name=\"publicValue\"", opPage);
        Assert.DoesNotContain("新建抽查计划", opPage);
        var opRun = await operatorClient.PostAsync($"/hangfire/draws/plans/{past.Id}/run", Form(opToken, ("publicValue", TestPublicValue), ("publicSource", Value.Source)));
        Assert.Equal(HttpStatusCode.Forbidden, opRun.StatusCode);
        Assert.Contains("name=\"publicValue\"", await inspector.GetStringAsync("/hangfire/draws"));

        var run = await inspector.PostAsync($"/hangfire/draws/plans/{past.Id}/run", Form(token, ("publicValue", TestPublicValue), ("publicSource", Value.Source)));
        Assert.Equal(HttpStatusCode.Redirect, run.StatusCode);
        var detailPath = run.Headers.Location!.OriginalString;
        var detail = await operatorClient.GetStringAsync(detailPath);
        Assert.Contains("复核一致", detail);
        Assert.Contains("承诺值公开时间", detail); // both times: the commitment's publication and the draw
        Assert.Contains("摇号时间", detail);
        Assert.Contains(TestPublicValue, detail);
        Assert.DoesNotContain("<img src=x", detail);
        Assert.Contains("&lt;img src=x", detail);

        var csv = await operatorClient.GetByteArrayAsync(detailPath + "/public.csv");
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, csv[..3]);
        var printable = await operatorClient.GetStringAsync(detailPath + "/public");
        Assert.Contains("双随机抽查结果公示", printable);

        var drawId = long.Parse(detailPath.Split('/').Last());
        var uscc = await conn.ExecuteScalarAsync<string>("SELECT uscc FROM app.draw_results WHERE draw_id = @drawId", new { drawId });
        MultipartFormDataContent Upload(string tok, string csvText)
        {
            var content = new MultipartFormDataContent { { new StringContent(tok), "__RequestVerificationToken" } };
            content.Add(new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(csvText)), "file", "结果.csv");
            return content;
        }
        var resultsCsv = $"draw_id,uscc,completed_on,finding,summary\n{drawId},{uscc},{today},violation,<b>拖欠工资</b> 已责令支付\n";
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PostAsync("/hangfire/draws/results", Upload(opToken, resultsCsv))).StatusCode);
        var imported = await inspector.PostAsync("/hangfire/draws/results", Upload(token, resultsCsv));
        Assert.Contains("已导入 1 行", await imported.Content.ReadAsStringAsync());
        var rejected = await inspector.PostAsync("/hangfire/draws/results", Upload(token, $"draw_id,uscc,completed_on,finding,summary\n{drawId},{uscc},{today},maybe,x\n"));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.Contains("结果.csv:2: finding", await rejected.Content.ReadAsStringAsync());
        var published = await operatorClient.GetStringAsync(detailPath + "/public");
        Assert.Contains("&lt;b&gt;拖欠工资&lt;/b&gt;", published);
        Assert.Contains(Convert.ToHexStringLower(plan.Commitment), await operatorClient.GetStringAsync("/hangfire/draws/commitments.csv"));
        var opCancel = await operatorClient.PostAsync($"/hangfire/draws/{drawId}/cancel", Form(opToken, ("reason", "越权")));
        Assert.Equal(HttpStatusCode.Forbidden, opCancel.StatusCode);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draw_cancellations"));
    }
}
