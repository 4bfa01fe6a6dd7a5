using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.Tests.ZeroEmployment;
using Lingyuan.Jobs.ZeroEmployment;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.ZeroEmployment;

/// <summary>
/// Chromium drives the zero-employment pages (issue #17, DOMAIN.md §3: identification is a person's act): the
/// community caseworker sees only the proposals of their communities, confirms one household and rejects another
/// with reasons, and the ledger counts only the confirmed one.
/// </summary>
public sealed class CaseworkerConfirmationBrowserTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    [Fact]
    public async Task A_caseworker_confirms_one_proposed_household_and_rejects_another_and_the_ledger_counts_only_the_confirmed_one()
    {
        await using var conn = await fixture.DataSource.OpenConnectionAsync();
        await ZeroEmploymentData.ResetAsync(conn);
        await ZeroEmploymentData.AddCommunityAsync(conn, "城关街道", "南街社区", "王芳", "wang.cw@browser.test");
        await ZeroEmploymentData.AddCommunityAsync(conn, "城关街道", "北街社区", "李强", "li.cw@browser.test");
        await ZeroEmploymentData.InsertAsync(conn, null,
            new Member("H-BR-CONFIRM", new DateOnly(1982, 4, 1), Male: true),
            new Member("H-BR-REJECT", new DateOnly(1986, 9, 1), Male: false, FemaleBaseline: 55),
            new Member("H-BR-NORTH", new DateOnly(1990, 1, 1), Male: true, Community: "北街社区"));

        await using var server = await TestServer.StartAsync(fixture);
        var check = server.App.Services.GetRequiredService<ZeroEmploymentCheck>();
        await check.RunAsync(check.Today(), CancellationToken.None);
        var users = server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("wang.cw", Roles.Caseworker, TestSignIn.Password, "test", CancellationToken.None);
        await users.SetEmailAsync("wang.cw", "wang.cw@browser.test", "test", CancellationToken.None);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ChromiumArgs, Headless = true });
        var shots = Path.Combine(TestEnv.ArtifactsDir, "zero-employment");
        Directory.CreateDirectory(shots);
        var page = await SignInAsync(browser, server, "wang.cw");

        // Before: both households of the caseworker's community await confirmation; the other community's is not shown.
        await page.GotoAsync("/hangfire/zero-employment");
        var south = page.Locator("tr[data-street='城关街道'][data-community='南街社区']");
        await Assertions.Expect(south.Locator("td[data-col=identified]")).ToHaveTextAsync("0");
        await Assertions.Expect(south.Locator("td[data-col=awaiting]")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("tr[data-community='北街社区']")).ToHaveCountAsync(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "0-ledger-before.png"), FullPage = true });

        await page.GotoAsync("/hangfire/zero-employment/proposals");
        await Assertions.Expect(page.Locator("tr[data-household]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("tr[data-household='H-BR-NORTH']")).ToHaveCountAsync(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "1-proposals.png"), FullPage = true });

        var confirm = page.Locator("tr[data-household='H-BR-CONFIRM']");
        await confirm.Locator("input[name=note]").FillAsync("入户核实:夫妻均失业,有就业意愿");
        await confirm.Locator("button[value=confirm]").ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-household='H-BR-CONFIRM']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#decided")).ToContainTextAsync("已确认认定案件");
        var reject = page.Locator("tr[data-household='H-BR-REJECT']");
        await reject.Locator("input[name=note]").FillAsync("入户核实:已在外地务工");
        await reject.Locator("button[value=reject]").ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-household='H-BR-REJECT']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#decided")).ToContainTextAsync("已不予认定案件");
        await Assertions.Expect(page.Locator("tr[data-household]")).ToHaveCountAsync(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "2-proposals-decided.png"), FullPage = true });

        // After: the ledger counts only the confirmed household as identified (and open); nothing awaits.
        await page.GotoAsync("/hangfire/zero-employment");
        await Assertions.Expect(south.Locator("td[data-col=identified]")).ToHaveTextAsync("1");
        await Assertions.Expect(south.Locator("td[data-col=open]")).ToHaveTextAsync("1");
        await Assertions.Expect(south.Locator("td[data-col=awaiting]")).ToHaveTextAsync("0");
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "3-ledger-after.png"), FullPage = true });

        var states = (await conn.QueryAsync<(string Household, string State, string? DecidedBy, string? Note)>(
            "SELECT household_no, state, decided_by, decision_note FROM app.zero_employment_cases ORDER BY household_no")).ToList();
        Assert.Equal(
            [("H-BR-CONFIRM", "identified", "wang.cw", "入户核实:夫妻均失业,有就业意愿"), ("H-BR-NORTH", "proposed", null, null), ("H-BR-REJECT", "rejected", "wang.cw", "入户核实:已在外地务工")],
            states.Select(s => (s.Household, s.State, s.DecidedBy, s.Note)));
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.audit_log WHERE actor = 'wang.cw' AND action IN ('zero-employment.confirm', 'zero-employment.reject')"));
    }

    private static Task<IPage> SignInAsync(IBrowser browser, TestServer server, string user) =>
        Browser.SignedInPageAsync(browser, server, user);
}
