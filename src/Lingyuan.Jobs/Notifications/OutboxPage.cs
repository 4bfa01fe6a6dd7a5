using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Notifications;

/// <summary>
/// <c>/hangfire/outbox</c> (邮件发送): what the outbox holds, why a message failed, and, for admins,
/// putting a failed message back in the queue. Operators read only: no button, and a POST is 403.
/// </summary>
public static class OutboxPage
{
    public const string Path = "outbox";
    private const int PageSize = 50;

    private static readonly Dictionary<string, string> StateZh = new()
    {
        ["pending"] = "待发送",
        ["sent"] = "已发送",
        ["failed"] = "发送失败",
    };

    // A class, not a positional record: Npgsql reports text[] columns as System.Array, which Dapper's constructor matching refuses.
    private sealed class Row
    {
        public long Id { get; init; }
        public string[] Recipients { get; init; } = [];
        public string Subject { get; init; } = "";
        public string RegardingType { get; init; } = "";
        public string RegardingId { get; init; } = "";
        public string State { get; init; } = "";
        public int Attempts { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime NextAttemptAt { get; init; }
        public DateTime? SentAt { get; init; }
        public DateTime? FailedAt { get; init; }
        public string? LastReply { get; init; }
    }

    public static void Map(WebApplication app)
    {
        app.MapGet("/hangfire/outbox", ListAsync).RequireAuthorization(new AuthorizeAttribute { Roles = $"{Roles.Admin},{Roles.Operator}" });
        app.MapPost("/hangfire/outbox/{id:long}/requeue", RequeueAsync).RequireAuthorization(new AuthorizeAttribute { Roles = Roles.Admin });
    }

    private static async Task<IResult> ListAsync(
        HttpContext ctx, NpgsqlDataSource db, IOptions<JobsOptions> jobs,
        string? state, string? recipient, string? regarding, int? page, CancellationToken ct)
    {
        state = state is not null && StateZh.ContainsKey(state) ? state : null;
        recipient = string.IsNullOrWhiteSpace(recipient) ? null : recipient.Trim();
        regarding = string.IsNullOrWhiteSpace(regarding) ? null : regarding.Trim();
        var pageNo = Math.Clamp(page ?? 1, 1, RequestSafety.MaxPageNumber);

        await using var conn = await db.OpenConnectionAsync(ct);
        var counts = (await conn.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, count(*) FROM app.outbox GROUP BY state", cancellationToken: ct))).ToDictionary(c => c.State, c => c.Count);

        const string Filter =
            """
            WHERE (@state::text IS NULL OR state = @state)
              AND (@recipient::text IS NULL OR EXISTS (SELECT 1 FROM unnest(recipients) r WHERE r ILIKE '%' || @recipientLike || '%' ESCAPE '\'))
              AND (@regarding::text IS NULL OR regarding_type = @regarding OR regarding_id = @regarding
                   OR regarding_type || ':' || regarding_id = @regarding)
            """;
        var args = new
        {
            state,
            recipient,
            regarding,
            recipientLike = recipient?.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_"),
            limit = PageSize,
            offset = (pageNo - 1) * PageSize,
        };
        var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM app.outbox {Filter}", args, cancellationToken: ct));
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition(
            $"""
            SELECT id, recipients, subject, regarding_type AS RegardingType, regarding_id AS RegardingId, state, attempts,
                   created_at AS CreatedAt, next_attempt_at AS NextAttemptAt, sent_at AS SentAt, failed_at AS FailedAt, last_reply AS LastReply
            FROM app.outbox {Filter}
            ORDER BY id DESC LIMIT @limit OFFSET @offset
            """, args, cancellationToken: ct))).ToList();

        var zone = jobs.Value.GetZone();
        var isAdmin = ctx.User.IsInRole(Roles.Admin);
        var pages = (int)Math.Max(1, (total + PageSize - 1) / PageSize);
        string Link(int p, string? s = null) => "/hangfire/outbox" + new QueryBuilder(new Dictionary<string, string?>
        {
            ["state"] = s ?? state,
            ["recipient"] = recipient,
            ["regarding"] = regarding,
            ["page"] = p.ToString(),
        }.Where(kv => !string.IsNullOrEmpty(kv.Value)).Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value!))).ToQueryString();
        string Time(DateTime? utc) => utc is null ? "" :
            TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc.Value, DateTimeKind.Utc), zone).ToString("yyyy-MM-dd HH:mm:ss");

        var summary = Html.Of($"""
            <table class="counts"><tr>
              <th><a href="{Link(1, "pending")}">待发送</a></th><td class="num" id="count-pending">{counts.GetValueOrDefault("pending")}</td>
              <th><a href="{Link(1, "sent")}">已发送</a></th><td class="num" id="count-sent">{counts.GetValueOrDefault("sent")}</td>
              <th><a href="{Link(1, "failed")}">发送失败</a></th><td class="num" id="count-failed">{counts.GetValueOrDefault("failed")}</td>
            </tr></table>
            """);
        var filter = Html.Of($"""
            <form method="get" action="/hangfire/outbox">
              <label>状态 <select name="state">
                <option value="">全部</option>
                {StateZh.Select(kv => Html.Of($"""<option value="{kv.Key}" {(kv.Key == state ? Html.Raw("selected") : Html.Empty)}>{kv.Value}</option>"""))}
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
                      <td class="{(r.State == "failed" ? "error" : r.State == "sent" ? "ok" : "warn")}">{StateZh[r.State]}</td>
                      <td class="num">{r.Attempts}</td>
                      <td>{Time(r.CreatedAt)}</td>
                      <td>{(r.State == "sent" ? Time(r.SentAt) : r.State == "failed" ? Time(r.FailedAt) : Time(r.NextAttemptAt))}</td>
                      <td class="{(r.State == "failed" ? "error reason" : "reply")}">{r.LastReply}</td>
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

    private static Html RequeueButton(HttpContext ctx, Row r) => r.State != "failed" ? Html.Empty : Html.Of($"""
        <form method="post" action="/hangfire/outbox/{r.Id}/requeue" class="inline">
          {Layout.AntiforgeryField(ctx)}
          <button type="submit">重新发送</button>
        </form>
        """);

    private static async Task<IResult> RequeueAsync(
        HttpContext ctx, long id, NpgsqlDataSource db, IAntiforgery antiforgery, IOutboxSignal signal, TimeProvider clock, CancellationToken ct)
    {
        // The route already requires admin (403 otherwise) and the dashboard checks antiforgery centrally;
        // both are repeated here so this page stays safe if it is ever mapped differently.
        if (!ctx.User.IsInRole(Roles.Admin)) return Denied(ctx);
        try { await antiforgery.ValidateRequestAsync(ctx); }
        catch (AntiforgeryValidationException)
        {
            return Layout.Page(ctx, "请求无效", Html.Of($"<p class=\"error\">表单已过期,请返回页面重试。</p>"), StatusCodes.Status400BadRequest);
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var now = clock.GetUtcNow();
        var before = await conn.QuerySingleOrDefaultAsync<(string State, int Attempts, string? LastReply)>(new CommandDefinition(
            "SELECT state, attempts, last_reply FROM app.outbox WHERE id = @id FOR UPDATE", new { id }, tx, cancellationToken: ct));
        if (before.State != "failed")
        {
            await tx.RollbackAsync(ct);
            var why = before.State is null ? "该邮件不存在。" : "只有发送失败的邮件可以重新发送。";
            return Layout.Page(ctx, "无法重新发送", Html.Of($"<p class=\"error\">{why}</p><p><a href=\"/hangfire/outbox\">返回</a></p>"), StatusCodes.Status409Conflict);
        }
        // A fresh start: the retry horizon counts from now, the old reason stays visible until the next attempt.
        await conn.ExecuteAsync(new CommandDefinition(
            """
            UPDATE app.outbox SET state = 'pending', failed_at = NULL, next_attempt_at = @now, retry_from = @now
            WHERE id = @id AND state = 'failed'
            """, new { id, now }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(conn, tx, ctx.User.Identity?.Name ?? "?", "outbox.requeue", "outbox", id.ToString(),
            before: new { state = before.State, attempts = before.Attempts, last_reply = before.LastReply },
            after: new { state = "pending" });
        await tx.CommitAsync(ct);
        signal.MailQueued();
        return Results.Redirect("/hangfire/outbox?state=pending");
    }

    private static IResult Denied(HttpContext ctx) =>
        Layout.Page(ctx, "无权操作", Html.Of($"<p class=\"error\">您的账号无权执行此操作(只有管理员可以重新发送邮件)。</p>"), StatusCodes.Status403Forbidden);
}
