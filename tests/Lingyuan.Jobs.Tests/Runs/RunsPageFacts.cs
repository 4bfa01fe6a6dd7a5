using System.Net;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Runs;

/// <summary>
/// Issue #18 over real HTTP: the 运行记录 page shows each run's Chinese summary in Beijing time; errors answer
/// inside the layout with a way back; Hangfire's own pages carry the user and sign-out and the zh-cn script;
/// the metrics endpoint refuses without its token and shows the job counters with it.
/// </summary>
public class RunsPageFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string Token = "metrics-token-0123456789abcdef";

    private Task<TestServer> StartAsync() => TestServer.StartAsync(db, AppRole.Dashboard, new() { ["Metrics:Token"] = Token });

    [Fact]
    public async Task The_runs_page_shows_what_each_run_did_in_Chinese_and_Beijing_time()
    {
        await using var server = await StartAsync();
        var runner = server.App.Services.GetRequiredService<JobRunner>();
        var catalog = server.App.Services.GetRequiredService<JobCatalog>();
        await runner.RunNowAsync(catalog.Find("inspection-deadlines")!, CancellationToken.None);
        await runner.RunNowAsync(catalog.Find("outbox-delivery")!, CancellationToken.None);

        var op = await server.SignedInClientAsync("runs-operator", Roles.Operator);
        var html = WebUtility.HtmlDecode(await op.GetStringAsync("/hangfire/runs"));
        Assert.Contains("<h1>运行记录</h1>", html);
        Assert.Contains("新建期限 0 项,发送提醒 0 封,新逾期 0 项", html);
        Assert.Contains("发送 0 封,失败 0 封,推迟 0 封", html);
        Assert.Matches(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(北京时间\)", html);
        Assert.Contains("当前没有未解除的告警", html);
        Assert.DoesNotContain("UTC", html);
        foreach (var d in catalog.All) Assert.Contains($"id=\"job-{d.Id}\"", html);

        // Finance has no business here: 403 inside the layout, with the way back.
        var finance = await server.SignedInClientAsync("runs-finance", Roles.Finance);
        var refused = await finance.GetAsync("/hangfire/runs");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var refusedHtml = await refused.Content.ReadAsStringAsync();
        Assert.Contains("无权访问", refusedHtml);
        Assert.Contains("退出", refusedHtml);
        Assert.Contains("返回任务概览", refusedHtml);
    }

    [Fact]
    public async Task An_unknown_address_answers_404_inside_the_layout_and_Hangfire_pages_carry_the_user_and_sign_out()
    {
        await using var server = await StartAsync();
        var op = await server.SignedInClientAsync("nav-operator", Roles.Operator);
        foreach (var path in new[] { "/hangfire/no-such-page", "/no-such-page" })
        {
            var missing = await op.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            var html = await missing.Content.ReadAsStringAsync();
            Assert.Contains("页面不存在", html);
            Assert.Contains("nav-operator", html);
            Assert.Contains("<a href=\"/hangfire\">返回任务概览</a>", html);
        }
        var anonymous = await server.Client().GetAsync("/no-such-page");
        Assert.Contains("/login", await anonymous.Content.ReadAsStringAsync());

        var recurring = await op.GetStringAsync("/hangfire/recurring");
        Assert.Contains("nav-operator(", recurring);
        Assert.Contains("退出登录", recurring);
        Assert.Contains("href=\"/logout\"", recurring);
        var script = System.Text.RegularExpressions.Regex.Match(recurring, "src=\"(/hangfire/js[^\"]+)\"").Groups[1].Value;
        var js = await op.GetStringAsync(script);
        Assert.Contains("moment.locale('zh-cn')", js);
        Assert.Contains("(北京时间)", js);
    }

    [Fact]
    public async Task The_metrics_endpoint_refuses_without_the_token_and_shows_job_counters_with_it()
    {
        await using var server = await StartAsync();
        var runner = server.App.Services.GetRequiredService<JobRunner>();
        await runner.RunNowAsync(server.App.Services.GetRequiredService<JobCatalog>().Find("outbox-delivery")!, CancellationToken.None);

        var client = server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/metrics")).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = new("Bearer", "not-the-token-at-all-000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode);

        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new("Bearer", Token);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("lingyuan_job_runs[_a-z]*\\{[^}]*job=\"outbox-delivery\"[^}]*result=\"succeeded\"[^}]*\\} [1-9]", text);
        Assert.Contains("lingyuan_job_run_duration", text);
        Assert.Contains("lingyuan_outbox_pending", text);
    }
    [Fact]
    public async Task On_a_Metrics_Urls_address_the_scrape_needs_no_token_and_nothing_else_answers_there_while_the_main_address_still_asks_for_it()
    {
        var port = TestNet.FreePort();
        var metricsPort = TestNet.FreePort();
        await using var dash = ServiceProcess.Start(db, $"serve --role dashboard --urls http://127.0.0.1:{port}",
            new() { ["Metrics:Urls"] = $"http://127.0.0.1:{metricsPort}" });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var until = DateTime.UtcNow.AddMinutes(1);
        HttpResponseMessage? scrape = null;
        while (scrape is null)
        {
            try { scrape = await http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics"); }
            catch (HttpRequestException) when (DateTime.UtcNow < until && !dash.HasExited) { await Task.Delay(500); }
        }
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("lingyuan_outbox_pending", await scrape.Content.ReadAsStringAsync());

        // The scraper's door opens nothing else: no dashboard, no login, no health check there.
        foreach (var path in new[] { "/hangfire", "/login", "/healthz", "/public/draws" })
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{metricsPort}{path}")).StatusCode);
        // The main address serves the dashboard and refuses the scrape without the token (none is set).
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{port}/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/login")).StatusCode);
    }
}
