using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.BrowserTests.Dashboard;

public sealed class DashboardBrowserFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;
    public Browser Browser { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.All, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        await Browser.InitializeAsync();
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("web-admin", Roles.Admin, TestSignIn.Password, "test", CancellationToken.None);
        await users.AddAsync("web-operator", Roles.Operator, TestSignIn.Password, "test", CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

public class DashboardBrowserFacts(DashboardBrowserFixture fx) : IClassFixture<DashboardBrowserFixture>
{
    [Fact]
    public async Task An_anonymous_visitor_is_sent_to_the_Chinese_login_page()
    {
        var page = await fx.Browser.NewPageAsync(fx.Server.BaseAddress);
        await page.GotoAsync("/hangfire/recurring");
        Assert.Contains("/login", page.Url);
        Assert.Contains("用户名", await page.ContentAsync());
        await Browser.ScreenshotAsync(page, "login");
    }

    [Fact]
    public async Task An_admin_signs_in_sees_the_dashboard_in_Chinese_and_may_trigger_and_delete_jobs()
    {
        var page = await fx.Browser.NewPageAsync(fx.Server.BaseAddress);
        await Browser.SignInAsync(page, "web-admin", TestSignIn.Password, await TestSignIn.CodeAsync(fx.Server.App.Services, "web-admin"));
        Assert.EndsWith("/hangfire/home", page.Url); // issue 19: each role lands on its home page
        await page.GotoAsync("/hangfire");
        Assert.Contains("仪表盘", await page.TitleAsync());
        await page.GotoAsync("/hangfire/recurring");
        var text = await page.InnerTextAsync("body");
        Assert.Contains("定时任务", text); // one name for recurring jobs on every page (issue #18)
        Assert.True(await page.Locator("button.js-jobs-list-command").CountAsync() >= 2, "trigger and delete buttons expected");
        await Browser.ScreenshotAsync(page, "recurring-admin");
    }

    [Fact]
    public async Task An_operator_sees_the_same_pages_without_trigger_or_delete_buttons()
    {
        Assert.NotEmpty(fx.Server.App.Services.GetRequiredService<JobCatalog>().All);
        var page = await fx.Browser.NewPageAsync(fx.Server.BaseAddress);
        await Browser.SignInAsync(page, "web-operator", TestSignIn.Password);
        await page.GotoAsync("/hangfire/recurring");
        var text = await page.InnerTextAsync("body");
        Assert.Contains("定时任务", text); // one name for recurring jobs on every page (issue #18)
        Assert.Equal(0, await page.Locator("button.js-jobs-list-command").CountAsync());
        foreach (var job in fx.Server.App.Services.GetRequiredService<JobCatalog>().All)
            Assert.Contains(job.NameZh, text);
        await Browser.ScreenshotAsync(page, "recurring-operator");
    }
}
