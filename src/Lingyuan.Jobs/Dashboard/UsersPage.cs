using System.Text.Json;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// <c>/hangfire/users</c> (admin): every account with its role, e-mail, duties and state; creating one (an
/// initial password typed or generated and shown once, to be changed at the first sign-in); and per account:
/// role, e-mail, decider duty, disable/enable, password reset, second-factor reset, and its audit trail.
/// Every act goes through <see cref="UserStore"/> (no SQL here) and is audited as the signed-in admin.
/// </summary>
public static class UsersPage
{
    public const string Path = "users";
    private const string Root = "/hangfire/" + Path;

    public static void Map(WebApplication app)
    {
        var g = app.MapGroup(Root).RequireAuthorization(Policies.Admin);
        g.MapGet("", async (HttpContext ctx, UserStore users, BureauClock clock, CancellationToken ct) =>
            List(ctx, await users.ListAsync(ct), clock, null, null, StatusCodes.Status200OK));
        g.MapPost("", async (HttpContext ctx, UserStore users, BureauClock clock, CancellationToken ct) =>
        {
            var form = await ctx.Request.ReadFormAsync(ct);
            var name = form["name"].ToString().Trim();
            var typed = form["password"].ToString();
            try
            {
                var password = await users.CreateAsync(name, form["role"].ToString(), form["email"].ToString(), form["decider"] == "on",
                    typed, Actor(ctx), ct);
                return List(ctx, await users.ListAsync(ct), clock, null,
                    typed.Length > 0 ? new Shown(name, null, "账号已创建。") : new Shown(name, password, "账号已创建。"), StatusCodes.Status200OK);
            }
            catch (Exception ex) when (ex is BadInputException or DomainRuleException)
            {
                return List(ctx, await users.ListAsync(ct), clock, ZhOf(ex), null,
                    ex is DomainRuleException ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest);
            }
        });
        g.MapGet("/{name}", async (HttpContext ctx, string name, UserStore users, BureauClock clock, CancellationToken ct) =>
            await DetailAsync(ctx, name, users, clock, null, null, StatusCodes.Status200OK, ct));
        g.MapPost("/{name}/{act}", async (HttpContext ctx, string name, string act, UserStore users, BureauClock clock, CancellationToken ct) =>
        {
            var form = await ctx.Request.ReadFormAsync(ct);
            var actor = Actor(ctx);
            if (await users.FindAsync(name, ct) is null) return Missing(ctx, name);
            // An admin does not lock themselves out: their own role and state are changed by another admin.
            if (name == actor && act is "disable" or "role")
                return await DetailAsync(ctx, name, users, clock, "不能停用自己的账号或更改自己的角色,请由另一名管理员操作。", null, StatusCodes.Status409Conflict, ct);
            // Acts that lock a person out or invalidate what they hold are confirmed on the form, not done by one stray click.
            if (act is "disable" or "reset-password" or "reset-totp" && form["confirm"] != "on")
                return await DetailAsync(ctx, name, users, clock, $"请先勾选“确认”:{ConfirmText(act, name)}", null, StatusCodes.Status409Conflict, ct);
            try
            {
                Shown? shown = null;
                switch (act)
                {
                    case "role": await users.SetRoleAsync(name, form["role"].ToString(), actor, ct); shown = new(name, null, "角色已更改,该账号的登录已全部退出。"); break;
                    case "email":
                        var email = form["email"].ToString().Trim();
                        await users.SetEmailAsync(name, email.Length == 0 ? null : email, actor, ct); shown = new(name, null, "电子邮箱已更改。"); break;
                    case "decider": await users.SetDeciderAsync(name, form["decider"] == "on", actor, ct); shown = new(name, null, "审批职责已更改。"); break;
                    case "disable": await users.SetDisabledAsync(name, true, actor, ct); shown = new(name, null, "账号已停用,其登录已全部退出。"); break;
                    case "enable": await users.SetDisabledAsync(name, false, actor, ct); shown = new(name, null, "账号已启用。"); break;
                    case "reset-password": shown = new(name, await users.ResetPasswordAsync(name, actor, ct), "密码已重置,该账号下次登录须修改密码。"); break;
                    case "reset-totp": await users.ResetTotpAsync(name, actor, ct); shown = new(name, null, "动态口令已重置,该账号下次登录时须重新绑定。"); break;
                    default: return Results.NotFound();
                }
                return await DetailAsync(ctx, name, users, clock, null, shown, StatusCodes.Status200OK, ct);
            }
            catch (Exception ex) when (ex is BadInputException or DomainRuleException or UsageException)
            {
                return await DetailAsync(ctx, name, users, clock, ZhOf(ex), null, StatusCodes.Status400BadRequest, ct);
            }
        });
    }

    /// <summary>What an act left to show once: a message, and a password the admin hands over (never stored readable).</summary>
    private sealed record Shown(string Name, string? Password, string Message);

    private static string Actor(HttpContext ctx) => ctx.User.Identity?.Name ?? throw new InvalidOperationException("signed-in user without a name");

    /// <summary>The Chinese half of a bilingual message ("english / 中文").</summary>
    private static string ZhOf(Exception ex) => ex.Message.Split(" / ") is [_, var zh, ..] ? zh : ex.Message;

    private static Html Yes(bool v) => v ? Html.Of($"是") : Html.Of($"否");

    private static Html When(BureauClock clock, DateTime? at) =>
        at is { } t ? Html.Of($"{clock.Format(new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)))}") : Html.Of($"从未登录");

    // A new account's role is chosen deliberately (no default that could hand out admin by accident).
    private static Html RoleOptions(string? selected) => Html.Join(
        (selected is null ? new[] { Html.Of($"""<option value="" selected disabled>请选择角色</option>""") } : Array.Empty<Html>())
        .Concat(Roles.All.Select(r => Html.Of($"""<option value="{r}" {(r == selected ? "selected" : "")}>{Roles.NameZh(r)}</option>"""))));

    private static Html ShownBlock(Shown? shown) => shown is null ? Html.Empty : Html.Of($"""
        <p class="ok" role="status" id="users-message">{shown.Name}:{shown.Message}</p>
        {(shown.Password is null ? Html.Empty : Html.Of($"""
            <p class="warn">初始密码(仅显示这一次,请当面或电话交给本人;本人首次登录时须改为自己的密码):
            <code id="initial-password">{shown.Password}</code></p>
            """))}
        """);

    private static Html ErrorBlock(string? error) =>
        error is null ? Html.Empty : Html.Of($"""<p class="error" role="alert">{error}</p>""");

    private static IResult List(HttpContext ctx, List<UserRow> rows, BureauClock clock, string? error, Shown? shown, int status)
    {
        var af = Layout.AntiforgeryField(ctx);
        var body = Html.Of($"""
            {ShownBlock(shown)}{ErrorBlock(error)}
            <table id="users"><thead><tr><th>用户名</th><th>角色</th><th>电子邮箱</th><th>部门负责人(审批)</th><th>状态</th><th>动态口令</th><th>最近登录</th></tr></thead><tbody>
            {Html.Join(rows.Select(u => Html.Of($"""
                <tr data-user="{u.Name}"><td><a href="{Root}/{Uri.EscapeDataString(u.Name)}">{u.Name}</a></td><td>{Roles.NameZh(u.Role)}</td><td>{u.Email}</td>
                <td>{Yes(u.Decider)}</td><td>{(u.Disabled ? "已停用" : u.MustChangePassword ? "待本人修改密码" : "正常")}</td>
                <td>{(u.TotpEnrolled ? "已绑定" : "未绑定")}</td><td>{When(clock, u.LastSignIn)}</td></tr>
                """)))}
            </tbody></table>
            <h2>新建账号</h2>
            <form method="post" action="{Root}" id="create-user" class="login" style="margin:1em 0">
              {af}
              <label>用户名 <input name="name" required maxlength="64" minlength="2" autocomplete="off"></label>
              <label>角色 <select name="role" required>{RoleOptions(null)}</select></label>
              <label>电子邮箱 <input name="email" type="email" maxlength="254" autocomplete="off"></label>
              <label><input name="decider" type="checkbox" style="width:auto"> 部门负责人(审批列入决定、延长检查期限)</label>
              <label>初始密码 <input name="password" type="text" maxlength="1024" autocomplete="off" placeholder="留空则自动生成"></label>
              <small>本人首次登录时须设置自己的密码;管理员、财务账号还须绑定动态口令。</small>
              <button type="submit">创建账号</button>
            </form>
            """);
        return Layout.Page(ctx, "用户管理", body, status);
    }

    private static IResult Missing(HttpContext ctx, string name) =>
        Layout.Page(ctx, "账号不存在", Html.Of($"""<p>没有账号 {name}。<a href="{Root}">返回用户管理</a></p>"""), StatusCodes.Status404NotFound);

    private static async Task<IResult> DetailAsync(HttpContext ctx, string name, UserStore users, BureauClock clock, string? error, Shown? shown, int status, CancellationToken ct)
    {
        var u = await users.RowAsync(name, ct);
        if (u is null) return Missing(ctx, name);
        var trail = await users.AuditTrailAsync(name, 200, ct);
        var af = Layout.AntiforgeryField(ctx);
        var action = $"{Root}/{Uri.EscapeDataString(u.Name)}";
        Html Button(string act, string label, string id) =>
            Html.Of($"""<form method="post" action="{action}/{act}" class="inline">{af}<button type="submit" id="{id}">{label}</button></form> """);
        // A confirmed act: the box names what follows and must be ticked (the server checks it too).
        Html Confirmed(string act, string label, string id) =>
            Html.Of($"""<form method="post" action="{action}/{act}" class="inline">{af}<label><input type="checkbox" name="confirm" required id="{id}-confirm" style="width:auto"> 确认:{ConfirmText(act, u.Name)}</label> <button type="submit" id="{id}">{label}</button></form><br>""");
        var body = Html.Of($"""
            <p><a href="{Root}">← 全部账号</a></p>
            {ShownBlock(shown)}{ErrorBlock(error)}
            <table id="user">
              <tr><th>用户名</th><td id="user-name">{u.Name}</td><th>角色</th><td id="user-role" data-role="{u.Role}">{Roles.NameZh(u.Role)}</td></tr>
              <tr><th>电子邮箱</th><td>{u.Email}</td><th>部门负责人(审批)</th><td id="user-decider">{Yes(u.Decider)}</td></tr>
              <tr><th>状态</th><td id="user-state">{(u.Disabled ? "已停用" : u.MustChangePassword ? "待本人修改密码" : "正常")}</td><th>动态口令</th><td>{(u.TotpEnrolled ? "已绑定" : "未绑定")}</td></tr>
              <tr><th>创建时间</th><td>{When(clock, u.CreatedAt)}</td><th>最近登录</th><td>{When(clock, u.LastSignIn)}</td></tr>
            </table>
            <h2>操作</h2>
            <form method="post" action="{action}/role" class="inline">{af}<label>角色 <select name="role">{RoleOptions(u.Role)}</select></label> <button type="submit" id="set-role">更改角色</button></form>
            <form method="post" action="{action}/email" class="inline">{af}<label>电子邮箱 <input name="email" type="email" maxlength="254" value="{u.Email}"></label> <button type="submit" id="set-email">保存邮箱</button></form>
            <form method="post" action="{action}/decider" class="inline">{af}<label><input name="decider" type="checkbox" {(u.Decider ? "checked" : "")}> 部门负责人(审批)</label> <button type="submit" id="set-decider">保存审批职责</button></form>
            <p>
            {(u.Disabled ? Button("enable", "启用账号", "enable-user") : Confirmed("disable", "停用账号", "disable-user"))}
            {Confirmed("reset-password", "重置密码", "reset-password")}
            {(u.TotpEnrolled ? Confirmed("reset-totp", "重置动态口令", "reset-totp") : Html.Empty)}
            </p>
            <h2>操作记录</h2>
            <table id="user-audit"><thead><tr><th>时间</th><th>操作人</th><th>渠道</th><th>操作</th><th>变更前</th><th>变更后</th><th>说明</th></tr></thead><tbody>
            {Html.Join(trail.Select(a => Html.Of($"""
                <tr><td>{clock.Format(new DateTimeOffset(DateTime.SpecifyKind(a.At, DateTimeKind.Utc)))}</td><td>{a.Actor}</td><td>{ChannelZh(a.Channel)}</td>
                <td>{ActionZh(a.Action)}</td><td>{FieldsZh(a.Action, a.Before)}</td><td>{FieldsZh(a.Action, a.After)}</td><td>{a.Details}</td></tr>
                """)))}
            </tbody></table>
            """);
        return Layout.Page(ctx, $"账号 {u.Name}", body, status);
    }

    /// <summary>
    /// An audit record's before or after as the admin reads it, <c>角色:财务审核;已停用:否</c> (the log keeps
    /// the JSON). A change's new value (<c>value</c>) is named by its action; an unknown field keeps its name.
    /// </summary>
    internal static string FieldsZh(string action, string? json)
    {
        if (string.IsNullOrEmpty(json)) return "";
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return json;
            return string.Join(";", doc.RootElement.EnumerateObject().Select(f =>
            {
                var key = f.Name == "value" ? ValueField(action) : f.Name;
                return $"{FieldZh(key)}:{ValueZh(key, f.Value)}";
            }));
        }
        catch (JsonException) { return json; }
    }

    private static string ValueField(string action) => action switch
    {
        "user.set-role" => "role",
        "user.set-email" => "email",
        "user.set-decider" => "decider",
        "user.disable" or "user.enable" => "disabled",
        _ => "value",
    };

    private static string FieldZh(string key) => key switch
    {
        "name" => "用户名",
        "role" => "角色",
        "email" => "电子邮箱",
        "decider" => "部门负责人(审批)",
        "disabled" => "已停用",
        "must_change_password" => "须本人修改密码",
        "value" => "新值",
        _ => key,
    };

    private static string ValueZh(string key, JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => "是",
        JsonValueKind.False => "否",
        JsonValueKind.Null => "(空)",
        JsonValueKind.String when key == "role" => Roles.NameZh(v.GetString()!),
        JsonValueKind.String => v.GetString()!,
        _ => v.GetRawText(),
    };

    private static string ConfirmText(string act, string name) => act switch
    {
        "disable" => $"停用 {name} 后,该账号立即无法登录,已登录的会话随即结束",
        "reset-password" => $"重置后 {name} 的原密码立即失效,须用新的初始密码登录并修改",
        "reset-totp" => $"重置后 {name} 须在下次登录时重新绑定动态口令",
        _ => act,
    };

    private static string ChannelZh(string c) => c switch { "web" => "网页", "cli" => "命令行", "job" => "定时任务", _ => c };

    private static string ActionZh(string a) => a switch
    {
        "user.add" => "创建账号",
        "user.disable" => "停用",
        "user.enable" => "启用",
        "user.set-role" => "更改角色",
        "user.set-decider" => "更改审批职责",
        "user.set-email" => "更改邮箱",
        "user.reset-password" => "重置密码",
        "user.change-password" => "本人修改密码",
        "user.totp-enrol" => "绑定动态口令",
        "user.totp-reset" => "重置动态口令",
        "sign-in" => "登录",
        "sign-in.failed" => "登录失败",
        "sign-in.lockout" => "登录被临时锁定",
        "session.revoke" => "结束会话",
        "sign-out" => "退出登录",
        "session.revoke-all" => "结束全部会话",
        _ => a,
    };
}
