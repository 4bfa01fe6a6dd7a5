using System.Globalization;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using MiniExcelLibs;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// <c>/hangfire/batches</c> (finance), rendered: batches with totals, held lines by reason, changes against last
/// month, a searchable drill-down with masked personal data, the review forms, the bank file and an XLSX
/// summary, and the upload of the bank's return file. No SQL here: the slices (View, Review, Export,
/// Reconcile) hold the queries and the endpoints, and call these renderers.
/// </summary>
public static class BatchesPage
{
    public static void Map(WebApplication app)
    {
        var g = app.MapGroup("/hangfire/batches").RequireAuthorization(Policies.Finance);
        BatchView.Map(g);
        BatchReview.Map(g);
        HoldRelease.Map(g);
        Reconciler.Map(g);
        BankFile.Map(g);
        BuildOnRequest.Map(g);
    }

    internal static string UserName(HttpContext ctx) => ctx.User.Identity?.Name ?? throw new InvalidOperationException("signed-in user without a name");

    /// <summary>The catch-up months shown as buttons at most; the month chooser reaches the others.</summary>
    public const int CatchUpButtons = 36;

    internal static IResult List(HttpContext ctx, int buildDay, List<BatchHeader> batches, ILookup<long, BatchBenefitTotal> byBenefit,
        List<Period> catchUp, Period current, Period? requested)
    {
        var rows = batches.Select(b => Html.Of($"""
            <tr><td><a href="/hangfire/batches/{b.Id}">{b.Id}</a></td><td>{b.Period.ToString()}</td><td>{BatchLifecycle.Table.Label(b.State)}</td>
            <td class="num">{b.PayableCount.ToString("N0", CultureInfo.InvariantCulture)}</td><td class="num">{Money.Yuan(b.PayableTotalFen)}</td>
            <td class="num">{b.HeldCount.ToString("N0", CultureInfo.InvariantCulture)}</td>
            <td>{Html.Join(byBenefit[b.Id].Select(x => Html.Of($"{Zh.Benefit(x.Benefit)}:{x.Count.ToString("N0", CultureInfo.InvariantCulture)} 笔 {Money.Yuan(x.Total)} 元<br>")))}</td>
            <td>{b.SubmittedBy}</td><td>{b.DecidedBy}</td></tr>
            """));
        var body = Html.Of($"""
            <p>每月 {buildDay} 日自动生成当月批次;提交人与审批人须为不同的财务人员。尚未生成的月份可在下方手动生成。</p>
            {(requested is { } r ? Html.Of($"""<p class="ok" role="status" id="build-requested">已安排生成 {r.ToString()} 批次,通常几秒到几分钟完成;完成后刷新本页即可看到,并会邮件通知财务人员审核。</p>""") : Html.Empty)}
            {BuildForms(ctx, catchUp, current)}
            <table id="batches"><thead><tr><th>批次</th><th>期别</th><th>状态</th><th>应发笔数</th><th>应发金额(元)</th><th>暂停笔数</th><th>按待遇类型</th><th>提交人</th><th>审批/退回人</th></tr></thead>
            <tbody>{rows}</tbody></table>
            """);
        return Layout.Page(ctx, "待遇发放批次", body);
    }

    // The catch-up months as one button each (oldest first: back-pay reads earlier months), and a month chooser.
    private static Html BuildForms(HttpContext ctx, List<Period> catchUp, Period current)
    {
        var af = Layout.AntiforgeryField(ctx);
        var shown = catchUp.Take(CatchUpButtons).ToList();
        return Html.Of($"""
            <h2>生成批次</h2>
            {(catchUp.Count == 0
                ? Html.Of($"<p id=\"catch-up-none\">自本系统的第一个发放月份至本月({current.ToString()}),每个月份都已有批次。</p>")
                : Html.Of($"""
                    <p>以下月份尚无批次(自本系统的第一个发放月份至本月 {current.ToString()},共 {catchUp.Count} 个月{(catchUp.Count > shown.Count ? $",此处列出最早的 {shown.Count} 个" : "")}),建议按时间顺序生成:</p>
                    <div id="catch-up">{Html.Join(shown.Select(p => Html.Of($"""<form method="post" action="/hangfire/batches/build" class="inline">{af}<input type="hidden" name="period" value="{p.ToString()}"><button type="submit" data-period="{p.ToString()}">生成 {p.ToString()}</button></form> """)))}</div>
                    """))}
            <form method="post" action="/hangfire/batches/build" id="build-month">{af}
              <label>选择期别 <input type="month" name="period" max="{current.ToString()}" required></label> <button type="submit" id="build-chosen">生成所选月份的批次</button>
              <small>已有批次(未被退回)的月份不会重复生成。</small>
            </form>
            """);
    }

    /// <summary>The approval's confirmation: what the approval freezes, echoed back by the form and checked by the slice.</summary>
    internal static IResult ConfirmApproval(HttpContext ctx, BatchHeader b, long count, long totalFen)
    {
        var t = BatchLifecycle.Table;
        var body = Html.Of($"""
            <p><a href="/hangfire/batches/{b.Id}">← 返回批次</a></p>
            {(t.Offers(BatchVerb.Approve, b.State, ctx.User) ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">批次当前状态为“{t.Label(b.State)}”,不能审批。</p>"))}
            <p>审批后批次冻结:笔数、总额与校验值将被记录,之后不能再修改。请核对以下内容:</p>
            <table id="approve-figures">
              <tr><th>批次编号</th><td>{b.Id}</td></tr>
              <tr><th>期别</th><td id="confirm-period">{b.Period.ToString()}</td></tr>
              <tr><th>应发笔数</th><td class="num" id="confirm-count" data-value="{count}">{count.ToString("N0", CultureInfo.InvariantCulture)}</td></tr>
              <tr><th>应发总额(元)</th><td class="num" id="confirm-total" data-fen="{totalFen}">{Money.Yuan(totalFen)}</td></tr>
              <tr><th>提交人</th><td>{b.SubmittedBy}</td></tr>
            </table>
            <form method="post" action="/hangfire/batches/{b.Id}/approve">{Layout.AntiforgeryField(ctx)}
              <input type="hidden" name="confirmed_count" value="{count}">
              <input type="hidden" name="confirmed_total_fen" value="{totalFen}">
              <label><input type="checkbox" name="confirm" required> 我已核对:{b.Period.ToString()} 期,共 {count.ToString("N0", CultureInfo.InvariantCulture)} 笔,合计 {Money.Yuan(totalFen)} 元</label>
              <p><button type="submit" id="confirm-approve">确认审批通过</button> <a href="/hangfire/batches/{b.Id}">取消</a></p>
            </form>
            """);
        return Layout.Page(ctx, $"确认审批 {b.Period}", body);
    }

    internal static IResult Missing(HttpContext ctx, long id) => Layout.Page(ctx, "批次不存在", Html.Of($"<p>批次 {id} 不存在。</p>"), 404);

    internal static IResult Detail(HttpContext ctx, BatchDetail d, string? q, string? status, string? reason)
    {
        var (b, benefits, held, kinds, changes, recoveries, lines, pageNo, hasNext) = (d.Header, d.Benefits, d.Held, d.Kinds, d.Changes, d.Recoveries, d.Lines, d.PageNo, d.HasNext);
        var totalCount = benefits.Sum(x => x.Count);
        var totalFen = benefits.Sum(x => x.Total);
        var body = Html.Of($"""
            <p><a href="/hangfire/batches">← 全部批次</a></p>
            <table id="batch-header">
              <tr><th>批次编号</th><td id="batch-id">{b.Id}</td><th>期别</th><td id="batch-period">{b.Period.ToString()}</td><th>状态</th><td id="batch-state" data-state="{BatchLifecycle.Table.Db(b.State)}">{BatchLifecycle.Table.Label(b.State)}</td></tr>
              <tr><th>生成</th><td>{b.BuiltBy}</td><th>提交人</th><td id="submitted-by">{b.SubmittedBy}</td><th>审批/退回人</th><td>{b.DecidedBy}</td></tr>
              {(b.RejectReason is null ? Html.Empty : Html.Of($"<tr><th>退回原因</th><td colspan=\"5\">{b.RejectReason}</td></tr>"))}
              {(b.ApprovedSha256 is null ? Html.Empty : Html.Of($"<tr><th>审批冻结</th><td colspan=\"5\">{b.ApprovedLineCount?.ToString("N0", CultureInfo.InvariantCulture)} 笔,{Money.Yuan(b.ApprovedTotalFen ?? 0)} 元,SHA-256 <code id=\"approved-sha\">{b.ApprovedSha256}</code></td></tr>"))}
            </table>
            {Actions(ctx, b)}
            {Outcomes(b, d.Outcomes)}
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
            {AmountChanges(ctx, b, d.AmountChanges)}
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
            {Html.Join(lines.Select(l => Html.Of($"<tr><td>{l.Id}</td><td>{Zh.Kind(l.Kind)}{(l.RefersTo is { } r ? Html.Of($"(原 {r})") : Html.Empty)}</td><td>{Mask.IdNumber(l.IdNumber)}</td><td>{l.Name}</td><td>{Zh.Benefit(l.Benefit)}</td><td>{l.Period:yyyy-MM}</td><td class=\"num\">{Money.Yuan(l.AmountFen)}</td><td>{Mask.Account(l.BankAccount)}</td><td>{(l.Status == "held" ? "暂停:" + Zh.HoldReason(l.HoldReason) : l.Outcome switch { "paid" => "已发放", "failed" => "退票", _ => "应发" })}</td></tr>")))}
            </tbody></table>
            <p>第 {pageNo} 页
            {(pageNo > 1 ? Html.Of($"<a href=\"?q={Uri.EscapeDataString(q ?? "")}&amp;status={status}&amp;reason={reason}&amp;page={pageNo - 1}\">上一页</a>") : Html.Empty)}
            {(hasNext ? Html.Of($"<a id=\"next-page\" href=\"?q={Uri.EscapeDataString(q ?? "")}&amp;status={status}&amp;reason={reason}&amp;page={pageNo + 1}\">下一页</a>") : Html.Empty)}</p>
            """);
        return Layout.Page(ctx, $"待遇发放批次 {b.Period}", body);
    }

    // The buttons are the moves the state table offers this user now; the guard is in the slice.
    private static Html Actions(HttpContext ctx, BatchHeader b)
    {
        var t = BatchLifecycle.Table;
        var user = ctx.User;
        var af = Layout.AntiforgeryField(ctx);
        var parts = new List<Html>();
        if (t.Offers(BatchVerb.Submit, b.State, user))
            parts.Add(Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/submit" class="inline">{af}<button type="submit" id="submit-batch">{t.MoveOf(BatchVerb.Submit).LabelZh}</button></form>"""));
        if (t.Offers(BatchVerb.Approve, b.State, user))
            parts.Add(b.SubmittedBy == UserName(ctx)
                ? Html.Of($"<p class=\"warn\">您是本批次的提交人,须由另一名财务人员审批。</p>")
                : Html.Of($"""<a id="approve-batch" href="/hangfire/batches/{b.Id}/approve">{t.MoveOf(BatchVerb.Approve).LabelZh}…(核对后确认)</a> """));
        if (t.Offers(BatchVerb.Reject, b.State, user))
            parts.Add(Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/reject" class="inline">{af}<input name="reason" required maxlength="{TextRules.ReasonMaxLength}" placeholder="退回原因"><button type="submit" id="reject-batch">{t.MoveOf(BatchVerb.Reject).LabelZh}</button></form>"""));
        if (t.Offers(BatchVerb.Export, b.State, user))
            parts.Add(Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/bank-file" class="inline">{af}<button type="submit" id="download-bank-file">下载银行发放文件</button></form> """));
        parts.Add(Html.Of($"""<a id="download-summary" href="/hangfire/batches/{b.Id}/summary.xlsx">下载汇总表(XLSX)</a>"""));
        if (t.Offers(BatchVerb.Reconcile, b.State, user))
            parts.Add(Html.Of($"""
                <form method="post" action="/hangfire/batches/{b.Id}/reconcile" enctype="multipart/form-data">{af}
                <label>银行回盘文件 <input type="file" name="file" accept=".csv" required></label><button type="submit">导入对账</button></form>
                """));
        return Html.Of($"<div class=\"actions\">{Html.Join(parts)}</div>");
    }

    // What the bank's return files said: counts, and the failed payments (退票) with the bank's reason and their re-issue.
    private static Html Outcomes(BatchHeader b, BatchOutcomes? o)
    {
        if (b.State == BatchState.Exported && o is null)
            return Html.Of($"<h2>对账结果</h2><p id=\"outcomes\">银行发放文件已生成,尚未导入银行回盘文件。</p>");
        if (o is null) return Html.Empty;
        string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var approved = b.ApprovedLineCount ?? 0;
        var paid = b.OutcomeCount - o.FailedCount;
        var waiting = approved - b.OutcomeCount;
        var summary = $"已回盘 {N(b.OutcomeCount)} 笔(共 {N(approved)} 笔):成功 {N(paid)} 笔"
            + (waiting == 0 ? $",{Money.Yuan((b.ApprovedTotalFen ?? 0) - o.FailedFen)} 元" : "")
            + $";失败(退票){N(o.FailedCount)} 笔,{Money.Yuan(o.FailedFen)} 元"
            + (waiting > 0 ? $";尚未回盘 {N(waiting)} 笔。" : "。");
        var failed = o.Failed.Count == 0 ? Html.Empty : Html.Of($"""
            <p>退票不会原样重发:经办人员更正社保卡账户或姓名后,随之后的批次作为“补发”发放{(o.FailedCount > o.Failed.Count ? $";此处列出前 {N(o.Failed.Count)} 笔,全部见汇总表(XLSX)“退票”页" : "")}。</p>
            <table id="failed-lines"><thead><tr><th>流水引用</th><th>身份证号</th><th>姓名</th><th>待遇类型</th><th>金额(元)</th><th>银行失败代码</th><th>失败原因</th><th>补发</th></tr></thead><tbody>
            {Html.Join(o.Failed.Select(f => Html.Of($"<tr><td>{f.LineId}</td><td>{Mask.IdNumber(f.IdNumber)}</td><td>{f.Name}</td><td>{Zh.Benefit(f.Benefit)}</td><td class=\"num\">{Money.Yuan(f.AmountFen)}</td><td>{f.FailureCode}</td><td>{f.FailureReason}</td><td>{(f.ReissuedIn is { } r ? Html.Of($"<a href=\"/hangfire/batches/{r}\">已列入批次 {r}</a>") : Html.Of($"待更正后补发"))}</td></tr>")))}
            </tbody></table>
            """);
        return Html.Of($"""
            <h2>对账结果</h2>
            <p id="outcomes" data-paid="{paid}" data-failed="{o.FailedCount}" data-waiting="{waiting}">{summary}</p>
            {failed}
            """);
    }

    // Held amount changes: each stays held until a finance user other than the batch's preparer releases it with a reason.
    private static Html AmountChanges(HttpContext ctx, BatchHeader b, List<AmountChangeRow> rows)
    {
        if (rows.Count == 0) return Html.Empty;
        var user = UserName(ctx);
        var mayRelease = ctx.User.IsInRole(Roles.Finance) || ctx.User.IsInRole(Roles.Admin);
        var preparer = user == b.SubmittedBy || user == b.BuiltBy;
        var clock = ctx.RequestServices.GetRequiredService<Calendar.BureauClock>();
        var af = Layout.AntiforgeryField(ctx);
        Html Action(AmountChangeRow r) =>
            r.ReleasedBy is not null
                ? Html.Of($"<span class=\"ok\" id=\"released-{r.LineId}\">已由 {r.ReleasedBy} 于 {clock.Format(new DateTimeOffset(DateTime.SpecifyKind(r.ReleasedAt!.Value, DateTimeKind.Utc)))} 解除:{r.Reason};下一批次补发</span>")
                : b.State == BatchState.Rejected ? Html.Of($"批次已退回")
                : !mayRelease ? Html.Of($"待财务人员确认")
                : preparer ? Html.Of($"<span class=\"warn\">您是本批次的制单人,须由另一名财务人员解除</span>")
                : Html.Of($"""<form method="post" action="/hangfire/batches/{b.Id}/lines/{r.LineId}/release" class="inline">{af}<input name="reason" id="release-reason-{r.LineId}" required maxlength="{TextRules.ReasonMaxLength}" placeholder="解除原因(如:已核实调待文件)"><button type="submit" id="release-{r.LineId}">确认变动并解除暂停</button></form>""");
        return Html.Of($"""
            <h2 id="amount-changes">金额变动暂停(须财务人员确认)</h2>
            <p>金额较上次发放变动超过预警比例的,暂停发放,直至制单人以外的财务人员核实并填写原因后解除;解除后下一批次补发暂停月份。</p>
            <table id="amount-change-lines"><thead><tr><th>流水引用</th><th>身份证号</th><th>姓名</th><th>待遇类型</th><th>上次发放(元)</th><th>本月(元)</th><th>确认</th></tr></thead><tbody>
            {Html.Join(rows.Select(r => Html.Of($"<tr><td>{r.LineId}</td><td>{Mask.IdNumber(r.IdNumber)}</td><td>{r.Name}</td><td>{Zh.Benefit(r.Benefit)}</td><td class=\"num\">{(r.BasisFen is { } f ? Money.Yuan(f) : "")}</td><td class=\"num\">{Money.Yuan(r.AmountFen)}</td><td>{Action(r)}</td></tr>")))}
            </tbody></table>
            """);
    }

    internal static async Task<IResult?> ValidAntiforgeryAsync(HttpContext ctx)
    {
        var af = ctx.RequestServices.GetRequiredService<IAntiforgery>();
        if (await af.IsRequestValidAsync(ctx)) return null;
        return Layout.Page(ctx, "请求无效", Html.Of($"<p class=\"error\">页面已过期,请刷新后重试。</p>"), StatusCodes.Status400BadRequest);
    }

    /// <summary>A review step refused (403 wrong person, 409 wrong state, 400 bad input).</summary>
    internal static IResult Refused(HttpContext ctx, long id, string message, int status) =>
        Layout.Page(ctx, "操作被拒绝", Html.Of($"""<p class="error" role="alert">{UserText.Zh(message)}</p><p><a href="/hangfire/batches/{id}">返回批次</a></p>"""), status);

    /// <summary>An export or reconciliation refused by the batch's state or its hash (409).</summary>
    internal static IResult Refused(HttpContext ctx, string title, string message, bool alert) =>
        Layout.Page(ctx, title, alert
            ? Html.Of($"<p class=\"error\" role=\"alert\">{UserText.Zh(message)}</p>")
            : Html.Of($"<p class=\"error\">{UserText.Zh(message)}</p>"), 409);

    internal static IResult ReconcileMissingFile(HttpContext ctx) =>
        Layout.Page(ctx, "对账失败", Html.Of($"<p class=\"error\">请选择银行回盘文件。</p>"), 400);

    internal static IResult Reconciled(HttpContext ctx, long id, ReconcileResult r)
    {
        string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        // Rows without a problem that were not applied are answers recorded before (the same file again).
        var before = r.Rows - r.Applied;
        var text = r.Applied == 0 && r.Rows > 0
            ? $"文件共 {N(r.Rows)} 行,均已在此前导入的回盘文件中登记,本次未作任何更改"
            : $"文件共 {N(r.Rows)} 行,本次登记 {N(r.Applied)} 笔(成功 {N(r.Paid)} 笔,失败 {N(r.Failed)} 笔)"
              + (before > 0 ? $",另有 {N(before)} 行此前已登记,未重复登记" : "");
        var otherwise = r.FailedOtherwise == 0 ? Html.Empty : Html.Of($"""
            <p class="warn" id="reconcile-otherwise">其中 {N(r.FailedOtherwise)} 行为已登记的退票,但银行失败代码或原因与首次登记的不同;系统以首次登记为准,请向银行核实。</p>
            """);
        return Layout.Page(ctx, r.State == BatchState.Reconciled ? "对账完成" : "回盘已导入,尚有发放未回盘", Html.Of($"""
            <p class="ok" id="reconcile-result">{text};新增待追回 {N(r.NewRecoveries)} 笔;批次状态:{BatchLifecycle.Table.Label(r.State)}。</p>
            {otherwise}
            <p><a href="/hangfire/batches/{id}">返回批次,查看对账结果</a></p>
            """));
    }

    internal static IResult ReconcileProblems(HttpContext ctx, long id, IEnumerable<string> problems) =>
        Layout.Page(ctx, "对账文件有误,未应用任何记录", Html.Of($"""
            <p>请按以下问题更正文件后重新导入;本次未登记任何记录。</p>
            <ul class="error" id="reconcile-problems">{Html.Join(problems.Select(ProblemZh).Where(p => p != NothingApplied).Select(p => Html.Of($"<li>{p}</li>")))}</ul>
            <p><a href="/hangfire/batches/{id}">返回批次</a></p>
            """), 400);

    // The last line of every refused file; the page says it once, above the list.
    private const string NothingApplied = "未应用任何记录";

    /// <summary>
    /// A problem of the return file as the page shows it: "FILE:LINE: English / 中文" (the command line prints both)
    /// becomes "第 LINE 行:中文"; one without a line, its Chinese half.
    /// </summary>
    internal static string ProblemZh(string problem)
    {
        var m = System.Text.RegularExpressions.Regex.Match(problem, @"^.*?:(?<line>[0-9]+): (?<text>.*)$", System.Text.RegularExpressions.RegexOptions.Singleline);
        if (m.Success) return $"第 {m.Groups["line"].Value} 行:{UserText.Zh(m.Groups["text"].Value)}";
        return UserText.Zh(problem);
    }

    internal static async Task<IResult> SummaryXlsxAsync(BatchSummary s, CancellationToken ct)
    {
        var (b, benefits, held, failed) = (s.Header, s.Benefits, s.Held, s.Failed);
        var sheets = new Dictionary<string, object>
        {
            ["汇总"] = benefits.Select(x => new Dictionary<string, object>
            {
                ["期别"] = b.Period.ToString(), ["批次"] = b.Id, ["待遇类型"] = Zh.Benefit(x.Benefit), ["类型"] = Zh.Kind(x.Kind),
                ["笔数"] = x.Count, [AmountColumn] = YuanNumber(x.Total),
            }).ToList(),
            ["暂停发放"] = held.Select(l => new Dictionary<string, object>
            {
                ["流水引用"] = l.Id, ["身份证号"] = Mask.IdNumber(l.IdNumber), ["姓名"] = Cell(l.Name), ["待遇类型"] = Zh.Benefit(l.Benefit),
                ["所属月份"] = l.Period.ToString("yyyy-MM", CultureInfo.InvariantCulture), [AmountColumn] = YuanNumber(l.AmountFen), ["原因"] = Zh.HoldReason(l.HoldReason),
            }).ToList(),
            ["退票"] = failed.Select(f => new Dictionary<string, object>
            {
                ["流水引用"] = f.LineId, ["身份证号"] = Mask.IdNumber(f.IdNumber), ["姓名"] = Cell(f.Name), ["待遇类型"] = Zh.Benefit(f.Benefit),
                [AmountColumn] = YuanNumber(f.AmountFen), ["银行失败代码"] = Cell(f.FailureCode), ["失败原因"] = Cell(f.FailureReason),
                ["补发批次"] = f.ReissuedIn is { } r ? r.ToString(CultureInfo.InvariantCulture) : "待更正后补发",
            }).ToList(),
        };
        var ms = new MemoryStream();
        // Amounts are numbers with a number format (finance sums them in Excel), not text.
        var config = new MiniExcelLibs.OpenXml.OpenXmlConfiguration
        {
            // Wide enough for a month's total (209,113,726.68): at the default width a spreadsheet shows ####.
            DynamicColumns = [new MiniExcelLibs.Attributes.DynamicExcelColumn(AmountColumn) { Format = AmountFormat, Width = 18 }],
        };
        await ms.SaveAsAsync(sheets, configuration: config, cancellationToken: ct);
        ms.Position = 0;
        return Results.File(ms, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"batch-{b.Id}-{b.Period}.xlsx");
    }

    public const string AmountColumn = "金额(元)";
    public const string AmountFormat = "#,##0.00";

    /// <summary>Fen as a yuan number for a spreadsheet cell (exact: a decimal, two places).</summary>
    public static decimal YuanNumber(long fen) => fen / 100m;

    public static string Cell(string? s) => Exports.SpreadsheetText.Neutralise(s);

    private static string ChangeZh(string c) => c switch { "new" => "新增", "stopped" => "停发", "changed" => "金额变动", _ => c };
}
