using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;

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

    /// <summary>
    /// Creates an account (if needed) and returns a client signed in as it. Accounts of a role that
    /// must use a one-time code (admin, finance) are enrolled and the code is computed with Otp.NET,
    /// so the client holds a full session, as a person who enrolled on the dashboard would.
    /// </summary>
    public async Task<HttpClient> SignedInClientAsync(string name, string role, string password = TestSignIn.Password)
    {
        var users = App.Services.GetRequiredService<UserStore>();
        try { await users.AddAsync(name, role, password, "test", CancellationToken.None); }
        catch (DomainRuleException) { /* the account exists from an earlier test of this class */ }
        var client = Client();
        var code = await TestSignIn.CodeAsync(App.Services, name);
        var response = await PostLoginAsync(client, name, password, code);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.StartsWith("/account/", StringComparison.Ordinal) == true)
            throw new InvalidOperationException($"sign-in as {name} failed: {(int)response.StatusCode} {response.Headers.Location}");
        return client;
    }

    public static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string name, string password, string? code = null, string? returnUrl = null)
    {
        var token = await AntiforgeryTokenAsync(client, "/login");
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["UserName"] = name,
            ["Password"] = password,
        };
        if (code is not null) form["Code"] = code;
        if (returnUrl is not null) form["ReturnUrl"] = returnUrl;
        return await client.PostAsync("/login", new FormUrlEncodedContent(form));
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

/// <summary>How tests sign in as a person: a password that passes the rules, and one-time codes.</summary>
public static class TestSignIn
{
    /// <summary>Passes the password rules (12+ characters, zxcvbn score 3+) and contains no test user's name.</summary>
    public const string Password = "Birch-canyon-47-lantern";

    private static readonly ConcurrentDictionary<string, long> Reserved = new();
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>
    /// A one-time code for the account, or null when its role needs none and it has not enrolled.
    /// An account of a role that needs one is enrolled first. A code is accepted once per 30 s step,
    /// so a second sign-in of the same account uses the next step (the server accepts one step of
    /// drift) and a third waits for the clock.
    /// </summary>
    public static async Task<string?> CodeAsync(IServiceProvider services, string name)
    {
        var users = services.GetRequiredService<UserStore>();
        var twoFactor = services.GetRequiredService<TwoFactor>();
        var user = await users.FindAsync(name, CancellationToken.None);
        if (user is null) return null;
        var secret = await users.TotpSecretAsync(name, CancellationToken.None);
        if (secret is null)
        {
            if (!twoFactor.RoleNeedsIt(user.Role)) return null;
            secret = TwoFactor.NewSecret();
            await users.EnrolTotpAsync(name, secret, "test", CancellationToken.None);
            user = await users.FindAsync(name, CancellationToken.None);
        }
        var clock = services.GetRequiredService<TimeProvider>();
        var key = services.GetRequiredService<NpgsqlDataSource>().ConnectionString + "|" + name;
        if (user!.TotpLastStep is null) Reserved.TryRemove(key, out _); // a new account of the same name (tests truncate users)
        await Gate.WaitAsync();
        try
        {
            var current = clock.GetUtcNow().ToUnixTimeSeconds() / 30;
            var step = Math.Max(current, Math.Max((user!.TotpLastStep ?? 0) + 1, Reserved.GetValueOrDefault(key) + 1));
            while (step > current + 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                current = clock.GetUtcNow().ToUnixTimeSeconds() / 30;
            }
            Reserved[key] = step;
            return TwoFactor.Code(secret, DateTimeOffset.FromUnixTimeSeconds(step * 30));
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>What a command-line verb acting as the account reads on stdin: the password, then the code if any.</summary>
    public static async Task<string> StdinAsync(IServiceProvider services, string name, string password = Password) =>
        await CodeAsync(services, name) is { } code ? $"{password}\n{code}\n" : $"{password}\n";
}
