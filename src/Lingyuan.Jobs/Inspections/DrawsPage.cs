using Lingyuan.Jobs.Exports;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.AspNetCore.Authorization;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// <c>/hangfire/draws</c>: plans with their commitments, draws with results and verification, failures,
/// overdue inspections, the public list (公示). Inspection and admin users create plans, run, cancel and
/// publish; operators only look (their POSTs get 403). The page renders what the slices give it: the
/// View slice's queries, the Plans, Draw and Results slices' endpoints (which come back here to render).
/// Buttons and state names read <see cref="PlanLifecycle.Table"/>.
/// </summary>
public static class DrawsPage
{
    internal const string Base = "/hangfire/draws";

    public static void Map(WebApplication app)
    {
        // Viewing: inspection, operator (read-only) and admin; changing: inspection and admin (a plain 403 for others).
        var g = app.MapGroup(Base).RequireAuthorization(new AuthorizeAttribute { Roles = $"{Roles.Inspection},{Roles.Operator},{Roles.Admin}" });
        g.MapGet("", Index);
        g.MapGet("/{drawId:long}", Detail);
        g.MapGet("/{drawId:long}/public", PublicPage);
        g.MapGet("/{drawId:long}/public.csv", PublicCsv);
        g.MapGet("/{drawId:long}/snapshot.txt", Snapshot);
        g.MapGet("/commitments.csv", CommitmentsCsv);
        g.MapGet("/plans/{planId:long}/edit", PlanEditPage.Show);
        InspectionPlans.Map(g);
        SnapshotFreeze.Map(g);
        DrawService.Map(g);
        InspectionResults.Map(g);
        InspectionCases.Map(g);
    }

    /// <summary>The Chinese half of a refusal written "English / 中文" (the whole text when it has no such half).</summary>
    internal static string Zh(Exception e)
    {
        var text = e is BadInputException b ? string.Join(";", b.Problems) : e.Message;
        return string.Join(";", text.Split(';').Select(t => t.LastIndexOf(" / ", StringComparison.Ordinal) is var i and >= 0 ? t[(i + 3)..] : t));
    }

    /// <summary>
    /// The plan and draw forms' one shape: inspection staff only; the form; the act as the signed-in person; the
    /// overview with what was done, or with why not (the Chinese half of the refusal).
    /// </summary>
    internal static async Task<IResult> ActAsync(HttpContext ctx, InspectionsView view, CancellationToken ct, Func<IFormCollection, Task<string>> act)
    {
        if (!CanChange(ctx)) return Forbidden(ctx);
        try
        {
            var form = await FormAsync(ctx);
            string done;
            using (ActingAs(ctx)) done = await act(form);
            return await IndexAsync(ctx, view, ct, message: done);
        }
        catch (Exception e) when (e is UsageException or BadInputException or DomainRuleException)
        {
            return await IndexAsync(ctx, view, ct, error: Zh(e));
        }
    }

    internal static bool CanChange(HttpContext ctx) => ctx.User.IsInRole(Roles.Inspection) || ctx.User.IsInRole(Roles.Admin);

    internal static IResult Forbidden(HttpContext ctx) =>
        Layout.Page(ctx, "无权操作", Html.Of($"<p class=\"error\">只读账号不能执行此操作。<a href=\"{Base}\">返回</a></p>"), StatusCodes.Status403Forbidden);

    /// <summary>
    /// Acts as the signed-in user for the slice called inside (until the dashboard's middleware sets
    /// <see cref="Acting"/> for every request).
    /// </summary>
    internal static IDisposable ActingAs(HttpContext ctx) => Acting.Begin(new Acting(ctx.User.Identity?.Name ?? "unknown", Acting.Web));

    private static Task<IResult> Index(HttpContext ctx, InspectionsView view, long? saved, CancellationToken ct) =>
        IndexAsync(ctx, view, ct, message: saved is { } id ? $"已保存计划 {id},其种子承诺值已在公开页面公布(见下方计划表)。" : null);

    /// <summary>Rows per page of the draws, failures and overdue lists (the page once grew to 7 MB).</summary>
    public const int PageSize = 50;

    internal static async Task<IResult> IndexAsync(HttpContext ctx, InspectionsView view, CancellationToken ct, string? message = null, string? error = null)
    {
        var page = int.TryParse(ctx.Request.Query["page"], NumberStyles.None, CultureInfo.InvariantCulture, out var pg) && pg is >= 1 and <= 100_000 ? pg : 1;
        var overview = await view.OverviewAsync(ct, page, PageSize);
        var (planList, drawList, failures, overdue, missingCalendar) = overview;
        var pager = Pager(page, drawList.Count == PageSize || failures.Count == PageSize || overdue.Count == PageSize);
        var canChange = CanChange(ctx);
        var clock = ctx.RequestServices.GetRequiredService<Calendar.BureauClock>();
        var standing = drawList.Where(d => !d.Cancelled).ToDictionary(d => d.PlanId, d => d.Id);

        var planRows = planList.Select(p => Html.Of($"""
            <tr><td>{p.Id}</td><td>{p.Name}</td><td>{p.Period}</td><td>{(p.Streets.Length == 0 ? "全部" : string.Join("、", p.Streets))}</td>
            <td>{(p.Industries.Length == 0 ? "全部" : string.Join("、", p.Industries))}</td><td>{p.RatiosText}</td><td class="num">{p.TeamSize}</td>
            <td class="num">{p.WorkloadCap}</td><td class="num">{p.RotationLookbackMonths}</td><td>{p.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>
            <td><code>{p.CommitmentHex}</code><br><span class="published-at">{view.Format(p.CreatedAt)} 公开</span></td>
            <td>{(p.State == PlanState.Drawn && standing.TryGetValue(p.Id, out var did)
                ? Html.Of($"<a href=\"{Base}/{did}\">摇号 {did}</a>")
                : overview.Timings.TryGetValue(p.Id, out var timing)
                    ? PlanDrawCell.Render(ctx, p, timing, view)
                    : Html.Of($"{PlanLifecycle.Table.Label(p.State)}"))}</td></tr>
            """));
        var drawRows = drawList.Select(d => Html.Of($"""
            <tr><td><a href="{Base}/{d.Id}">{d.Id}</a></td><td>{d.PlanId}</td><td class="num">{d.Attempt}</td><td>{d.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>
            <td class="num">{d.EmployerCount}</td><td>{d.Operator}</td><td>{clock.Format(d.FinishedAt)}</td>
            <td>{StateCell(d, "ok")}</td></tr>
            """));
        var failureRows = failures.Select(f => Html.Of($"""
            <tr><td>{f.Id}</td><td>{f.PlanId}</td><td>{clock.Format(f.FailedAt)}</td><td>{f.Operator}</td><td>{DrawFailureReport.Parse(f.Report).Render()}</td></tr>
            """));
        var overdueRows = overdue.Select(o => Html.Of($"""
            <tr><td><a href="{Base}/{o.DrawId}">{o.DrawId}</a></td><td>{o.Name}</td><td>{o.Uscc}</td><td>{InspectionDeadlines.KindZh(o.Kind)}</td>
            <td class="error">{o.DueOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td></tr>
            """));
        var form = canChange ? Html.Of($"""
            <h2>新建抽查计划</h2>
            <form method="post" action="{Base}/plans">
              {Layout.AntiforgeryField(ctx)}
              <p><label>计划名称 <input name="name" required maxlength="{TextRules.NameMaxLength}"></label>
                 <label>期间 <input name="period" required placeholder="2026-03 或 2026-Q2"></label>
                 <label>摇号日期 <input name="drawDate" type="date" required></label></p>
              <p><label>抽查比例 <input name="ratios" value="A=3,B=5,C=20,D=60"></label>
                 <label>每组人数 <input name="teamSize" type="number" min="2" value="2"></label>
                 <label>每人上限(户) <input name="cap" type="number" min="1" placeholder="默认"></label>
                 <label>轮换回溯(月) <input name="rotationMonths" type="number" min="0" placeholder="24"></label></p>
              <p><label>街道(逗号分隔,空为全部) <input name="streets"></label>
                 <label>行业(逗号分隔,空为全部) <input name="industries"></label></p>
              <button type="submit">保存计划并生成承诺值</button>
            </form>
            """) : Html.Empty;
        var body = Html.Of($"""
            {(message is null ? Html.Empty : Html.Of($"<p class=\"ok\" role=\"status\">{message}</p>"))}
            {(error is null ? Html.Empty : Html.Of($"<p class=\"error\" role=\"alert\">{UserText.Zh(error)}</p>"))}
            {(missingCalendar ? Html.Of($"<p class=\"warn\">部分期限跨入尚未导入节假日安排的年度(仅按周末推算),请导入下一年度节假日安排。</p>") : Html.Empty)}
            <p>依据国办发〔2015〕58号、国发〔2019〕5号及《劳动保障监察条例》第十六条(两名以上执法人员;第二款回避)、第十七条(六十个工作日内办结,经批准可延长三十个工作日)。承诺值为随机种子的 SHA-256,计划建立时即在公开页面公布;摇号前冻结名录快照并公布其哈希值;摇号使用快照冻结后才产生的公开随机数;摇号后公开种子,任何人可按公开算法复核。</p>
            <h2>抽查计划</h2>
            <table><tr><th>编号</th><th>名称</th><th>期间</th><th>街道</th><th>行业</th><th>比例(%)</th><th>每组</th><th>上限</th><th>轮换(月)</th><th>摇号日期</th><th>种子承诺值(SHA-256)与公开时间</th><th>摇号</th></tr>{planRows}</table>
            <p><a href="{DrawsPublicPage.Base}">公开页面(无需登录):承诺值、快照哈希与摇号证明</a></p>
            {form}
            {(canChange ? Html.Of($"""
                <h2>导入检查结果</h2>
                <form method="post" action="{Base}/results" enctype="multipart/form-data">
                  {Layout.AntiforgeryField(ctx)}
                  <p>CSV 文件(UTF-8),列:draw_id, uscc, completed_on (YYYY-MM-DD), finding (compliant/violation/rectification_ordered), summary。任何一行有误则全部不导入。</p>
                  <input type="file" name="file" accept=".csv,text/csv" required> <button type="submit">导入</button>
                </form>
                """) : Html.Empty)}
            <p><a href="{Base}/commitments.csv">下载各计划种子承诺值(CSV,供摇号前公开)</a></p>
            {pager}
            <h2>摇号记录</h2>
            <table><tr><th>摇号编号</th><th>计划</th><th>次序</th><th>摇号日期</th><th>抽中户数</th><th>操作人</th><th>完成时间</th><th>状态</th></tr>{drawRows}</table>
            <h2>摇号失败记录</h2>
            <table><tr><th>编号</th><th>计划</th><th>时间</th><th>操作人</th><th>原因</th></tr>{failureRows}</table>
            <h2>逾期未办结</h2>
            <table><tr><th>摇号</th><th>单位名称</th><th>统一社会信用代码</th><th>期限</th><th>到期日</th></tr>{overdueRows}</table>
            {pager}
            """);
        return Layout.Page(ctx, "双随机抽查", body, error is null ? 200 : 400);
    }

    /// <summary>Links to the previous and next page of the draws, failures and overdue lists.</summary>
    private static Html Pager(int page, bool more) => page == 1 && !more ? Html.Empty : Html.Of($"""
        <p class="pager">摇号记录、失败记录、逾期列表第 {page} 页(每页 {PageSize} 条)
        {(page > 1 ? Html.Of($"<a href=\"{Base}?page={page - 1}\">上一页</a>") : Html.Empty)}
        {(more ? Html.Of($"<a href=\"{Base}?page={page + 1}\">下一页</a>") : Html.Empty)}</p>
        """);

    /// <summary>A draw's state as people read it, with the cancellation's reason and author when cancelled.</summary>
    private static Html StateCell(DrawRow d, string standingClass) => d.Cancelled
        ? Html.Of($"<span class=\"warn\">{PlanLifecycle.Table.Label(d.State)}:{d.CancelReason}({d.CancelledBy})</span>")
        : standingClass.Length == 0 ? Html.Of($"{PlanLifecycle.Table.Label(d.State)}") : Html.Of($"<span class=\"{standingClass}\">{PlanLifecycle.Table.Label(d.State)}</span>");

    private static async Task<IResult> Detail(HttpContext ctx, long drawId, DrawService draws, InspectionsView view, CancellationToken ct)
    {
        var detail = await view.DetailAsync(drawId, ct);
        if (detail is null) return Layout.Page(ctx, "没有该摇号记录", Html.Of($"<p><a href=\"{Base}\">返回</a></p>"), 404);
        var (d, secret, rows, noEmail) = detail;
        var diffs = await draws.VerifyAsync(drawId, ct);
        var resultRows = rows.Select(r => Html.Of($"""
            <tr><td class="num">{r.Position}</td><td>{r.RiskClass}</td><td>{r.Name}</td><td>{r.Uscc}</td>
            <td>{string.Join("、", r.Team.Select((b, i) => $"{r.Names[i]}({b})"))}</td>
            <td>{r.OpenedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "未登记"}</td>
            <td class="{(r.Overdue ? "error" : "")}">{r.DueOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? ""}{(r.Overdue ? "(逾期)" : "")}</td>
            <td>{(r.ExtendedBy is null ? "" : $"已延期:{r.ExtensionReason}({r.ExtendedBy} 批准)")}</td>
            <td>{r.CompletedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? ""}</td><td>{InspectionResults.FindingZh(r.Finding)}</td></tr>
            """));
        // 劳动保障监察条例 art. 17: the team records the opening; the department head (decider flag) approves an extension.
        var caseForms = !CanChange(ctx) || d.Cancelled ? Html.Empty : Html.Of($"""
            <h2>立案与延期(《劳动保障监察条例》第十七条)</h2>
            <p>检查应自立案之日起六十个工作日内办结;情况复杂的,经部门负责人批准可延长三十个工作日。未登记立案日期的,暂按摇号日计算期限。</p>
            <form method="post" action="{Base}/{drawId}/opening">{Layout.AntiforgeryField(ctx)}
              <label>统一社会信用代码 <input name="uscc" required maxlength="20"></label>
              <label>立案日期 <input name="openedOn" type="date" required></label> <button type="submit">登记立案</button></form>
            <form method="post" action="{Base}/{drawId}/extension">{Layout.AntiforgeryField(ctx)}
              <label>统一社会信用代码 <input name="uscc" required maxlength="20"></label>
              <label>延期理由 <input name="reason" required maxlength="{TextRules.ReasonMaxLength}" size="40"></label>
              <button type="submit">批准延期(部门负责人)</button></form>
            """);
        var body = Html.Of($"""
            <p><a href="{Base}">返回</a> · <a href="{Base}/{drawId}/public">公示页(可打印)</a> · <a href="{Base}/{drawId}/public.csv">公示 CSV</a> · <a href="{Base}/{drawId}/snapshot.txt">名录快照</a> · <a href="{DrawsPublicPage.Base}/{drawId}">公开证明(无需登录)</a></p>
            <table>
            <tr><th>计划</th><td>{d.PlanId}(第 {d.Attempt} 次)</td></tr>
            <tr><th>算法</th><td>{d.Algorithm}</td></tr>
            <tr><th>摇号日期</th><td>{d.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td></tr>
            <tr><th>快照 SHA-256</th><td><code>{Convert.ToHexStringLower(d.SnapshotHash)}</code></td></tr>
            <tr><th>公开的种子秘密</th><td><code>{Convert.ToHexStringLower(secret!)}</code></td></tr>
            <tr><th>种子</th><td><code>{Convert.ToHexStringLower(d.Seed)}</code></td></tr>
            <tr><th>结果 SHA-256</th><td><code>{Convert.ToHexStringLower(d.ResultHash)}</code></td></tr>
            <tr><th>承诺值公开时间</th><td id="commitment-published-at">{view.Format(d.CommitmentPublishedAt)}</td></tr>
            {(d.SnapshotFrozenAt is { } frozenAt ? Html.Of($"<tr><th>快照冻结时间</th><td>{view.Format(frozenAt)}</td></tr>") : Html.Empty)}
            {(d.PublicValue is { } pv ? Html.Of($"<tr><th>公开随机数</th><td>{d.PublicSource}:<code>{pv}</code></td></tr>") : Html.Empty)}
            <tr><th>摇号时间</th><td id="drawn-at">{view.Format(d.FinishedAt)}</td></tr>
            <tr><th>操作人</th><td>{d.Operator}</td></tr>
            <tr><th>复核</th><td>{(diffs.Count == 0 ? Html.Of($"<span class=\"ok\">复核一致</span>") : Html.Of($"<span class=\"error\">复核不一致:{string.Join(";", diffs)}</span>"))}</td></tr>
            <tr><th>状态</th><td>{StateCell(d, "")}</td></tr>
            </table>
            {(PlanLifecycle.Table.Offers(PlanVerb.Publish, d.State, ctx.User) ? Html.Of($"""
                <form class="inline" method="post" action="{Base}/{drawId}/publish">{Layout.AntiforgeryField(ctx)}<button type="submit">登记已公示(已办结的结果)</button></form>
                """) : Html.Empty)}
            {(PlanLifecycle.Table.Offers(PlanVerb.Cancel, d.State, ctx.User) ? Html.Of($"""
                <form method="post" action="{Base}/{drawId}/cancel">{Layout.AntiforgeryField(ctx)}
                  <label>撤销理由 <input name="reason" required maxlength="{TextRules.ReasonMaxLength}"></label> <button type="submit">撤销本次摇号</button></form>
                """) : Html.Empty)}
            {(noEmail.Count > 0 ? Html.Of($"<p class=\"warn\">以下执法人员在名录中没有电子邮箱,未收到任务通知,请另行通知:{string.Join("、", noEmail)}</p>") : Html.Empty)}
            <h2>抽中单位与检查组</h2>
            {caseForms}
            <table><tr><th>序号</th><th>类别</th><th>单位名称</th><th>统一社会信用代码</th><th>检查组</th><th>立案日期</th><th>办结期限</th><th>延期</th><th>完成日期</th><th>结果</th></tr>{resultRows}</table>
            """);
        return Layout.Page(ctx, $"摇号 {drawId}", body);
    }

    private static async Task<IResult> PublicPage(HttpContext ctx, long drawId, InspectionResults results, CancellationToken ct)
    {
        var list = await results.PublicListAsync(drawId, ct);
        if (list.Count == 0) return Layout.Page(ctx, "没有该摇号记录", Html.Empty, 404);
        var first = list[0];
        var rows = list.Select(r => Html.Of($"""
            <tr><td class="num">{r.Position}</td><td>{r.EmployerName}</td><td>{r.Uscc}</td><td>{r.CompletedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? ""}</td>
            <td>{InspectionResults.FindingZh(r.Finding)}</td><td>{r.Summary ?? ""}</td></tr>
            """));
        var body = Html.Of($"""
            <p>抽查计划:{first.PlanName}({first.Period});摇号日期:{first.DrawDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)};摇号编号:{drawId}。</p>
            <table><tr><th>序号</th><th>单位名称</th><th>统一社会信用代码</th><th>检查完成日期</th><th>检查结果</th><th>处理情况</th></tr>{rows}</table>
            <p>凌源市人力资源和社会保障局</p>
            """);
        return Results.Content(Layout.Bare("双随机抽查结果公示", body).Value, "text/html; charset=utf-8");
    }

    private static async Task<IResult> PublicCsv(long drawId, InspectionResults results, CancellationToken ct)
    {
        var list = await results.PublicListAsync(drawId, ct);
        if (list.Count == 0) return Results.NotFound();
        return Results.File(InspectionResults.PublicCsv(list), "text/csv; charset=utf-8", $"draw-{drawId}-public.csv");
    }

    private static async Task<IResult> Snapshot(long drawId, InspectionsView view, CancellationToken ct)
    {
        var bytes = await view.SnapshotAsync(drawId, ct);
        return bytes is null ? Results.NotFound() : Results.File(bytes, "text/plain; charset=utf-8", $"draw-{drawId}-snapshot.txt");
    }

    private static async Task<IResult> CommitmentsCsv(InspectionsView view, CancellationToken ct)
    {
        var sb = new StringBuilder();
        Csv.WriteRow(sb, ["计划编号", "计划名称", "期间", "摇号日期", "种子承诺值(SHA-256)"]);
        foreach (var p in await view.PlansAsync(ct))
            Csv.WriteRow(sb, [p.Id.ToString(CultureInfo.InvariantCulture), SpreadsheetText.Neutralise(p.Name), p.Period,
                p.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), p.CommitmentHex]);
        return Results.File([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())], "text/csv; charset=utf-8", "inspection-commitments.csv");
    }

    // Forms are read here rather than bound: a bound form makes routing answer 404/415 to a POST without
    // a form body before authorization can answer 403. Antiforgery is checked centrally for every POST.
    internal static async Task<IFormCollection> FormAsync(HttpContext ctx) =>
        ctx.Request.HasFormContentType ? await ctx.Request.ReadFormAsync(ctx.RequestAborted) : FormCollection.Empty;

    public sealed class PlanForm
    {
        public string? Name { get; set; }
        public string? Period { get; set; }
        public string? DrawDate { get; set; }
        public string? Ratios { get; set; }
        public string? TeamSize { get; set; }
        public string? Cap { get; set; }
        public string? RotationMonths { get; set; }
        public string? Streets { get; set; }
        public string? Industries { get; set; }
    }
}

/// <summary>
/// The report of a draw that cannot be made (DOMAIN.md §1): brief by construction. It holds the counts of
/// exclusions by reason over all unassignable employers, the first <see cref="EmployersListed"/> employers
/// (with their counts, and the badges only for the reasons that name a person: conflict, rotation), the
/// capacity arithmetic (drawn employers × team size against active inspectors × cap), and the settings to
/// change, in Chinese. A county-size failure once stored 9.7 MB (one line per employer and inspector); this
/// stays a few kilobytes whatever the register.
/// </summary>
public sealed class DrawFailureReport
{
    public const int EmployersListed = 100;

    public int Version { get; init; } = 2;
    public int Unassignable { get; init; }
    public int Selected { get; init; }
    public int TeamSize { get; init; }
    public int WorkloadCap { get; init; }
    public int[] Ratios { get; init; } = [];
    public int ActiveInspectors { get; init; }
    public Dictionary<string, int> ByReason { get; init; } = [];
    public List<Employer> Employers { get; init; } = [];
    public List<string> Advice { get; init; } = [];

    public sealed class Employer
    {
        public string Uscc { get; init; } = "";
        public string RiskClass { get; init; } = "";
        public int Candidates { get; init; }
        public Dictionary<string, int> ByReason { get; init; } = [];
        /// <summary>Badges excluded by a reason that names a person (conflict, rotation).</summary>
        public Dictionary<string, string[]> Badges { get; init; } = [];
    }

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static DrawFailureReport Of(DrawOutcome outcome, DrawSnapshot snapshot)
    {
        var p = snapshot.Parameters;
        var byReason = new Dictionary<string, int>();
        foreach (var u in outcome.Unassignable)
            foreach (var (_, reasons) in u.Excluded)
                foreach (var r in reasons)
                    byReason[DrawService.ReasonCode(r)] = byReason.GetValueOrDefault(DrawService.ReasonCode(r)) + 1;
        var active = snapshot.Inspectors.Count(i => i.Active);
        var selected = outcome.SampleSizes.Sum();
        var report = new DrawFailureReport
        {
            Unassignable = outcome.Unassignable.Count, Selected = selected, TeamSize = p.TeamSize, WorkloadCap = p.WorkloadCap,
            Ratios = p.RatiosPercent, ActiveInspectors = active, ByReason = byReason,
            Employers = [.. outcome.Unassignable.Take(EmployersListed).Select(u => new Employer
            {
                Uscc = u.Uscc, RiskClass = u.RiskClass.ToString(), Candidates = u.Candidates,
                ByReason = u.Excluded.SelectMany(x => x.Reasons).GroupBy(DrawService.ReasonCode).ToDictionary(g => g.Key, g => g.Count()),
                Badges = u.Excluded.SelectMany(x => x.Reasons.Where(r => r is Exclusion.Conflict or Exclusion.Rotation).Select(r => (Code: DrawService.ReasonCode(r), x.Badge)))
                    .GroupBy(x => x.Code).ToDictionary(g => g.Key, g => g.Select(x => x.Badge).ToArray()),
            })],
        };
        report.Advice.AddRange(AdviceOf(report));
        return report;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Reads a stored report; a report of the first format (an array, one entry per employer) is summarised the same way.</summary>
    public static DrawFailureReport Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        // The view trims a first-format report to its first employers and its length (InspectionsView.FailureReportSql).
        var legacyCount = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("legacy_count", out var lc) ? lc.GetInt32() : (int?)null;
        if (doc.RootElement.ValueKind == JsonValueKind.Object && legacyCount is null)
            return JsonSerializer.Deserialize<DrawFailureReport>(json, Options)!;
        var items = legacyCount is null ? doc.RootElement : doc.RootElement.GetProperty("items");
        var byReason = new Dictionary<string, int>();
        var employers = new List<Employer>();
        var count = 0;
        var team = 0;
        foreach (var u in items.EnumerateArray())
        {
            count++;
            team = u.GetProperty("team_size").GetInt32();
            var mine = new Dictionary<string, int>();
            var badges = new Dictionary<string, List<string>>();
            foreach (var x in u.GetProperty("excluded").EnumerateArray())
                foreach (var r in x.GetProperty("reasons").EnumerateArray())
                {
                    var code = r.GetString() ?? "";
                    byReason[code] = byReason.GetValueOrDefault(code) + 1;
                    mine[code] = mine.GetValueOrDefault(code) + 1;
                    if (code is "conflict" or "rotation")
                        (badges.TryGetValue(code, out var l) ? l : badges[code] = []).Add(x.GetProperty("badge").GetString() ?? "");
                }
            if (employers.Count < EmployersListed)
                employers.Add(new Employer
                {
                    Uscc = u.GetProperty("uscc").GetString() ?? "", RiskClass = u.GetProperty("risk_class").GetString() ?? "",
                    Candidates = u.GetProperty("candidates").GetInt32(), ByReason = mine, Badges = badges.ToDictionary(b => b.Key, b => b.Value.ToArray()),
                });
        }
        return new DrawFailureReport { Version = 1, Unassignable = legacyCount ?? count, TeamSize = team, ByReason = byReason, Employers = employers };
    }

    /// <summary>
    /// Which setting to change, in Chinese. Capacity first: when the drawn employers need more visits than the
    /// active inspectors may make under the cap, only the ratios, the cap or the team size can fix it.
    /// </summary>
    public static IEnumerable<string> AdviceOf(DrawFailureReport r)
    {
        var need = (long)r.Selected * r.TeamSize;
        var capacity = (long)r.ActiveInspectors * r.WorkloadCap;
        // A report of the first format has no capacity figures: only its reasons speak.
        if (r.Version < 2) { }
        else if (r.ActiveInspectors < r.TeamSize)
            yield return $"在岗执法人员仅 {r.ActiveInspectors} 名,少于每组人数 {r.TeamSize}:请在执法人员名录中启用在岗人员,或减少「每组人数」(最少 2 人)。";
        else if (r.Selected > 0 && need > capacity)
        {
            var minCap = (need + r.ActiveInspectors - 1) / r.ActiveInspectors;
            yield return $"抽中 {r.Selected} 户 × 每组 {r.TeamSize} 人 = {need} 人次,超过在岗执法人员 {r.ActiveInspectors} 名 × 每人上限 {r.WorkloadCap} 户 = {capacity} 人次:"
                + $"请把「每人上限」提高到至少 {minCap} 户(留有余量更好),或降低「抽查比例」(当前 A={RatioAt(r, 0)}%、B={RatioAt(r, 1)}%、C={RatioAt(r, 2)}%、D={RatioAt(r, 3)}%),"
                + (r.TeamSize > 2 ? "或减少「每组人数」(最少 2 人)。" : "或增加在岗执法人员。");
        }
        if ((r.Version < 2 || (r.ActiveInspectors >= r.TeamSize && (r.Selected == 0 || (long)r.Selected * r.TeamSize <= (long)r.ActiveInspectors * r.WorkloadCap)))
            && r.ByReason.GetValueOrDefault("cap") > 0)
            yield return r.Version < 2
                ? "部分执法人员已达「每人上限」:可提高每人上限,或降低抽查比例。"
                : $"部分执法人员已达「每人上限」({r.WorkloadCap} 户):可提高每人上限,或降低抽查比例。";
        if (r.ByReason.GetValueOrDefault("rotation") > 0)
            yield return $"轮换规则排除 {r.ByReason["rotation"]} 人次:可缩短计划的「轮换回溯(月)」。";
        if (r.ByReason.GetValueOrDefault("conflict") > 0)
            yield return $"回避排除 {r.ByReason["conflict"]} 人次(《劳动保障监察条例》第十六条第二款):请核对回避名录,或增加执法人员。";
    }

    private static string RatioAt(DrawFailureReport r, int i) => i < r.Ratios.Length ? r.Ratios[i].ToString(CultureInfo.InvariantCulture) : "?";

    /// <summary>The report as people read it on the draws page: one summary line, the advice, the first employers folded away.</summary>
    public Html Render()
    {
        var reasons = string.Join(";", ByReason.OrderByDescending(x => x.Value).Select(x => $"{DrawService.ReasonZh(x.Key)} {x.Value} 人次"));
        var advice = Advice.Count > 0 ? Advice : [.. AdviceOf(this)];
        return Html.Of($"""
            <div>{Unassignable} 户无法组成每组 {TeamSize} 人的检查组{(Selected > 0 ? $"(共抽中 {Selected} 户,在岗执法人员 {ActiveInspectors} 名,每人上限 {WorkloadCap} 户)" : "")}。排除原因:{(reasons.Length == 0 ? "—" : reasons)}。</div>
            {advice.Select(a => Html.Of($"<div class=\"warn\">{a}</div>"))}
            <details><summary>前 {Employers.Count} 户</summary>
            {Employers.Select(e => Html.Of($"<div>单位 {e.Uscc}({e.RiskClass}类)可用执法人员 {e.Candidates} 名;{string.Join(";", e.ByReason.Select(x => $"{DrawService.ReasonZh(x.Key)} {x.Value}"))}{string.Join("", e.Badges.Select(b => $";{DrawService.ReasonZh(b.Key)}:{string.Join("、", b.Value)}"))}</div>"))}
            </details>
            """);
    }

    /// <summary>The report for the command line: a few lines, the first employers, the advice.</summary>
    public IEnumerable<string> Lines(long planId)
    {
        yield return $"plan {planId}: {Unassignable} employer(s) cannot get a team of {TeamSize}; {Selected} drawn, {ActiveInspectors} active inspectors, cap {WorkloadCap}; "
            + $"exclusions: {string.Join(", ", ByReason.Select(x => $"{x.Key} {x.Value}"))} / {Unassignable} 户无法组成检查组";
        foreach (var e in Employers)
        {
            yield return $"plan {planId}: employer {e.Uscc} (class {e.RiskClass}) cannot get a team: {e.Candidates} eligible inspector(s); {string.Join(", ", e.ByReason.Select(x => $"{x.Key} {x.Value}"))}";
            foreach (var (code, badges) in e.Badges)
                foreach (var b in badges) yield return $"  inspector {b}: {code}";
        }
        if (Unassignable > Employers.Count) yield return $"  … and {Unassignable - Employers.Count} more employer(s) / 另有 {Unassignable - Employers.Count} 户";
        foreach (var a in Advice) yield return "  " + a;
    }
}
