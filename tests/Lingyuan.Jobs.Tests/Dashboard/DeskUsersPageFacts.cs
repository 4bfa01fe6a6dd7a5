using System.Net;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Dashboard;

/// <summary>Issue 19: an admin manages accounts on <c>/hangfire/users</c> without a shell; every act is audited and shown.</summary>
public partial class DeskUsersPageFacts(DeskFixture fx) : IClassFixture<DeskFixture>
{
    private TestServer Server => fx.Server;
    private const string Users = "/hangfire/users";

    private static Dictionary<string, string> Confirm => new() { ["confirm"] = "on" };

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string action, Dictionary<string, string>? fields = null)
    {
        var form = new Dictionary<string, string>(fields ?? []) { ["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(client, Users) };
        return await client.PostAsync(action, new FormUrlEncodedContent(form));
    }

    [GeneratedRegex("<code id=\"initial-password\">([^<]+)</code>")]
    private static partial Regex InitialPassword();

    private static string ShownPassword(string html) =>
        InitialPassword().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException("no password shown");

    [Fact]
    public async Task An_admin_creates_resets_disables_and_enables_an_account_and_sees_each_act_in_its_trail()
    {
        var admin = await Server.SignedInClientAsync("desk-users-admin", Roles.Admin);
        var created = await PostAsync(admin, Users, new() { ["name"] = "desk-insp", ["role"] = Roles.Inspection, ["email"] = "insp@lingyuan-hrss.local", ["decider"] = "on" });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var html = WebUtility.HtmlDecode(await created.Content.ReadAsStringAsync());
        var first = ShownPassword(html);
        Assert.Null(PasswordRules.Problem("desk-insp", first));
        Assert.Matches("<tr data-user=\"desk-insp\">.*?劳动监察.*?insp@lingyuan-hrss.local.*?是.*?待本人修改密码.*?未绑定.*?从未登录", Regex.Replace(html, @"\s+", " "));
        // Shown once: the list page does not show it again.
        Assert.DoesNotContain(first, await admin.GetStringAsync(Users));

        // The person signs in with it and can only set their own password.
        var person = Server.Client();
        var signIn = await TestServer.PostLoginAsync(person, "desk-insp", first);
        Assert.Equal(AccountPages.PasswordPath, signIn.Headers.Location!.OriginalString);

        // Unconfirmed, nothing happens: the page asks for the box to be ticked.
        var unconfirmed = await PostAsync(admin, $"{Users}/desk-insp/reset-password");
        Assert.Equal(HttpStatusCode.Conflict, unconfirmed.StatusCode);
        Assert.Contains("请先勾选“确认”", WebUtility.HtmlDecode(await unconfirmed.Content.ReadAsStringAsync()));
        Assert.Equal(AccountPages.PasswordPath, (await TestServer.PostLoginAsync(Server.Client(), "desk-insp", first)).Headers.Location!.OriginalString);
        var reset = WebUtility.HtmlDecode(await (await PostAsync(admin, $"{Users}/desk-insp/reset-password", Confirm)).Content.ReadAsStringAsync());
        var second = ShownPassword(reset);
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Server.Client(), "desk-insp", first)).StatusCode);
        Assert.Equal(AccountPages.PasswordPath, (await TestServer.PostLoginAsync(Server.Client(), "desk-insp", second)).Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, $"{Users}/desk-insp/role", new() { ["role"] = Roles.Caseworker })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, $"{Users}/desk-insp/decider")).StatusCode); // unchecked: withdrawn
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(admin, $"{Users}/desk-insp/disable")).StatusCode);
        Assert.False((await Server.App.Services.GetRequiredService<UserStore>().FindAsync("desk-insp", default))!.Disabled);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, $"{Users}/desk-insp/disable", Confirm)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Server.Client(), "desk-insp", second)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, $"{Users}/desk-insp/enable")).StatusCode);
        var account = await Server.App.Services.GetRequiredService<UserStore>().RowAsync("desk-insp", default);
        Assert.Equal((Roles.Caseworker, false, false, true), (account!.Role, account.Decider, account.Disabled, account.MustChangePassword));

        var page = WebUtility.HtmlDecode(await admin.GetStringAsync($"{Users}/desk-insp"));
        var trail = page.Split("id=\"user-audit\"")[1];
        foreach (var act in new[] { "创建账号", "重置密码", "更改角色", "更改审批职责", "停用", "启用" })
            Assert.Contains($"<td>{act}</td>", trail);
        Assert.Contains("desk-users-admin", trail);
        // Before and after in Chinese, not the log's JSON.
        Assert.Contains($"<td>更改角色</td><td>角色:{Roles.NameZh(Roles.Inspection)};已停用:否</td><td>角色:{Roles.NameZh(Roles.Caseworker)}</td>", trail);
        Assert.Contains("<td>停用</td><td>角色:", trail);
        Assert.Contains("</td><td>已停用:是</td>", trail);
        Assert.DoesNotContain("{\"", trail);
        Assert.Contains("网页", trail);
        Assert.DoesNotContain(second, page);
    }

    [Fact]
    public async Task A_typed_initial_password_must_pass_the_rules_and_a_duplicate_name_is_refused()
    {
        var admin = await Server.SignedInClientAsync("desk-users-admin2", Roles.Admin);
        var weak = await PostAsync(admin, Users, new() { ["name"] = "desk-weak", ["role"] = Roles.Operator, ["password"] = "password123" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Null(await Server.App.Services.GetRequiredService<UserStore>().FindAsync("desk-weak", default));

        var typed = await PostAsync(admin, Users, new() { ["name"] = "desk-typed", ["role"] = Roles.Operator, ["password"] = TestSignIn.Password });
        Assert.Equal(HttpStatusCode.OK, typed.StatusCode);
        Assert.DoesNotContain("initial-password", await typed.Content.ReadAsStringAsync()); // the admin knows it already
        Assert.Equal(AccountPages.PasswordPath, (await TestServer.PostLoginAsync(Server.Client(), "desk-typed", TestSignIn.Password)).Headers.Location!.OriginalString);

        var again = await PostAsync(admin, Users, new() { ["name"] = "desk-typed", ["role"] = Roles.Admin });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(Roles.Operator, (await Server.App.Services.GetRequiredService<UserStore>().FindAsync("desk-typed", default))!.Role);
    }

    [Fact]
    public async Task Only_an_admin_reaches_the_users_page_and_an_admin_cannot_disable_themselves()
    {
        var op = await Server.SignedInClientAsync("desk-users-op", Roles.Operator);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync(Users)).StatusCode);
        var finance = await Server.SignedInClientAsync("desk-users-fin", Roles.Finance);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync(Users)).StatusCode);

        var admin = await Server.SignedInClientAsync("desk-users-self", Roles.Admin);
        var self = await PostAsync(admin, $"{Users}/desk-users-self/disable", Confirm);
        Assert.Equal(HttpStatusCode.Conflict, self.StatusCode);
        Assert.False((await Server.App.Services.GetRequiredService<UserStore>().FindAsync("desk-users-self", default))!.Disabled);
    }
}
