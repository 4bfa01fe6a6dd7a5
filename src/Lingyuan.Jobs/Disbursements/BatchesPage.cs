using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using MiniExcelLibs;
using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// <c>/hangfire/batches</c> (finance): batches with totals, held lines by reason, changes against last
/// month, a searchable drill-down with masked personal data, the review forms, the bank file and an
/// XLSX summary, and the upload of the bank's return file.
/// </summary>
public static partial class BatchesPage
{
    private const int PageSize = 50;

    public static void Map(WebApplication app)
    {
        var g = app.MapGroup("/hangfire/batches").RequireAuthorization(Policies.Finance);
        g.MapGet("", ListAsync);
        g.MapGet("/{id:long}", DetailAsync);
        g.MapPost("/{id:long}/submit", (HttpContext ctx, long id, BatchReview r) =>
            ActAsync(ctx, id, (user, _, ct) => r.SubmitAsync(id, user, ct)));
        g.MapPost("/{id:long}/approve", (HttpContext ctx, long id, BatchReview r) =>
            ActAsync(ctx, id, (user, _, ct) => r.ApproveAsync(id, user, ct)));
        g.MapPost("/{id:long}/reject", (HttpContext ctx, long id, BatchReview r) =>
            ActAsync(ctx, id, (user, form, ct) => r.RejectAsync(id, user, form["reason"].ToString(), ct)));
        g.MapPost("/{id:long}/reconcile", ReconcileAsync);
        // Exporting marks the batch exported and is audited: a POST with the antiforgery token, never a link a GET could follow.
        g.MapPost("/{id:long}/bank-file", BankFileAsync);
        g.MapGet("/{id:long}/summary.xlsx", SummaryAsync);
    }

    private static string UserName(HttpContext ctx) => ctx.User.Identity?.Name ?? throw new InvalidOperationException("signed-in user without a name");

    private static async Task<IResult> ListAsync(HttpContext ctx, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var batches = (await conn.QueryAsync<BatchHeader>(new CommandDefinition(
            $"SELECT {BatchReview.HeaderColumns} FROM app.disbursement_batches ORDER BY period DESC, id DESC LIMIT 120", cancellationToken: ct))).ToList();
        // Kept by the lines' insert trigger (migration 0080): a few rows a batch, however many lines.
        var byBenefit = (await conn.QueryAsync<(long BatchId, string Benefit, long Count, long Total)>(new CommandDefinition(
            """
            SELECT batch_id, benefit, payable_count, payable_total_fen
            FROM app.disbursement_batch_benefits
            WHERE batch_id = ANY(@ids)
            ORDER BY batch_id, benefit
            """, new { ids = batches.Select(b => b.Id).ToArray() }, cancellationToken: ct))).ToLookup(x => x.BatchId);
        var rows = batches.Select(b => Html.Of($"""
            <tr><td><a href="/hangfire/batches/{b.Id}">{b.Id}</a></td><td>{b.P.ToString()}</td><td>{Zh.State(b.State)}</td>
            <td class="num">{b.PayableCount.ToString("N0", CultureInfo.InvariantCulture)}</td><td class="num">{Money.Yuan(b.PayableTotalFen)}</td>
            <td class="num">{b.HeldCount.ToString("N0", CultureInfo.InvariantCulture)}</td>
            <td>{Html.Join(byBenefit[b.Id].Select(x => Html.Of($"{Zh.Benefit(x.Benefit)}:{x.Count.ToString("N0", CultureInfo.InvariantCulture)} 笔 {Money.Yuan(x.Total)} 元<br>")))}</td>
            <td>{b.SubmittedBy}</td><td>{b.DecidedBy}</td></tr>
            """));
        var body = Html.Of($"""
            <p>每月 {ctx.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<DisbursementOptions>>().Value.BuildDay} 日自动生成当月批次;提交人与审批人须为不同的财务人员。</p>
            <table id="batches"><thead><tr><th>批次</th><th>期别</th><th>状态</th><th>应发笔数</th><th>应发金额(元)</th><th>暂停笔数</th><th>按待遇类型</th><th>提交人</th><th>审批/退回人</th></tr></thead>
            <tbody>{rows}</tbody></table>
            """);
        return Layout.Page(ctx, "待遇发放批次", body);
    }

    private static async Task<IResult> DetailAsync(HttpContext ctx, long id, NpgsqlDataSource db, string? q, string? status, string? reason, int? page, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var b = await conn.QuerySingleOrDefaultAsync<BatchHeader>(new CommandDefinition(
            $"SELECT {BatchReview.HeaderColumns} FROM app.disbursement_batches WHERE id = @id", new { id }, cancellationToken: ct));
        if (b is null) return Layout.Page(ctx, "批次不存在", Html.Of($"<p>批次 {id} 不存在。</p>"), 404);
        var user = UserName(ctx);
        // One read-only transaction for the page's queries: JIT off (compiling the aggregates over a million lines
        // cost more than running them: 0.68 s against 0.28 s for the held lines) and room for the month-to-month join.
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'", transaction: tx, cancellationToken: ct));

        var benefits = (await conn.QueryAsync<(string Benefit, long Count, long Total)>(new CommandDefinition(
            "SELECT benefit, payable_count, payable_total_fen FROM app.disbursement_batch_benefits WHERE batch_id = @id ORDER BY benefit",
            new { id }, tx, cancellationToken: ct))).ToList();
        var held = (await conn.QueryAsync<(string Reason, long Count, long Total)>(new CommandDefinition(
            "SELECT hold_reason, count(*), sum(amount_fen)::bigint FROM app.disbursement_lines WHERE batch_id = @id AND status = 'held' GROUP BY hold_reason ORDER BY count(*) DESC",
            new { id }, tx, commandTimeout: 0, cancellationToken: ct))).ToList();
        var kinds = (await conn.QueryAsync<(string Kind, long Count, long Total)>(new CommandDefinition(
            "SELECT kind, count(*), sum(amount_fen)::bigint FROM app.disbursement_lines WHERE batch_id = @id AND status = 'payable' GROUP BY kind ORDER BY kind",
            new { id }, tx, commandTimeout: 0, cancellationToken: ct))).ToList();
        var changes = await ChangesAsync(conn, tx, id, b.P, ct);
        var recoveries = (await conn.QueryAsync<(long LineId, string IdNumber, DateOnly DeathDate, long AmountFen)>(new CommandDefinition(
            """
            SELECT r.line_id, r.id_number, r.death_date, r.amount_fen FROM app.disbursement_recoveries r
            JOIN app.disbursement_lines l ON l.id = r.line_id WHERE l.batch_id = @id ORDER BY r.line_id LIMIT 200
            """, new { id }, tx, cancellationToken: ct))).ToList();

        var (where, args) = LineFilter(id, q, status, reason);
        var pageNo = Math.Clamp(page ?? 1, 1, RequestSafety.MaxPageNumber);
        args.Add("offset", (pageNo - 1) * PageSize);
        args.Add("limit", PageSize + 1);
        var lines = (await conn.QueryAsync<LineRow>(new CommandDefinition(
            $"""
            SELECT id AS Id, kind AS Kind, id_number AS IdNumber, account_name AS Name, benefit AS Benefit, period AS Period,
                   amount_fen AS AmountFen, status AS Status, hold_reason AS HoldReason, bank_account AS BankAccount, refers_to AS RefersTo
            FROM app.disbursement_lines WHERE {where} ORDER BY id OFFSET @offset LIMIT @limit
            """, args, tx, commandTimeout: 0, cancellationToken: ct))).ToList();
        var hasNext = lines.Count > PageSize;
        if (hasNext) lines.RemoveAt(PageSize);

        var totalCount = benefits.Sum(x => x.Count);
        var totalFen = benefits.Sum(x => x.Total);
        var body = Html.Of($"""
            <p><a href="/hangfire/batches">← 全部批次</a></p>
            <table id="batch-header">
              <tr><th>批次编号</th><td id="batch-id">{b.Id}</td><th>期别</th><td id="batch-period">{b.P.ToString()}</td><th>状态</th><td id="batch-state" data-state="{b.State}">{Zh.State(b.State)}</td></tr>
              <tr><th>生成</th><td>{b.BuiltBy}</td><th>提交人</th><td id="submitted-by">{b.SubmittedBy}</td><th>审批/退回人</th><td>{b.DecidedBy}</td></tr>
              {(b.RejectReason is null ? Html.Empty : Html.Of($"<tr><th>退回原因</th><td colspan=\"5\">{b.RejectReason}</td></tr>"))}
              {(b.ApprovedSha256 is null ? Html.Empty : Html.Of($"<tr><th>审批冻结</th><td colspan=\"5\">{b.ApprovedLineCount?.ToString("N0", CultureInfo.InvariantCulture)} 笔,{Money.Yuan(b.ApprovedTotalFen ?? 0)} 元,SHA-256 <code id=\"approved-sha\">{b.ApprovedSha256}</code></td></tr>"))}
            </table>
            {Actions(ctx, b, user)}
            <h2>按待遇类型汇总(应发)</h2>
            <table id="benefit-totals"><thead><tr><th>待遇类型</th><th>笔数</th><th>金额(元)</th></tr></thead><tbody>
            {Html.Join(benefits.Select(x => Html.Of($"<tr><td>{Zh.Benefit(x.Benefit)}</td><td class=\"num\">{x.Count.ToString("N0", CultureInfo.InvariantCulture)}</td><td class=\"num\">{Money.Yuan(x.Total)}</td></tr>")))}
            <tr><th>合计</th><td class="num" id="total-count" data-value="{totalCount}">{totalCount.ToString("N0", CultureInfo.InvariantCulture)}</td><td class="num" id="total-yuan" data-fen="{totalFen}">{Money.Yuan(totalFen)}</td></tr>
            </tbody></table>
            <p>其中:{Html.Join(kinds.Select(k => Html.Of($"{Zh.Kind(k.Kind)} {k.Count.ToString("N0", CultureInfo.InvariantCulture)} 笔 {Money.Yuan(k.Total)} 元;")))}</p>
            <h2>暂停发放(按原因)</h2>
            <table id="held-reasons"><thead><tr><th>原因</th><th>笔数</th><th>金额(元)</th></tr></thead><tbody>
            {Html.Join(held.Select(x => Html.Of($"<tr><td><a href=\"?status=held&amp;reason={x.Reason}\">{Zh.HoldReason(x.Reason)}</a></td><td class=\"num\">{x.Count.ToString("N0", CultureInfo.InvariantCulture)}</td><td class=\"num\">{Money.Yuan(x.Total)}</td></tr>")))}
            </tbody></table>
            <h2>与上月比较</h2>
            <p id="changes">新增 {changes.Count(c => c.What == "new")} 人次,停发 {changes.Count(c => c.What == "stopped")} 人次,金额变动 {changes.Count(c => c.What == "changed")} 人次(最多列出 60 条)。</p>
            <table><thead><tr><th>变动</th><th>身份证号</th><th>姓名</th><th>待遇类型</th><th>上月(元)</th><th>本月(元)</th></tr></thead><tbody>
            {Html.Join(changes.Take(60).Select(c => Html.Of($"<tr><td>{ChangeZh(c.What)}</td><td>{Mask.IdNumber(c.IdNumber)}</td><td>{c.Name}</td><td>{Zh.Benefit(c.Benefit)}</td><td class=\"num\">{(c.PrevFen is { } p ? Money.Yuan(p) : "")}</td><td class=\"num\">{(c.CurFen is { } n ? Money.Yuan(n) : "")}</td></tr>")))}
            </tbody></table>
            {(recoveries.Count == 0 ? Html.Empty : Html.Of($"""
                <h2>待追回(死亡后发放)</h2>
                <table id="recoveries"><thead><tr><th>流水引用</th><th>身份证号</th><th>死亡日期</th><th>金额(元)</th></tr></thead><tbody>
                {Html.Join(recoveries.Select(r => Html.Of($"<tr><td>{r.LineId}</td><td>{Mask.IdNumber(r.IdNumber)}</td><td>{r.DeathDate:yyyy-MM-dd}</td><td class=\"num\">{Money.Yuan(r.AmountFen)}</td></tr>")))}
                </tbody></table>
                """))}
            <h2>明细</h2>
            <form method="get" class="inline">
              <input name="q" value="{q}" placeholder="身份证号(可用脱敏格式)或姓名">
              <select name="status"><option value="">全部</option><option value="payable" {(status == "payable" ? "selected" : "")}>应发</option><option value="held" {(status == "held" ? "selected" : "")}>暂停</option></select>
              <input type="hidden" name="reason" value="{reason}"><button type="submit">查询</button>
            </form>
            <table id="lines"><thead><tr><th>流水引用</th><th>类型</th><th>身份证号</th><th>姓名</th><th>待遇类型</th><th>所属月份</th><th>金额(元)</th><th>账户</th><th>状态</th></tr></thead><tbody>
            {Html.Join(lines.Select(l => Html.Of($"<tr><td>{l.Id}</td><td>{Zh.Kind(l.Kind)}{(l.RefersTo is { } r ? Html.Of($"(原 {r})") : Html.Empty)}</td><td>{Mask.IdNumber(l.IdNumber)}</td><td>{l.Name}</td><td>{Zh.Benefit(l.Benefit)}</td><td>{l.Period:yyyy-MM}</td><td class=\"num\">{Money.Yuan(l.AmountFen)}</td><td>{Mask.Account(l.BankAccount)}</td><td>{(l.Status == "held" ? "暂停:" + Zh.HoldReason(l.HoldReason) : "应发")}</td></tr>")))}
            </tbody></table>
            <p>第 {pageNo} 页
            {(pageNo > 1 ? Html.Of($"<a href=\"?q={Uri.EscapeDataString(q ?? "")}&amp;status={status}&amp;reason={reason}&amp;page={pageNo - 1}\">上一页</a>") : Html.Empty)}
            {(hasNext ? Html.Of($"<a id=\"next-page\" href=\"?q={Uri.EscapeDataString(q ?? "")}&amp;status={status}&amp;reason={reason}&amp;page={pageNo + 1}\">下一页</a>") : Html.Empty)}</p>
            """);
        return Layout.Page(ctx, $"待遇发放批次 {b.P}", body);
    }

    private static Html Actions(HttpContext ctx, BatchHeader b, string user)
    {
        var af = Layout.AntiforgeryField(ctx);
        var parts = new List<Html>();
        if (b.State == "draft")
            parts.Add(Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/submit" class="inline">{af}<button type="submit" id="submit-batch">提交审批</button></form>"""));
        if (b.State == "submitted")
            parts.Add(b.SubmittedBy == user
                ? Html.Of($"<p class=\"warn\">您是本批次的提交人,须由另一名财务人员审批。</p>")
                : Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/approve" class="inline">{af}<button type="submit" id="approve-batch">审批通过</button></form>"""));
        if (b.State is "draft" or "submitted")
            parts.Add(Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/reject" class="inline">{af}<input name="reason" required maxlength="{TextRules.ReasonMaxLength}" placeholder="退回原因"><button type="submit" id="reject-batch">退回</button></form>"""));
        if (b.State is "approved" or "exported" or "reconciled")
            parts.Add(Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/bank-file" class="inline">{af}<button type="submit" id="download-bank-file">下载银行发放文件</button></form> """));
        parts.Add(Html.Of($"""<a id="download-summary" href="/hangfire/batches/{b.Id}/summary.xlsx">下载汇总表(XLSX)</a>"""));
        if (b.State is "exported" or "reconciled")
            parts.Add(Html.Of($"""
                <form method="post" action="/hangfire/batches/{b.Id}/reconcile" enctype="multipart/form-data">{af}
                <label>银行回盘文件 <input type="file" name="file" accept=".csv" required></label><button type="submit">导入对账</button></form>
                """));
        return Html.Of($"<div class=\"actions\">{Html.Join(parts)}</div>");
    }

    private static async Task<IResult> ActAsync(HttpContext ctx, long id, Func<string, IFormCollection, CancellationToken, Task> act)
    {
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        if (await ValidAntiforgeryAsync(ctx) is { } bad) return bad;
        try
        {
            await act(UserName(ctx), form, ctx.RequestAborted);
        }
        catch (Exception ex) when (ex is DomainRuleException or UsageException or BadInputException)
        {
            var status = ex.Data.Contains(BatchReview.ForbiddenKey) ? StatusCodes.Status403Forbidden
                : ex is BadInputException ? StatusCodes.Status400BadRequest : StatusCodes.Status409Conflict;
            return Layout.Page(ctx, "操作被拒绝", Html.Of($"""<p class="error" role="alert">{ex.Message}</p><p><a href="/hangfire/batches/{id}">返回批次</a></p>"""), status);
        }
        return Results.Redirect($"/hangfire/batches/{id}", permanent: false, preserveMethod: false);
    }

    private static async Task<IResult?> ValidAntiforgeryAsync(HttpContext ctx)
    {
        var af = ctx.RequestServices.GetRequiredService<IAntiforgery>();
        if (await af.IsRequestValidAsync(ctx)) return null;
        return Layout.Page(ctx, "请求无效", Html.Of($"<p class=\"error\">页面已过期,请刷新后重试。</p>"), StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> ReconcileAsync(HttpContext ctx, long id, Reconciler reconciler)
    {
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        if (await ValidAntiforgeryAsync(ctx) is { } bad) return bad;
        var file = form.Files.GetFile("file");
        if (file is null) return Layout.Page(ctx, "对账失败", Html.Of($"<p class=\"error\">请选择银行回盘文件。</p>"), 400);
        try
        {
            await using var s = file.OpenReadStream();
            var r = await reconciler.ReconcileAsync(id, s, Path.GetFileName(file.FileName), UserName(ctx), ctx.RequestAborted);
            return Layout.Page(ctx, "对账完成", Html.Of($"""
                <p class="ok" id="reconcile-result">共 {r.Rows} 行,本次登记 {r.Applied} 笔(成功 {r.Paid},失败 {r.Failed}),新增待追回 {r.NewRecoveries} 笔;批次状态:{Zh.State(r.State)}。</p>
                <p><a href="/hangfire/batches/{id}">返回批次</a></p>
                """));
        }
        catch (BadInputException ex)
        {
            return Layout.Page(ctx, "对账文件有误,未应用任何记录", Html.Of($"""
                <ul class="error" id="reconcile-problems">{Html.Join(ex.Problems.Select(p => Html.Of($"<li>{p}</li>")))}</ul>
                <p><a href="/hangfire/batches/{id}">返回批次</a></p>
                """), 400);
        }
        catch (DomainRuleException ex)
        {
            return Layout.Page(ctx, "对账被拒绝", Html.Of($"<p class=\"error\">{ex.Message}</p>"), 409);
        }
    }

    private static async Task<IResult> BankFileAsync(HttpContext ctx, long id, BankFile bankFile)
    {
        // Written to a temporary file first: a hash mismatch is found at the end, and the bank must never get half a file.
        var tmp = Path.Combine(Path.GetTempPath(), $"lingyuan-bank-{id}-{Guid.NewGuid():N}.csv");
        BatchHeader b;
        try
        {
            b = await bankFile.ExportToFileAsync(id, tmp, UserName(ctx), ctx.RequestAborted);
        }
        catch (DomainRuleException ex)
        {
            return Layout.Page(ctx, "不能生成银行文件", Html.Of($"<p class=\"error\" role=\"alert\">{ex.Message}</p>"), 409);
        }
        var stream = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose);
        return Results.File(stream, "text/csv; charset=utf-8", $"bank-{b.Id}-{b.P}.csv");
    }

    private static async Task<IResult> SummaryAsync(HttpContext ctx, long id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var b = await conn.QuerySingleOrDefaultAsync<BatchHeader>(new CommandDefinition(
            $"SELECT {BatchReview.HeaderColumns} FROM app.disbursement_batches WHERE id = @id", new { id }, cancellationToken: ct));
        if (b is null) return Results.NotFound();
        var benefits = await conn.QueryAsync<(string Benefit, string Kind, long Count, long Total)>(new CommandDefinition(
            "SELECT benefit, kind, count(*), sum(amount_fen)::bigint FROM app.disbursement_lines WHERE batch_id = @id AND status = 'payable' GROUP BY benefit, kind ORDER BY benefit, kind",
            new { id }, commandTimeout: 0, cancellationToken: ct));
        var held = await conn.QueryAsync<LineRow>(new CommandDefinition(
            """
            SELECT id AS Id, kind AS Kind, id_number AS IdNumber, account_name AS Name, benefit AS Benefit, period AS Period,
                   amount_fen AS AmountFen, status AS Status, hold_reason AS HoldReason, bank_account AS BankAccount, refers_to AS RefersTo
            FROM app.disbursement_lines WHERE batch_id = @id AND status = 'held' ORDER BY id LIMIT 100000
            """, new { id }, commandTimeout: 0, cancellationToken: ct));
        var sheets = new Dictionary<string, object>
        {
            ["汇总"] = benefits.Select(x => new Dictionary<string, object>
            {
                ["期别"] = b.P.ToString(), ["批次"] = b.Id, ["待遇类型"] = Zh.Benefit(x.Benefit), ["类型"] = Zh.Kind(x.Kind),
                ["笔数"] = x.Count, ["金额(元)"] = Money.Yuan(x.Total),
            }).ToList(),
            ["暂停发放"] = held.Select(l => new Dictionary<string, object>
            {
                ["流水引用"] = l.Id, ["身份证号"] = Mask.IdNumber(l.IdNumber), ["姓名"] = Cell(l.Name), ["待遇类型"] = Zh.Benefit(l.Benefit),
                ["所属月份"] = l.Period.ToString("yyyy-MM", CultureInfo.InvariantCulture), ["金额(元)"] = Money.Yuan(l.AmountFen), ["原因"] = Zh.HoldReason(l.HoldReason),
            }).ToList(),
        };
        var ms = new MemoryStream();
        await ms.SaveAsAsync(sheets, cancellationToken: ct);
        ms.Position = 0;
        return Results.File(ms, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"batch-{b.Id}-{b.P}.xlsx");
    }

    public static string Cell(string? s) => Exports.SpreadsheetText.Neutralise(s);

    private static (string Where, DynamicParameters Args) LineFilter(long id, string? q, string? status, string? reason)
    {
        var args = new DynamicParameters();
        args.Add("id", id);
        var where = "batch_id = @id";
        if (status is "payable" or "held") { where += " AND status = @status"; args.Add("status", status); }
        if (!string.IsNullOrEmpty(reason)) { where += " AND hold_reason = @reason"; args.Add("reason", reason); }
        q = q?.Trim();
        if (!string.IsNullOrEmpty(q))
        {
            var masked = MaskedId().Match(q.ToUpperInvariant());
            if (masked.Success)
            {
                where += " AND id_number LIKE @idPattern";
                args.Add("idPattern", masked.Groups[1].Value + "%" + masked.Groups[2].Value);
            }
            else
            {
                where += " AND account_name LIKE @namePattern ESCAPE '\\'";
                args.Add("namePattern", "%" + q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%");
            }
        }
        return (where, args);
    }

    // A full ID number, or the masked form 211382********123X (stars for any hidden digits).
    [GeneratedRegex(@"^([0-9]{6})(?:[0-9]{8}|\*+)([0-9]{3}[0-9X])$")]
    private static partial Regex MaskedId();

    private static string ChangeZh(string c) => c switch { "new" => "新增", "stopped" => "停发", "changed" => "金额变动", _ => c };

    private sealed record ChangeRow(string What, string IdNumber, string? Name, string Benefit, long? PrevFen, long? CurFen);

    private sealed record LineRow(long Id, string Kind, string IdNumber, string? Name, string Benefit, DateOnly Period, long AmountFen, string Status, string? HoldReason, string? BankAccount, long? RefersTo);

    /// <summary>
    /// New, stopped and changed amounts against last month's live batch. Last month's batch is found first, so both
    /// sides are read on the batch index (joined to the batches, last month's lines were found by scanning every
    /// line ever built: 2.5 s a view with seven months of 1,000,000 lines, and growing); JIT off (its compilation cost
    /// ~0.2 s a view) and enough memory for the hash join of two months (it spilled in 16 batches): see DetailAsync.
    /// </summary>
    private static async Task<List<ChangeRow>> ChangesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, Period period, CancellationToken ct)
    {
        var prevId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM app.disbursement_batches WHERE period = @prev AND state <> 'rejected'",
            new { prev = period.FirstDay.AddMonths(-1) }, tx, cancellationToken: ct));
        if (prevId is null) return [];
        return (await conn.QueryAsync<ChangeRow>(new CommandDefinition(ChangesSql, new { id, prevId }, tx, commandTimeout: 0, cancellationToken: ct))).ToList();
    }

    private const string ChangesSql = """
        WITH cur AS (
            SELECT id_number, benefit, amount_fen, account_name FROM app.disbursement_lines WHERE batch_id = @id AND kind = 'regular'
        ),
        prev AS (
            SELECT id_number, benefit, amount_fen, account_name FROM app.disbursement_lines WHERE batch_id = @prevId AND kind = 'regular'
        )
        SELECT CASE WHEN p.id_number IS NULL THEN 'new' WHEN c.id_number IS NULL THEN 'stopped' ELSE 'changed' END AS What,
               coalesce(c.id_number, p.id_number) AS IdNumber, coalesce(c.account_name, p.account_name) AS Name,
               coalesce(c.benefit, p.benefit) AS Benefit, p.amount_fen AS PrevFen, c.amount_fen AS CurFen
        FROM cur c FULL JOIN prev p ON p.id_number = c.id_number AND p.benefit = c.benefit
        WHERE EXISTS (SELECT 1 FROM app.disbursement_lines x WHERE x.batch_id = @prevId) AND (p.id_number IS NULL OR c.id_number IS NULL OR p.amount_fen <> c.amount_fen)
        ORDER BY 1, 2
        LIMIT 5000
        """;
}
