using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Antiforgery;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>The frame of the project's own pages: a navigation bar to the Hangfire pages and every project page the user may see.</summary>
public static class Layout
{
    private const string Css = """
        body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;color:#222;background:#fafafa}
        nav{background:#2c3e50;padding:.5em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
        nav a,nav span,nav button{color:#ecf0f1;text-decoration:none;font-size:14px}
        nav a.active{font-weight:bold;border-bottom:2px solid #ecf0f1}
        nav form{margin-left:auto;display:flex;gap:.8em;align-items:center}
        nav button{background:none;border:1px solid #ecf0f1;border-radius:3px;cursor:pointer;padding:.1em .6em}
        main{padding:1em 2em}
        table{border-collapse:collapse;margin:.5em 0 1.5em;background:#fff}
        th,td{border:1px solid #ccc;padding:.3em .6em;font-size:14px;text-align:left}
        th{background:#eef}
        td.num{text-align:right;font-variant-numeric:tabular-nums}
        .error{color:#b00}.warn{color:#a60}.ok{color:#070}
        form.login{max-width:22em;margin:4em auto;display:flex;flex-direction:column;gap:.8em;background:#fff;padding:2em;border:1px solid #ddd}
        form.login input{width:100%;padding:.3em}
        form.inline{display:inline}
        @media print{nav{display:none}}
        """;

    public static Html Bare(string title, Html body) => Html.Of($"""
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>{Html.Raw(Css)}</style></head>
        <body><main><h1>{title}</h1>{body}</main></body></html>
        """);

    public static IResult Page(HttpContext ctx, string title, Html body, int status = 200)
    {
        var user = ctx.User;
        var pages = ctx.RequestServices.GetServices<DashboardPage>().Where(p => user.IsAny(p.ViewRoles));
        var path = ctx.Request.Path.Value ?? "";
        var links = pages.Select(p =>
        {
            var href = "/hangfire/" + p.Path;
            return Html.Of($"""<a href="{href}" class="{(path.StartsWith(href, StringComparison.Ordinal) ? "active" : "")}">{p.TitleZh}</a>""");
        });
        var af = ctx.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(ctx);
        var role = user.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value ?? "";
        var html = Html.Of($"""
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><title>{title} · 凌源市人社局定时任务</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>{Html.Raw(Css)}</style></head>
            <body>
            <nav>
              <a href="/hangfire">任务概览</a><a href="/hangfire/recurring">定时任务</a>
              {links}
              <form method="post" action="/logout">
                <span>{user.Identity?.Name}({Roles.NameZh(role)})</span><a href="{AccountPages.PasswordPath}">修改密码</a>
                <input type="hidden" name="{af.FormFieldName}" value="{af.RequestToken}">
                <button type="submit">退出</button>
              </form>
            </nav>
            <main><h1>{title}</h1>{body}</main>
            </body></html>
            """);
        return Results.Content(html.Value, "text/html; charset=utf-8", statusCode: status);
    }

    /// <summary>
    /// Hangfire's own pages: who is signed in, as the last menu item, leading to the sign-out page
    /// (<c>GET /logout</c> offers the button; signing out is a POST).
    /// </summary>
    public static MenuItem? HangfireUserItem(Hangfire.Dashboard.RazorPage page)
    {
        var user = page.Context.GetHttpContext().User;
        if (user.Identity?.IsAuthenticated != true) return null;
        var role = user.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value ?? "";
        return new MenuItem($"{user.Identity.Name}({Roles.NameZh(role)})· 退出登录", "/logout");
    }

    /// <summary>A hidden antiforgery field for a form on a project page.</summary>
    public static Html AntiforgeryField(HttpContext ctx)
    {
        var af = ctx.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(ctx);
        return Html.Of($"""<input type="hidden" name="{af.FormFieldName}" value="{af.RequestToken}">""");
    }
}
