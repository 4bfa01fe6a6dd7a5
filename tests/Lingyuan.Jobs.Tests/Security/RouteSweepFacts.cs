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
    private static readonly string[] Public = ["/login", "/logout", "/healthz", "/denied", "/"];

    private sealed record Route(string Method, string Path, string[]? AllowedRoles, bool Anonymous);

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
            foreach (var m in methods) routes.Add(new Route(m, path, roles, anonymous));
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
        return page is not null ? [.. page.ViewRoles, Roles.Admin] : r.AllowedRoles;
    }

    [Fact]
    public async Task Each_role_reaches_exactly_the_routes_its_role_allows()
    {
        var routes = await RoutesAsync();
        var checkedCount = 0;
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
                var response = await fx.Clients[role].SendAsync(request);
                var status = (int)response.StatusCode;
                var body = status == 400 ? await response.Content.ReadAsStringAsync() : "";
                Assert.True(status < 500, $"{role} {r.Method} {r.Path} answered {status}");
                if (!mayView)
                    Assert.True(status == 403, $"{role} {r.Method} {r.Path} answered {status} {body}, expected 403");
                else if (r.Method == "GET")
                    Assert.True(status is not (401 or 403) && !(status == 302 && response.Headers.Location!.OriginalString.Contains("/login")),
                        $"{role} {r.Method} {r.Path} answered {status}, expected access");
                // A role that may view a page may still be refused its actions (e.g. operators are read-only): not asserted here.
                checkedCount++;
            }
        }
        output.WriteLine($"role sweep: {routes.Count(r => !r.Anonymous)} routes x {Roles.All.Length} roles = {checkedCount} requests checked");
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

    [Fact]
    public async Task Hangfire_pages_are_readable_by_every_role_and_its_commands_only_by_admin()
    {
        foreach (var role in Roles.All)
        {
            foreach (var page in new[] { "/hangfire", "/hangfire/recurring", "/hangfire/jobs/failed", "/hangfire/servers" })
                Assert.Equal(HttpStatusCode.OK, (await fx.Clients[role].GetAsync(page)).StatusCode);
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

    private static async Task<string> TokenAsync(HttpClient client) =>
        CsrfMeta().Match(await client.GetStringAsync("/hangfire")).Groups[1].Value;

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]*)\"")]
    private static partial Regex CsrfMeta();

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex RouteParameter();
}
