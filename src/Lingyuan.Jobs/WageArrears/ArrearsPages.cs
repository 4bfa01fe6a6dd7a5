using Hangfire;
using Hangfire.States;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Microsoft.AspNetCore.Mvc;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>
/// <c>/hangfire/arrears</c>: cases by state, deadlines, the list and the documents, for inspection and
/// operators; the forms (statement received, decision, early removal, overturn) for inspection and admin only.
/// </summary>
public static class ArrearsPages
{
    private const string Root = "/hangfire/arrears";
    private static readonly string[] ViewRoles = [Roles.Inspection, Roles.Operator];
    private static readonly string[] ActRoles = [Roles.Inspection];
    private static StateTable<ProcedureState, ProcedureVerb> Table => ProcedureLifecycle.Table;

    public static void Map(WebApplication app)
    {
        var g = app.MapGroup(Root).RequireAuthorization(Policies.SignedIn);
        g.MapGet("", Overview);
        g.MapGet("/cases/{caseNo}", CasePage);
        g.MapGet("/cases/{caseNo}/documents/{id:long}", CaseDocument);
        g.MapGet("/digests/{id:long}", DigestDocument);
        g.MapGet("/public", PublicPage);
        g.MapGet("/public.csv", PublicCsv);
        g.MapPost("/cases/{caseNo}/statement", RecordStatement);
        g.MapPost("/cases/{caseNo}/decision", Decide);
        g.MapPost("/cases/{caseNo}/early-removal", EarlyRemoval);
        g.MapPost("/cases/{caseNo}/overturn", Overturn);
        g.MapPost("/run", RunNow);
    }

    private static IResult Forbidden(HttpContext ctx) => HttpMethods.IsGet(ctx.Request.Method)
        ? Layout.Page(ctx, "无权访问", Html.Of($"<p>您的账号无权访问该页面。</p>"), StatusCodes.Status403Forbidden)
        : Results.Text("只读账号不能执行此操作。\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);

    private static bool CanView(HttpContext ctx) => ctx.User.IsAny(ViewRoles);
    private static bool CanAct(HttpContext ctx) => ctx.User.IsAny(ActRoles);
    private static string Actor(HttpContext ctx) => $"user:{ctx.User.Identity?.Name}";
    private static string D(DateOnly? d) => d?.ToString("yyyy-MM-dd") ?? "—";

    // ---- pages ----

    private static async Task<IResult> Overview(HttpContext ctx, ArrearsView view, ArrearsProcedure proc, PublicList list, CalendarStore calendars, BureauClock clock, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var cal = await calendars.LoadAsync(ct);
        var (counts, open, recent, digests) = await view.OverviewAsync(ct);
        var listed = await list.AsOfAsync(today, ct);

        // The counts in the order a case goes through the procedure, screened out last.
        ProcedureState[] order = [ProcedureState.Candidate, ProcedureState.NoticeSent, ProcedureState.Listed, ProcedureState.NotListed, ProcedureState.Removed, ProcedureState.ScreenedOut];
        var states = order.Select(Table.Db).ToArray();
        var missingCalendar = open.Any(c => c.DecisionDueCalendarMissing || c.StatementDueCalendarMissing);
        var body = Html.Of($"""
            <p>今日:{D(today)}。已导入工作日历的年份:{string.Join("、", cal.LoadedYears.Order())}。</p>
            {(missingCalendar ? Html.Of($"<p class=\"warn\" role=\"alert\">⚠ 有期限超出已导入的工作日历(仅按周末计算),请导入下一年度节假日安排(import holidays)后核对。</p>") : Html.Empty)}
            {(!proc.Options.PartnerRecipients.Any() ? Html.Of($"<p class=\"warn\">未配置联合惩戒成员单位收件人(WageArrears:PartnerRecipients),不发送名单变动通报。</p>") : Html.Empty)}
            <h2>按环节统计</h2>
            <table><tr>{states.Select(s => Html.Of($"<th>{ProcedureLifecycle.Label(s)}</th>"))}</tr>
            <tr>{states.Select(s => Html.Of($"<td class=\"num\">{counts.GetValueOrDefault(s)}</td>"))}</tr></table>
            {(CanAct(ctx) ? Html.Of($"""
                <form method="post" action="{Root}/run" class="inline">{Layout.AntiforgeryField(ctx)}<button type="submit">立即运行每日处理</button></form>
                """) : Html.Empty)}
            <h2>待办(拟列入与陈述申辩中)</h2>
            <table><tr><th>案件编号</th><th>当事人</th><th>环节</th><th>支付期限</th><th>告知书发出</th><th>陈述申辩截止</th><th>已收陈述申辩</th><th>决定期限</th><th>提示</th></tr>
            {open.Select(c => Html.Of($"""
                <tr><td><a href="{Root}/cases/{Uri.EscapeDataString(c.CaseNo)}">{c.CaseNo}</a></td><td>{c.EmployerName ?? "(名录中无此单位)"}</td>
                <td>{ProcedureLifecycle.Label(c.State)}</td><td>{D(c.PayDeadline)}</td><td>{D(c.NoticeSentOn)}</td>
                <td>{D(c.StatementDueOn)}{(c.StatementDueCalendarMissing ? Html.Of($" <span class=\"warn\">(日历缺失)</span>") : Html.Empty)}</td>
                <td>{D(c.StatementReceivedOn)}</td>
                <td>{D(c.DecisionDueOn)}{(c.DecisionDueCalendarMissing ? Html.Of($" <span class=\"warn\">(日历缺失)</span>") : Html.Empty)}</td>
                <td>{Hints(c, today)}</td></tr>
                """))}
            </table>
            <h2>当前名单(公示)</h2>
            <p><a href="{Root}/public">打印版公示名单</a> · <a href="{Root}/public.csv">下载 CSV</a></p>
            {ListTable(listed, withCase: true)}
            <h2>最近变动的案件</h2>
            <table><tr><th>案件编号</th><th>当事人</th><th>环节</th><th>列入标准检验</th><th>决定日期</th><th>列入期限至</th><th>移出</th></tr>
            {recent.Select(c => Html.Of($"""
                <tr><td><a href="{Root}/cases/{Uri.EscapeDataString(c.CaseNo)}">{c.CaseNo}</a></td><td>{c.EmployerName}</td><td>{ProcedureLifecycle.Label(c.State)}</td>
                <td>{(c.TestRule is null ? "" : ListingTest.RuleZh(ListingTest.Parse(c.TestRule)))}</td><td>{D(c.DecidedOn)}</td><td>{D(c.ListedUntil?.AddDays(-1))}</td>
                <td>{D(c.RemovedOn)} {ArrearsNotices.RemovalZh(c.RemovalKind)}</td></tr>
                """))}
            </table>
            <h2>名单变动通报</h2>
            <ul>{digests.Select(d => Html.Of($"<li><a href=\"{Root}/digests/{d.Id}\">{d.Title}</a></li>"))}</ul>
            """);
        return Layout.Page(ctx, "欠薪失信名单", body);
    }

    private static Html Hints(CaseView c, DateOnly today)
    {
        var hints = new List<Html>();
        var candidate = c.Current == ProcedureState.Candidate;
        if (candidate && c.EmployerName is null) hints.Add(Html.Of($"<span class=\"error\">用人单位名录中无此统一社会信用代码,无法发出告知书</span>"));
        else if (candidate && !c.HasEmail) hints.Add(Html.Of($"<span class=\"error\">用人单位无电子邮箱,请补充后发出告知书</span>"));
        if (c.StatementDueOn is { } s && c.DecisionDueOn is { } d && s >= d)
            hints.Add(Html.Of($"<span class=\"warn\">陈述申辩期晚于决定期限,法定期限内无法作出决定</span>"));
        if (c.DecisionDueOn is { } due && due < today) hints.Add(Html.Of($"<span class=\"error\">已超过决定期限</span>"));
        if (c.Current == ProcedureState.NoticeSent && c.StatementReceivedOn is not null && c.StatementDueOn < today)
            hints.Add(Html.Of($"<span class=\"warn\">已收陈述申辩,待人工决定</span>"));
        return Html.Join(hints.Select((h, i) => i == 0 ? h : Html.Of($"<br>{h}")));
    }

    private static Html ListTable(IReadOnlyList<PublicList.Entry> entries, bool withCase) => Html.Of($"""
        <table><tr>{(withCase ? Html.Of($"<th>案件编号</th>") : Html.Empty)}{PublicList.Header.Select(h => Html.Of($"<th>{h}</th>"))}</tr>
        {entries.Select(e => Html.Of($"""
            <tr>{(withCase ? Html.Of($"<td><a href=\"{Root}/cases/{Uri.EscapeDataString(e.CaseNo)}\">{e.CaseNo}</a></td>") : Html.Empty)}{PublicList.Row(e).Select(v => Html.Of($"<td>{v}</td>"))}</tr>
            """))}
        </table>
        """);

    private static async Task<IResult> CasePage(HttpContext ctx, string caseNo, ArrearsView view, ArrearsProcedure proc, BureauClock clock, CancellationToken ct) =>
        await RenderCase(ctx, caseNo, view, proc, clock, error: null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> RenderCase(HttpContext ctx, string caseNo, ArrearsView view, ArrearsProcedure proc, BureauClock clock, string? error, int status, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var page = await view.CaseAsync(caseNo, ct);
        if (page is null) return Layout.Page(ctx, "没有该案件", Html.Of($"<p>没有案件 {caseNo}。<a href=\"{Root}\">返回</a></p>"), StatusCodes.Status404NotFound);
        var (c, docs, events) = page;
        var caseUrl = $"{Root}/cases/{Uri.EscapeDataString(caseNo)}";
        var af = Layout.AntiforgeryField(ctx);
        // The forms are the table's people's moves from the case's state, offered to the roles the moves name.
        bool Offers(ProcedureVerb verb) => CanAct(ctx) && c.Current is { } s && Table.Offers(verb, s, ctx.User);
        var forms = Offers(ProcedureVerb.List) ? Html.Of($"""
                <h2>办理</h2>
                {(c.StatementReceivedOn is null && Offers(ProcedureVerb.RecordStatement) ? Html.Of($"""
                    <form method="post" action="{caseUrl}/statement">{af}
                      <label>收到陈述申辩日期 <input type="date" name="ReceivedOn" required max="{D(today)}"></label> <button type="submit">登记陈述申辩</button></form>
                    """) : Html.Empty)}
                <form method="post" action="{caseUrl}/decision">{af}
                  <label><input type="radio" name="Decision" value="{Table.Db(ProcedureState.Listed)}" required> {Table.MoveOf(ProcedureVerb.List).LabelZh}</label>
                  <label><input type="radio" name="Decision" value="{Table.Db(ProcedureState.NotListed)}"> {Table.MoveOf(ProcedureVerb.NotList).LabelZh}</label>
                  <label>理由(不予列入时必填) <input name="Reason" size="60" maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">作出决定</button>
                  <p>陈述申辩期至 {D(c.StatementDueOn)} 届满,{D(c.StatementDueOn?.AddDays(1))} 起方可作出决定。</p>
                </form>
                """)
            : Offers(ProcedureVerb.Repair) ? Html.Of($"""
                <h2>办理</h2>
                <form method="post" action="{caseUrl}/early-removal">{af}
                  <button type="submit">信用修复:申请提前移出</button> (需已改正、改正后列入满 {proc.Options.RepairWaitMonths} 个月、书面信用承诺)</form>
                <form method="post" action="{caseUrl}/overturn">{af}
                  <label>撤销列入决定的理由 <input name="Reason" size="60" maxlength="{TextRules.ReasonMaxLength}" required></label> <button type="submit">撤销并移出</button></form>
                """)
            : Html.Empty;
        var body = Html.Of($"""
            <p><a href="{Root}">← 返回名单首页</a></p>
            {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{UserText.Zh(error)}</p>"))}
            <h2>案件</h2>
            <table>
              <tr><th>案件编号</th><td>{c.CaseNo}</td></tr>
              <tr><th>当事人</th><td>{c.EmployerName ?? "(用人单位名录中无此单位)"}</td></tr>
              <tr><th>统一社会信用代码</th><td>{c.Uscc}</td></tr>
              <tr><th>法定代表人</th><td>{c.LegalRepName} {IdNumber.Mask(c.LegalRepIdNumber)}</td></tr>
              <tr><th>直接责任人员</th><td>{c.ResponsiblePersons}</td></tr>
              <tr><th>拖欠人数 / 金额 / 最长月数</th><td>{c.WorkersAffected} 人 / {Money.Yuan(c.AmountOwedFen)} 元 / {c.MaxMonthsOwed} 个月</td></tr>
              <tr><th>群体性/极端事件</th><td>{c.Incident switch { "group" => "群体性事件", "extreme" => "极端事件", _ => "无" }}</td></tr>
              <tr><th>责令支付 / 支付期限</th><td>{D(c.OrderIssuedOn)} / {D(c.PayDeadline)}</td></tr>
              <tr><th>支付日期 / 信用承诺日期</th><td>{D(c.PaidOn)} / {D(c.CreditPromiseOn)}</td></tr>
            </table>
            <h2>程序</h2>
            <table>
              <tr><th>环节</th><td>{ProcedureLifecycle.Label(c.State)}</td></tr>
              <tr><th>列入标准检验</th><td>{(c.TestRule is null ? "—" : ListingTest.RuleZh(ListingTest.Parse(c.TestRule)))}({D(c.TestedOn)})</td></tr>
              <tr><th>告知书发出</th><td>{D(c.NoticeSentOn)}</td></tr>
              <tr><th>陈述申辩截止</th><td>{D(c.StatementDueOn)}{(c.StatementDueCalendarMissing ? Html.Of($" <span class=\"warn\">⚠ 超出已导入的工作日历,仅按周末计算</span>") : Html.Empty)}</td></tr>
              <tr><th>收到陈述申辩</th><td>{D(c.StatementReceivedOn)}</td></tr>
              <tr><th>决定期限</th><td>{D(c.DecisionDueOn)}{(c.DecisionDueCalendarMissing ? Html.Of($" <span class=\"warn\">⚠ 超出已导入的工作日历,仅按周末计算</span>") : Html.Empty)}</td></tr>
              <tr><th>决定</th><td>{D(c.DecidedOn)} {c.DecidedBy} {c.DecisionReason}</td></tr>
              <tr><th>列入期限</th><td>{(c.ListedUntil is { } u ? $"{D(c.DecidedOn)} 至 {D(u.AddDays(-1))}({D(u)} 移出)" : "—")}</td></tr>
              <tr><th>移出</th><td>{D(c.RemovedOn)} {ArrearsNotices.RemovalZh(c.RemovalKind)} {c.RemovalReason}</td></tr>
            </table>
            {forms}
            <h2>文书</h2>
            <ul>{docs.Select(d => Html.Of($"<li><a href=\"{caseUrl}/documents/{d.Id}\">{d.Title}</a>({D(d.IssuedOn)})</li>"))}</ul>
            <h2>记录</h2>
            <table><tr><th>日期</th><th>事项</th><th>操作人</th><th>说明</th><th>记录时间</th></tr>
            {events.Select(e => Html.Of($"<tr><td>{D(e.OnDate)}</td><td>{EventZh(e.Kind)}</td><td>{e.Actor}</td><td>{DetailsZh(e.Details)}</td><td>{clock.Format(new DateTimeOffset(DateTime.SpecifyKind(e.At, DateTimeKind.Utc)))}</td></tr>"))}
            </table>
            """);
        return Layout.Page(ctx, $"欠薪失信案件 {c.CaseNo}", body, status);
    }

    /// <summary>An event's stored note in the reader's words: rule codes, removal kinds and the statement period in Chinese.</summary>
    internal static string? DetailsZh(string? details)
    {
        if (details is null) return null;
        if (details.StartsWith("retested: ", StringComparison.Ordinal)
            && details["retested: ".Length..] is "single_worker" or "multi_worker" or "incident" or "below_thresholds")
            return "重新检验:" + ListingTest.RuleZh(ListingTest.Parse(details["retested: ".Length..]));
        if (details.StartsWith("statement period ends ", StringComparison.Ordinal))
            return $"陈述申辩期至 {details["statement period ends ".Length..]} 届满";
        var colon = details.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && details[..colon] is "expired" or "repaired" or "overturned")
            return ArrearsNotices.RemovalZh(details[..colon]) + ":" + details[(colon + 2)..];
        return details;
    }

    private static string EventZh(string kind) => kind switch
    {
        "statement_received" => "收到陈述申辩",
        "repair_refused" => "不予提前移出",
        _ when kind == Table.Db(ProcedureState.NoticeSent) => Table.MoveOf(ProcedureVerb.SendNotice).LabelZh,
        _ => ProcedureLifecycle.Label(kind),
    };

    private static async Task<IResult> CaseDocument(HttpContext ctx, string caseNo, long id, IssuedDocuments documents, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var html = await documents.CaseDocumentAsync(caseNo, id, ct);
        return html is null ? Results.NotFound() : Results.Content(html, "text/html; charset=utf-8");
    }

    private static async Task<IResult> DigestDocument(HttpContext ctx, long id, IssuedDocuments documents, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var html = await documents.DigestAsync(id, ct);
        return html is null ? Results.NotFound() : Results.Content(html, "text/html; charset=utf-8");
    }

    private static async Task<IResult> PublicPage(HttpContext ctx, ArrearsProcedure proc, PublicList list, BureauClock clock, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var entries = await list.AsOfAsync(today, ct);
        var doc = new Doc($"拖欠农民工工资失信联合惩戒对象名单({D(today)})", null, null,
        [
            new Para($"根据《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》(人力资源社会保障部令第45号),现将截至{DocRender.DateZh(today)}的拖欠农民工工资失信联合惩戒对象名单公示如下。"),
            new Table(PublicList.Header, entries.Select(PublicList.Row).ToList()),
        ], proc.Options.Authority, today);
        return Results.Content(DocRender.Html(doc), "text/html; charset=utf-8");
    }

    private static async Task<IResult> PublicCsv(HttpContext ctx, PublicList list, BureauClock clock, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var bytes = PublicList.Csv(await list.AsOfAsync(today, ct));
        return Results.File(bytes, "text/csv; charset=utf-8", $"wage-arrears-list-{today:yyyy-MM-dd}.csv");
    }

    // ---- forms ----

    public sealed class StatementForm { public DateOnly? ReceivedOn { get; set; } }
    public sealed class DecisionForm { public string? Decision { get; set; } public string? Reason { get; set; } }
    public sealed class ReasonForm { public string? Reason { get; set; } }

    private static Task<IResult> RecordStatement(HttpContext ctx, string caseNo, [FromForm] StatementForm? form, ArrearsView view, ArrearsProcedure proc, BureauClock clock, CancellationToken ct) =>
        Act(ctx, caseNo, view, proc, clock, ct, () => form?.ReceivedOn is { } d
            ? proc.RecordStatementAsync(caseNo, d, Actor(ctx), ct)
            : throw new DomainRuleException("请填写收到陈述申辩的日期"));

    private static Task<IResult> Decide(HttpContext ctx, string caseNo, [FromForm] DecisionForm? form, ArrearsView view, ArrearsProcedure proc, BureauClock clock, CancellationToken ct) =>
        Act(ctx, caseNo, view, proc, clock, ct, () => proc.DecideAsync(caseNo,
            form?.Decision == Table.Db(ProcedureState.Listed) ? DecisionKind.Listed
            : form?.Decision == Table.Db(ProcedureState.NotListed) ? DecisionKind.NotListed
            : throw new DomainRuleException("请选择“列入名单”或“不予列入”"),
            form?.Reason, Actor(ctx), ct));

    private static Task<IResult> EarlyRemoval(HttpContext ctx, string caseNo, ArrearsView view, ArrearsProcedure proc, BureauClock clock, IFormCollection form, CancellationToken ct) =>
        Act(ctx, caseNo, view, proc, clock, ct, () => proc.RequestEarlyRemovalAsync(caseNo, Actor(ctx), ct));

    private static Task<IResult> Overturn(HttpContext ctx, string caseNo, [FromForm] ReasonForm? form, ArrearsView view, ArrearsProcedure proc, BureauClock clock, CancellationToken ct) =>
        Act(ctx, caseNo, view, proc, clock, ct, () => proc.OverturnAsync(caseNo, form?.Reason ?? "", Actor(ctx), ct));

    private static async Task<IResult> Act(HttpContext ctx, string caseNo, ArrearsView view, ArrearsProcedure proc, BureauClock clock, CancellationToken ct, Func<Task> action)
    {
        if (!CanAct(ctx)) return Forbidden(ctx);
        try
        {
            await action();
        }
        catch (DomainRuleException ex)
        {
            // The rule's refusal is shown on the case page; nothing was changed (a refused early removal is recorded).
            return await RenderCase(ctx, caseNo, view, proc, clock, ex.Message, StatusCodes.Status409Conflict, ct);
        }
        catch (BadInputException ex)
        {
            // A reason too long or with a line break (TextRules): shown on the case page, nothing changed.
            return await RenderCase(ctx, caseNo, view, proc, clock, ex.Message, StatusCodes.Status400BadRequest, ct);
        }
        return Results.Redirect($"{Root}/cases/{Uri.EscapeDataString(caseNo)}", permanent: false, preserveMethod: false);
    }

    private static IResult RunNow(HttpContext ctx, IBackgroundJobClient client, JobCatalog catalog, IFormCollection form)
    {
        if (!CanAct(ctx)) return Forbidden(ctx);
        var job = catalog.Find(WageArrearsSetup.JobId) ?? throw new InvalidOperationException("wage-arrears-daily is not registered");
        client.Create(job.ToHangfireJob(), new EnqueuedState());
        return Results.Redirect(Root);
    }
}
