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

    [Fact]
    public async Task An_operator_sees_the_pages_but_a_decision_posted_by_an_operator_is_refused_with_403()
    {
        var (server, clock) = await StartAsync("2026-03-03");
        await using var _ = server;
        var proc = server.App.Services.GetRequiredService<ArrearsProcedure>();
        var uscc = await EmployerAsync(db.DataSource, "凌源市只读测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        clock.SetUtcNow(At(Day("2026-03-11"), 9));

        var op = await server.SignedInClientAsync("op1", Roles.Operator);
        var overview = await TextOf(op, "/hangfire/arrears");
        Assert.Contains("欠薪失信名单", overview);
        Assert.Contains(caseNo, overview);
        var casePage = await TextOf(op, $"/hangfire/arrears/cases/{caseNo}");
        Assert.DoesNotContain("作出决定", casePage); // no forms for a read-only account
        var token = await TestServer.AntiforgeryTokenAsync(op, $"/hangfire/arrears/cases/{caseNo}");
        var post = await op.PostAsync($"/hangfire/arrears/cases/{caseNo}/decision", Form(token, ("Decision", "listed")));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal("notice_sent", (await ViewAsync(db.DataSource, caseNo)).State);
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
    public async Task An_inspector_decides_on_the_dashboard_only_after_the_statement_period_and_only_with_an_antiforgery_token()
    {
        var (server, clock) = await StartAsync("2026-02-12");
        await using var _ = server;
        var proc = server.App.Services.GetRequiredService<ArrearsProcedure>();
        var uscc = await EmployerAsync(db.DataSource, "凌源市表单测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 1, 10_000m, 3, Day("2026-02-11"));
        await proc.RunDailyAsync(default);
        var url = $"/hangfire/arrears/cases/{caseNo}";

        // Sign-in cookies expire on the same (fake) clock: sign in after each jump of the clock.
        clock.SetUtcNow(At(Day("2026-02-26"), 16));
        var inspector = await server.SignedInClientAsync("insp1", Roles.Inspection);
        var token = await TestServer.AntiforgeryTokenAsync(inspector, url);
        var noToken = await inspector.PostAsync($"{url}/decision", new FormUrlEncodedContent([new("Decision", "listed")]));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);

        var early = await inspector.PostAsync($"{url}/decision", Form(token, ("Decision", "listed")));
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("陈述申辩期至 2026-02-26 届满", WebUtility.HtmlDecode(await early.Content.ReadAsStringAsync()));
        Assert.Equal("notice_sent", (await ViewAsync(db.DataSource, caseNo)).State);

        var statement = await inspector.PostAsync($"{url}/statement", Form(token, ("ReceivedOn", "2026-02-25")));
        Assert.Equal(HttpStatusCode.Redirect, statement.StatusCode);

        clock.SetUtcNow(At(Day("2026-02-27"), 9));
        inspector = await server.SignedInClientAsync("insp1", Roles.Inspection);
        token = await TestServer.AntiforgeryTokenAsync(inspector, url);
        var decided = await inspector.PostAsync($"{url}/decision", Form(token, ("Decision", "listed")));
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("listed", "user:insp1", Day("2026-02-25")), (v.State, v.DecidedBy!, v.StatementReceivedOn!.Value));

        // Early removal refused on the page, with the reason; the refusal is on record.
        var refused = await inspector.PostAsync($"{url}/early-removal", Form(token));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("尚未改正", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Contains("不予提前移出", await TextOf(inspector, url));

        var overturned = await inspector.PostAsync($"{url}/overturn", Form(token, ("Reason", "行政复议撤销")));
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
        var legalRepId = NewIdNumber();
        const string evil = "=HYPERLINK(\"http://evil.test\",\"点击\")";
        var uscc = await EmployerAsync(db.DataSource, evil, $"boss@{Guid.NewGuid():N}.test", legalRepId, "<script>alert(1)</script>");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        clock.SetUtcNow(At(Day("2026-03-11"), 7));
        await proc.RunDailyAsync(default);

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
