using System.Net;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Security;

public sealed class SweepFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;
    public Dictionary<string, HttpClient> Clients { get; } = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        foreach (var role in Roles.All)
            Clients[role] = await Server.SignedInClientAsync($"sweep-{role}", role);
    }

    public override async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Every route the application maps (read from the endpoint data source, so a new page is covered
/// without touching this test) is requested anonymously and as each role.
/// </summary>
public partial class RouteSweepFacts(SweepFixture fx, ITestOutputHelper output) : IClassFixture<SweepFixture>
{
    // The draw proof pages are public on purpose (issue 20: anyone checks a draw without signing in); they
    // serve only what docs/draw-algorithm.md publishes, rate-limited per address.
    private static readonly string[] Public =
    [
        "/login", "/logout", "/healthz", "/denied", "/",
        "/public/draws/", "/public/draws/1", "/public/draws/1/proof.txt", "/public/draws/1/snapshot.txt", "/public/draws/1/result.txt", "/public/draws/1/proof.zip",
    ];

    private sealed record Route(string Method, string Path, string[]? AllowedRoles, bool Anonymous, string Pattern = "", System.Reflection.MethodInfo? Handler = null);

    private async Task<List<Route>> RoutesAsync()
    {
        var sources = fx.Server.App.Services.GetRequiredService<IEnumerable<EndpointDataSource>>();
        var policies = fx.Server.App.Services.GetRequiredService<IAuthorizationPolicyProvider>();
        var routes = new List<Route>();
        foreach (var e in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = e.RoutePattern.RawText ?? "";
            if (pattern.Contains("{**", StringComparison.Ordinal)) continue; // Hangfire's own pages: swept below by name
            var methods = e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var path = "/" + RouteParameter().Replace(pattern.TrimStart('/'), "1");
            var anonymous = e.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            string[]? roles = null;
            foreach (var data in e.Metadata.GetOrderedMetadata<IAuthorizeData>())
            {
                if (data.Roles is { } r) roles = r.Split(',');
                if (data.Policy is { } name && await policies.GetPolicyAsync(name) is { } policy)
                    foreach (var req in policy.Requirements.OfType<RolesAuthorizationRequirement>())
                        roles = [.. req.AllowedRoles];
            }
            // A policy built in place (RequireAuthorization(p => p.RequireRole(...))) is metadata of its own.
            foreach (var policy in e.Metadata.GetOrderedMetadata<AuthorizationPolicy>())
                foreach (var req in policy.Requirements.OfType<RolesAuthorizationRequirement>())
                    roles = [.. req.AllowedRoles];
            foreach (var m in methods) routes.Add(new Route(m, path, roles, anonymous, pattern, e.Metadata.GetMetadata<System.Reflection.MethodInfo>()));
        }
        return routes;
    }

    [Fact]
    public async Task Every_route_but_the_public_ones_requires_sign_in()
    {
        var routes = await RoutesAsync();
        var anonymousRoutes = routes.Where(r => r.Anonymous).Select(r => r.Path).Distinct().ToList();
        Assert.All(anonymousRoutes, p => Assert.Contains(p, Public));
        var checkedCount = 0;
        foreach (var r in routes.Where(r => !r.Anonymous))
        {
            var response = await fx.Server.Client().SendAsync(new HttpRequestMessage(new HttpMethod(r.Method), r.Path));
            Assert.True(response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.Contains("/login"),
                $"anonymous {r.Method} {r.Path} answered {(int)response.StatusCode}");
            Assert.True(DatabaseDigest.MissingSecurityHeaders(response) is [], $"anonymous {r.Method} {r.Path}: {string.Join("; ", DatabaseDigest.MissingSecurityHeaders(response))}");
            Assert.DoesNotContain("<table", await response.Content.ReadAsStringAsync());
            checkedCount++;
        }
        output.WriteLine($"anonymous sweep: {checkedCount} routes, all redirected to /login");
    }

    /// <summary>
    /// Who may see a route: a project page's view roles (from its AddDashboardPage registration) for
    /// everything under it, else the roles of the endpoint's policy, else any signed-in user.
    /// Admin may see everything.
    /// </summary>
    private string[]? ViewRoles(Route r)
    {
        var page = fx.Server.App.Services.GetServices<DashboardPage>()
            .FirstOrDefault(p => r.Path == $"/hangfire/{p.Path}" || r.Path.StartsWith($"/hangfire/{p.Path}/", StringComparison.Ordinal));
        // An endpoint's own role policy narrows its page's roles (e.g. a caseworker sees the ledger, not the county export).
        if (page is null) return r.AllowedRoles;
        string[] pageRoles = [.. page.ViewRoles, Roles.Admin];
        return r.AllowedRoles is { } own ? [.. pageRoles.Intersect(own)] : pageRoles;
    }

    [Fact]
    public async Task Each_role_reaches_exactly_the_routes_its_role_allows()
    {
        var routes = await RoutesAsync();
        var checkedCount = 0;
        var getsChecked = 0;
        foreach (var r in routes.Where(r => !r.Anonymous))
        {
            var viewRoles = ViewRoles(r);
            foreach (var role in Roles.All)
            {
                var mayView = viewRoles is null || viewRoles.Contains(role);
                var request = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
                if (r.Method != "GET")
                {
                    // As a browser's form post would: a token, and a form body.
                    request.Content = new FormUrlEncodedContent(new Dictionary<string, string>
                    {
                        ["__RequestVerificationToken"] = await TokenAsync(fx.Clients[role]),
                    });
                }
                var before = r.Method == "GET" ? await DatabaseDigest.TakeAsync(fx.DataSource) : null;
                var response = await fx.Clients[role].SendAsync(request);
                var status = (int)response.StatusCode;
                var body = status == 400 ? await response.Content.ReadAsStringAsync() : "";
                Assert.True(status < 500, $"{role} {r.Method} {r.Path} answered {status}");
                Assert.True(DatabaseDigest.MissingSecurityHeaders(response) is [], $"{role} {r.Method} {r.Path}: {string.Join("; ", DatabaseDigest.MissingSecurityHeaders(response))}");
                if (before is not null)
                {
                    var changed = DatabaseDigest.Changed(before, await DatabaseDigest.TakeAsync(fx.DataSource));
                    Assert.True(changed is [], $"{role} GET {r.Path} changed {string.Join(", ", changed)}");
                    getsChecked++;
                }
                if (!mayView)
                    Assert.True(status == 403, $"{role} {r.Method} {r.Path} answered {status} {body}, expected 403");
                else if (r.Method == "GET")
                    Assert.True(status is not (401 or 403) && !(status == 302 && response.Headers.Location!.OriginalString.Contains("/login")),
                        $"{role} {r.Method} {r.Path} answered {status}, expected access");
                // A role that may view a page may still be refused its actions (e.g. operators are read-only): not asserted here.
                checkedCount++;
            }
        }
        output.WriteLine($"role sweep: {routes.Count(r => !r.Anonymous)} routes x {Roles.All.Length} roles = {checkedCount} requests checked; security headers on each; {getsChecked} GETs left the database unchanged");
    }

    [Fact]
    public async Task Every_state_changing_route_refuses_a_request_without_an_antiforgery_token()
    {
        var routes = (await RoutesAsync()).Where(r => r.Method is "POST" or "PUT" or "DELETE" or "PATCH").ToList();
        Assert.NotEmpty(routes);
        foreach (var r in routes)
        {
            var client = r.Anonymous ? fx.Server.Client() : fx.Clients[Roles.Admin];
            var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(r.Method), r.Path)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["x"] = "1" }),
            });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{r.Method} {r.Path} without a token answered {(int)response.StatusCode}, expected 400");
        }
        output.WriteLine($"antiforgery sweep: {routes.Count} state-changing routes refuse a missing token");
    }

    private static readonly Type[] QueryTypes = [typeof(string), typeof(int), typeof(long), typeof(DateOnly), typeof(bool), typeof(decimal)];

    /// <summary>
    /// Every GET route's query parameters (read from its handler, so a new page is covered) and route values
    /// get hostile values as admin: control characters answer 400 with the Chinese message, out-of-range and
    /// malformed numbers and dates answer 4xx or are clamped, never 500; and nothing is written.
    /// </summary>
    [Fact]
    public async Task Finding6_hostile_query_strings_and_route_values_on_every_GET_answer_4xx_never_500()
    {
        var routes = (await RoutesAsync()).Where(r => r.Method == "GET" && !r.Anonymous).ToList();
        string[] hostile = ["%00", "a%01b", "%0D%0Aevil", "%7F", "%C2%85", "2147483647", "2147483648", "-1", "0", "abc", "99999999999999999999", "1e9", "9999-99-99", ""];
        var admin = fx.Clients[Roles.Admin];
        var before = await DatabaseDigest.TakeAsync(fx.DataSource);
        var requests = 0;
        var parameterNames = new HashSet<string>();
        foreach (var r in routes)
        {
            var names = (r.Handler?.GetParameters() ?? [])
                .Where(p => QueryTypes.Contains(Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType))
                .Where(p => !r.Pattern.Contains("{" + p.Name, StringComparison.OrdinalIgnoreCase))
                .Where(p => !p.GetCustomAttributes(typeof(Microsoft.AspNetCore.Mvc.FromFormAttribute), false).Any())
                .Select(p => p.Name!).Append("page").Distinct().ToList();
            parameterNames.UnionWith(names.Select(n => $"{r.Path}?{n}"));
            var targets = names.SelectMany(n => hostile.Select(v => (Url: $"{r.Path}?{n}={v}", Value: v)))
                .Concat(RouteValue().IsMatch(r.Pattern)
                    ? hostile.Select(v => (Url: "/" + RouteValue().Replace(r.Pattern.TrimStart('/'), v == "" ? "1" : v), Value: v))
                    : []);
            foreach (var (url, value) in targets)
            {
                var response = await admin.GetAsync(url);
                var status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync();
                requests++;
                Assert.True(status < 500, $"GET {url} answered {status}");
                if (value is "%00" or "a%01b" or "%0D%0Aevil" or "%7F" or "%C2%85")
                {
                    Assert.True(status == 400, $"GET {url} answered {status}, expected 400");
                    // Kestrel refuses a NUL in the path itself, before any middleware, without a message.
                    if (!(value == "%00" && !url.Contains('?'))) Assert.Contains("请求包含无效字符", body);
                }
                else if (status >= 400)
                {
                    // A refusal explains itself in Chinese, never with an exception's name.
                    Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", body);
                    Assert.DoesNotContain("Exception", body);
                }
                if (url.Contains("page=") && value is "2147483647" or "2147483648" or "-1" or "0" or "abc" or "99999999999999999999" or "1e9")
                    Assert.True(status == 400, $"GET {url} answered {status}, expected 400");
            }
        }
        Assert.Empty(DatabaseDigest.Changed(before, await DatabaseDigest.TakeAsync(fx.DataSource)));
        output.WriteLine($"hostile sweep: {routes.Count} GET routes, {parameterNames.Count} query parameters, {requests} requests, none answered 5xx, database unchanged");
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteValue();

    [Fact]
    public async Task Hangfire_pages_are_readable_by_every_role_and_its_commands_only_by_admin()
    {
        foreach (var role in Roles.All)
        {
            foreach (var page in HangfirePages)
            {
                var before = await DatabaseDigest.TakeAsync(fx.DataSource);
                var response = await fx.Clients[role].GetAsync(page);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True(DatabaseDigest.MissingSecurityHeaders(response) is [], $"{role} GET {page}: {string.Join("; ", DatabaseDigest.MissingSecurityHeaders(response))}");
                Assert.Empty(DatabaseDigest.Changed(before, await DatabaseDigest.TakeAsync(fx.DataSource)));
            }
            var request = new HttpRequestMessage(HttpMethod.Post, "/hangfire/jobs/failed/requeue")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "1" }),
            };
            request.Headers.Add("RequestVerificationToken", await TokenAsync(fx.Clients[role]));
            var status = (await fx.Clients[role].SendAsync(request)).StatusCode;
            if (role == Roles.Admin) Assert.NotEqual(HttpStatusCode.Forbidden, status);
            else Assert.Equal(HttpStatusCode.Forbidden, status);
        }
    }

    private static readonly string[] HangfirePages =
        ["/hangfire", "/hangfire/recurring", "/hangfire/jobs/enqueued", "/hangfire/jobs/scheduled", "/hangfire/jobs/processing",
         "/hangfire/jobs/succeeded", "/hangfire/jobs/failed", "/hangfire/jobs/deleted", "/hangfire/jobs/awaiting", "/hangfire/retries", "/hangfire/servers"];

    private static async Task<string> TokenAsync(HttpClient client) =>
        CsrfMeta().Match(await client.GetStringAsync("/hangfire")).Groups[1].Value;

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]*)\"")]
    private static partial Regex CsrfMeta();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
