using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright (never a downloaded browser build), headless, one per test
/// class. Screenshots go to the test artifacts folder so a person can look at what the test saw.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright _playwright = null!;
    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("LINGYUAN_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser context (own cookies) with a page, in Chinese.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            Locale = "zh-CN",
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        return await context.NewPageAsync();
    }

    public static async Task SignInAsync(IPage page, string user, string password, string? code = null)
    {
        await page.GotoAsync("/login");
        await page.FillAsync("input[name=UserName]", user);
        await page.FillAsync("input[name=Password]", password);
        if (code is not null) await page.FillAsync("input[name=Code]", code);
        await page.ClickAsync("button[type=submit]");
        // A minute: under a loaded CI machine hashing the password can be slow. Signed in is having left the sign-in
        // page, read from the page's URL itself: Playwright's WaitForURL twice timed out with the browser already on
        // /hangfire/home (once waiting for its load event; once, the navigation over before the wait began, for a
        // load state of the page already there).
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (page.Url.Contains("/login", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                // Say why the sign-in page kept the person (wrong code, locked, …) rather than only that it timed out.
                var said = await page.Locator(".error, [role=alert]").AllInnerTextsAsync();
                throw new TimeoutException($"sign-in as {user} stayed on {page.Url}: {string.Join(" | ", said)}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// A new context of <paramref name="browser"/> (own cookies, in Chinese) signed in to the test server as
    /// <paramref name="user"/>, with the test password and, when the user's role needs one, the current one-time code.
    /// </summary>
    public static async Task<IPage> SignedInPageAsync(IBrowser browser, TestServer server, string user, bool acceptDownloads = false)
    {
        var context = await browser.NewContextAsync(new() { BaseURL = server.BaseAddress.ToString().TrimEnd('/'), Locale = "zh-CN", AcceptDownloads = acceptDownloads });
        var page = await context.NewPageAsync();
        await SignInAsync(page, user, TestSignIn.Password, await TestSignIn.CodeAsync(server.App.Services, user));
        return page;
    }

    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(TestEnv.ArtifactsDir, "screenshots", $"{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        _playwright.Dispose();
    }
}
