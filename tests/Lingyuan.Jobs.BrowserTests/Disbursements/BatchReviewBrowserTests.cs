using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.Disbursements;

/// <summary>Chromium drives the batches page: one finance user submits, a second approves, the bank file's control record matches the page.</summary>
public sealed class BatchReviewBrowserTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    [Fact]
    public async Task Two_finance_users_submit_and_approve_and_the_bank_file_matches_the_page_totals()
    {
        var r = new RegisterRows(fixture.DataSource);
        await r.ResetAsync();
        for (var n = 1; n <= 7; n++) await r.RecipientAsync(n, amountFen: 100_000 * n + 37, benefit: n % 2 == 0 ? "resident_pension" : "enterprise_pension");
        await r.ExecAsync("UPDATE app.cards SET financial_status = 'frozen' WHERE id_number = @id", new { id = RegisterRows.IdNumber(7) });
        await using var server = await TestServer.StartAsync(fixture);
        var users = server.App.Services.GetRequiredService<UserStore>();
        await r.AddUserAsync(users, "zhang.fin", Roles.Finance);
        await r.AddUserAsync(users, "li.fin", Roles.Finance);
        var built = await server.App.Services.GetRequiredService<BatchBuilder>().BuildAsync(Period.Of(new DateOnly(2026, 3, 1)), "test", default);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ChromiumArgs, Headless = true });
        var shots = Path.Combine(TestEnv.ArtifactsDir, "disbursements");
        Directory.CreateDirectory(shots);

        // The preparer submits.
        var preparer = await SignInAsync(browser, server, "zhang.fin");
        await preparer.GotoAsync("/hangfire/batches");
        await preparer.ClickAsync($"a[href='/hangfire/batches/{built.BatchId}']");
        await preparer.ScreenshotAsync(new() { Path = Path.Combine(shots, "0-batch-page.png"), FullPage = true });
        await preparer.ClickAsync("#submit-batch");
        await Assertions.Expect(preparer.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "submitted");
        await Assertions.Expect(preparer.Locator("#approve-batch")).ToHaveCountAsync(0);
        await preparer.ScreenshotAsync(new() { Path = Path.Combine(shots, "1-submitted-by-preparer.png"), FullPage = true });

        // A second finance user approves and downloads the bank file.
        var approver = await SignInAsync(browser, server, "li.fin");
        await approver.GotoAsync($"/hangfire/batches/{built.BatchId}");
        // Issue 19: approving goes through a confirmation of period, line count and total.
        await approver.ClickAsync("#approve-batch");
        await Assertions.Expect(approver.Locator("#confirm-period")).ToHaveTextAsync("2026-03");
        await approver.CheckAsync("input[name=confirm]");
        await approver.ClickAsync("#confirm-approve");
        await Assertions.Expect(approver.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "approved");
        var pageCount = long.Parse(await approver.Locator("#total-count").GetAttributeAsync("data-value") ?? "");
        var pageFen = long.Parse(await approver.Locator("#total-yuan").GetAttributeAsync("data-fen") ?? "");
        var pageYuan = await approver.Locator("#total-yuan").InnerTextAsync();
        await approver.ScreenshotAsync(new() { Path = Path.Combine(shots, "2-approved.png"), FullPage = true });

        var download = await approver.RunAndWaitForDownloadAsync(() => approver.ClickAsync("#download-bank-file"));
        var file = Path.Combine(shots, download.SuggestedFilename);
        await download.SaveAsAsync(file);
        var lines = await File.ReadAllLinesAsync(file);
        var h = lines[0].Split(',');
        Assert.Equal(["H", built.BatchId.ToString(), "2026-03"], h[..3]);
        Assert.Equal(6, pageCount);
        Assert.Equal(pageCount, long.Parse(h[3]));
        Assert.Equal(pageFen, long.Parse(h[4]));
        Assert.Equal(Money.Yuan(pageFen), pageYuan);
        Assert.Equal(100_000L * 21 + 37 * 6, pageFen);
        Assert.Equal(pageCount, lines.Count(l => l.StartsWith("D,", StringComparison.Ordinal)));
        await approver.GotoAsync($"/hangfire/batches/{built.BatchId}");
        await Assertions.Expect(approver.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "exported");
        await approver.ScreenshotAsync(new() { Path = Path.Combine(shots, "3-exported.png"), FullPage = true });
    }

    private static Task<IPage> SignInAsync(IBrowser browser, TestServer server, string user) =>
        Browser.SignedInPageAsync(browser, server, user, acceptDownloads: true);
}
