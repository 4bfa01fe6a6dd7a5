using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;

namespace Lingyuan.Jobs.BrowserTests.WageArrears;

/// <summary>
/// Chromium drives the arrears pages (issue 16): one inspection user issues the notice, records its service and
/// proposes listing; another user, the department head, approves; the decision shows the measures of
/// 《保障农民工工资支付条例》 art. 48 word for word. Screenshots in artifacts/test/wage-arrears/.
/// </summary>
public sealed class ArrearsListingBrowserTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private static DateTimeOffset At(string day, int hour) =>
        new(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture).ToDateTime(new TimeOnly(hour, 0)), TimeSpan.FromHours(8));

    [Fact]
    public async Task One_inspector_issues_and_proposes_another_user_with_the_decider_duty_approves_and_the_decision_shows_article_48()
    {
        var clock = new FakeTimeProvider(At("2026-03-03", 9));
        await using var server = await TestServer.StartAsync(fixture, AppRole.Dashboard, testServices: s => s.AddSingleton<TimeProvider>(clock));
        var users = server.App.Services.GetRequiredService<UserStore>();
        foreach (var name in new[] { "zhao.insp", "qian.head" })
        {
            try { await users.AddAsync(name, Roles.Inspection, TestSignIn.Password, "test", default); }
            catch (DomainRuleException) { /* exists from an earlier run on this database */ }
        }
        await users.SetDeciderAsync("qian.head", true, "test", default);

        // A listable case whose payment deadline passed yesterday; the daily job makes it a candidate.
        var body = "91211382" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant().Replace('I', '1').Replace('O', '0').Replace('S', '5').Replace('V', 'W').Replace('Z', '2');
        var uscc = body + Uscc.CheckCharacter(body);
        var idBody = "21138219790304" + Random.Shared.Next(0, 1000).ToString("000");
        var caseNo = $"BR-{Guid.NewGuid():N}"[..20];
        await using (var conn = await fixture.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("""
                INSERT INTO app.employers (uscc, name, street, community, industry, risk_class, migrant_workers, email, legal_rep_name, legal_rep_id_number)
                VALUES (@uscc, '凌源市浏览器测试建筑有限公司', '城关街道', '东城社区', '建筑业', 'C', 40, 'boss@browser.test', '孙浩', @id)
                """, new { uscc, id = idBody + IdNumber.CheckCharacter(idBody) });
            await conn.ExecuteAsync("""
                INSERT INTO app.arrears_cases (case_no, uscc, workers_affected, amount_owed_fen, max_months_owed, order_issued_on, pay_deadline, incident, responsible_persons)
                VALUES (@caseNo, @uscc, 12, 8600000, 4, '2026-02-13', '2026-03-02', 'none', '项目经理 李强')
                """, new { caseNo, uscc });
        }
        await server.App.Services.GetRequiredService<ArrearsProcedure>().RunDailyAsync(default);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Args = ChromiumArgs, Headless = true });
        var shots = Path.Combine(TestEnv.ArtifactsDir, "wage-arrears");
        Directory.CreateDirectory(shots);
        var caseUrl = $"/hangfire/arrears/cases/{caseNo}";

        // The inspector finds the case in the work queue, reviews the draft and issues the notice for postal service.
        var inspector = await SignInAsync(browser, server, "zhao.insp");
        await inspector.GotoAsync("/hangfire/arrears");
        await Assertions.Expect(inspector.Locator("#work-queue")).ToContainTextAsync("审阅告知书草稿");
        await inspector.ScreenshotAsync(new() { Path = Path.Combine(shots, "0-work-queue.png"), FullPage = true });
        await inspector.ClickAsync($"a[href='{caseUrl}']");
        await inspector.CheckAsync($"#issue-notice input[value='{ServiceMethods.Post}']");
        await inspector.ClickAsync("#issue-notice button[type=submit]");
        await Assertions.Expect(inspector.Locator("#case-state")).ToHaveAttributeAsync("data-state", "notice_issued");

        // The receipt is dated today, Mar 3: the statement period runs Mar 4-10.
        await inspector.FillAsync("#record-service input[name=ServedOn]", "2026-03-03");
        await inspector.FillAsync("#record-service input[name=Evidence]", "挂号信 XA0001 回执");
        await inspector.ClickAsync("#record-service button[type=submit]");
        await Assertions.Expect(inspector.Locator("#case-state")).ToHaveAttributeAsync("data-state", "notice_served");
        await Assertions.Expect(inspector.Locator("body")).ToContainTextAsync("2026-03-10");
        await inspector.ScreenshotAsync(new() { Path = Path.Combine(shots, "1-served.png"), FullPage = true });

        // After the statement period the inspector proposes listing; the page offers no approval to the proposer.
        clock.SetUtcNow(At("2026-03-12", 9));
        inspector = await SignInAsync(browser, server, "zhao.insp");
        await inspector.GotoAsync(caseUrl);
        await inspector.CheckAsync("#propose input[value='listed']");
        await inspector.ClickAsync("#propose button[type=submit]");
        await Assertions.Expect(inspector.Locator("#case-state")).ToHaveAttributeAsync("data-state", "decision_proposed");
        await inspector.ScreenshotAsync(new() { Path = Path.Combine(shots, "2-proposed.png"), FullPage = true });
        await Assertions.Expect(inspector.Locator("#approve")).ToHaveCountAsync(0);
        await Assertions.Expect(inspector.Locator("body")).ToContainTextAsync("待部门负责人审批");

        // The department head approves.
        var head = await SignInAsync(browser, server, "qian.head");
        await head.GotoAsync(caseUrl);
        await head.ClickAsync("#approve button[type=submit]");
        await Assertions.Expect(head.Locator("#case-state")).ToHaveAttributeAsync("data-state", "listed");
        await head.ScreenshotAsync(new() { Path = Path.Combine(shots, "3-listed.png"), FullPage = true });

        await head.ClickAsync("a:has-text('列入拖欠农民工工资失信联合惩戒对象名单决定书')");
        var text = await head.InnerTextAsync("body");
        await head.ScreenshotAsync(new() { Path = Path.Combine(shots, "4-decision-document.png"), FullPage = true });
        Assert.Contains("在政府资金支持、政府采购、招投标、融资贷款、市场准入、税收优惠、评优评先、交通出行等方面依法依规予以限制", text);
        foreach (var notInArticle48 in new[] { "生产许可", "履约担保", "资质审核" })
            Assert.DoesNotContain(notInArticle48, text);
        Assert.Contains("孙浩", text);
        Assert.Contains("项目经理 李强", text);
    }

    private static Task<IPage> SignInAsync(IBrowser browser, TestServer server, string user) =>
        Browser.SignedInPageAsync(browser, server, user);
}
