using System.Net;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using Microsoft.Extensions.Time.Testing;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>The arrears pages through the real server: roles, antiforgery, refusals, the public list and documents.</summary>
public class ArrearsDashboardFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private async Task<(TestServer Server, FakeTimeProvider Clock)> StartAsync(string day)
    {
        var clock = new FakeTimeProvider(At(Day(day), 0));
        var server = await TestServer.StartAsync(db, AppRole.Dashboard, testServices: s => s.AddSingleton<TimeProvider>(clock));
        return (server, clock);
    }

    /// <summary>The page's text: main's Html.Of encodes CJK in interpolated values as character references.</summary>
    private static async Task<string> TextOf(HttpClient client, string url) => WebUtility.HtmlDecode(await client.GetStringAsync(url));

    private static FormUrlEncodedContent Form(string token, params (string Key, string Value)[] fields) =>
        new([new("__RequestVerificationToken", token), .. fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))]);

    /// <summary>A case taken to "served by post on the day" by people through the slice (a real inspector account).</summary>
    private async Task<string> ServedCaseAsync(TestServer server, string name, DateOnly deadline, int workers = 12)
    {
        var proc = server.App.Services.GetRequiredService<ArrearsProcedure>();
        var acts = server.App.Services.GetRequiredService<ArrearsActs>();
        await UserAsync(db.DataSource, "dash-insp");
        var uscc = await EmployerAsync(db.DataSource, name, $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, workers, 86_000m, 4, deadline);
        await proc.RunDailyAsync(default);
        await acts.IssueNoticeAsync(caseNo, "dash-insp", ServiceMethods.Post, false, default);
        await acts.RecordServiceAsync(caseNo, "dash-insp", ServiceMethods.Post, deadline.AddDays(1), "回执", default);
        return caseNo;
    }

    [Fact]
    public async Task An_operator_sees_the_work_queue_but_a_proposal_posted_by_an_operator_is_refused_with_403()
    {
        var (server, clock) = await StartAsync("2026-03-03");
        await using var _ = server;
        var caseNo = await ServedCaseAsync(server, "凌源市只读测试有限公司", Day("2026-03-02"));
        clock.SetUtcNow(At(Day("2026-03-11"), 9));

        var op = await server.SignedInClientAsync("op1", Roles.Operator);
        var overview = await TextOf(op, "/hangfire/arrears");
        Assert.Contains("欠薪失信名单", overview);
        Assert.Contains(caseNo, overview);
        Assert.Contains("提出决定(列入或不予列入),报部门负责人审批", overview); // what the case needs next
        var casePage = await TextOf(op, $"/hangfire/arrears/cases/{caseNo}");
        Assert.DoesNotContain("提出决定(待审批)</button>", casePage); // no forms for a read-only account
        var token = await TestServer.AntiforgeryTokenAsync(op, $"/hangfire/arrears/cases/{caseNo}");
        var post = await op.PostAsync($"/hangfire/arrears/cases/{caseNo}/proposal", Form(token, ("Decision", "listed")));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal("notice_served", (await ViewAsync(db.DataSource, caseNo)).State);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PostAsync("/hangfire/arrears/run", Form(token))).StatusCode);

        var finance = await server.SignedInClientAsync("fin1", Roles.Finance);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync("/hangfire/arrears")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync("/hangfire/arrears/public.csv")).StatusCode);

        var anonymous = server.Client();
        var login = await anonymous.GetAsync("/hangfire/arrears/public.csv");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.StartsWith("/login", login.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task An_inspector_issues_serves_and_proposes_on_the_dashboard_and_only_another_decider_approves()
    {
        var (server, clock) = await StartAsync("2026-02-12");
        await using var _ = server;
        var proc = server.App.Services.GetRequiredService<ArrearsProcedure>();
        var uscc = await EmployerAsync(db.DataSource, "凌源市表单测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 1, 10_000m, 3, Day("2026-02-11"));
        await proc.RunDailyAsync(default);
        var url = $"/hangfire/arrears/cases/{caseNo}";

        // Sign-in cookies expire on the same (fake) clock: sign in after each jump of the clock.
        clock.SetUtcNow(At(Day("2026-02-12"), 10));
        var inspector = await server.SignedInClientAsync("insp1", Roles.Inspection);
        var token = await TestServer.AntiforgeryTokenAsync(inspector, url);
        var noToken = await inspector.PostAsync($"{url}/notice", new FormUrlEncodedContent([new("Channel", "post")]));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Contains("审阅告知书草稿", await TextOf(inspector, url));
        Assert.Contains("(草稿)拟列入", await TextOf(inspector, $"{url}/draft"));
        Assert.Equal(HttpStatusCode.Redirect, (await inspector.PostAsync($"{url}/notice", Form(token, ("Channel", "post")))).StatusCode);
        Assert.Equal("notice_issued", (await ViewAsync(db.DataSource, caseNo)).State);

        clock.SetUtcNow(At(Day("2026-02-14"), 10));
        inspector = await server.SignedInClientAsync("insp1", Roles.Inspection);
        token = await TestServer.AntiforgeryTokenAsync(inspector, url);
        var served = await inspector.PostAsync($"{url}/service", Form(token, ("Method", "post"), ("ServedOn", "2026-02-13"), ("Evidence", "EMS 回执")));
        Assert.Equal(HttpStatusCode.Redirect, served.StatusCode);
        Assert.Equal(Day("2026-02-27"), (await ViewAsync(db.DataSource, caseNo)).StatementDueOn);

        clock.SetUtcNow(At(Day("2026-02-27"), 16));
        inspector = await server.SignedInClientAsync("insp1", Roles.Inspection);
        token = await TestServer.AntiforgeryTokenAsync(inspector, url);
        var early = await inspector.PostAsync($"{url}/proposal", Form(token, ("Decision", "listed")));
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("陈述申辩期至 2026-02-27 届满", WebUtility.HtmlDecode(await early.Content.ReadAsStringAsync()));

        clock.SetUtcNow(At(Day("2026-03-02"), 9));
        inspector = await server.SignedInClientAsync("insp1", Roles.Inspection);
        token = await TestServer.AntiforgeryTokenAsync(inspector, url);
        Assert.Equal(HttpStatusCode.Redirect, (await inspector.PostAsync($"{url}/proposal", Form(token, ("Decision", "listed")))).StatusCode);
        var own = await inspector.PostAsync($"{url}/approve", Form(token));
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Equal("decision_proposed", (await ViewAsync(db.DataSource, caseNo)).State);

        var head = await server.SignedInClientAsync("head1", Roles.Inspection);
        await UserAsync(db.DataSource, "head1", decider: true);
        var headToken = await TestServer.AntiforgeryTokenAsync(head, url);
        Assert.Equal(HttpStatusCode.Redirect, (await head.PostAsync($"{url}/approve", Form(headToken))).StatusCode);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("listed", "head1", "insp1"), (v.State!, v.DecidedBy!, v.ProposedBy!));

        // Early removal without an application is refused on the page, with the reason.
        var refused = await head.PostAsync($"{url}/removal-decision", Form(headToken, ("Grant", "yes")));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("没有待决定的提前移出申请", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));

        var overturned = await head.PostAsync($"{url}/overturn", Form(headToken, ("Reason", "行政复议撤销")));
        Assert.Equal(HttpStatusCode.Redirect, overturned.StatusCode);
        Assert.Equal("overturned", (await ViewAsync(db.DataSource, caseNo)).RemovalKind);

        // "Run now" queues the daily job on Hangfire for a worker to pick up (no personal data in its arguments: it has none).
        var run = await inspector.PostAsync("/hangfire/arrears/run", Form(token));
        Assert.Equal(HttpStatusCode.Redirect, run.StatusCode);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var queued = await Dapper.SqlMapper.QueryAsync<(string Invocation, string Arguments)>(conn, "SELECT invocationdata, arguments FROM hangfire.job");
        Assert.Contains(queued, j => j.Invocation.Contains(nameof(WageArrearsDailyJob)) && j.Arguments == "[null]");
    }

    [Fact]
    public async Task The_public_list_csv_neutralises_formulas_and_shows_masked_ids_and_the_page_links_escaped_documents()
    {
        var (server, clock) = await StartAsync("2026-03-03");
        await using var _ = server;
        var proc = server.App.Services.GetRequiredService<ArrearsProcedure>();
        var acts = server.App.Services.GetRequiredService<ArrearsActs>();
        var legalRepId = NewIdNumber();
        const string evil = "=HYPERLINK(\"http://evil.test\",\"点击\")";
        var uscc = await EmployerAsync(db.DataSource, evil, $"boss@{Guid.NewGuid():N}.test", legalRepId, "<script>alert(1)</script>");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        var insp = await UserAsync(db.DataSource, "csv-insp");
        var head = await UserAsync(db.DataSource, "csv-head", decider: true);
        await acts.IssueNoticeAsync(caseNo, insp, ServiceMethods.Post, false, default);
        await acts.RecordServiceAsync(caseNo, insp, ServiceMethods.Post, Day("2026-03-03"), "回执", default);
        clock.SetUtcNow(At(Day("2026-03-11"), 7));
        await acts.ProposeAsync(caseNo, insp, DecisionKind.Listed, null, default);
        await acts.ApproveAsync(caseNo, head, default);

        var op = await server.SignedInClientAsync("op2", Roles.Operator);
        var csv = await op.GetAsync("/hangfire/arrears/public.csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var bytes = await csv.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes[3..]);
        var row = text.Split("\r\n").Single(l => l.Contains(uscc));
        Assert.StartsWith("\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"点击\"\")\"," + uscc, row);
        Assert.Contains(Lingyuan.Jobs.Registers.IdNumber.Mask(legalRepId), row);
        Assert.Matches("^211382\\*{8}[0-9]{3}[0-9X]$", Lingyuan.Jobs.Registers.IdNumber.Mask(legalRepId));
        Assert.DoesNotContain(legalRepId, text);
        Assert.Contains("2026-03-11,2029-03-10", row);

        var page = await op.GetStringAsync("/hangfire/arrears/public");
        Assert.Contains("拖欠农民工工资失信联合惩戒对象名单", WebUtility.HtmlDecode(page));
        Assert.DoesNotContain("<script>alert", page);
        Assert.DoesNotContain(legalRepId, page);

        var casePage = await op.GetStringAsync($"/hangfire/arrears/cases/{caseNo}");
        var links = System.Text.RegularExpressions.Regex.Matches(casePage, $"href=\"(/hangfire/arrears/cases/{caseNo}/documents/[0-9]+)\"");
        Assert.Equal(2, links.Count); // the notice and the decision
        foreach (System.Text.RegularExpressions.Match link in links)
        {
            var doc = await op.GetStringAsync(link.Groups[1].Value);
            Assert.DoesNotContain("<script>alert", doc);
            Assert.Contains("&lt;script&gt;", doc);
            Assert.DoesNotContain(legalRepId, doc);
        }
        // A document is reachable only under its own case.
        var other = await op.GetAsync($"/hangfire/arrears/cases/NO-SUCH-CASE/documents/{links[0].Groups[1].Value.Split('/')[^1]}");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task The_overview_warns_when_a_deadline_was_computed_beyond_the_loaded_calendar()
    {
        var (server, _) = await StartAsync("2026-12-11");
        await using var s = server;
        var proc = server.App.Services.GetRequiredService<ArrearsProcedure>();
        var uscc = await EmployerAsync(db.DataSource, "凌源市跨年页面测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-12-10"));
        await proc.RunDailyAsync(default);
        var inspector = await server.SignedInClientAsync("insp2", Roles.Inspection);
        var overview = await TextOf(inspector, "/hangfire/arrears");
        Assert.Contains("超出已导入的工作日历", overview);
        Assert.Contains("2027-01-07", overview);
        Assert.Contains("日历缺失", overview);
    }
}
