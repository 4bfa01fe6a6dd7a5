using System.Net;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>The real service (Kestrel on a free loopback port) started in-process against a test database.</summary>
public sealed partial class TestServer : IAsyncDisposable
{
    public WebApplication App { get; }
    public Uri BaseAddress { get; }

    private TestServer(WebApplication app, Uri baseAddress) { App = app; BaseAddress = baseAddress; }

    public static async Task<TestServer> StartAsync(DatabaseFixture db, AppRole role = AppRole.All, Dictionary<string, string?>? extra = null, Action<IServiceCollection>? testServices = null)
    {
        var settings = db.Settings();
        settings["Dashboard:Urls"] = "http://127.0.0.1:0";
        settings["Worker:Urls"] = "http://127.0.0.1:0";
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        var app = await Lingyuan.Jobs.Hosting.App.CreateServerAsync(role, settings, InProcessApps.Services(testServices));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, new Uri(address));
    }

    /// <summary>An HTTP client with its own cookies that does not follow redirects (tests look at them).</summary>
    public HttpClient Client(out CookieContainer cookies)
    {
        cookies = new CookieContainer();
        return new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
    }

    public HttpClient Client() => Client(out _);

    /// <summary>Creates an account (if needed) and returns a client signed in as it.</summary>
    public async Task<HttpClient> SignedInClientAsync(string name, string role, string password = "test-password-1")
    {
        var users = App.Services.GetRequiredService<UserStore>();
        try { await users.AddAsync(name, role, password, "test", CancellationToken.None); }
        catch (DomainRuleException) { /* the account exists from an earlier test of this class */ }
        var client = Client();
        var response = await PostLoginAsync(client, name, password);
        if (response.StatusCode != HttpStatusCode.Redirect)
            throw new InvalidOperationException($"sign-in as {name} failed: {(int)response.StatusCode}");
        return client;
    }

    public static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string name, string password)
    {
        var token = await AntiforgeryTokenAsync(client, "/login");
        return await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["UserName"] = name,
            ["Password"] = password,
        }));
    }

    /// <summary>Reads the antiforgery field of a page (the client keeps the matching cookie).</summary>
    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string page)
    {
        var html = await client.GetStringAsync(page);
        var m = TokenField().Match(html);
        return m.Success ? m.Groups[1].Value : throw new InvalidOperationException($"no antiforgery field on {page}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
