using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.Dashboard;

/// <summary>
/// Issue 19 in Chromium, as the clerks would do it: an admin creates a finance account on the users page; the new
/// person signs in, sets their own password and enrols the one-time code; they build a catch-up month from the
/// batches page and submit it; a second finance user approves through the confirmation of period, lines and
/// total; the XLSX summary's amounts are numbers. Screenshots in artifacts/test/screenshots/desk-*.png.
/// </summary>
public sealed class ClerkDeskBrowserFacts(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly Browser _browser = new();
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        await _browser.InitializeAsync();
        // The bureau went live two months ago: the service's first month (before it, the old system paid).
        var current = fixture.Services.GetRequiredService<BureauClock>().CurrentPeriod;
        _server = await TestServer.StartAsync(fixture, extra: new() { ["Disbursements:FirstPeriod"] = Period.Of(current.FirstDay.AddMonths(-2)).ToString() });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _browser.DisposeAsync();
    }

    [Fact]
    public async Task An_admin_creates_a_finance_user_who_builds_a_catch_up_month_that_another_approves_after_confirming()
    {
        var r = new RegisterRows(fixture.DataSource);
        await r.ResetAsync();
        var current = _server.App.Services.GetRequiredService<BureauClock>().CurrentPeriod;
        var start = Period.Of(current.FirstDay.AddMonths(-2));
        for (var n = 1; n <= 5; n++) await r.RecipientAsync(n, amountFen: 150_000 * n + 58, start: start.FirstDay.ToString("yyyy-MM-dd"));
        var users = _server.App.Services.GetRequiredService<UserStore>();
        await r.AddUserAsync(users, "desk-admin", Roles.Admin);
        await r.AddUserAsync(users, "desk-approver", Roles.Finance);

        // The admin creates the account; the generated password is shown once.
        var admin = await _browser.NewPageAsync(_server.BaseAddress);
        await Browser.SignInAsync(admin, "desk-admin", TestSignIn.Password, await TestSignIn.CodeAsync(_server.App.Services, "desk-admin"));
        Assert.EndsWith(HomePage.Url, admin.Url);
        await admin.ClickAsync("nav a[href='/hangfire/users']");
        await admin.FillAsync("#create-user input[name=name]", "desk-fin");
        await admin.SelectOptionAsync("#create-user select[name=role]", Roles.Finance);
        await admin.FillAsync("#create-user input[name=email]", "desk-fin@lingyuan-hrss.local");
        await admin.ClickAsync("#create-user button[type=submit]");
        var initial = (await admin.Locator("#initial-password").InnerTextAsync()).Trim();
        await Assertions.Expect(admin.Locator("tr[data-user='desk-fin']")).ToContainTextAsync("财务审核");
        await Browser.ScreenshotAsync(admin, "desk-1-admin-created-finance-user");

        // The new person signs in: first their own password, then the one-time code (finance must use one).
        var fin = await _browser.NewPageAsync(_server.BaseAddress);
        await Browser.SignInAsync(fin, "desk-fin", initial);
        Assert.EndsWith(AccountPages.PasswordPath, fin.Url);
        await Browser.ScreenshotAsync(fin, "desk-2-must-change-password");
        const string own = "Walnut-harbor-83-compass";
        await fin.FillAsync("input[name=Current]", initial);
        await fin.FillAsync("input[name=New]", own);
        await fin.FillAsync("input[name=Repeat]", own);
        await fin.ClickAsync("form.login button[type=submit]");
        await fin.WaitForURLAsync("**" + AccountPages.TwoFactorPath);
        var secret = (await fin.Locator("#totp-secret").InnerTextAsync()).Trim();
        await Browser.ScreenshotAsync(fin, "desk-3-enrol-one-time-code");
        await fin.FillAsync("input[name=Code]", TwoFactor.Code(secret, DateTimeOffset.UtcNow));
        await fin.ClickAsync("form.login button[type=submit]");
        await fin.WaitForURLAsync("**" + HomePage.Url);
        await Assertions.Expect(fin.Locator("tr[data-work='尚未生成批次的月份'] td.num")).ToHaveAttributeAsync("data-count", "3");
        await Browser.ScreenshotAsync(fin, "desk-4-finance-home");
        Assert.False((await users.FindAsync("desk-fin", default))!.MustChangePassword);
        Assert.NotNull(await users.TotpSecretAsync("desk-fin", default));

        // A catch-up month built from the page.
        await fin.GotoAsync("/hangfire/batches");
        await Assertions.Expect(fin.Locator("#catch-up button")).ToHaveCountAsync(3);
        await Browser.ScreenshotAsync(fin, "desk-5-catch-up-months");
        await fin.ClickAsync($"#catch-up button[data-period='{start}']");
        await Assertions.Expect(fin.Locator("#build-requested")).ToContainTextAsync(start.ToString());
        var row = fin.Locator("#batches tbody tr", new() { HasText = start.ToString() });
        for (var i = 0; i < 60 && await row.CountAsync() == 0; i++)
        {
            await Task.Delay(1000);
            await fin.ReloadAsync();
        }
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Browser.ScreenshotAsync(fin, "desk-6-built");
        await row.Locator("a").First.ClickAsync();
        await fin.ClickAsync("#submit-batch");
        await Assertions.Expect(fin.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "submitted");
        var batchId = long.Parse(await fin.Locator("#batch-id").InnerTextAsync());
        Assert.Equal("desk-fin", await r.ScalarAsync<string>("SELECT built_by FROM app.disbursement_batches WHERE id = @batchId", new { batchId }));

        // Another finance user approves: the confirmation shows period, line count and total.
        var approver = await _browser.NewPageAsync(_server.BaseAddress);
        await Browser.SignInAsync(approver, "desk-approver", TestSignIn.Password, await TestSignIn.CodeAsync(_server.App.Services, "desk-approver"));
        await Assertions.Expect(approver.Locator("tr[data-work='待您审批的批次(他人提交)'] td.num")).ToHaveAttributeAsync("data-count", "1");
        await approver.GotoAsync($"/hangfire/batches/{batchId}");
        await approver.ClickAsync("#approve-batch");
        const long totalFen = 150_000L * 15 + 58 * 5;
        await Assertions.Expect(approver.Locator("#confirm-period")).ToHaveTextAsync(start.ToString());
        await Assertions.Expect(approver.Locator("#confirm-count")).ToHaveAttributeAsync("data-value", "5");
        await Assertions.Expect(approver.Locator("#confirm-total")).ToHaveAttributeAsync("data-fen", totalFen.ToString());
        await Assertions.Expect(approver.Locator("#confirm-total")).ToHaveTextAsync(Money.Yuan(totalFen));
        await Browser.ScreenshotAsync(approver, "desk-7-approval-confirmation");
        await approver.CheckAsync("input[name=confirm]");
        await approver.ClickAsync("#confirm-approve");
        await Assertions.Expect(approver.Locator("#batch-state")).ToHaveAttributeAsync("data-state", "approved");
        await Browser.ScreenshotAsync(approver, "desk-8-approved");

        // The summary's amounts are numbers with a number format.
        var download = await approver.RunAndWaitForDownloadAsync(() => approver.ClickAsync("#download-summary"));
        var file = Path.Combine(TestEnv.ArtifactsDir, "screenshots", download.SuggestedFilename);
        await download.SaveAsAsync(file);
        await using var xlsx = File.OpenRead(file);
        var amounts = XlsxCells.Column(xlsx, "汇总", "金额(元)");
        Assert.NotEmpty(amounts);
        Assert.All(amounts, c => Assert.True(c.IsNumber && c.FormatCode == "#,##0.00", $"amount cell {c.Value}: type {c.Type}, format {c.FormatCode}"));
        Assert.Equal(totalFen / 100m, amounts.Sum(c => decimal.Parse(c.Value, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
