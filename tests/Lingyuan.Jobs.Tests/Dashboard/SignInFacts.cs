using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Dashboard;

/// <summary>A deployment of its own (database + dashboard server) for the sign-in facts.</summary>
public sealed class SignInFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.Dashboard);
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

/// <summary>Issue 14: sign-in the bureau controls. Each fact is named after the finding it closes.</summary>
public partial class SignInFacts(SignInFixture fx, ITestOutputHelper output) : IClassFixture<SignInFixture>
{
    private TestServer Server => fx.Server;

    private static string SessionCookie(TestServer server, HttpClient client, CookieContainer cookies) =>
        cookies.GetCookies(server.BaseAddress).Single(c => c.Name == "lingyuan.jobs").Value;

    private HttpClient WithCookie(TestServer server, string cookie)
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Add("Cookie", $"lingyuan.jobs={cookie}");
        return client;
    }

    private static async Task<(HttpClient Client, CookieContainer Cookies)> SignInAsync(TestServer server, string name, string role)
    {
        var users = server.App.Services.GetRequiredService<UserStore>();
        try { await users.AddAsync(name, role, TestSignIn.Password, "test", CancellationToken.None); }
        catch (DomainRuleException) { }
        var client = server.Client(out var cookies);
        var response = await TestServer.PostLoginAsync(client, name, TestSignIn.Password, await TestSignIn.CodeAsync(server.App.Services, name));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/hangfire/home", response.Headers.Location!.OriginalString); // issue 19: each role lands on its home page
        return (client, cookies);
    }

    private static void AssertAnonymous(HttpResponseMessage response, string what)
    {
        Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest,
            $"{what}: {(int)response.StatusCode}");
        if (response.StatusCode == HttpStatusCode.Redirect)
            Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Finding1_a_cookie_minted_by_another_deployment_is_refused()
    {
        var other = new DatabaseFixture();
        await other.InitializeAsync();
        try
        {
            await using var serverB = await TestServer.StartAsync(other, AppRole.Dashboard);
            var (clientB, cookiesB) = await SignInAsync(serverB, "stranger", Roles.Admin);
            Assert.Equal(HttpStatusCode.OK, (await clientB.GetAsync("/hangfire")).StatusCode);
            var cookie = SessionCookie(serverB, clientB, cookiesB);

            var atA = WithCookie(Server, cookie);
            AssertAnonymous(await atA.GetAsync("/hangfire"), "dashboard");
            AssertAnonymous(await atA.GetAsync("/hangfire/recurring"), "recurring jobs");
            AssertAnonymous(await atA.PostAsync("/hangfire/recurring/trigger",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "outbox-delivery" })), "job trigger");
            AssertAnonymous(await atA.GetAsync("/hangfire/batches/1/bank-file"), "bank file");
            AssertAnonymous(await atA.GetAsync("/hangfire/batches"), "batches");
            Assert.Equal(0L, await fx.ScalarAsync<long>("SELECT count(*) FROM app.audit_log WHERE actor = 'stranger'"));
        }
        finally
        {
            await other.DisposeAsync();
        }
    }

    [Fact]
    public async Task Finding1_every_instance_of_one_deployment_shares_the_key_ring_in_its_database()
    {
        await using var second = await TestServer.StartAsync(fx, AppRole.Dashboard);
        var (client, cookies) = await SignInAsync(Server, "twin-operator", Roles.Operator);
        var atSecond = WithCookie(second, SessionCookie(Server, client, cookies));
        Assert.Equal(HttpStatusCode.OK, (await atSecond.GetAsync("/hangfire")).StatusCode);
        Assert.True(await fx.ScalarAsync<long>("SELECT count(*) FROM app.data_protection_keys") >= 1);
    }

    [Fact]
    public async Task Finding1_a_cookie_is_refused_after_logout()
    {
        var (client, cookies) = await SignInAsync(Server, "leaver", Roles.Admin);
        var cookie = SessionCookie(Server, client, cookies);
        var token = await TestServer.AntiforgeryTokenAsync(client, "/hangfire/outbox");
        var logout = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        AssertAnonymous(await WithCookie(Server, cookie).GetAsync("/hangfire"), "dashboard after logout");
        Assert.Equal(1L, await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'sign-out' AND subject_id = 'leaver' AND channel = 'web'"));
        Assert.Equal(1L, await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.user_sessions WHERE user_name = 'leaver' AND revoked_at IS NOT NULL AND revoked_reason = 'logout'"));
        // A GET of /logout changes nothing: it only offers the button.
        var (client2, cookies2) = await SignInAsync(Server, "leaver", Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await client2.GetAsync("/logout")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await WithCookie(Server, SessionCookie(Server, client2, cookies2)).GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Finding1_disabling_a_user_or_changing_its_role_ends_its_sessions_at_once()
    {
        var users = Server.App.Services.GetRequiredService<UserStore>();
        var (op, _) = await SignInAsync(Server, "soon-disabled", Roles.Operator);
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync("/hangfire")).StatusCode);
        await users.SetDisabledAsync("soon-disabled", true, "test", default);
        AssertAnonymous(await op.GetAsync("/hangfire"), "dashboard after disabling");
        var refused = await TestServer.PostLoginAsync(Server.Client(), "soon-disabled", TestSignIn.Password);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var (insp, _) = await SignInAsync(Server, "role-changed", Roles.Inspection);
        Assert.Equal(HttpStatusCode.OK, (await insp.GetAsync("/hangfire")).StatusCode);
        await users.SetRoleAsync("role-changed", Roles.Operator, "test", default);
        AssertAnonymous(await insp.GetAsync("/hangfire"), "dashboard after a role change");

        Assert.Equal(2L, await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'session.revoke-all' AND subject_id IN ('soon-disabled', 'role-changed')"));
        // The sign-in and the failure are audited on channel web.
        Assert.True(await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'sign-in' AND subject_id = 'soon-disabled' AND channel = 'web'") >= 1);
        Assert.True(await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'sign-in.failed' AND subject_id = 'soon-disabled' AND channel = 'web'") >= 1);
    }

    [Fact]
    public async Task The_decider_duty_and_the_caseworker_role_are_kept_on_the_account_and_audited()
    {
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("head-of-dept", Roles.Inspection, TestSignIn.Password, "test", default);
        await users.AddAsync("cw-one", Roles.Caseworker, TestSignIn.Password, "test", default);
        await users.SetEmailAsync("cw-one", "cw-one@example.test", "test", default);
        var work = Server.App.Services.GetRequiredService<Lingyuan.Jobs.Database.Work>();
        Assert.False(await work.RunAsync("t", uow => UserStore.IsDeciderAsync(uow, "head-of-dept"), default));
        await users.SetDeciderAsync("head-of-dept", true, "test", default);
        Assert.True(await work.RunAsync("t", uow => UserStore.IsDeciderAsync(uow, "head-of-dept"), default));
        await users.SetDisabledAsync("head-of-dept", true, "test", default);
        Assert.False(await work.RunAsync("t", uow => UserStore.IsDeciderAsync(uow, "head-of-dept"), default));
        Assert.False(await work.RunAsync("t", uow => UserStore.IsDeciderAsync(uow, "nobody"), default));
        await Assert.ThrowsAsync<UsageException>(() => users.SetEmailAsync("cw-one", "not an address", "test", default));
        Assert.Equal("cw-one@example.test", await fx.ScalarAsync<string>("SELECT email FROM app.users WHERE name = 'cw-one'"));
        Assert.Equal(1L, await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'user.set-decider' AND subject_id = 'head-of-dept'"));
        var (cw, _) = await SignInAsync(Server, "cw-two", Roles.Caseworker);
        Assert.Equal(HttpStatusCode.OK, (await cw.GetAsync("/account/password")).StatusCode);
    }

    [Fact]
    public async Task Finding1_another_instance_notices_a_revoked_session_within_the_check_interval()
    {
        await using var second = await TestServer.StartAsync(fx, AppRole.Dashboard, new() { ["Dashboard:SessionCheckInterval"] = "00:00:01" });
        var (client, cookies) = await SignInAsync(Server, "two-places", Roles.Operator);
        var atSecond = WithCookie(second, SessionCookie(Server, client, cookies));
        Assert.Equal(HttpStatusCode.OK, (await atSecond.GetAsync("/hangfire")).StatusCode);
        await Server.App.Services.GetRequiredService<UserStore>().SetDisabledAsync("two-places", true, "test", default);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        AssertAnonymous(await atSecond.GetAsync("/hangfire"), "the other instance after disabling");
    }

    [Fact]
    public async Task Finding4_return_urls_never_leave_the_site_and_never_fail()
    {
        string[] hostile = ["/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/", "//evil.example", "/\\evil.example",
            "https://evil.example/", "/ /evil.example", "\\\\evil.example", "/\u3000/evil.example", "javascript:alert(1)"];
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("returner", Roles.Operator, TestSignIn.Password, "test", default);
        foreach (var url in hostile)
        {
            var response = await TestServer.PostLoginAsync(Server.Client(), "returner", TestSignIn.Password, returnUrl: url);
            if (url.Any(char.IsControl))
            {
                // A control character in any form field is refused before sign-in (RequestSafety): 400 in Chinese.
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Contains("无效字符", await response.Content.ReadAsStringAsync());
                continue;
            }
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/hangfire/home", response.Headers.Location!.OriginalString); // issue 19: each role lands on its home page
        }
        var local = await TestServer.PostLoginAsync(Server.Client(), "returner", TestSignIn.Password, returnUrl: "/hangfire/outbox?page=2");
        Assert.Equal("/hangfire/outbox?page=2", local.Headers.Location!.OriginalString);

        foreach (var raw in new[] { "/%09/evil.example/", "/%0A/evil.example/", "/%0D%0A/x", "//x", "/%5Cx", "%2F%2Fevil.example" })
        {
            var page = await Server.Client().GetAsync($"/login?returnUrl={raw}");
            // Control characters in a query string are refused outright (400); the others show the form.
            Assert.Equal(raw.Contains("%0", StringComparison.Ordinal) ? HttpStatusCode.BadRequest : HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.DoesNotContain("evil.example", html);
        }
    }

    [Fact]
    public async Task Finding7_weak_long_or_broken_passwords_are_refused()
    {
        var users = Server.App.Services.GetRequiredService<UserStore>();
        string[] refused = ["        ", "aaaaaaaa", "aaaaaaaaaaaa", "short-1", "password1234", "Zhangsan-Lantern-93!", "zhangsan", "1234567890123",
            "Birch-canyon-\uFFFD47-lantern", new string('x', 600) + "Birch-canyon-47-lantern" + new string('字', 200)];
        foreach (var pw in refused)
            await Assert.ThrowsAsync<UsageException>(() => users.AddAsync("zhangsan", Roles.Operator, pw, "test", default));
        Assert.Null(await users.FindAsync("zhangsan", default));
        Assert.Contains("包含用户名", PasswordRules.Problem("zhangsan", "Zhangsan-Lantern-93!"));
        await users.AddAsync("zhangsan", Roles.Operator, TestSignIn.Password, "test", default);
    }

    [Fact]
    public async Task Finding7_an_oversized_or_broken_password_is_refused_at_sign_in_without_hashing()
    {
        var client = Server.Client();
        var token = await TestServer.AntiforgeryTokenAsync(client, "/login");
        // 2 KB: read, but refused before hashing.
        var big = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["UserName"] = "nobody-big", ["Password"] = new string('p', 2048),
        }));
        Assert.Equal(HttpStatusCode.BadRequest, big.StatusCode);
        Assert.Contains("1024", await big.Content.ReadAsStringAsync());

        // 8 MB: the body is refused before it is read.
        var started = DateTime.UtcNow;
        var huge = new StringContent($"__RequestVerificationToken={Uri.EscapeDataString(token)}&UserName=nobody-huge&Password=" + new string('p', 8 << 20),
            Encoding.ASCII, "application/x-www-form-urlencoded");
        HttpStatusCode status;
        try { status = (await client.PostAsync("/login", huge)).StatusCode; }
        catch (HttpRequestException) { status = HttpStatusCode.RequestEntityTooLarge; } // the server may close the connection mid-upload
        Assert.True(status is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest, $"8 MB sign-in answered {(int)status}");
        output.WriteLine($"8 MB sign-in: {(int)status} in {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms");

        // Bytes that are not UTF-8 become U+FFFD in the form value: refused, not hashed.
        var broken = new ByteArrayContent([.. Encoding.ASCII.GetBytes($"__RequestVerificationToken={Uri.EscapeDataString(token)}&UserName=nobody-bytes&Password=abc"), 0xFF, 0xFE, .. Encoding.ASCII.GetBytes("defghijklmn")]);
        broken.Headers.ContentType = new("application/x-www-form-urlencoded");
        var brokenResponse = await client.PostAsync("/login", broken);
        Assert.Equal(HttpStatusCode.BadRequest, brokenResponse.StatusCode);
        Assert.Contains("有效文本", await brokenResponse.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Finding7_a_user_changes_their_own_password_and_their_other_sessions_end()
    {
        var (first, _) = await SignInAsync(Server, "changer", Roles.Operator);
        var (second, _) = await SignInAsync(Server, "changer", Roles.Operator);
        const string newPassword = "Quiet-harbour-81-teapot";

        var token = await TestServer.AntiforgeryTokenAsync(first, AccountPages.PasswordPath);
        async Task<HttpResponseMessage> ChangeAsync(string current, string next, string repeat) =>
            await first.PostAsync(AccountPages.PasswordPath, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["Current"] = current, ["New"] = next, ["Repeat"] = repeat,
            }));
        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync("wrong-current-password", newPassword, newPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(TestSignIn.Password, "aaaaaaaaaaaa", "aaaaaaaaaaaa")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ChangeAsync(TestSignIn.Password, newPassword, newPassword + "x")).StatusCode);
        var changed = await ChangeAsync(TestSignIn.Password, newPassword, newPassword);
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/hangfire")).StatusCode);
        AssertAnonymous(await second.GetAsync("/hangfire"), "the other session after a password change");
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Server.Client(), "changer", TestSignIn.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await TestServer.PostLoginAsync(Server.Client(), "changer", newPassword)).StatusCode);
    }

    [Fact]
    public async Task Finding7_an_admin_reset_lets_the_person_in_only_to_set_a_new_password()
    {
        await SignInAsync(Server, "forgetful", Roles.Operator);
        var (code, text) = await ServiceProcess.RunAsync(fx, "users reset-password forgetful", stdin: "Temporary-maple-52-kettle\n");
        Assert.True(code == 0, text);
        Assert.Equal(1L, await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'user.reset-password' AND subject_id = 'forgetful' AND channel = 'cli'"));

        var client = Server.Client();
        var signIn = await TestServer.PostLoginAsync(client, "forgetful", "Temporary-maple-52-kettle");
        Assert.Equal(AccountPages.PasswordPath, signIn.Headers.Location!.OriginalString);
        var blocked = await client.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Redirect, blocked.StatusCode);
        Assert.Equal(AccountPages.PasswordPath, blocked.Headers.Location!.OriginalString);
        var page = await client.GetStringAsync(AccountPages.PasswordPath);
        Assert.Contains("管理员已重置您的密码", page);
        var token = TokenField().Match(page).Groups[1].Value;
        var changed = await client.PostAsync(AccountPages.PasswordPath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["Current"] = "Temporary-maple-52-kettle",
            ["New"] = "Silver-orchard-36-violin", ["Repeat"] = "Silver-orchard-36-violin",
        }));
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task TwoFactor_an_admin_without_a_code_reaches_only_the_enrolment_page_until_enrolled()
    {
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("new-admin", Roles.Admin, TestSignIn.Password, "test", default);
        var client = Server.Client();
        var signIn = await TestServer.PostLoginAsync(client, "new-admin", TestSignIn.Password);
        Assert.Equal(AccountPages.TwoFactorPath, signIn.Headers.Location!.OriginalString);
        Assert.Equal(AccountPages.TwoFactorPath, (await client.GetAsync("/hangfire/recurring")).Headers.Location!.OriginalString);
        var trigger = await client.PostAsync("/hangfire/recurring/trigger", new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "outbox-delivery" }));
        Assert.Equal(HttpStatusCode.Forbidden, trigger.StatusCode);

        var page = await client.GetStringAsync(AccountPages.TwoFactorPath);
        Assert.Contains("src=\"data:image/png;base64,", page);
        var secret = Regex.Match(page, "<code id=\"totp-secret\">([A-Z2-7]+)</code>").Groups[1].Value;
        Assert.Equal(32, secret.Length);
        var sealedSecret = Regex.Match(page, "name=\"Secret\" value=\"([^\"]+)\"").Groups[1].Value;
        var token = TokenField().Match(page).Groups[1].Value;
        async Task<HttpResponseMessage> EnrolAsync(string code) => await client.PostAsync(AccountPages.TwoFactorPath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["Secret"] = sealedSecret, ["Code"] = code,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, (await EnrolAsync("000000")).StatusCode);
        var enrolled = await EnrolAsync(TwoFactor.Code(secret, DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.Redirect, enrolled.StatusCode);
        Assert.Equal("/hangfire/home", enrolled.Headers.Location!.OriginalString); // issue 19: the home page
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/hangfire/recurring")).StatusCode);
        Assert.Equal(secret, await users.TotpSecretAsync("new-admin", default));
        // The secret is stored encrypted with the deployment's key ring.
        Assert.Equal(0L, await fx.ScalarAsync<long>("SELECT count(*) FROM app.users WHERE totp_secret LIKE '%' || @secret || '%'", new { secret }));
    }

    [Fact]
    public async Task TwoFactor_an_enrolled_account_needs_a_current_code_and_a_code_works_once()
    {
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("fin-code", Roles.Finance, TestSignIn.Password, "test", default);
        var secret = TwoFactor.NewSecret();
        await users.EnrolTotpAsync("fin-code", secret, "test", default);

        Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Server.Client(), "fin-code", TestSignIn.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Server.Client(), "fin-code", TestSignIn.Password, "123456")).StatusCode);
        var old = TwoFactor.Code(secret, DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Server.Client(), "fin-code", TestSignIn.Password, old)).StatusCode);

        var code = await TestSignIn.CodeAsync(Server.App.Services, "fin-code");
        var ok = await TestServer.PostLoginAsync(Server.Client(), "fin-code", TestSignIn.Password, code);
        Assert.Equal("/hangfire/home", ok.Headers.Location!.OriginalString); // issue 19: the home page
        var replay = await TestServer.PostLoginAsync(Server.Client(), "fin-code", TestSignIn.Password, code);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        var html = await Server.Client().GetStringAsync("/login");
        Assert.Contains("动态口令", html);
        Assert.Contains("管理员、财务账号必填", html);
    }

    [Fact]
    public async Task Finding8_a_cli_verb_acting_as_a_person_proves_it_is_that_person()
    {
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("cli-fin", Roles.Finance, TestSignIn.Password, "test", default);
        await TestSignIn.CodeAsync(fx.Services, "cli-fin"); // enrols cli-fin (finance needs a code)

        var (wrong, wrongText) = await ServiceProcess.RunAsync(fx, "batch approve 987654 --user cli-fin", stdin: "not-the-password\n");
        Assert.Equal(65, wrong);
        Assert.Contains("无法验证账号", wrongText);
        Assert.Contains("cannot prove", wrongText);
        var (noCode, _) = await ServiceProcess.RunAsync(fx, "batch approve 987654 --user cli-fin", stdin: TestSignIn.Password + "\n");
        Assert.Equal(65, noCode);
        var (nobody, _) = await ServiceProcess.RunAsync(fx, "zero-employment close 987654 --reason moved --note x --user ghost", stdin: TestSignIn.Password + "\n");
        Assert.Equal(65, nobody);
        Assert.Equal(3L, await fx.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'sign-in.failed' AND subject_id IN ('cli-fin', 'ghost') AND channel = 'cli'"));

        // Proved: the verb goes on to the batch (which does not exist), so the answer is about the batch, not the person.
        // The code is computed just before the run: it is valid for its 30 s step (and one either side).
        var (proved, provedText) = await ServiceProcess.RunAsync(fx, "batch approve 987654 --user cli-fin",
            stdin: await TestSignIn.StdinAsync(fx.Services, "cli-fin"));
        Assert.NotEqual(65, proved);
        Assert.DoesNotContain("无法验证账号", provedText);
        Assert.Contains("不存在", provedText);
        Assert.Contains("--code", (await ServiceProcess.RunAsync(fx, "batch approve --help")).Output);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
