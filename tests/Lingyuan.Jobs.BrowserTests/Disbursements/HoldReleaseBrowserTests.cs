using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.Disbursements;

/// <summary>
/// Chromium on the batch page (issue #17, DOMAIN.md §2): an amount change (2,000 → 20,000 yuan in March) is held; the
/// preparer is not offered the release; another finance user releases it with a reason; the next build back-pays March.
/// </summary>
public sealed class HoldReleaseBrowserTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    [Fact]
    public async Task A_finance_user_releases_an_amount_change_hold_and_the_next_build_back_pays_it()
    {
        var r = new RegisterRows(fixture.DataSource);
        await r.ResetAsync();
        var id = await r.RecipientAsync(1, amountFen: 200_000, name: "王秀兰");
        await r.RecipientAsync(2, amountFen: 150_000);
        await using var server = await TestServer.StartAsync(fixture);
        var services = server.App.Services;
        var users = services.GetRequiredService<UserStore>();
        await r.AddUserAsync(users, "zhang.fin", Roles.Finance);
        await r.AddUserAsync(users, "li.fin", Roles.Finance);
        var builder = services.GetRequiredService<BatchBuilder>();
        await builder.BuildAsync(Period.Of(new DateOnly(2026, 2, 1)), "test", default);
        await r.ExecAsync("UPDATE app.entitlements SET monthly_amount_fen = 2000000 WHERE id_number = @id", new { id });
        var mar = await builder.BuildAsync(Period.Of(new DateOnly(2026, 3, 1)), "test", default);
        var held = Assert.Single(await r.LinesAsync(mar.BatchId), l => l.IdNumber == id);
        Assert.Equal("amount_change", held.HoldReason);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ChromiumArgs, Headless = true });
        var shots = Path.Combine(TestEnv.ArtifactsDir, "disbursements");
        Directory.CreateDirectory(shots);

        // The preparer submits March and is not offered the release (four eyes).
        var preparer = await SignInAsync(browser, server, "zhang.fin");
        await preparer.GotoAsync($"/hangfire/batches/{mar.BatchId}");
        await preparer.ClickAsync("#submit-batch");
        await Assertions.Expect(preparer.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "submitted");
        await Assertions.Expect(preparer.Locator($"#release-{held.Id}")).ToHaveCountAsync(0);
        await Assertions.Expect(preparer.Locator("#amount-change-lines")).ToContainTextAsync("须由另一名财务人员解除");
        await preparer.ScreenshotAsync(new() { Path = Path.Combine(shots, "release-0-preparer-sees-no-release.png"), FullPage = true });

        // Another finance user releases it with a reason.
        var releaser = await SignInAsync(browser, server, "li.fin");
        await releaser.GotoAsync($"/hangfire/batches/{mar.BatchId}");
        await Assertions.Expect(releaser.Locator("#amount-change-lines")).ToContainTextAsync("2,000.00");
        await Assertions.Expect(releaser.Locator("#amount-change-lines")).ToContainTextAsync("20,000.00");
        await releaser.ScreenshotAsync(new() { Path = Path.Combine(shots, "release-1-held-change.png"), FullPage = true });
        await releaser.FillAsync($"#release-reason-{held.Id}", "已核实调待审批表");
        await releaser.ClickAsync($"#release-{held.Id}");
        await Assertions.Expect(releaser.Locator($"#released-{held.Id}")).ToContainTextAsync("li.fin");
        await Assertions.Expect(releaser.Locator($"#released-{held.Id}")).ToContainTextAsync("已核实调待审批表");
        await releaser.ScreenshotAsync(new() { Path = Path.Combine(shots, "release-2-released.png"), FullPage = true });

        // The next build back-pays March (20,000) beside April's own line.
        var apr = await builder.BuildAsync(Period.Of(new DateOnly(2026, 4, 1)), "test", default);
        var backPay = Assert.Single(await r.LinesAsync(apr.BatchId), l => l.Kind == "back_pay");
        Assert.Equal((id, "2026-03", 2_000_000L, held.Id), (backPay.IdNumber, backPay.Period, backPay.AmountFen, backPay.RefersTo!.Value));
        await releaser.GotoAsync($"/hangfire/batches/{apr.BatchId}");
        var row = releaser.Locator("#lines tr", new() { HasText = $"(原 {held.Id})" });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync("补发");
        await Assertions.Expect(row).ToContainTextAsync("2026-03");
        await Assertions.Expect(row).ToContainTextAsync("20,000.00");
        await releaser.ScreenshotAsync(new() { Path = Path.Combine(shots, "release-3-next-build-back-pays.png"), FullPage = true });
    }

    private static Task<IPage> SignInAsync(IBrowser browser, TestServer server, string user) =>
        Browser.SignedInPageAsync(browser, server, user);
}
