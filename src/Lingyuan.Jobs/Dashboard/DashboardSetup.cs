using System.Security.Claims;
using System.Threading.RateLimiting;
using Hangfire;
using Hangfire.Dashboard;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>Settings of the dashboard (section <c>Dashboard</c>).</summary>
public sealed class DashboardOptions
{
    /// <summary>Where <c>serve</c> listens; <c>--urls</c> overrides it.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5000";

    /// <summary>Mark the sign-in cookie Secure. On for any deployment behind HTTPS; off only for local runs on http.</summary>
    public bool SecureCookie { get; set; }

    /// <summary>How long a sign-in lasts without activity.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long an instance trusts its last database check of a session (logout elsewhere takes effect within it).</summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Failed sign-ins of one account within <see cref="LoginFailureWindow"/> that lock it.</summary>
    public int LoginFailuresPerAccount { get; set; } = 5;

    /// <summary>Failed sign-ins from one client address within <see cref="LoginFailureWindow"/> that lock the address.</summary>
    public int LoginFailuresPerAddress { get; set; } = 30;

    /// <summary>The window failures are counted in; a lock ends when the oldest counted failure leaves it.</summary>
    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Sign-in requests processed at once (each hashes a password); more wait in the queue.</summary>
    public int LoginConcurrency { get; set; } = 4;

    /// <summary>Sign-in requests that may wait; beyond that the answer is 429 at once.</summary>
    public int LoginQueue { get; set; } = 64;

    /// <summary>Reverse proxies whose X-Forwarded-For is believed (IP addresses); empty: the header is ignored.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Roles that must use a one-time code (TOTP); unset: admin and finance.</summary>
    public string[]? TwoFactorRoles { get; set; }

    public static readonly string[] DefaultTwoFactorRoles = [Roles.Admin, Roles.Finance];

    public string[] EffectiveTwoFactorRoles => TwoFactorRoles is { Length: > 0 } r ? r : DefaultTwoFactorRoles;
}

/// <summary>A page of the project inside the dashboard, as a feature registers it.</summary>
public sealed record DashboardPage(string Path, string TitleZh, string[] ViewRoles);

public static class DashboardSetup
{
    public const string LoginRateLimit = "login";

    public static WebApplicationBuilder AddDashboardPage(this WebApplicationBuilder builder, string path, string titleZh, params string[] viewRoles)
    {
        builder.Services.AddSingleton(new DashboardPage(path, titleZh, viewRoles));
        return builder;
    }

    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection("Dashboard").Get<DashboardOptions>() ?? new DashboardOptions();
        builder.Services.AddOptions<DashboardOptions>().BindConfiguration("Dashboard")
            .Validate(o => o.SessionIdleTimeout > TimeSpan.Zero, "Dashboard:SessionIdleTimeout must be positive / 会话超时必须为正")
            .Validate(o => o.SessionCheckInterval >= TimeSpan.Zero && o.SessionCheckInterval <= TimeSpan.FromSeconds(30),
                "Dashboard:SessionCheckInterval must be between 0 and 30 seconds / 会话校验间隔应在 0 到 30 秒之间")
            .Validate(o => o.LoginFailuresPerAccount is >= 1 and <= 1000 && o.LoginFailuresPerAddress is >= 1 and <= 100_000,
                "Dashboard:LoginFailuresPerAccount (1-1000) and LoginFailuresPerAddress (1-100000) / 登录失败次数上限无效")
            .Validate(o => o.LoginFailureWindow > TimeSpan.Zero, "Dashboard:LoginFailureWindow must be positive / 登录失败统计窗口必须为正")
            .Validate(o => o.LoginConcurrency is >= 1 and <= 64 && o.LoginQueue is >= 0 and <= 10_000,
                "Dashboard:LoginConcurrency (1-64) and LoginQueue (0-10000) / 登录并发设置无效")
            .Validate(o => o.KnownProxies.All(p => System.Net.IPAddress.TryParse(p, out _)),
                "Dashboard:KnownProxies must list IP addresses / 反向代理地址必须为 IP 地址")
            .Validate(o => o.EffectiveTwoFactorRoles.All(r => Roles.All.Contains(r)),
                "Dashboard:TwoFactorRoles must name roles among admin, operator, finance, inspection / 双因素角色无效")
            .ValidateOnStart();
        builder.Services.AddDatabaseKeyRing();
        builder.Services.AddSingleton<TwoFactor>();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddSingleton<CliIdentity>();
        builder.Services.AddCommand<UsersAddCommand>();
        builder.Services.AddCommand<UsersDisableCommand>();
        builder.Services.AddCommand<UsersEnableCommand>();
        builder.Services.AddCommand<UsersSetRoleCommand>();
        builder.Services.AddCommand<UsersSetDeciderCommand>();
        builder.Services.AddCommand<UsersSetEmailCommand>();
        builder.Services.AddCommand<UsersResetPasswordCommand>();
        builder.Services.AddCommand<UsersTotpCommand>();
        builder.Services.AddCommand<KeysRotateCommand>();
        // The home page first in the menu: every role lands there after signing in.
        builder.AddDashboardPage(HomePage.Path, "我的工作", Roles.All);
        builder.AddDashboardPage(UsersPage.Path, "用户管理", Roles.Admin);
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the configured proxies are believed; the defaults (loopback) are dropped, so with
            // no proxies configured X-Forwarded-For is ignored and a client cannot pick its address.
            o.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // the obsolete list is still consulted and holds 127.0.0.0/8 by default
            o.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            o.KnownProxies.Clear();
            foreach (var p in options.KnownProxies) o.KnownProxies.Add(System.Net.IPAddress.Parse(p));
            o.ForwardLimit = 1;
        });

        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/denied";
                o.Cookie.Name = "lingyuan.jobs";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = options.SecureCookie ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = options.SessionIdleTimeout;
                o.SlidingExpiration = true;
                o.Events.OnValidatePrincipal = ctx => ctx.HttpContext.RequestServices.GetRequiredService<SessionStore>().ValidateAsync(ctx);
                // A signed-in user without the role gets a plain 403, not a redirect that looks like success.
                o.Events.OnRedirectToAccessDenied = ctx => ErrorPages.WriteAsync(ctx.HttpContext, StatusCodes.Status403Forbidden,
                    "无权访问", "您的账号无权执行此操作或访问此页面。如需权限,请联系系统管理员。");
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.SignedIn, p => p.RequireAuthenticatedUser())
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Finance, p => p.RequireRole(Roles.Finance, Roles.Admin))
            .AddPolicy(Policies.Inspection, p => p.RequireRole(Roles.Inspection, Roles.Admin))
            .AddPolicy(Policies.Caseworker, p => p.RequireRole(Roles.Caseworker, Roles.Admin));
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "lingyuan.af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = options.SecureCookie ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
        builder.Services.AddRateLimiter(o =>
        {
            // One bounded pool of sign-in slots for the whole instance: each sign-in hashes a password
            // (CPU) and touches the database briefly; a flood waits in a short queue or gets 429,
            // and every other request keeps its share of CPU and of the connection pool.
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (ctx, ct) =>
            {
                ctx.HttpContext.Response.Headers.RetryAfter = "5";
                ctx.HttpContext.Response.ContentType = "text/html; charset=utf-8";
                await ctx.HttpContext.Response.WriteAsync(Layout.Bare("登录繁忙", Html.Of($"""
                    <p class="error" role="alert">当前登录请求过多,请稍候几秒再试。</p><p><a href="/login">返回登录</a></p>
                    """)).Value, ct);
            };
            o.AddPolicy(LoginRateLimit, _ => RateLimitPartition.GetConcurrencyLimiter("login", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = options.LoginConcurrency,
                QueueLimit = options.LoginQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }));
        });
        builder.Services.AddRequestLocalization(o =>
        {
            // Every page is Simplified Chinese, whatever the browser asks for; Hangfire ships the "zh" strings.
            o.SetDefaultCulture("zh-CN");
            o.AddSupportedCultures("zh-CN");
            o.AddSupportedUICultures("zh-CN");
            o.RequestCultureProviders.Clear();
        });
        return builder;
    }

    public static WebApplication UseDashboard(this WebApplication app)
    {
        // With no known proxy the middleware would believe X-Forwarded-For from anybody (an empty
        // list means "any" to it), so it runs only when proxies are configured.
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DashboardOptions>>().Value.KnownProxies.Length > 0)
            app.UseForwardedHeaders();
        app.UseRequestSafety();
        app.UseStatusCodePages(ErrorPages.RenderAsync);
        app.UseRequestLocalization();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.Use(ActAsTheSignedInUser);
        app.Use(AccountPages.KeepRestrictedSessionsOnTheirPage);
        app.UseAuthorization();
        app.UseAntiforgery();
        app.UseAntiforgeryOnEveryStateChange();
        app.Use(RefuseHangfireCommandsForNonAdmins);

        app.MapLogin();
        app.MapAccountPages();
        HomePage.Map(app);
        UsersPage.Map(app);
        var catalog = app.Services.GetRequiredService<JobCatalog>();
        AddProjectPagesToHangfireMenu(app.Services.GetServices<DashboardPage>());
        app.MapHangfireDashboardWithAuthorizationPolicy(Policies.SignedIn, "/hangfire", new Hangfire.DashboardOptions
        {
            DashboardTitle = "凌源市人社局 · 定时任务",
            AppPath = null,
            Authorization = [],
            AsyncAuthorization = [],
            DisplayStorageConnectionString = false,
            // Only admins may trigger, retry or delete; everyone else sees the dashboard read-only.
            IsReadOnlyFunc = ctx => !ctx.GetHttpContext().User.IsInRole(Roles.Admin),
            DisplayNameFunc = (_, job) => catalog.DisplayName(job) ?? $"{job.Type.Name}.{job.Method.Name}",
        });
        return app;
    }

    /// <summary>
    /// Every request acts as its signed-in user through the web (anonymous otherwise), for the audit log,
    /// the unit of work and the log scope (<see cref="Database.Acting"/>): set once here, never by a page.
    /// </summary>
    private static async Task ActAsTheSignedInUser(HttpContext ctx, RequestDelegate next)
    {
        var name = ctx.User.Identity?.IsAuthenticated == true ? ctx.User.Identity.Name ?? "anonymous" : "anonymous";
        using var acting = Database.Acting.Begin(new Database.Acting(name, Database.Acting.Web));
        await next(ctx);
    }

    /// <summary>
    /// Hangfire's read-only mode hides the buttons; this makes a hand-made POST from a non-admin
    /// to Hangfire's own command routes a clear 403 as well. The project's pages check their own roles.
    /// </summary>
    private static async Task RefuseHangfireCommandsForNonAdmins(HttpContext ctx, RequestDelegate next)
    {
        var path = ctx.Request.Path;
        if (HttpMethods.IsPost(ctx.Request.Method)
            && path.StartsWithSegments("/hangfire", out var rest)
            && ctx.User.Identity?.IsAuthenticated == true
            && !ctx.User.IsInRole(Roles.Admin)
            && !IsReadOnlyQuery(rest)
            && !ctx.RequestServices.GetServices<DashboardPage>().Any(p => rest.StartsWithSegments("/" + p.Path)))
        {
            await ErrorPages.WriteAsync(ctx, StatusCodes.Status403Forbidden, "无权操作", "只读账号不能执行此操作。");
            return;
        }
        await next(ctx);
    }

    // Hangfire's pages poll these with POST to refresh counters and job states; they change nothing.
    private static bool IsReadOnlyQuery(PathString rest) =>
        rest.StartsWithSegments("/stats") || rest.StartsWithSegments("/jobs/succeeded/list")
        || rest.StartsWithSegments("/jobs/processing/list") || rest.StartsWithSegments("/jobs/details");

    private static int _menuAdded;

    private static void AddProjectPagesToHangfireMenu(IEnumerable<DashboardPage> pages)
    {
        // The menu is a static of Hangfire's; tests build many apps in one process, so add once.
        if (Interlocked.Exchange(ref _menuAdded, 1) == 1) return;
        foreach (var p in pages.ToList())
        {
            NavigationMenu.Items.Add(page =>
            {
                var user = page.Context.GetHttpContext().User;
                return user.IsAny(p.ViewRoles)
                    ? new MenuItem(p.TitleZh, page.Url.To("/" + p.Path)) { Active = page.RequestPath.StartsWith("/" + p.Path, StringComparison.Ordinal) }
                    : null;
            });
        }
        NavigationMenu.Items.Add(Layout.HangfireUserItem);
    }

    private static void MapLogin(this WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect(HomePage.Url)).AllowAnonymous();
        app.MapGet("/login", (HttpContext ctx, IAntiforgery af, string? returnUrl) =>
            LoginPage(ctx, af, returnUrl, error: null, StatusCodes.Status200OK)).AllowAnonymous();

        app.MapPost("/login", async (HttpContext ctx, IAntiforgery af, UserStore users, SessionStore sessions, [FromForm] LoginForm form, ILoggerFactory logs) =>
        {
            var address = ClientAddress(ctx);
            var name = (form.UserName ?? "").Trim();
            var result = await users.AuthenticateAsync(name, form.Password, form.Code, "web", address, ctx.RequestAborted);
            if (result.Outcome is SignInOutcome.Locked or SignInOutcome.Refused or SignInOutcome.Unhashable)
                ctx.RequestServices.GetService<Hosting.Runs.JobMetrics>()?.SignInRefused(result.Outcome.ToString().ToLowerInvariant());
            switch (result.Outcome)
            {
                case SignInOutcome.Locked:
                    logs.CreateLogger("Login").LogWarning("sign-in refused (locked) for {User} from {Address}", name, address);
                    var minutes = (int)Math.Ceiling(result.RetryAfter.TotalMinutes);
                    ctx.Response.Headers.RetryAfter = ((int)Math.Ceiling(result.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return LoginPage(ctx, af, form.ReturnUrl, $"登录失败次数过多,该账号或地址已临时锁定,请 {minutes} 分钟后再试。", StatusCodes.Status429TooManyRequests);
                case SignInOutcome.Unhashable:
                    return LoginPage(ctx, af, form.ReturnUrl, $"密码无效:不能为空、不能超过 {PasswordRules.MaxBytes} 字节,且须为有效文本。", StatusCodes.Status400BadRequest);
                case SignInOutcome.Refused:
                    logs.CreateLogger("Login").LogWarning("sign-in refused for {User} from {Address}", name, address);
                    return LoginPage(ctx, af, form.ReturnUrl, "用户名或密码错误,或动态口令无效。", StatusCodes.Status401Unauthorized);
            }
            var principal = await sessions.OpenAsync(result.User!, result.Restriction, address, ctx.RequestAborted);
            await ctx.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
            return Results.Redirect(result.Restriction switch
            {
                SessionClaims.ChangePassword => AccountPages.PasswordPath,
                SessionClaims.EnrolTotp => AccountPages.TwoFactorPath,
                _ => LocalReturnUrl(form.ReturnUrl),
            });
        }).AllowAnonymous().RequireRateLimiting(LoginRateLimit)
          // A sign-in form is a few hundred bytes; a 100 MB "password" is refused before it is read.
          .WithMetadata(new RequestSizeLimitAttribute(LoginBodyLimit))
          .WithFormOptions(valueCountLimit: 16, valueLengthLimit: 16 * 1024, multipartBodyLengthLimit: LoginBodyLimit);

        // Signing out changes state, so it is a POST (with antiforgery); GET only offers the button.
        app.MapGet("/logout", (HttpContext ctx) => Results.Content(Layout.Bare("退出登录", Html.Of($"""
            <form method="post" action="/logout" class="login">
              {Layout.AntiforgeryField(ctx)}
              <p>确定要退出登录吗?</p>
              <button type="submit">退出</button>
            </form>
            """)).Value, "text/html; charset=utf-8")).AllowAnonymous();
        app.MapPost("/logout", async (HttpContext ctx, SessionStore sessions) =>
        {
            if (ctx.User.FindFirst(SessionClaims.SessionId)?.Value is { } sid)
                await sessions.RevokeAsync(sid, ctx.User.Identity?.Name ?? "anonymous", "logout", ctx.RequestAborted);
            await ctx.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        }).AllowAnonymous();
        app.MapGet("/denied", (HttpContext ctx) => ErrorPages.WriteAsync(ctx, StatusCodes.Status403Forbidden,
            "无权访问", "您的账号无权访问该页面。如需权限,请联系系统管理员。")).AllowAnonymous();
    }

    public const long LoginBodyLimit = 64 * 1024;

    /// <summary>The client's address: the connection's, or X-Forwarded-For when it came through a configured proxy.</summary>
    public static string ClientAddress(HttpContext ctx) => ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// Only a path of this site: one leading slash, then no second slash or backslash, and nothing
    /// but URL characters (no tab, newline or other control character a browser would drop to turn
    /// <c>/%09/evil.example/</c> into <c>//evil.example/</c>).
    /// </summary>
    public static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.Length <= 2048
        && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && url.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '/' or '-' or '.' or '_' or '~' or '%' or '?' or '#' or '&' or '=' or '+' or ',' or ';' or ':' or '@' or '!' or '$' or '(' or ')' or '*');

    /// <summary>Where a sign-in goes: the page the person asked for, else their home page (<see cref="HomePage"/>).</summary>
    public static string LocalReturnUrl(string? url) => IsLocal(url) ? url! : HomePage.Url;

    private static IResult LoginPage(HttpContext ctx, IAntiforgery af, string? returnUrl, string? error, int status)
    {
        var tokens = af.GetAndStoreTokens(ctx);
        var body = Html.Of($"""
            <form method="post" action="/login" class="login">
              <input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}">
              <input type="hidden" name="ReturnUrl" value="{LocalReturnUrl(returnUrl)}">
              {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{error}</p>"))}
              <label>用户名 <input name="UserName" autocomplete="username" required autofocus maxlength="64"></label>
              <label>密码 <input name="Password" type="password" autocomplete="current-password" required maxlength="1024"></label>
              <label>动态口令 <input name="Code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7"></label>
              <small>管理员、财务账号必填(身份验证器应用中的 6 位数字)</small>
              <button type="submit">登录</button>
            </form>
            """);
        return Results.Content(Layout.Bare("登录 · 凌源市人社局定时任务", body).Value, "text/html; charset=utf-8", statusCode: status);
    }

    public sealed class LoginForm
    {
        public string? UserName { get; set; }
        public string? Password { get; set; }
        public string? Code { get; set; }
        public string? ReturnUrl { get; set; }
    }
}
