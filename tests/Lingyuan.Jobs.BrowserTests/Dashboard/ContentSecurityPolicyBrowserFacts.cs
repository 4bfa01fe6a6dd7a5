using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.Dashboard;

public sealed class ContentSecurityPolicyBrowserFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;
    public Browser Browser { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        await Browser.InitializeAsync();
        await Server.App.Services.GetRequiredService<UserStore>().AddAsync("csp-operator", Roles.Operator, TestSignIn.Password, "test", CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>Chromium enforces the service's Content-Security-Policy: Hangfire's pages and the project's pages must work under it.</summary>
public class ContentSecurityPolicyBrowserFacts(ContentSecurityPolicyBrowserFixture fx) : IClassFixture<ContentSecurityPolicyBrowserFixture>
{
    [Fact]
    public async Task Finding5_Hangfire_and_project_pages_run_under_the_content_security_policy_without_a_violation()
    {
        var page = await fx.Browser.NewPageAsync(fx.Server.BaseAddress);
        // Injected by the browser driver, not by the page, so the policy does not apply to this listener.
        await page.AddInitScriptAsync("""
            window.__csp = [];
            document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
            """);
        var console = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") console.Add(m.Text); };

        await page.GotoAsync("/login");
        Assert.Empty(await page.EvaluateAsync<string[]>("window.__csp"));
        await Browser.SignInAsync(page, "csp-operator", TestSignIn.Password);

        foreach (var path in new[] { "/hangfire", "/hangfire/recurring", "/hangfire/jobs/succeeded", "/hangfire/servers", "/hangfire/draws", "/hangfire/outbox", "/hangfire/zero-employment", "/hangfire/arrears" })
        {
            var response = await page.GotoAsync(path, new() { WaitUntil = WaitUntilState.NetworkIdle });
            Assert.Equal(200, response!.Status);
            Assert.Equal(RequestSafety.ContentSecurityPolicy, await response.HeaderValueAsync("content-security-policy"));
            await page.WaitForTimeoutAsync(300);
            var violations = await page.EvaluateAsync<string[]>("window.__csp");
            Assert.True(violations.Length == 0, $"{path}: {string.Join("; ", violations)}");
            if (path is "/hangfire" or "/hangfire/recurring")
                // Hangfire's script bundle (jQuery, its charts and polling) was loaded from the service and ran.
                Assert.True(await page.EvaluateAsync<bool>("typeof window.jQuery === 'function'"), $"{path}: Hangfire's scripts did not run");
        }
        await Browser.ScreenshotAsync(page, "csp-dashboard");
        Assert.DoesNotContain(console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }
}
