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
        InspectionPlans.Map(g);
        DrawService.Map(g);
        InspectionResults.Map(g);
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
        IndexAsync(ctx, view, ct, message: saved is { } id ? $"已保存计划 {id},其种子承诺值见下方计划表,请在摇号前公开。" : null);

    internal static async Task<IResult> IndexAsync(HttpContext ctx, InspectionsView view, CancellationToken ct, string? message = null, string? error = null)
    {
        var (planList, drawList, failures, overdue, missingCalendar) = await view.OverviewAsync(ct);
        var canChange = CanChange(ctx);
        var clock = ctx.RequestServices.GetRequiredService<Calendar.BureauClock>();
        var standing = drawList.Where(d => !d.Cancelled).ToDictionary(d => d.PlanId, d => d.Id);

        var planRows = planList.Select(p => Html.Of($"""
            <tr><td>{p.Id}</td><td>{p.Name}</td><td>{p.Period}</td><td>{(p.Streets.Length == 0 ? "全部" : string.Join("、", p.Streets))}</td>
            <td>{(p.Industries.Length == 0 ? "全部" : string.Join("、", p.Industries))}</td><td>{p.RatiosText}</td><td class="num">{p.TeamSize}</td>
            <td class="num">{p.WorkloadCap}</td><td class="num">{p.RotationLookbackMonths}</td><td>{p.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>
            <td><code>{p.CommitmentHex}</code></td>
            <td>{(p.State == PlanState.Drawn && standing.TryGetValue(p.Id, out var did)
                ? Html.Of($"<a href=\"{Base}/{did}\">摇号 {did}</a>")
                : PlanLifecycle.Table.Offers(PlanVerb.Draw, p.State, ctx.User)
                    ? Html.Of($"<form class=\"inline\" method=\"post\" action=\"{Base}/plans/{p.Id}/run\">{Layout.AntiforgeryField(ctx)}<button type=\"submit\">立即摇号</button></form>")
                    : Html.Of($"{PlanLifecycle.Table.Label(p.State)}"))}</td></tr>
            """));
        var drawRows = drawList.Select(d => Html.Of($"""
            <tr><td><a href="{Base}/{d.Id}">{d.Id}</a></td><td>{d.PlanId}</td><td class="num">{d.Attempt}</td><td>{d.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td>
            <td class="num">{d.EmployerCount}</td><td>{d.Operator}</td><td>{clock.Format(d.FinishedAt)}</td>
            <td>{StateCell(d, "ok")}</td></tr>
            """));
        var failureRows = failures.Select(f => Html.Of($"""
            <tr><td>{f.Id}</td><td>{f.PlanId}</td><td>{clock.Format(f.FailedAt)}</td><td>{f.Operator}</td><td>{FailureText(f.Report)}</td></tr>
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
            <p>依据国办发〔2015〕58号、国发〔2019〕5号及《劳动保障监察条例》第十六、十七条。承诺值为随机种子的 SHA-256,须在摇号前公开;摇号后公开种子,任何人可按公开算法复核。</p>
            <h2>抽查计划</h2>
            <table><tr><th>编号</th><th>名称</th><th>期间</th><th>街道</th><th>行业</th><th>比例(%)</th><th>每组</th><th>上限</th><th>轮换(月)</th><th>摇号日期</th><th>种子承诺值(SHA-256)</th><th>摇号</th></tr>{planRows}</table>
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
            <h2>摇号记录</h2>
            <table><tr><th>摇号编号</th><th>计划</th><th>次序</th><th>摇号日期</th><th>抽中户数</th><th>操作人</th><th>完成时间</th><th>状态</th></tr>{drawRows}</table>
            <h2>摇号失败记录</h2>
            <table><tr><th>编号</th><th>计划</th><th>时间</th><th>操作人</th><th>原因</th></tr>{failureRows}</table>
            <h2>逾期未办结</h2>
            <table><tr><th>摇号</th><th>单位名称</th><th>统一社会信用代码</th><th>期限</th><th>到期日</th></tr>{overdueRows}</table>
            """);
        return Layout.Page(ctx, "双随机抽查", body, error is null ? 200 : 400);
    }

    private static Html FailureText(string reportJson)
    {
        using var doc = JsonDocument.Parse(reportJson);
        var parts = doc.RootElement.EnumerateArray().Select(u =>
        {
            var excluded = u.GetProperty("excluded").EnumerateArray().Select(x =>
                $"{x.GetProperty("badge").GetString()}:{string.Join("+", x.GetProperty("reasons").EnumerateArray().Select(r => DrawService.ReasonZh(r.GetString() ?? "")))}");
            return Html.Of($"<div>单位 {u.GetProperty("uscc").GetString()}({u.GetProperty("risk_class").GetString()}类)可用执法人员 {u.GetProperty("candidates").GetInt32()} 名,少于每组 {u.GetProperty("team_size").GetInt32()} 名;排除:{string.Join(";", excluded)}</div>");
        });
        return Html.Join(parts);
    }

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
            <td>{r.CompletedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? ""}</td><td>{InspectionResults.FindingZh(r.Finding)}</td></tr>
            """));
        var body = Html.Of($"""
            <p><a href="{Base}">返回</a> · <a href="{Base}/{drawId}/public">公示页(可打印)</a> · <a href="{Base}/{drawId}/public.csv">公示 CSV</a> · <a href="{Base}/{drawId}/snapshot.txt">名录快照</a></p>
            <table>
            <tr><th>计划</th><td>{d.PlanId}(第 {d.Attempt} 次)</td></tr>
            <tr><th>算法</th><td>{d.Algorithm}</td></tr>
            <tr><th>摇号日期</th><td>{d.DrawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}</td></tr>
            <tr><th>快照 SHA-256</th><td><code>{Convert.ToHexStringLower(d.SnapshotHash)}</code></td></tr>
            <tr><th>公开的种子秘密</th><td><code>{Convert.ToHexStringLower(secret!)}</code></td></tr>
            <tr><th>种子</th><td><code>{Convert.ToHexStringLower(d.Seed)}</code></td></tr>
            <tr><th>结果 SHA-256</th><td><code>{Convert.ToHexStringLower(d.ResultHash)}</code></td></tr>
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
            <table><tr><th>序号</th><th>类别</th><th>单位名称</th><th>统一社会信用代码</th><th>检查组</th><th>完成日期</th><th>结果</th></tr>{resultRows}</table>
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
