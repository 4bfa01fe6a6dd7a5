using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.Tests.Inspections;
using Microsoft.Playwright;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.BrowserTests.Inspections;

/// <summary>
/// Chromium, signed out: the public page lists a plan's commitment before its draw; after the draw it serves
/// the proof bundle, which the outsider's checker accepts, and rejects with one inspector swapped.
/// </summary>
public sealed class PublicProofBrowserFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Signed_out_a_visitor_sees_the_commitment_before_the_draw_and_downloads_a_bundle_the_checker_accepts_and_a_swapped_inspector_fails()
    {
        await AddInspectorsAsync(db, $"{Guid.NewGuid():N}.test", ("GK-01", "王公开", true), ("GK-02", "李公开", true), ("GK-03", "赵公开", true));
        var street = $"街道{Guid.NewGuid():N}"[..10];
        await AddEmployersAsync(db, street, ("凌源市公开建筑公司", 'C', false), ("凌源市公开食品厂", 'D', false));
        var plan = await AddPlanAsync(db, street);
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard);
        var shots = Path.Combine(TestEnv.ArtifactsDir, "inspections");
        Directory.CreateDirectory(shots);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Environment.GetEnvironmentVariable("LINGYUAN_CHROMIUM") ?? "/usr/bin/chromium", Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync(new() { BaseURL = server.BaseAddress.ToString(), Locale = "zh-CN", AcceptDownloads = true });
        var page = await context.NewPageAsync();

        // Before the draw: the commitment and when it was published, no sign-in.
        await page.GotoAsync("/public/draws");
        Assert.DoesNotContain("/login", page.Url);
        var row = page.Locator($"#plan-{plan.Id}");
        await Assertions.Expect(row.Locator("code.commitment")).ToHaveTextAsync(plan.CommitmentHex);
        await Assertions.Expect(row).ToContainTextAsync("北京时间");
        await Assertions.Expect(row.Locator("a.draw-link")).ToHaveCountAsync(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "public-0-before-draw.png"), FullPage = true });

        // The draw (frozen three days ago on the test clock, drawn now with the public value).
        var run = await DrawAsync(db, plan.Id);
        Assert.True(run.Succeeded);

        await page.GotoAsync("/public/draws");
        await page.Locator($"#plan-{plan.Id} a.draw-link").ClickAsync();
        await Assertions.Expect(page.Locator("#public_value")).ToHaveTextAsync(TestPublicValue);
        await Assertions.Expect(page.Locator("#commitment")).ToHaveTextAsync(plan.CommitmentHex);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "public-1-after-draw.png"), FullPage = true });
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-bundle"));
        var bundle = Path.Combine(shots, download.SuggestedFilename);
        await download.SaveAsAsync(bundle);

        var (ok, okOutput) = await ProofCheck.RunAsync(bundle);
        Assert.True(ok == 0, okOutput);

        var tampered = Path.Combine(shots, $"draw-{run.DrawId}-proof-one-inspector-swapped.zip");
        await File.WriteAllBytesAsync(tampered, ProofCheck.SwapOneInspector(await File.ReadAllBytesAsync(bundle)));
        var (rejected, badOutput) = await ProofCheck.RunAsync(tampered);
        Assert.True(rejected == 1, badOutput);
        Assert.Contains("FAILED result row 1", badOutput);

        // The staff pages still need sign-in.
        await page.GotoAsync($"/hangfire/draws/{run.DrawId}");
        Assert.Contains("/login", page.Url);
    }
}
