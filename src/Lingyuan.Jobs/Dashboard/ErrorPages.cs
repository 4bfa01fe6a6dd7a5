using Microsoft.AspNetCore.Diagnostics;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// Errors that help (issue #18): 403, 404 and the other bodiless error statuses — from routing, from
/// authorization and from Hangfire's own dashboard — answered inside the layout (menu, user, sign-out)
/// with a way back, in Chinese. A response that already has a body (a page's own 409, a verb's 400) is kept.
/// </summary>
public static class ErrorPages
{
    public static Task RenderAsync(StatusCodeContext context)
    {
        var ctx = context.HttpContext;
        var status = ctx.Response.StatusCode;
        // Only what a person's browser asks for: a poll or an API call keeps its bare status.
        if (!HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method) && status != StatusCodes.Status403Forbidden)
            return Task.CompletedTask;
        var (title, text) = status switch
        {
            StatusCodes.Status403Forbidden => ("无权访问", "您的账号无权访问该页面或执行该操作。如需权限,请联系系统管理员。"),
            StatusCodes.Status404NotFound => ("页面不存在", "您要找的页面不存在,可能地址有误,或该记录已被删除。"),
            StatusCodes.Status405MethodNotAllowed => ("操作方式不正确", "该地址不支持该请求方式。请从页面上的按钮或链接进入。"),
            _ => ("请求未能完成", $"请求未能完成(状态码 {status})。"),
        };
        return WriteAsync(ctx, status, title, text);
    }

    public static async Task WriteAsync(HttpContext ctx, int status, string title, string text)
    {
        var signedIn = ctx.User.Identity?.IsAuthenticated == true;
        // The way back: the page the person came from when it is one of ours, and the overview.
        var referer = Uri.TryCreate(ctx.Request.Headers.Referer.ToString(), UriKind.Absolute, out var r)
            && string.Equals(r.Authority, ctx.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && DashboardSetup.IsLocal(r.PathAndQuery) ? r.PathAndQuery : null;
        var previous = referer is null ? Html.Empty : Html.Of($"""<a href="{referer}">返回上一页</a> · """);
        var back = signedIn
            ? Html.Of($"""<p>{previous}<a href="/hangfire">返回任务概览</a></p>""")
            : Html.Of($"""<p><a href="/login">前往登录</a></p>""");
        var body = Html.Of($"""<p class="error" role="alert">{text}</p>{back}""");
        if (signedIn)
        {
            await Layout.Page(ctx, title, body, status).ExecuteAsync(ctx);
            return;
        }
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/html; charset=utf-8";
        await ctx.Response.WriteAsync(Layout.Bare(title, body).Value);
    }
}
