using System.Security.Claims;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// The signed-in person's own account: change the password (every user; forced after an admin
/// reset) and enrol the one-time code (forced for the roles of <c>Dashboard:TwoFactorRoles</c>).
/// A restricted session reaches only its page and logout.
/// </summary>
public static class AccountPages
{
    public const string PasswordPath = "/account/password";
    public const string TwoFactorPath = "/account/two-factor";

    public static async Task KeepRestrictedSessionsOnTheirPage(HttpContext ctx, RequestDelegate next)
    {
        var restriction = ctx.User.FindFirst(SessionClaims.Restriction)?.Value;
        if (restriction is null || ctx.User.Identity?.IsAuthenticated != true)
        {
            await next(ctx);
            return;
        }
        var page = restriction == SessionClaims.EnrolTotp ? TwoFactorPath : PasswordPath;
        var path = ctx.Request.Path;
        if (path.StartsWithSegments(page) || path.StartsWithSegments("/logout") || path.StartsWithSegments("/login")
            || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/denied"))
        {
            await next(ctx);
            return;
        }
        if (HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method))
        {
            ctx.Response.Redirect(page);
            return;
        }
        ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.WriteAsync(restriction == SessionClaims.EnrolTotp
            ? "请先绑定动态口令,之后才能使用控制台。\n"
            : "请先修改密码,之后才能使用控制台。\n");
    }

    public static void MapAccountPages(this WebApplication app)
    {
        app.MapGet(PasswordPath, (HttpContext ctx) => PasswordPage(ctx, null, StatusCodes.Status200OK)).RequireAuthorization(Policies.SignedIn);
        app.MapPost(PasswordPath, async (HttpContext ctx, UserStore users, SignInThrottle throttle, [FromForm] PasswordForm? form) =>
        {
            form ??= new PasswordForm();
            var name = ctx.User.Identity!.Name!;
            var address = DashboardSetup.ClientAddress(ctx);
            if (await throttle.CheckAsync(name, address, ctx.RequestAborted) is { } locked)
                return PasswordPage(ctx, $"失败次数过多,请 {Math.Ceiling(locked.RetryAfter.TotalMinutes)} 分钟后再试。", StatusCodes.Status429TooManyRequests);
            if (!await users.CheckPasswordAsync(name, form.Current ?? "", ctx.RequestAborted))
            {
                await throttle.RecordFailureAsync(name, address, "web", "wrong current password on the change page", ctx.RequestAborted);
                return PasswordPage(ctx, "当前密码不正确。", StatusCodes.Status400BadRequest);
            }
            if (form.New != form.Repeat) return PasswordPage(ctx, "两次输入的新密码不一致。", StatusCodes.Status400BadRequest);
            if (form.New == form.Current) return PasswordPage(ctx, "新密码不能与当前密码相同。", StatusCodes.Status400BadRequest);
            if (PasswordRules.Problem(name, form.New) is { } problem)
                return PasswordPage(ctx, problem.Split(" / ")[0] + "。", StatusCodes.Status400BadRequest);
            await users.SetPasswordAsync(name, form.New!, mustChange: false, actor: name, action: "user.change-password", ctx.RequestAborted);
            // Every session of the account ended with the change; this browser gets a new one.
            await ReissueAsync(ctx, name);
            return Results.Redirect(ctx.User.FindFirst(SessionClaims.Restriction) is null ? PasswordPath + "?changed=1" : HomePage.Url);
        }).RequireAuthorization(Policies.SignedIn);

        app.MapGet(TwoFactorPath, async (HttpContext ctx, UserStore users, TwoFactor twoFactor, IDataProtectionProvider dp) =>
            await TwoFactorPageAsync(ctx, users, dp, null, StatusCodes.Status200OK)).RequireAuthorization(Policies.SignedIn);
        app.MapPost(TwoFactorPath, async (HttpContext ctx, UserStore users, SignInThrottle throttle, TwoFactor twoFactor, IDataProtectionProvider dp, [FromForm] TwoFactorForm? form) =>
        {
            form ??= new TwoFactorForm();
            var name = ctx.User.Identity!.Name!;
            var user = await users.FindAsync(name, ctx.RequestAborted);
            if (user?.TotpSecret is not null)
                return await TwoFactorPageAsync(ctx, users, dp, "该账号已绑定动态口令。如需更换,请联系管理员重置。", StatusCodes.Status409Conflict);
            string secret;
            try { secret = Protector(dp, name).Unprotect(form.Secret ?? ""); }
            catch (System.Security.Cryptography.CryptographicException)
            {
                return await TwoFactorPageAsync(ctx, users, dp, "绑定页面已过期,请用新的二维码重新绑定。", StatusCodes.Status400BadRequest);
            }
            if (twoFactor.Match(secret, form.Code) is not { } step)
            {
                await throttle.RecordFailureAsync(name, DashboardSetup.ClientAddress(ctx), "web", "wrong code while enrolling", ctx.RequestAborted);
                return await TwoFactorPageAsync(ctx, users, dp, "动态口令不正确,请核对手机时间后重试。", StatusCodes.Status400BadRequest, secret);
            }
            await users.EnrolTotpAsync(name, secret, name, ctx.RequestAborted, usedStep: step);
            if (ctx.User.FindFirst(SessionClaims.Restriction) is not null)
            {
                await ReissueAsync(ctx, name, revokeCurrent: true);
                return Results.Redirect(HomePage.Url);
            }
            return Results.Redirect(TwoFactorPath);
        }).RequireAuthorization(Policies.SignedIn);
    }

    /// <summary>Ends the current session (if still open) and signs this browser in again with what the account now needs.</summary>
    private static async Task ReissueAsync(HttpContext ctx, string name, bool revokeCurrent = false)
    {
        var services = ctx.RequestServices;
        var sessions = services.GetRequiredService<SessionStore>();
        var users = services.GetRequiredService<UserStore>();
        var twoFactor = services.GetRequiredService<TwoFactor>();
        if (revokeCurrent && ctx.User.FindFirst(SessionClaims.SessionId)?.Value is { } sid)
            await sessions.RevokeAsync(sid, name, "session upgraded after enrolment", ctx.RequestAborted);
        var user = await users.FindAsync(name, ctx.RequestAborted) ?? throw new DomainRuleException($"no user '{name}'");
        string? restriction = user.MustChangePassword ? SessionClaims.ChangePassword
            : user.TotpSecret is null && twoFactor.RoleNeedsIt(user.Role) ? SessionClaims.EnrolTotp : null;
        var principal = await sessions.OpenAsync(user, restriction, DashboardSetup.ClientAddress(ctx), ctx.RequestAborted);
        await ctx.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        ctx.User = principal;
    }

    private static ITimeLimitedDataProtector Protector(IDataProtectionProvider dp, string name) =>
        dp.CreateProtector("Lingyuan.Jobs.Dashboard.TotpEnrolment.v1", name).ToTimeLimitedDataProtector();

    private static IResult PasswordPage(HttpContext ctx, string? error, int status)
    {
        var forced = ctx.User.FindFirst(SessionClaims.Restriction)?.Value == SessionClaims.ChangePassword;
        var changed = ctx.Request.Query.ContainsKey("changed") && error is null;
        var body = Html.Of($"""
            {(forced ? Html.Of($"<p class=\"warn\">管理员已重置您的密码,请设置新密码后继续使用。</p>") : Html.Empty)}
            {(changed ? Html.Of($"<p class=\"ok\" role=\"status\">密码已修改,其他设备上的登录已退出。</p>") : Html.Empty)}
            {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{error}</p>"))}
            <form method="post" action="{PasswordPath}" class="login">
              {Layout.AntiforgeryField(ctx)}
              <label>当前密码 <input name="Current" type="password" autocomplete="current-password" required maxlength="1024"></label>
              <label>新密码 <input name="New" type="password" autocomplete="new-password" required minlength="{PasswordRules.MinLength}" maxlength="1024"></label>
              <label>再次输入新密码 <input name="Repeat" type="password" autocomplete="new-password" required minlength="{PasswordRules.MinLength}" maxlength="1024"></label>
              <small>至少 {PasswordRules.MinLength} 位,不能包含用户名,不能是常见或易猜的密码(建议用几个不相关的词加数字和符号)。</small>
              <button type="submit">修改密码</button>
            </form>
            """);
        return forced
            ? Results.Content(Layout.Bare("修改密码", body).Value, "text/html; charset=utf-8", statusCode: status)
            : Layout.Page(ctx, "修改密码", body, status);
    }

    private static async Task<IResult> TwoFactorPageAsync(HttpContext ctx, UserStore users, IDataProtectionProvider dp, string? error, int status, string? secret = null)
    {
        var name = ctx.User.Identity!.Name!;
        var forced = ctx.User.FindFirst(SessionClaims.Restriction)?.Value == SessionClaims.EnrolTotp;
        var user = await users.FindAsync(name, ctx.RequestAborted);
        Html body;
        if (user?.TotpSecret is not null && error is null)
        {
            body = Html.Of($"""<p class="ok" role="status">该账号已绑定动态口令。登录时请输入身份验证器应用中的 6 位数字。如更换手机,请联系管理员重置。</p>""");
        }
        else
        {
            secret ??= TwoFactor.NewSecret();
            var uri = TwoFactor.OtpAuthUri(name, secret);
            var sealedSecret = Protector(dp, name).Protect(secret, TimeSpan.FromMinutes(30));
            body = Html.Of($"""
                {(forced ? Html.Of($"<p class=\"warn\">您的账号须使用动态口令(双因素认证)。请先完成绑定,之后才能使用控制台。</p>") : Html.Empty)}
                {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{error}</p>"))}
                <ol>
                  <li>在手机上打开身份验证器应用(如 Microsoft Authenticator、Google 身份验证器、FreeOTP)。</li>
                  <li>扫描下面的二维码,或手动输入密钥。</li>
                  <li>输入应用显示的 6 位数字完成绑定。</li>
                </ol>
                <p><img id="totp-qr" alt="动态口令二维码" width="205" height="205" src="{TwoFactor.QrPngDataUri(uri)}"></p>
                <p>密钥(手动输入):<code id="totp-secret">{secret}</code></p>
                <form method="post" action="{TwoFactorPath}" class="login">
                  {Layout.AntiforgeryField(ctx)}
                  <input type="hidden" name="Secret" value="{sealedSecret}">
                  <label>动态口令 <input name="Code" inputmode="numeric" autocomplete="one-time-code" required pattern="[0-9 ]*" maxlength="7"></label>
                  <button type="submit">完成绑定</button>
                </form>
                """);
        }
        return forced
            ? Results.Content(Layout.Bare("绑定动态口令", body).Value, "text/html; charset=utf-8", statusCode: status)
            : Layout.Page(ctx, "绑定动态口令", body, status);
    }

    public sealed class PasswordForm
    {
        public string? Current { get; set; }
        public string? New { get; set; }
        public string? Repeat { get; set; }
    }

    public sealed class TwoFactorForm
    {
        public string? Secret { get; set; }
        public string? Code { get; set; }
    }
}
