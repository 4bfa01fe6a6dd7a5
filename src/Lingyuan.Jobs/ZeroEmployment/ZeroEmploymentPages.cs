using System.Globalization;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Mvc;
using MiniExcelLibs;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>
/// The ledger (台账) page, its drill-down to cases, the proposals awaiting confirmation, the case page with
/// the caseworker's decision form and the admin's closing form, and the XLSX export. Operators read; a
/// caseworker sees only the communities whose register row names the account's e-mail and confirms or
/// rejects their proposals; closing a case for another reason is a business action, admins only.
/// </summary>
public static class ZeroEmploymentPages
{
    private const string Base = "/hangfire/" + ZeroEmploymentSetup.PagePath;

    public static void Map(WebApplication app)
    {
        var group = app.MapGroup(Base).RequireAuthorization(p => p.RequireRole(Roles.Operator, Roles.Admin, Roles.Caseworker));
        group.MapGet("", Ledger);
        group.MapGet("/cases", CaseList);
        group.MapGet("/proposals", Proposals);
        group.MapGet("/cases/{id:long}", CasePage);
        group.MapPost("/cases/{id:long}/decide", Decide).RequireAuthorization(p => p.RequireRole(Roles.Caseworker, Roles.Admin));
        group.MapPost("/cases/{id:long}/close", Close).RequireAuthorization(Policies.Admin);
        group.MapGet("/export.xlsx", Export).RequireAuthorization(p => p.RequireRole(Roles.Operator, Roles.Admin));
    }

    /// <summary>The signed-in account's scope: null = all communities; a caseworker's e-mail otherwise.</summary>
    private static Task<string?> ScopeAsync(HttpContext ctx, ZeroEmploymentView view, CancellationToken ct) =>
        ctx.User.IsInRole(Roles.Caseworker) ? view.ScopeOfAsync(ctx.User.Identity?.Name ?? "", ct) : Task.FromResult<string?>(null);

    private static Html ScopeNote(string? scope) => scope is null ? Html.Empty
        : scope.Length == 0 ? Html.Of($"<p class=\"error\">您的账号没有登记电子邮箱,看不到任何社区。请管理员在“用户管理”页为您的账号登记与社区名册一致的电子邮箱。</p>")
        : Html.Of($"<p>仅显示社区名册中社区协理员邮箱为 {scope} 的社区。</p>");

    /// <summary>The caseworker's decision on a proposal: one reason, two buttons (a person's act, audited).</summary>
    private static Html DecisionForm(HttpContext ctx, CaseView c) => Html.Of($"""
        <form method="post" action="{Base}/cases/{c.Id}/decide" class="decide">
          {Layout.AntiforgeryField(ctx)}
          <label>理由 <input name="note" required maxlength="{TextRules.ReasonMaxLength}" size="40" placeholder="入户核实情况"></label>
          <button type="submit" name="decision" value="confirm">确认认定</button>
          <button type="submit" name="decision" value="reject">不予认定</button>
        </form>
        """);

    private static DateOnly Month(string? month, BureauClock clock)
    {
        if (month is not null && DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var m))
            return m;
        var today = clock.Today;
        return new DateOnly(today.Year, today.Month, 1);
    }

    private static string M(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static string Link(string path, params (string Key, string? Value)[] query) =>
        path + "?" + string.Join("&", query.Where(q => q.Value is not null).Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value!)}"));

    private static async Task<IResult> Ledger(HttpContext ctx, ZeroEmploymentLedger ledger, ZeroEmploymentView view, BureauClock clock, string? month, CancellationToken ct)
    {
        var m = Month(month, clock);
        var scope = await ScopeAsync(ctx, view, ct);
        var rows = await ledger.LedgerAsync(m, ct, scope);
        var body = Html.Of($"""
            <form method="get" action="{Base}">
              <label>月份 <input type="month" name="month" value="{M(m)}"></label> <button type="submit">查询</button>
              {(scope is null ? Html.Of($"<a href=\"{Link(Base + "/export.xlsx", ("month", M(m)))}\">导出 Excel</a>") : Html.Empty)}
              <a href="{Link(Base + "/cases", ("month", M(m)))}">全部案件</a>
              <a href="{Base}/proposals">待确认</a>
            </form>
            {ScopeNote(scope)}
            <p>认定:当月经社区协理员确认认定的家庭数(排查提出、尚未确认的不计);清零:当月发生数;在办、逾期、待确认:月末(本月为今日)状态;清零天数中位数:当月清零案件自认定至清零的天数。</p>
            <table>
            <tr><th>街道</th><th>社区</th><th>认定</th><th>清零</th><th>在办</th><th>逾期</th><th>清零天数中位数</th><th>待确认</th></tr>
            {rows.Select(r => Html.Of($"""
                <tr data-street="{r.Street ?? ""}" data-community="{r.Community ?? ""}"{(r.Street is null ? Html.Raw(" style=\"font-weight:bold\"") : r.Community is null ? Html.Raw(" style=\"background:#f4f4f4\"") : Html.Empty)}>
                <td>{r.Street ?? (scope is null ? "全市合计" : "合计(您负责的社区)")}</td><td>{(r.Street is not null && r.Community is null ? "街道小计" : r.Community)}</td>
                <td class="num" data-col="identified">{r.Identified}</td><td class="num">{r.Cleared}</td><td class="num" data-col="open">{r.Open}</td>
                <td class="num">{(r.Overdue > 0 ? Html.Of($"<span class=\"error\">{r.Overdue}</span>") : Html.Of($"{r.Overdue}"))}</td>
                <td class="num">{(r.MedianDaysToClear is { } d ? d.ToString("0.#", CultureInfo.InvariantCulture) : "—")}</td>
                <td class="num" data-col="awaiting">{r.AwaitingConfirmation}</td>
                <td><a href="{Link(Base + "/cases", ("month", M(m)), ("street", r.Street), ("community", r.Community))}">案件</a></td></tr>
                """))}
            </table>
            {(rows.Count == 0 ? Html.Of($"<p>{M(m)} 没有零就业家庭案件。</p>") : Html.Empty)}
            """);
        return Layout.Page(ctx, $"零就业家庭台账 · {M(m)}", body);
    }

    private static async Task<IResult> CaseList(HttpContext ctx, ZeroEmploymentView view, BureauClock clock, string? month, string? street, string? community, CancellationToken ct)
    {
        var m = Month(month, clock);
        const int limit = 1000;
        var scope = await ScopeAsync(ctx, view, ct);
        var list = await view.ListAsync(m, street, community, limit, ct, scope);
        var body = Html.Of($"""
            <p><a href="{Link(Base, ("month", M(m)))}">返回台账</a> · {street ?? "全部街道"} {community ?? ""} · {M(m)} 期间在办过的案件{(list.Count == limit ? $"(仅显示前 {limit} 条)" : "")}</p>
            <table>
            <tr><th>案件</th><th>街道</th><th>社区</th><th>户号</th><th>成员(脱敏)</th><th>状态</th><th>排查日期</th><th>认定日期</th><th>清零期限</th><th>清零/结案</th></tr>
            {list.Select(c => Html.Of($"""
                <tr><td><a href="{Base}/cases/{c.Id}">{c.Id}</a></td><td>{c.Street}</td><td>{c.Community}</td><td>{c.HouseholdNo}</td>
                <td>{string.Join("、", c.Reason.Members.Select(x => x.Member))}</td>
                <td class="{(c.State == CaseState.Overdue ? "error" : c.State == CaseState.Cleared ? "ok" : "")}">{ZeroEmploymentMail.StateZh(c.State)}</td>
                <td>{c.ProposedOn:yyyy-MM-dd}</td><td>{c.IdentifiedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td><td>{c.Deadline?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>
                <td>{(c.ClearedOn ?? c.ClosedOn ?? c.RejectedOn)?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} {ZeroEmploymentMail.CloseReasonZh(c.CloseReason)}</td></tr>
                """))}
            </table>
            """);
        return Layout.Page(ctx, "零就业家庭案件", body);
    }

    private static async Task<IResult> Proposals(HttpContext ctx, ZeroEmploymentView view, long? done, string? decided, CancellationToken ct)
    {
        const int limit = 500;
        var doneNote = done is { } d && decided is "confirm" or "reject"
            ? Html.Of($"""<p class="ok" role="status" id="decided">已{(decided == "confirm" ? "确认认定" : "不予认定")}案件 {d},已记入操作记录。</p>""")
            : Html.Empty;
        var scope = await ScopeAsync(ctx, view, ct);
        var list = await view.ProposalsAsync(scope, limit, ct);
        var body = Html.Of($"""
            <p><a href="{Base}">返回台账</a></p>
            {doneNote}
            {ScopeNote(scope)}
            <p>每日排查提出的疑似零就业家庭,须由社区协理员入户核实后确认认定或不予认定(就业促进法第五十六条;就业服务与就业管理规定第四十至四十三条)。确认之日起计算清零期限;只有确认的家庭计入台账。{(list.Count == limit ? $"(仅显示最早的 {limit} 户)" : "")}</p>
            <table>
            <tr><th>案件</th><th>街道</th><th>社区</th><th>户号</th><th>成员(脱敏)</th><th>有就业意愿的成员</th><th>排查日期</th><th>确认或不予认定</th></tr>
            {list.Select(c => Html.Of($"""
                <tr data-household="{c.HouseholdNo}"><td><a href="{Base}/cases/{c.Id}">{c.Id}</a></td><td>{c.Street}</td><td>{c.Community}</td><td>{c.HouseholdNo}</td>
                <td>{string.Join("、", c.Reason.Members.Select(x => x.Member))}</td>
                <td class="num">{c.Reason.Members.Count(x => x.Counts == "seeking")}</td>
                <td>{c.ProposedOn:yyyy-MM-dd}</td>
                <td>{(CaseLifecycle.Table.Offers(CaseVerb.Confirm, c.State, ctx.User) ? DecisionForm(ctx, c) : Html.Of($"(需社区协理员确认)"))}</td></tr>
                """))}
            </table>
            {(list.Count == 0 ? Html.Of($"<p>没有待确认的家庭。</p>") : Html.Empty)}
            """);
        return Layout.Page(ctx, "零就业家庭 · 待确认", body);
    }

    private static async Task<IResult> Decide(HttpContext ctx, ZeroEmploymentCases cases, long id, [FromForm] string? decision, [FromForm] string? note, CancellationToken ct)
    {
        try
        {
            if (decision is not ("confirm" or "reject"))
                throw new UsageException("请选择确认认定或不予认定");
            await cases.DecideAsync(id, decision == "confirm", note ?? "", ctx.User.Identity?.Name ?? "unknown", ct);
        }
        catch (Exception ex) when (ex is UsageException or DomainRuleException or BadInputException)
        {
            return Layout.Page(ctx, "操作失败", Html.Of($"""<p class="error">{UserText.Zh(ex.Message)}</p><p><a href="{Base}/proposals">返回待确认</a></p>"""), 400);
        }
        return Results.Redirect($"{Base}/proposals?done={id}&decided={decision}");
    }

    private static async Task<IResult> CasePage(HttpContext ctx, ZeroEmploymentView view, long id, CancellationToken ct)
    {
        var scope = await ScopeAsync(ctx, view, ct);
        var c = await view.FindAsync(id, ct, scope);
        if (c is null) return Layout.Page(ctx, "零就业家庭案件", Html.Of($"<p class=\"error\">没有编号为 {id} 的案件。</p>"), 404);
        // The closing form is the table's move: offered on an open case, to the role the move names.
        var isAdmin = CaseLifecycle.Table.Offers(CaseVerb.Close, c.State, ctx.User);
        var open = CaseLifecycle.Table.Allows(CaseVerb.Close, c.State);
        var closeForm = !open ? Html.Empty : isAdmin
            ? Html.Of($"""
                <h2>结案(其他原因)</h2>
                <form method="post" action="{Base}/cases/{c.Id}/close">
                  {Layout.AntiforgeryField(ctx)}
                  <label>原因 <select name="reason">{ZeroEmploymentCases.OperatorCloseReasons.Select(r => Html.Of($"<option value=\"{r.Key}\">{r.Value}</option>"))}</select></label>
                  <label>说明 <input name="note" required maxlength="{TextRules.ReasonMaxLength}" size="60"></label>
                  <button type="submit">结案</button>
                </form>
                <p>成员就业(清零)与不再符合条件由每日排查自动记录,无需手工结案。</p>
                """)
            : Html.Of($"<p>结案(迁出、三次拒绝推荐就业)需管理员操作。</p>");
        var body = Html.Of($"""
            <p><a href="{Link(Base + "/cases", ("street", c.Street), ("community", c.Community))}">返回案件列表</a></p>
            <table>
            <tr><th>案件编号</th><td>{c.Id}</td></tr>
            <tr><th>街道 / 社区</th><td>{c.Street} / {c.Community}</td></tr>
            <tr><th>户号</th><td>{c.HouseholdNo}</td></tr>
            <tr><th>状态</th><td>{ZeroEmploymentMail.StateZh(c.State)}</td></tr>
            <tr><th>排查提出</th><td>{ZeroEmploymentMail.Day(c.ProposedOn)}</td></tr>
            <tr><th>确认 / 不予认定</th><td>{(c.DecidedBy is null ? "—" : $"{(c.RejectedOn is { } rj ? "不予认定 " + ZeroEmploymentMail.Day(rj) : "确认认定")}:{c.DecisionNote}({c.DecidedBy})")}</td></tr>
            <tr><th>认定日期</th><td>{(c.IdentifiedOn is { } idd ? ZeroEmploymentMail.Day(idd) : "—(尚未确认)")}</td></tr>
            <tr><th>清零期限</th><td>{(c.Deadline is { } dl ? ZeroEmploymentMail.Day(dl) : "—")}</td></tr>
            <tr><th>提醒</th><td>{(c.RemindedOn is { } r ? ZeroEmploymentMail.Day(r) : "—")}</td></tr>
            <tr><th>逾期</th><td>{(c.OverdueOn is { } o ? ZeroEmploymentMail.Day(o) : "—")}</td></tr>
            <tr><th>清零</th><td>{(c.ClearedOn is { } cl ? ZeroEmploymentMail.Day(cl) + ":" + string.Join(";", c.ClearedBy.Select(x => $"{x.Member} {ZeroEmploymentMail.EmploymentZh(x.Employment)}{(x.Since is { } s ? $"(自{ZeroEmploymentMail.Day(s)})" : "")}")) : "—")}</td></tr>
            <tr><th>结案</th><td>{(c.ClosedOn is { } cd ? $"{ZeroEmploymentMail.Day(cd)} {ZeroEmploymentMail.CloseReasonZh(c.CloseReason)}:{c.CloseNote}({c.ClosedBy})" : "—")}</td></tr>
            <tr><th>社区协理员</th><td>{(c.CaseworkerEmail is null ? "名册中没有(邮件改发就业服务机构)" : c.CaseworkerName)}</td></tr>
            </table>
            <h2>认定理由</h2>
            <p>{ZeroEmploymentMail.Why(c)}</p>
            {ZeroEmploymentMail.MembersHtml(c)}
            {(CaseLifecycle.Table.Offers(CaseVerb.Confirm, c.State, ctx.User) ? Html.Of($"<h2>确认或不予认定</h2>{DecisionForm(ctx, c)}") : Html.Empty)}
            {closeForm}
            """);
        return Layout.Page(ctx, $"零就业家庭案件 {c.Id}", body);
    }

    private static async Task<IResult> Close(HttpContext ctx, ZeroEmploymentCases cases, long id, [FromForm] string? reason, [FromForm] string? note, CancellationToken ct)
    {
        try
        {
            await cases.CloseAsync(id, reason ?? "", note ?? "", ctx.User.Identity?.Name ?? "unknown", ct);
        }
        catch (Exception ex) when (ex is UsageException or DomainRuleException or BadInputException)
        {
            return Layout.Page(ctx, "结案失败", Html.Of($"""<p class="error">{UserText.Zh(ex.Message)}</p><p><a href="{Base}/cases/{id}">返回案件</a></p>"""), 400);
        }
        return Results.Redirect($"{Base}/cases/{id}");
    }

    public static string Cell(string? value) => Exports.SpreadsheetText.Neutralise(value);

    private static async Task<IResult> Export(ZeroEmploymentLedger ledgers, ZeroEmploymentView view, BureauClock clock, string? month, CancellationToken ct)
    {
        var m = Month(month, clock);
        var ledger = await ledgers.LedgerAsync(m, ct);
        var list = await view.ListAsync(m, null, null, int.MaxValue, ct);
        var sheets = new Dictionary<string, object>
        {
            ["台账"] = ledger.Select(r => new Dictionary<string, object?>
            {
                ["街道"] = Cell(r.Street ?? "全市合计"),
                ["社区"] = Cell(r.Street is not null && r.Community is null ? "街道小计" : r.Community),
                ["认定"] = r.Identified,
                ["清零"] = r.Cleared,
                ["在办"] = r.Open,
                ["逾期"] = r.Overdue,
                ["清零天数中位数"] = r.MedianDaysToClear,
                ["待确认"] = r.AwaitingConfirmation,
            }).ToList(),
            ["案件"] = list.Select(c => new Dictionary<string, object?>
            {
                ["案件编号"] = c.Id,
                ["街道"] = Cell(c.Street),
                ["社区"] = Cell(c.Community),
                ["户号"] = Cell(c.HouseholdNo),
                ["成员(脱敏)"] = Cell(string.Join("、", c.Reason.Members.Select(x => x.Member))),
                ["状态"] = ZeroEmploymentMail.StateZh(c.State),
                ["排查日期"] = c.ProposedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["认定日期"] = c.IdentifiedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                ["清零期限"] = c.Deadline?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                ["清零日期"] = c.ClearedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                ["结案日期"] = c.ClosedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                ["结案原因"] = ZeroEmploymentMail.CloseReasonZh(c.CloseReason),
                ["结案说明"] = Cell(c.CloseNote),
                ["认定理由"] = ZeroEmploymentMail.Why(c),
            }).ToList(),
        };
        var stream = new MemoryStream();
        await stream.SaveAsAsync(sheets, cancellationToken: ct);
        stream.Position = 0;
        return Results.File(stream, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"zero-employment-{M(m)}.xlsx");
    }
}
