using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Extensions;

namespace Lingyuan.Jobs.Notifications;

/// <summary>
/// <c>/hangfire/outbox</c> (邮件发送): what the outbox holds, why a message failed, and, for admins,
/// putting a failed message back in the queue. Operators read only: no button, and a POST is 403.
/// It renders and calls the slices (<see cref="OutboxView"/>, <see cref="OutboxRequeue"/>); it runs no SQL.
/// </summary>
public static class OutboxPage
{
    public const string Path = "outbox";
    private const int PageSize = 50;

    private static readonly StateTable<OutboxState, OutboxVerb> States = OutboxLifecycle.Table;

    public static void Map(WebApplication app)
    {
        app.MapGet("/hangfire/outbox", ListAsync).RequireAuthorization(new AuthorizeAttribute { Roles = $"{Roles.Admin},{Roles.Operator}" });
        app.MapPost("/hangfire/outbox/{id:long}/requeue", RequeueAsync).RequireAuthorization(new AuthorizeAttribute { Roles = Roles.Admin });
    }

    private static async Task<IResult> ListAsync(
        HttpContext ctx, OutboxView view, BureauClock clock,
        string? state, string? recipient, string? regarding, int? page, CancellationToken ct)
    {
        state = state is not null && States.States.Any(st => States.Db(st) == state) ? state : null;
        recipient = string.IsNullOrWhiteSpace(recipient) ? null : recipient.Trim();
        regarding = string.IsNullOrWhiteSpace(regarding) ? null : regarding.Trim();
        var pageNo = Math.Clamp(page ?? 1, 1, RequestSafety.MaxPageNumber);

        var (counts, total, rows) = await view.ListAsync(new OutboxFilter(state, recipient, regarding), pageNo, PageSize, ct);

        var isAdmin = ctx.User.IsInRole(Roles.Admin);
        var pages = (int)Math.Max(1, (total + PageSize - 1) / PageSize);
        string Link(int p, string? s = null) => "/hangfire/outbox" + new QueryBuilder(new Dictionary<string, string?>
        {
            ["state"] = s ?? state,
            ["recipient"] = recipient,
            ["regarding"] = regarding,
            ["page"] = p.ToString(),
        }.Where(kv => !string.IsNullOrEmpty(kv.Value)).Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value!))).ToQueryString();
        string Time(DateTime? utc) => utc is null ? "" : clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc.Value, DateTimeKind.Utc)));

        var summary = Html.Of($"""
            <table class="counts"><tr>
              {States.States.Select(st => Html.Of($"""<th><a href="{Link(1, States.Db(st))}">{States.Label(st)}</a></th><td class="num" id="count-{States.Db(st)}">{counts.GetValueOrDefault(States.Db(st))}</td>"""))}
            </tr></table>
            """);
        var filter = Html.Of($"""
            <form method="get" action="/hangfire/outbox">
              <label>状态 <select name="state">
                <option value="">全部</option>
                {States.States.Select(st => Html.Of($"""<option value="{States.Db(st)}" {(States.Db(st) == state ? Html.Raw("selected") : Html.Empty)}>{States.Label(st)}</option>"""))}
              </select></label>
              <label>收件人 <input name="recipient" value="{recipient}"></label>
              <label>关联(类型、编号或 类型:编号) <input name="regarding" value="{regarding}"></label>
              <button type="submit">筛选</button>
            </form>
            """);
        var table = rows.Count == 0
            ? Html.Of($"<p>没有符合条件的邮件。</p>")
            : Html.Of($"""
                <table>
                <tr><th>编号</th><th>收件人</th><th>主题</th><th>关联</th><th>状态</th><th>尝试次数</th><th>创建时间</th><th>发送/下次尝试时间</th><th>服务器答复 / 失败原因</th>{(isAdmin ? Html.Raw("<th>操作</th>") : Html.Empty)}</tr>
                {rows.Select(r => Html.Of($"""
                    <tr id="outbox-{r.Id}">
                      <td class="num">{r.Id}</td>
                      <td>{string.Join(", ", r.Recipients)}</td>
                      <td>{r.Subject}</td>
                      <td>{r.RegardingType}:{r.RegardingId}</td>
                      <td class="{(r.State == OutboxLifecycle.Failed ? "error" : r.State == OutboxLifecycle.Sent ? "ok" : "warn")}">{States.Label(r.State)}</td>
                      <td class="num">{r.Attempts}</td>
                      <td>{Time(r.CreatedAt)}</td>
                      <td>{(r.State == OutboxLifecycle.Sent ? Time(r.SentAt) : r.State == OutboxLifecycle.Failed ? Time(r.FailedAt) : Time(r.NextAttemptAt))}</td>
                      <td class="{(r.State == OutboxLifecycle.Failed ? "error reason" : "reply")}"><code>{r.LastReply}</code>{(ReplyZh(r.LastReply) is { } zh ? Html.Of($"<br><span class=\"reply-zh\">{zh}</span>") : Html.Empty)}</td>
                      {(isAdmin ? Html.Of($"<td>{RequeueButton(ctx, r)}</td>") : Html.Empty)}
                    </tr>
                    """))}
                </table>
                """);
        var paging = Html.Of($"""
            <p>共 {total} 封,第 {pageNo} / {pages} 页
            {(pageNo > 1 ? Html.Of($"""<a href="{Link(pageNo - 1)}">上一页</a>""") : Html.Empty)}
            {(pageNo < pages ? Html.Of($"""<a href="{Link(pageNo + 1)}">下一页</a>""") : Html.Empty)}</p>
            """);
        return Layout.Page(ctx, "邮件发送", Html.Of($"{summary}{filter}{table}{paging}"));
    }

    /// <summary>
    /// What the mail server's reply means, in Chinese, beside the reply itself (kept verbatim: it is what the
    /// server's administrator needs); null when the reply is ours and Chinese already, or unknown.
    /// </summary>
    internal static string? ReplyZh(string? reply)
    {
        if (string.IsNullOrEmpty(reply)) return null;
        if (reply.Length >= 3 && char.IsAsciiDigit(reply[0]) && char.IsAsciiDigit(reply[1]) && char.IsAsciiDigit(reply[2])
            && (reply.Length == 3 || reply[3] is ' ' or '-'))
            return reply[..3] switch
            {
                ['2', _, _] => "邮件服务器已接收",
                "550" or "551" or "553" => "收件地址不存在或被拒收,请核对收件人的电子邮箱",
                "552" => "收件人邮箱已满或邮件过大",
                "554" => "被收件服务器拒收(可能被视为垃圾邮件或未获授权)",
                ['5', _, _] => "收件服务器永久拒收,不再重试",
                ['4', _, _] => "收件服务器暂时不能接收,将自动重试",
                _ => null,
            };
        // Our own record of a server that could not be reached: "HOST:PORT: reason".
        if (System.Text.RegularExpressions.Regex.IsMatch(reply, @"^[^\s:]+:[0-9]+: ")) return "无法连接邮件服务器,将自动重试";
        return null;
    }

    private static Html RequeueButton(HttpContext ctx, OutboxRow r) =>
        !States.Offers(OutboxVerb.Requeue, States.Parse(r.State), ctx.User) ? Html.Empty : Html.Of($"""
        <form method="post" action="/hangfire/outbox/{r.Id}/requeue" class="inline">
          {Layout.AntiforgeryField(ctx)}
          <button type="submit">重新发送</button>
        </form>
        """);

    private static async Task<IResult> RequeueAsync(HttpContext ctx, long id, OutboxRequeue requeue, CancellationToken ct)
    {
        // The route requires admin (403 otherwise); antiforgery and the same-origin check are the
        // dashboard's, once for every state change (RequestSafety), not repeated per page.
        if (!ctx.User.IsInRole(Roles.Admin)) return Denied(ctx);

        var result = await requeue.RequeueAsync(id, ct);
        if (result != RequeueResult.Requeued)
        {
            var why = result == RequeueResult.NotFound ? "该邮件不存在。" : "只有发送失败的邮件可以重新发送。";
            return Layout.Page(ctx, "无法重新发送", Html.Of($"<p class=\"error\">{why}</p><p><a href=\"/hangfire/outbox\">返回</a></p>"), StatusCodes.Status409Conflict);
        }
        return Results.Redirect("/hangfire/outbox?state=" + OutboxLifecycle.Pending);
    }

    private static IResult Denied(HttpContext ctx) =>
        Layout.Page(ctx, "无权操作", Html.Of($"<p class=\"error\">您的账号无权执行此操作(只有管理员可以重新发送邮件)。</p>"), StatusCodes.Status403Forbidden);
}
