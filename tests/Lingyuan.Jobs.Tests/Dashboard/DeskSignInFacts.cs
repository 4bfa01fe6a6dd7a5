using System.Net;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Dashboard;

/// <summary>A notice source registered as a feature would register one: the home page must show what it returns.</summary>
public sealed class TestHomeNotices : IHomeNotices
{
    public Task<IReadOnlyList<HomeNotice>> ForAsync(ClaimsPrincipal user, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<HomeNotice>>([new HomeNotice(NoticeLevel.Warning, $"测试提示:{user.Identity?.Name}", "/hangfire/recurring")]);
}

/// <summary>
/// A server whose sign-in limiter admits one sign-in at a time and queues none: the strictest setting, so a
/// 429 for a person who types correctly would show here.
/// </summary>
public sealed class DeskFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.All,
            new() { ["Dashboard:LoginConcurrency"] = "1", ["Dashboard:LoginQueue"] = "0" },
            s => s.AddSingleton<IHomeNotices, TestHomeNotices>());
    }

    public override async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }
}

/// <summary>Issue 19: sign-in limits that do not punish people who type correctly; every role lands on its home page.</summary>
public partial class DeskSignInFacts(DeskFixture fx) : IClassFixture<DeskFixture>
{
    private TestServer Server => fx.Server;

    [Fact]
    public async Task Six_successful_sign_ins_of_one_clerk_in_a_minute_are_all_accepted_and_land_on_the_home_page()
    {
        await Server.App.Services.GetRequiredService<UserStore>().AddAsync("desk-clerk", Roles.Inspection, TestSignIn.Password, "test", default);
        var started = DateTime.UtcNow;
        for (var i = 1; i <= 6; i++)
        {
            var client = Server.Client();
            var response = await TestServer.PostLoginAsync(client, "desk-clerk", TestSignIn.Password);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in {i} answered {(int)response.StatusCode}");
            Assert.Equal(HomePage.Url, response.Headers.Location!.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(HomePage.Url)).StatusCode);
        }
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(1), "the six sign-ins took over a minute; the fact did not test what it says");
        Assert.Equal(0L, await fx.ScalarAsync<long>("SELECT count(*) FROM app.sign_in_failures WHERE user_name = 'desk-clerk'"));
    }

    [Fact]
    public async Task A_clerk_who_mistypes_a_few_times_still_signs_in_with_the_right_password()
    {
        await Server.App.Services.GetRequiredService<UserStore>().AddAsync("desk-typo", Roles.Operator, TestSignIn.Password, "test", default);
        var client = Server.Client();
        for (var i = 0; i < 4; i++) // the account locks at the fifth failure (Dashboard:LoginFailuresPerAccount)
            Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(client, "desk-typo", "Birch-canyon-47-lanturn")).StatusCode);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Redirect, (await TestServer.PostLoginAsync(Server.Client(), "desk-typo", TestSignIn.Password)).StatusCode);
        Assert.Equal(4L, await fx.ScalarAsync<long>("SELECT count(*) FROM app.sign_in_failures WHERE user_name = 'desk-typo'"));
    }

    [Fact]
    public async Task Each_role_sees_its_own_work_on_the_home_page_and_every_registered_notice()
    {
        var finance = await Server.SignedInClientAsync("desk-home-fin", Roles.Finance);
        var inspection = await Server.SignedInClientAsync("desk-home-insp", Roles.Inspection);
        var op = await Server.SignedInClientAsync("desk-home-op", Roles.Operator);
        var caseworker = await Server.SignedInClientAsync("desk-home-cw", Roles.Caseworker);
        var admin = await Server.SignedInClientAsync("desk-home-admin", Roles.Admin);

        async Task<string> Home(HttpClient c) => WebUtility.HtmlDecode(await c.GetStringAsync(HomePage.Url));
        var f = await Home(finance);
        Assert.Contains("待遇发放", f);
        Assert.Contains("待您审批的批次", f);
        Assert.DoesNotContain("双随机抽查</h2>", f);
        Assert.Contains("测试提示:desk-home-fin", f);

        var i = await Home(inspection);
        Assert.Contains("双随机抽查</h2>", i);
        Assert.Contains("欠薪失信名单</h2>", i);
        Assert.DoesNotContain("待遇发放</h2>", i);

        var o = await Home(op);
        Assert.Contains("运行情况</h2>", o);
        Assert.Contains("失败的任务", o);
        Assert.DoesNotContain("待遇发放</h2>", o);

        var cw = await Home(caseworker);
        Assert.Contains("本社区帮扶中的家庭", cw);
        Assert.DoesNotContain("运行情况</h2>", cw);

        var a = await Home(admin);
        foreach (var area in new[] { "待遇发放", "双随机抽查", "欠薪失信名单", "零就业家庭", "运行情况" })
            Assert.Contains($"{area}</h2>", a);
        Assert.Contains("修改密码", a); // the self-service password change is linked from every page
        Assert.Contains($"href=\"{AccountPages.PasswordPath}\"", a);
    }

    [Fact]
    public async Task The_finance_home_page_counts_batches_waiting_from_the_batches_themselves()
    {
        var r = new RegisterRows(fx.DataSource);
        await r.ExecAsync("TRUNCATE app.disbursement_recoveries, app.disbursement_outcomes, app.disbursement_lines, app.disbursement_batch_benefits, app.disbursement_batches");
        await r.ExecAsync("""
            INSERT INTO app.disbursement_batches (period, state, built_by) VALUES ('2025-01-01', 'draft', 'test'), ('2025-02-01', 'draft', 'test');
            INSERT INTO app.disbursement_batches (period, state, built_by, submitted_by, submitted_at) VALUES
                ('2025-03-01', 'submitted', 'test', 'desk-count-fin', now()), ('2025-04-01', 'submitted', 'test', 'someone-else', now());
            """);
        var finance = await Server.SignedInClientAsync("desk-count-fin", Roles.Finance);
        var html = await finance.GetStringAsync(HomePage.Url);
        Assert.Equal("2", Count(html, "待核对并提交审批的批次(草稿)"));
        Assert.Equal("1", Count(html, "待您审批的批次(他人提交)")); // not the one this person submitted (four eyes)
    }

    private static string Count(string html, string label) =>
        Regex.Match(html, $"""<tr data-work="{Regex.Escape(label)}">.*?data-count="(\d+)" """.TrimEnd(), RegexOptions.Singleline) is { Success: true } m
            ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"no count for {label}");
}
