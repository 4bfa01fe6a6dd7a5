using System.Net;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Dashboard;

public sealed class DashboardServerFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // Tests of this class sign in often from one address; only failures count (LoginFloodFacts).
        Server = await TestServer.StartAsync(this, AppRole.Dashboard);
    }

    public override async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

public partial class DashboardSecurityFacts(DashboardServerFixture fx) : IClassFixture<DashboardServerFixture>
{
    public static TheoryData<string> HangfirePages => new()
    {
        "/hangfire", "/hangfire/recurring", "/hangfire/jobs/enqueued", "/hangfire/jobs/failed",
        "/hangfire/jobs/succeeded", "/hangfire/servers", "/hangfire/retries", "/hangfire/jobs/details/1",
    };

    [Theory]
    [MemberData(nameof(HangfirePages))]
    public async Task Anonymous_requests_are_redirected_to_the_login_page_with_no_data(string path)
    {
        var response = await fx.Server.Client().GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Anonymous_posts_to_hangfire_commands_are_redirected_not_executed()
    {
        var response = await fx.Server.Client().PostAsync("/hangfire/recurring/trigger",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "outbox-delivery" }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task A_wrong_password_is_refused()
    {
        await fx.Server.SignedInClientAsync("alice", Roles.Admin);
        var response = await TestServer.PostLoginAsync(fx.Server.Client(), "alice", "wrong-password-1");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("用户名或密码错误", await response.Content.ReadAsStringAsync());
        var unknown = await TestServer.PostLoginAsync(fx.Server.Client(), "nobody", "whatever-1");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task A_login_post_without_an_antiforgery_token_is_refused()
    {
        await fx.Server.SignedInClientAsync("bob", Roles.Admin);
        var response = await fx.Server.Client().PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = "bob",
            ["Password"] = TestSignIn.Password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("lingyuan.jobs=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_signed_in_dashboard_is_in_Chinese_and_shows_no_connection_string()
    {
        var admin = await fx.Server.SignedInClientAsync("carol", Roles.Admin);
        var html = await admin.GetStringAsync("/hangfire");
        Assert.Contains("仪表盘", html);
        Assert.Contains("凌源市人社局", html);
        Assert.DoesNotContain("Host=", html);
        Assert.DoesNotContain(fx.DatabaseName, html);
        var servers = await admin.GetStringAsync("/hangfire/servers");
        Assert.DoesNotContain(fx.DatabaseName, servers);
    }

    [Fact]
    public async Task The_session_cookie_is_http_only_and_same_site_strict()
    {
        var client = fx.Server.Client();
        await fx.Server.SignedInClientAsync("dave", Roles.Operator);
        var response = await TestServer.PostLoginAsync(client, "dave", TestSignIn.Password);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(v => v.StartsWith("lingyuan.jobs=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_operator_post_to_a_hangfire_command_is_forbidden_while_an_admin_post_is_executed()
    {
        var op = await fx.Server.SignedInClientAsync("erin", Roles.Operator);
        var token = HangfireToken().Match(await op.GetStringAsync("/hangfire/recurring")).Groups[1].Value;
        var denied = await PostHangfireAsync(op, "/hangfire/recurring/trigger", token);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);

        var admin = await fx.Server.SignedInClientAsync("frank", Roles.Admin);
        var adminToken = HangfireToken().Match(await admin.GetStringAsync("/hangfire/recurring")).Groups[1].Value;
        Assert.NotEqual("", adminToken);
        var done = await PostHangfireAsync(admin, "/hangfire/recurring/trigger", adminToken);
        Assert.True(done.IsSuccessStatusCode, $"admin trigger answered {(int)done.StatusCode}");
    }

    [Fact]
    public async Task An_admin_post_to_a_hangfire_command_without_the_antiforgery_token_is_refused()
    {
        var admin = await fx.Server.SignedInClientAsync("grace", Roles.Admin);
        var response = await PostHangfireAsync(admin, "/hangfire/recurring/trigger", token: null);
        Assert.False(response.IsSuccessStatusCode, $"answered {(int)response.StatusCode}");
    }

    [Fact]
    public async Task Every_recurring_job_shows_with_its_Chinese_name_in_the_Asia_Shanghai_zone()
    {
        var catalog = fx.Server.App.Services.GetRequiredService<JobCatalog>();
        Assert.NotEmpty(catalog.All);
        var admin = await fx.Server.SignedInClientAsync("heidi", Roles.Admin);
        var html = await admin.GetStringAsync("/hangfire/recurring");
        foreach (var job in catalog.All)
        {
            Assert.Contains(job.Id, html);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(job.NameZh), html);
        }
        Assert.Contains("Asia/Shanghai", html);
    }

    private Task<HttpResponseMessage> PostHangfireAsync(HttpClient client, string path, string? token)
    {
        var job = fx.Server.App.Services.GetRequiredService<JobCatalog>().All[0].Id;
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = job }),
        };
        if (token is not null) request.Headers.Add("RequestVerificationToken", token);
        return client.SendAsync(request);
    }

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]*)\"")]
    private static partial Regex HangfireToken();
}

public class LoginRateLimitFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_sixth_rapid_sign_in_attempt_is_answered_429()
    {
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard, new() { ["Dashboard:LoginFailuresPerAccount"] = "5" });
        var client = server.Client();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
            statuses.Add((await TestServer.PostLoginAsync(client, "mallory", $"guess-{i}-password")).StatusCode);
        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]);
    }
}
