using System.Security.Claims;
using System.Threading.RateLimiting;
using Hangfire;
using Hangfire.Dashboard;
using Lingyuan.Jobs.Hosting;
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

    /// <summary>Sign-in attempts allowed per client address per minute; the next one is answered 429.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 5;

    /// <summary>How long a sign-in lasts without activity.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);
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
            .Validate(o => o.LoginAttemptsPerMinute is >= 1 and <= 1000, "Dashboard:LoginAttemptsPerMinute must be between 1 and 1000 / 登录频率限制应在 1 到 1000 之间")
            .Validate(o => o.SessionIdleTimeout > TimeSpan.Zero, "Dashboard:SessionIdleTimeout must be positive / 会话超时必须为正")
            .ValidateOnStart();
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddCommand<UsersAddCommand>();

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
                // A signed-in user without the role gets a plain 403, not a redirect that looks like success.
                o.Events.OnRedirectToAccessDenied = async ctx =>
                {
                    ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                    ctx.Response.ContentType = "text/plain; charset=utf-8";
                    await ctx.Response.WriteAsync("您的账号无权执行此操作或访问此页面。\n");
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.SignedIn, p => p.RequireAuthenticatedUser())
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Finance, p => p.RequireRole(Roles.Finance, Roles.Admin))
            .AddPolicy(Policies.Inspection, p => p.RequireRole(Roles.Inspection, Roles.Admin));
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "lingyuan.af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = options.SecureCookie ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (ctx, ct) =>
            {
                ctx.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.HttpContext.Response.WriteAsync("登录尝试过于频繁,请一分钟后再试。\n", ct);
            };
            o.AddPolicy(LoginRateLimit, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.LoginAttemptsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
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
        app.UseRequestSafety();
        app.UseRequestLocalization();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.UseAntiforgeryOnEveryStateChange();
        app.Use(RefuseHangfireCommandsForNonAdmins);

        app.MapLogin();
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
            ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            await ctx.Response.WriteAsync("只读账号不能执行此操作。\n");
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
    }

    private static void MapLogin(this WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect("/hangfire")).AllowAnonymous();
        app.MapGet("/login", (HttpContext ctx, IAntiforgery af, string? returnUrl) =>
            LoginPage(ctx, af, returnUrl, error: null, StatusCodes.Status200OK)).AllowAnonymous();

        app.MapPost("/login", async (HttpContext ctx, IAntiforgery af, UserStore users, [FromForm] LoginForm form, ILoggerFactory logs) =>
        {
            var user = await users.VerifyAsync(form.UserName ?? "", form.Password ?? "", ctx.RequestAborted);
            if (user is null)
            {
                logs.CreateLogger("Login").LogWarning("sign-in refused from {Address}", ctx.Connection.RemoteIpAddress);
                return LoginPage(ctx, af, form.ReturnUrl, "用户名或密码错误。", StatusCodes.Status401Unauthorized);
            }
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, user.Name), new Claim(ClaimTypes.Role, user.Role)],
                CookieAuthenticationDefaults.AuthenticationScheme);
            await ctx.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            var target = IsLocal(form.ReturnUrl) ? form.ReturnUrl! : "/hangfire";
            return Results.Redirect(target);
        }).AllowAnonymous().RequireRateLimiting(LoginRateLimit);

        app.MapGet("/logout", (Delegate)Logout).AllowAnonymous();
        app.MapPost("/logout", (Delegate)Logout).AllowAnonymous();
        app.MapGet("/denied", () => Results.Content(Layout.Bare("无权访问", Html.Of($"""
            <p>您的账号无权访问该页面。<a href="/hangfire">返回控制台</a></p>
            """)).Value, "text/html; charset=utf-8", statusCode: StatusCodes.Status403Forbidden)).AllowAnonymous();

        static async Task<IResult> Logout(HttpContext ctx)
        {
            await ctx.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        }
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal);

    private static IResult LoginPage(HttpContext ctx, IAntiforgery af, string? returnUrl, string? error, int status)
    {
        var tokens = af.GetAndStoreTokens(ctx);
        var body = Html.Of($"""
            <form method="post" action="/login" class="login">
              <input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}">
              <input type="hidden" name="ReturnUrl" value="{(IsLocal(returnUrl) ? returnUrl : "/hangfire")}">
              {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{error}</p>"))}
              <label>用户名 <input name="UserName" autocomplete="username" required autofocus></label>
              <label>密码 <input name="Password" type="password" autocomplete="current-password" required></label>
              <button type="submit">登录</button>
            </form>
            """);
        return Results.Content(Layout.Bare("登录 · 凌源市人社局定时任务", body).Value, "text/html; charset=utf-8", statusCode: status);
    }

    public sealed class LoginForm
    {
        public string? UserName { get; set; }
        public string? Password { get; set; }
        public string? ReturnUrl { get; set; }
    }
}
