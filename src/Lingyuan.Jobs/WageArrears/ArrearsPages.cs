using Hangfire;
using Hangfire.States;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Microsoft.AspNetCore.Mvc;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>
/// <c>/hangfire/arrears</c>: the work queue (what each case needs next, deadlines, overdue cases with what may
/// still be done), the list and the documents, for inspection and operators; the forms of the people's moves
/// (<see cref="ArrearsActs"/>) for inspection and admin only, the decider's forms for deciders.
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
        g.MapGet("/cases/{caseNo}/draft", DraftNotice);
        g.MapGet("/cases/{caseNo}/documents/{id:long}", CaseDocument);
        g.MapGet("/digests/{id:long}", DigestDocument);
        g.MapGet("/public", PublicPage);
        g.MapGet("/public.csv", PublicCsv);
        g.MapPost("/cases/{caseNo}/notice", (HttpContext ctx, string caseNo, [FromForm] NoticeForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.IssueNoticeAsync(caseNo, user, f?.Channel ?? "", f?.ElectronicServiceAgreed == "on", ct)));
        g.MapPost("/cases/{caseNo}/service", (HttpContext ctx, string caseNo, [FromForm] ServiceForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.RecordServiceAsync(caseNo, user, f?.Method ?? "", f?.ServedOn, f?.Evidence, ct)));
        g.MapPost("/cases/{caseNo}/statement", (HttpContext ctx, string caseNo, [FromForm] StatementForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => f?.ReceivedOn is { } d ? a.RecordStatementAsync(caseNo, user, d, f?.Summary ?? "", ct) : throw new DomainRuleException("请填写收到陈述申辩的日期")));
        g.MapPost("/cases/{caseNo}/statement-check", (HttpContext ctx, string caseNo, [FromForm] CheckForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.CheckStatementAsync(caseNo, user, f?.Upheld == "yes", f?.Result ?? "", ct)));
        g.MapPost("/cases/{caseNo}/proposal", (HttpContext ctx, string caseNo, [FromForm] DecisionForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.ProposeAsync(caseNo, user,
                f?.Decision == Table.Db(ProcedureState.Listed) ? DecisionKind.Listed
                : f?.Decision == Table.Db(ProcedureState.NotListed) ? DecisionKind.NotListed
                : throw new DomainRuleException("请选择“列入名单”或“不予列入”"), f?.Reason, ct)));
        g.MapPost("/cases/{caseNo}/approve", (HttpContext ctx, string caseNo, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.ApproveAsync(caseNo, user, ct)));
        g.MapPost("/cases/{caseNo}/return", (HttpContext ctx, string caseNo, [FromForm] ReasonForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.ReturnProposalAsync(caseNo, user, f?.Reason ?? "", ct)));
        g.MapPost("/cases/{caseNo}/extend", (HttpContext ctx, string caseNo, [FromForm] ReasonForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.ExtendAsync(caseNo, user, f?.Reason ?? "", ct)));
        g.MapPost("/cases/{caseNo}/expire", (HttpContext ctx, string caseNo, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.RemoveExpiredAsync(caseNo, user, ct)));
        g.MapPost("/cases/{caseNo}/removal-application", (HttpContext ctx, string caseNo, [FromForm] ApplicationForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => f is { AppliedOn: { } ap, CorrectedOn: { } co, PromiseOn: { } pr }
                ? a.ApplyRemovalAsync(caseNo, user, ap, co, f?.Proof ?? "", pr, ct)
                : throw new DomainRuleException("请填写申请日期、改正日期和信用承诺日期")));
        g.MapPost("/cases/{caseNo}/removal-decision", (HttpContext ctx, string caseNo, [FromForm] RemovalForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.DecideRemovalAsync(caseNo, user, f?.Grant == "yes", f?.Reason, ct)));
        g.MapPost("/cases/{caseNo}/removal-revocation", (HttpContext ctx, string caseNo, [FromForm] ReasonForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.RevokeRemovalAsync(caseNo, user, f?.Reason ?? "", ct)));
        g.MapPost("/cases/{caseNo}/overturn", (HttpContext ctx, string caseNo, [FromForm] ReasonForm? f, ArrearsActs a, CancellationToken ct) =>
            Act(ctx, caseNo, user => a.OverturnAsync(caseNo, user, f?.Reason ?? "", ct)));
        g.MapPost("/run", RunNow);
    }

    private static IResult Forbidden(HttpContext ctx) => HttpMethods.IsGet(ctx.Request.Method)
        ? Layout.Page(ctx, "无权访问", Html.Of($"<p>您的账号无权访问该页面。</p>"), StatusCodes.Status403Forbidden)
        : Results.Text("只读账号不能执行此操作。\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);

    private static bool CanView(HttpContext ctx) => ctx.User.IsAny(ViewRoles);
    private static bool CanAct(HttpContext ctx) => ctx.User.IsAny(ActRoles);
    private static string D(DateOnly? d) => d?.ToString("yyyy-MM-dd") ?? "—";
    private static string CaseUrl(string caseNo) => $"{Root}/cases/{Uri.EscapeDataString(caseNo)}";

    /// <summary>What a case needs next, and whether a deadline has passed (the work queue's column).</summary>
    public static (string Next, string? Warning) NextStep(CaseView c, DateOnly today, RemovalApplication? pending = null)
    {
        var overdue = c.DecisionDueOn is { } due && today > due && ProcedureLifecycle.Undecided.Contains(c.State);
        string? warning = overdue
            ? $"已超过决定期限({D(c.DecisionDueOn)}):不得再作出列入决定,不会自动列入;可提出不予列入并说明理由"
            : c.DecisionDueOn is { } d2 && ProcedureLifecycle.Undecided.Contains(c.State) && c.ExtendedOn is null && d2.DayNumber - today.DayNumber <= 7
                ? $"决定期限 {D(d2)} 临近;案情复杂的,可经部门负责人批准延长"
                : null;
        var next = c.Current switch
        {
            ProcedureState.Candidate when c.EmployerName is null => "用人单位名录中无此统一社会信用代码:补录单位后发出告知书",
            ProcedureState.Candidate => "审阅告知书草稿,选择送达方式后发出告知书",
            ProcedureState.NoticeIssued when c.NoticeChannel == ServiceMethods.Email => "邮件投递后登记电子送达",
            ProcedureState.NoticeIssued => "按送达回执登记送达日期",
            ProcedureState.NoticeServed when c.StatementReceivedOn is not null && c.StatementCheckedOn is null =>
                $"核查陈述申辩并告知当事人结果(应于 {D(c.StatementCheckDueOn)} 前)",
            ProcedureState.NoticeServed when today <= c.StatementDueOn =>
                $"陈述申辩期至 {D(c.StatementDueOn)};可登记收到的陈述申辩,{D(c.StatementDueOn?.AddDays(1))} 起可提出决定",
            ProcedureState.NoticeServed => overdue ? "提出不予列入决定(说明理由),报部门负责人审批" : "提出决定(列入或不予列入),报部门负责人审批",
            ProcedureState.DecisionProposed => $"待部门负责人审批({c.ProposedBy} 提出:{ProcedureLifecycle.ProposalZh(c.ProposalKind)})",
            ProcedureState.Listed when pending is not null => $"提前移出申请待部门负责人决定(应于 {D(pending.DueOn)} 前)",
            ProcedureState.Listed when c.ListedUntil <= today => $"列入期限已于 {D(c.ListedUntil)} 届满:登记期满移出",
            ProcedureState.Listed => "列入中",
            _ => "—",
        };
        return (next, warning);
    }

    // ---- pages ----

    private static async Task<IResult> Overview(HttpContext ctx, ArrearsView view, ArrearsActs acts, PublicList list, CalendarStore calendars, BureauClock clock, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var cal = await calendars.LoadAsync(ct);
        var (counts, open, recent, digests, listedWork, pending) = await view.OverviewAsync(today, ct);
        var listed = await list.AsOfAsync(today, ct);

        ProcedureState[] order = [ProcedureState.Candidate, ProcedureState.NoticeIssued, ProcedureState.NoticeServed, ProcedureState.DecisionProposed,
            ProcedureState.Listed, ProcedureState.NotListed, ProcedureState.Removed, ProcedureState.ScreenedOut];
        var states = order.Select(Table.Db).ToArray();
        var missingCalendar = open.Any(c => c.DecisionDueCalendarMissing || c.StatementDueCalendarMissing);
        var queue = open.Concat(listedWork).ToList();
        var body = Html.Of($"""
            <p>今日:{D(today)}。已导入工作日历的年份:{string.Join("、", cal.LoadedYears.Order())}。</p>
            <p>每日处理只筛查案件、检验列入标准、计算期限并提醒;告知书、送达、决定和移出均由工作人员办理,列入和移出决定须经部门负责人审批。</p>
            {(missingCalendar ? Html.Of($"<p class=\"warn\" role=\"alert\">⚠ 有期限超出已导入的工作日历(仅按周末计算),请导入下一年度节假日安排(import holidays)后核对。</p>") : Html.Empty)}
            {(!acts.Options.PartnerRecipients.Any() ? Html.Of($"<p class=\"warn\">未配置联合惩戒成员单位收件人(WageArrears:PartnerRecipients),不发送名单变动通报。</p>") : Html.Empty)}
            <h2>按环节统计</h2>
            <table><tr>{states.Select(s => Html.Of($"<th>{ProcedureLifecycle.Label(s)}</th>"))}</tr>
            <tr>{states.Select(s => Html.Of($"<td class=\"num\">{counts.GetValueOrDefault(s)}</td>"))}</tr></table>
            {(CanAct(ctx) ? Html.Of($"""
                <form method="post" action="{Root}/run" class="inline">{Layout.AntiforgeryField(ctx)}<button type="submit">立即运行每日筛查</button></form>
                """) : Html.Empty)}
            <h2>待办</h2>
            <table id="work-queue"><tr><th>案件编号</th><th>当事人</th><th>环节</th><th>支付期限</th><th>送达</th><th>陈述申辩截止</th><th>决定期限</th><th>下一步</th></tr>
            {queue.Select(c =>
            {
                var (next, warning) = NextStep(c, today, pending.GetValueOrDefault(c.CaseNo));
                return Html.Of($"""
                    <tr><td><a href="{CaseUrl(c.CaseNo)}">{c.CaseNo}</a></td><td>{c.PartyName ?? "(名录中无此单位)"}</td>
                    <td>{ProcedureLifecycle.Label(c.State)}</td><td>{D(c.PayDeadline)}</td><td>{D(c.ServedOn)}</td>
                    <td>{D(c.StatementDueOn)}{(c.StatementDueCalendarMissing ? Html.Of($" <span class=\"warn\">(日历缺失)</span>") : Html.Empty)}</td>
                    <td>{D(c.DecisionDueOn)}{(c.ExtendedOn is not null ? " (已延长)" : "")}{(c.DecisionDueCalendarMissing ? Html.Of($" <span class=\"warn\">(日历缺失)</span>") : Html.Empty)}</td>
                    <td>{next}{(warning is null ? Html.Empty : Html.Of($"<br><span class=\"error\">{warning}</span>"))}</td></tr>
                    """);
            })}
            </table>
            <h2>当前名单(公示)</h2>
            <p><a href="{Root}/public">打印版公示名单</a> · <a href="{Root}/public.csv">下载 CSV</a></p>
            {ListTable(listed, withCase: true)}
            <h2>最近变动的案件</h2>
            <table><tr><th>案件编号</th><th>当事人</th><th>环节</th><th>列入标准检验</th><th>决定日期</th><th>列入期限至</th><th>移出</th></tr>
            {recent.Select(c => Html.Of($"""
                <tr><td><a href="{CaseUrl(c.CaseNo)}">{c.CaseNo}</a></td><td>{c.PartyName}</td><td>{ProcedureLifecycle.Label(c.State)}</td>
                <td>{(c.TestRule is null ? "" : ListingTest.RuleZh(ListingTest.Parse(c.TestRule)))}</td><td>{D(c.DecidedOn)}</td><td>{D(c.ListedUntil?.AddDays(-1))}</td>
                <td>{D(c.RemovedOn)} {ArrearsNotices.RemovalZh(c.RemovalKind)}</td></tr>
                """))}
            </table>
            <h2>名单变动通报</h2>
            <ul>{digests.Select(d => Html.Of($"<li><a href=\"{Root}/digests/{d.Id}\">{d.Title}</a></li>"))}</ul>
            """);
        return Layout.Page(ctx, "欠薪失信名单", body);
    }

    private static Html ListTable(IReadOnlyList<PublicList.Entry> entries, bool withCase) => Html.Of($"""
        <table><tr>{(withCase ? Html.Of($"<th>案件编号</th>") : Html.Empty)}{PublicList.Header.Select(h => Html.Of($"<th>{h}</th>"))}</tr>
        {entries.Select(e => Html.Of($"""
            <tr>{(withCase ? Html.Of($"<td><a href=\"{CaseUrl(e.CaseNo)}\">{e.CaseNo}</a></td>") : Html.Empty)}{PublicList.Row(e).Select(v => Html.Of($"<td>{v}</td>"))}</tr>
            """))}
        </table>
        """);

    private static async Task<IResult> CasePage(HttpContext ctx, string caseNo, ArrearsView view, ArrearsActs acts, BureauClock clock, CancellationToken ct) =>
        await RenderCase(ctx, caseNo, view, acts, clock, error: null, StatusCodes.Status200OK, ct);

    private static async Task<IResult> RenderCase(HttpContext ctx, string caseNo, ArrearsView view, ArrearsActs acts, BureauClock clock, string? error, int status, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var page = await view.CaseAsync(caseNo, ct);
        if (page is null) return Layout.Page(ctx, "没有该案件", Html.Of($"<p>没有案件 {caseNo}。<a href=\"{Root}\">返回</a></p>"), StatusCodes.Status404NotFound);
        var (c, docs, events, applications) = page;
        var pending = applications.FirstOrDefault(a => a.Status == "pending");
        var url = CaseUrl(caseNo);
        var af = Layout.AntiforgeryField(ctx);
        // The forms are the table's people's moves from the case's state, offered to the roles the moves name.
        var user = ctx.User.Identity?.Name ?? "";
        var decider = CanAct(ctx) && await view.IsDeciderAsync(user, ct);
        bool Offers(ProcedureVerb verb) => CanAct(ctx) && c.Current is { } s && Table.Offers(verb, s, ctx.User)
            && (!ProcedureLifecycle.DeciderVerbs.Contains(verb) || decider)
            && (verb != ProcedureVerb.Approve || !string.Equals(c.ProposedBy, user, StringComparison.Ordinal));
        var o = acts.Options;
        var forms = new List<Html>();
        if (Offers(ProcedureVerb.IssueNotice) && c.EmployerName is not null)
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/notice" id="issue-notice">{af}
                  <p><a href="{url}/draft" target="_blank">审阅告知书草稿</a></p>
                  <label><input type="radio" name="Channel" value="{ServiceMethods.Post}" required> 邮寄送达</label>
                  <label><input type="radio" name="Channel" value="{ServiceMethods.Personal}"> 直接送达</label>
                  <label><input type="radio" name="Channel" value="{ServiceMethods.Email}"> 电子送达(发至 {c.EmployerEmail})</label>
                  <label><input type="checkbox" name="ElectronicServiceAgreed"> 当事人已书面同意电子送达</label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.IssueNotice).LabelZh}</button></form>
                """));
        if (Offers(ProcedureVerb.RecordService))
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/service" id="record-service">{af}
                  <label>送达方式 <select name="Method">
                    {(c.NoticeChannel == ServiceMethods.Email ? Html.Of($"<option value=\"{ServiceMethods.Email}\">电子送达(按邮件投递时间)</option>") : Html.Empty)}
                    <option value="{ServiceMethods.Post}">邮寄送达(按回执签收日期)</option><option value="{ServiceMethods.Personal}">直接送达(按签收日期)</option></select></label>
                  <label>签收日期 <input type="date" name="ServedOn" max="{D(today)}"></label>
                  <label>送达凭证 <input name="Evidence" size="30" maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.RecordService).LabelZh}</button>
                  <p>陈述申辩期自送达次日起计算 {o.StatementPeriodWorkingDays} 个工作日。</p></form>
                """));
        if (Offers(ProcedureVerb.RecordStatement) && c.StatementReceivedOn is null)
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/statement" id="record-statement">{af}
                  <label>收到陈述申辩日期 <input type="date" name="ReceivedOn" required max="{D(today)}"></label>
                  <label>要点 <input name="Summary" size="50" required maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.RecordStatement).LabelZh}</button></form>
                """));
        if (Offers(ProcedureVerb.CheckStatement) && c.StatementReceivedOn is not null && c.StatementCheckedOn is null)
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/statement-check" id="check-statement">{af}
                  <label><input type="radio" name="Upheld" value="no" required> 理由不成立</label>
                  <label><input type="radio" name="Upheld" value="yes"> 理由成立</label>
                  <label>核查结果 <input name="Result" size="50" required maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.CheckStatement).LabelZh}并告知当事人</button>
                  <p>应于 {D(c.StatementCheckDueOn)} 前告知当事人。</p></form>
                """));
        if (Offers(ProcedureVerb.Propose))
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/proposal" id="propose">{af}
                  <label><input type="radio" name="Decision" value="{Table.Db(ProcedureState.Listed)}" required> 列入名单</label>
                  <label><input type="radio" name="Decision" value="{Table.Db(ProcedureState.NotListed)}"> 不予列入</label>
                  <label>理由(不予列入时必填) <input name="Reason" size="50" maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.Propose).LabelZh}</button>
                  <p>陈述申辩期至 {D(c.StatementDueOn)} 届满,{D(c.StatementDueOn?.AddDays(1))} 起方可提出;决定由部门负责人(提出人以外的人员)审批后生效。</p>
                </form>
                """));
        if (Offers(ProcedureVerb.Approve))
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/approve" id="approve">{af}
                  <p>拟作决定:{ProcedureLifecycle.ProposalZh(c.ProposalKind)};理由:{c.ProposalReason}(提出人 {c.ProposedBy},{D(c.ProposedOn)})</p>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.Approve).LabelZh}(部门负责人)</button></form>
                <form method="post" action="{url}/return">{af}
                  <label>退回理由 <input name="Reason" size="40" required maxlength="{TextRules.ReasonMaxLength}"></label> <button type="submit">{Table.MoveOf(ProcedureVerb.ReturnProposal).LabelZh}</button></form>
                """));
        if (Offers(ProcedureVerb.Extend) && c.ExtendedOn is null && c.DecisionDueOn >= today)
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/extend" id="extend">{af}
                  <label>延长理由(案情复杂) <input name="Reason" size="40" maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.Extend).LabelZh} {o.DecisionExtensionWorkingDays} 个工作日(部门负责人)</button></form>
                """));
        if (Offers(ProcedureVerb.RemoveExpired) && c.ListedUntil <= today)
            forms.Add(Html.Of($"""<form method="post" action="{url}/expire">{af}<button type="submit">{Table.MoveOf(ProcedureVerb.RemoveExpired).LabelZh}</button></form>"""));
        if (Offers(ProcedureVerb.ApplyRemoval) && pending is null)
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/removal-application" id="removal-application">{af}
                  <label>申请日期 <input type="date" name="AppliedOn" required max="{D(today)}"></label>
                  <label>改正(支付)日期 <input type="date" name="CorrectedOn" required max="{D(today)}"></label>
                  <label>支付证明 <input name="Proof" size="30" required maxlength="{TextRules.ReasonMaxLength}"></label>
                  <label>书面信用承诺日期 <input type="date" name="PromiseOn" required max="{D(today)}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.ApplyRemoval).LabelZh}</button></form>
                """));
        if (Offers(ProcedureVerb.GrantRemoval) && pending is not null)
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/removal-decision" id="removal-decision">{af}
                  <p>提前移出申请({D(pending.AppliedOn)}),应于 {D(pending.DueOn)} 前决定。</p>
                  <label><input type="radio" name="Grant" value="yes" required> 准予提前移出</label>
                  <label><input type="radio" name="Grant" value="no"> 不予提前移出</label>
                  <label>不予移出的理由 <input name="Reason" size="40" maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">作出决定(部门负责人)</button></form>
                """));
        if (Offers(ProcedureVerb.RevokeRemoval) && c.RemovalKind == "repaired")
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/removal-revocation">{af}
                  <label>撤销提前移出的理由(提供虚假材料等) <input name="Reason" size="40" required maxlength="{TextRules.ReasonMaxLength}"></label>
                  <button type="submit">{Table.MoveOf(ProcedureVerb.RevokeRemoval).LabelZh}</button></form>
                """));
        if (Offers(ProcedureVerb.Overturn))
            forms.Add(Html.Of($"""
                <form method="post" action="{url}/overturn">{af}
                  <label>撤销列入决定的理由 <input name="Reason" size="40" maxlength="{TextRules.ReasonMaxLength}" required></label> <button type="submit">{Table.MoveOf(ProcedureVerb.Overturn).LabelZh}</button></form>
                """));
        var (next, warning) = NextStep(c, today, pending);
        var body = Html.Of($"""
            <p><a href="{Root}">← 返回名单首页</a></p>
            {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{UserText.Zh(error)}</p>"))}
            <p><strong>下一步:</strong>{next}{(warning is null ? Html.Empty : Html.Of($"<br><span class=\"error\">{warning}</span>"))}</p>
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
            {(c.Workers.Count == 0 ? Html.Empty : Html.Of($"""
                <h3>每名劳动者欠薪</h3>
                <table><tr><th>身份证号码</th><th>金额(元)</th><th>月数</th></tr>
                {c.Workers.Select(w => Html.Of($"<tr><td>{w.WorkerId}</td><td class=\"num\">{Money.Yuan(w.AmountOwedFen)}</td><td class=\"num\">{w.MonthsOwed}</td></tr>"))}</table>
                """))}
            {(c.IsFixed ? Html.Of($"""
                <h3>列入对象(决定时确定,不随名录变化)</h3>
                <table><tr><th>单位</th><td>{c.FixedEmployerName}</td></tr><tr><th>法定代表人</th><td>{c.FixedLegalRepName} {IdNumber.Mask(c.FixedLegalRepIdNumber)}</td></tr>
                <tr><th>直接责任人员</th><td>{c.FixedResponsiblePersons}</td></tr></table>
                """) : Html.Empty)}
            <h2>程序</h2>
            <table>
              <tr><th>环节</th><td id="case-state" data-state="{c.State}">{ProcedureLifecycle.Label(c.State)}</td></tr>
              <tr><th>列入标准检验</th><td>{(c.TestRule is null ? "—" : ListingTest.RuleZh(ListingTest.Parse(c.TestRule)))}({D(c.TestedOn)});{ListingTest.BasisZh(c.State is null ? null : c.SingleWorkerBasis)}</td></tr>
              <tr><th>告知书发出</th><td>{D(c.NoticeSentOn)} {c.NoticeSentBy} {(c.NoticeChannel is null ? "" : ServiceMethods.Zh(c.NoticeChannel))}</td></tr>
              <tr><th>送达</th><td>{D(c.ServedOn)} {(c.ServiceMethod is null ? "" : ServiceMethods.Zh(c.ServiceMethod))} {c.ServiceEvidence}</td></tr>
              <tr><th>陈述申辩截止</th><td>{D(c.StatementDueOn)}{(c.StatementDueCalendarMissing ? Html.Of($" <span class=\"warn\">⚠ 超出已导入的工作日历,仅按周末计算</span>") : Html.Empty)}</td></tr>
              <tr><th>收到陈述申辩</th><td>{D(c.StatementReceivedOn)} {c.StatementSummary}</td></tr>
              <tr><th>核查结果</th><td>{D(c.StatementCheckedOn)} {c.StatementCheckResult}</td></tr>
              <tr><th>决定期限</th><td>{D(c.DecisionDueOn)}{(c.ExtendedOn is not null ? $"(原 {D(c.DecisionDueOriginal)},{c.ExtensionApprovedBy} 于 {D(c.ExtendedOn)} 批准延长:{c.ExtensionReason})" : "")}{(c.DecisionDueCalendarMissing ? Html.Of($" <span class=\"warn\">⚠ 超出已导入的工作日历,仅按周末计算</span>") : Html.Empty)}</td></tr>
              <tr><th>拟作决定</th><td>{(c.ProposalKind is null ? "—" : $"{ProcedureLifecycle.ProposalZh(c.ProposalKind)}({c.ProposedBy},{D(c.ProposedOn)})")}</td></tr>
              <tr><th>决定</th><td>{D(c.DecidedOn)} {c.DecidedBy} {c.DecisionReason}</td></tr>
              <tr><th>列入期限</th><td>{(c.ListedUntil is { } u && c.Current is ProcedureState.Listed or ProcedureState.Removed ? $"{D(c.DecidedOn)} 至 {D(u.AddDays(-1))}" : "—")}</td></tr>
              <tr><th>移出</th><td>{D(c.RemovedOn)} {ArrearsNotices.RemovalZh(c.RemovalKind)} {c.RemovalReason}</td></tr>
              {(c.RevokedOn is null ? Html.Empty : Html.Of($"<tr><th>撤销提前移出</th><td>{D(c.RevokedOn)} {c.RevokeReason}</td></tr>"))}
            </table>
            {(applications.Count == 0 ? Html.Empty : Html.Of($"""
                <h3>提前移出申请</h3>
                <table><tr><th>申请日期</th><th>改正日期</th><th>证明</th><th>信用承诺</th><th>决定期限</th><th>结果</th><th>理由</th></tr>
                {applications.Select(a => Html.Of($"<tr><td>{D(a.AppliedOn)}</td><td>{D(a.CorrectedOn)}</td><td>{a.PaymentProof}</td><td>{D(a.CreditPromiseOn)}</td><td>{D(a.DueOn)}</td><td>{a.Status switch { "granted" => "准予", "refused" => "不予", _ => "待决定" }} {a.DecidedBy} {D(a.DecidedOn)}</td><td>{a.RefusalReasons}</td></tr>"))}
                </table>
                """))}
            {(forms.Count == 0 ? Html.Empty : Html.Of($"<h2>办理</h2>{Html.Join(forms)}"))}
            <h2>文书</h2>
            <ul>{docs.Select(d => Html.Of($"<li><a href=\"{url}/documents/{d.Id}\">{d.Title}</a>({D(d.IssuedOn)})</li>"))}</ul>
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
        if (details is "single_worker" or "multi_worker" or "incident" or "below_thresholds")
            return "适用规则:" + ListingTest.RuleZh(ListingTest.Parse(details));
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
        "statement_checked" => "陈述申辩核查结果",
        "decision_proposed" => "提出决定",
        "proposal_returned" => "退回决定",
        "decision_extended" => "延长决定期限",
        "removal_applied" => "提前移出申请",
        "removal_refused" or "repair_refused" => "不予提前移出",
        "removal_revoked" => "撤销提前移出,恢复列入",
        "notice_sent" or "notice_issued" => Table.MoveOf(ProcedureVerb.IssueNotice).LabelZh,
        "notice_served" => "送达",
        _ => ProcedureLifecycle.Label(kind),
    };

    /// <summary>The notice as it would be issued today, for review before it is sent (not stored).</summary>
    private static async Task<IResult> DraftNotice(HttpContext ctx, string caseNo, ArrearsView view, ArrearsProcedure proc, BureauClock clock, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var page = await view.CaseAsync(caseNo, ct);
        if (page?.Case is not { TestRule: not null, EmployerName: not null } c) return Results.NotFound();
        var doc = new ArrearsNotices(proc.Options).PreListingNotice(c, proc.Thresholds, clock.Today);
        return Results.Content(DocRender.Html(doc with { Title = "(草稿)" + doc.Title }), "text/html; charset=utf-8");
    }

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

    private static async Task<IResult> PublicPage(HttpContext ctx, ArrearsActs acts, PublicList list, BureauClock clock, CancellationToken ct)
    {
        if (!CanView(ctx)) return Forbidden(ctx);
        var today = clock.Today;
        var entries = await list.AsOfAsync(today, ct);
        var doc = new Doc($"拖欠农民工工资失信联合惩戒对象名单({D(today)})", null, null,
        [
            new Para($"根据《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》(人力资源社会保障部令第45号),现将截至{DocRender.DateZh(today)}的拖欠农民工工资失信联合惩戒对象名单公示如下。"),
            new Table(PublicList.Header, entries.Select(PublicList.Row).ToList()),
        ], acts.Options.Authority, today);
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

    public sealed class NoticeForm { public string? Channel { get; set; } public string? ElectronicServiceAgreed { get; set; } }
    public sealed class ServiceForm { public string? Method { get; set; } public DateOnly? ServedOn { get; set; } public string? Evidence { get; set; } }
    public sealed class StatementForm { public DateOnly? ReceivedOn { get; set; } public string? Summary { get; set; } }
    public sealed class CheckForm { public string? Upheld { get; set; } public string? Result { get; set; } }
    public sealed class DecisionForm { public string? Decision { get; set; } public string? Reason { get; set; } }
    public sealed class ReasonForm { public string? Reason { get; set; } }
    public sealed class ApplicationForm { public DateOnly? AppliedOn { get; set; } public DateOnly? CorrectedOn { get; set; } public string? Proof { get; set; } public DateOnly? PromiseOn { get; set; } }
    public sealed class RemovalForm { public string? Grant { get; set; } public string? Reason { get; set; } }

    private static async Task<IResult> Act(HttpContext ctx, string caseNo, Func<string, Task> action)
    {
        if (!CanAct(ctx)) return Forbidden(ctx);
        var services = ctx.RequestServices;
        var user = ctx.User.Identity?.Name ?? "";
        string? error = null;
        var status = StatusCodes.Status200OK;
        try
        {
            await action(user);
        }
        catch (DomainRuleException ex)
        {
            // The rule's refusal is shown on the case page; nothing was changed.
            (error, status) = (ex.Message, ex.Data.Contains(ProcedureLifecycle.ForbiddenKey) ? StatusCodes.Status403Forbidden : StatusCodes.Status409Conflict);
        }
        catch (BadInputException ex)
        {
            // A text too long or with a line break (TextRules): shown on the case page, nothing changed.
            (error, status) = (ex.Message, StatusCodes.Status400BadRequest);
        }
        if (error is null) return Results.Redirect(CaseUrl(caseNo), permanent: false, preserveMethod: false);
        return await RenderCase(ctx, caseNo, services.GetRequiredService<ArrearsView>(), services.GetRequiredService<ArrearsActs>(),
            services.GetRequiredService<BureauClock>(), error, status, ctx.RequestAborted);
    }

    private static IResult RunNow(HttpContext ctx, IBackgroundJobClient client, JobCatalog catalog, IFormCollection form)
    {
        if (!CanAct(ctx)) return Forbidden(ctx);
        var job = catalog.Find(WageArrearsSetup.JobId) ?? throw new InvalidOperationException("wage-arrears-daily is not registered");
        client.Create(job.ToHangfireJob(), new EnqueuedState());
        return Results.Redirect(Root);
    }
}
