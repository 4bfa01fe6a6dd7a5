using System.Globalization;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// The draw cell of a plan not yet drawn on <c>/hangfire/draws</c>: the commitment's publication and the earliest
/// draw day, the frozen snapshot and the public value it waits for, the freeze button or the draw form (the
/// public value and its source), and the edit and withdraw actions.
/// </summary>
internal static class PlanDrawCell
{
    public static Html Render(HttpContext ctx, Plan p, DrawTiming t, InspectionsView view)
    {
        var user = ctx.User;
        var lead = Html.Of($"<span class=\"earliest\">承诺值公开满 {t.LeadWorkingDays} 个工作日:{Day(t.EarliestByLead)} 起</span>");
        Html snapshot;
        if (t.Frozen is not { } f)
            snapshot = PlanLifecycle.Table.Offers(PlanVerb.Freeze, p.State, user)
                ? Html.Of($"<br>名录快照未冻结(摇号日前一日自动冻结)<form class=\"inline\" method=\"post\" action=\"{DrawsPage.Base}/plans/{p.Id}/freeze\">{Layout.AntiforgeryField(ctx)}<button type=\"submit\">立即冻结快照</button></form>")
                : Html.Of($"<br>名录快照未冻结");
        else
        {
            var waits = Html.Of($"<br>快照 <code>{Convert.ToHexStringLower(f.SnapshotHash)[..16]}…</code> 于 {view.Format(f.FrozenAt)} 冻结;公开随机数:{f.PublicSource},{Day(f.PublicValueDate)} 开奖;{Day(t.EarliestDraw!.Value)} 起可摇号");
            snapshot = PlanLifecycle.Table.Offers(PlanVerb.Draw, p.State, user)
                ? Html.Of($"""
                    {waits}
                    <form class="draw-form" method="post" action="{DrawsPage.Base}/plans/{p.Id}/run">{Layout.AntiforgeryField(ctx)}
                      <label>公开随机数 <input name="publicValue" required maxlength="200" placeholder="按开奖公告顺序,以空格分隔"></label>
                      <label>来源 <input name="publicSource" required maxlength="200" value="{f.PublicSource}"></label>
                      <button type="submit">摇号</button></form>
                    """)
                : waits;
        }
        var edit = PlanLifecycle.Table.Offers(PlanVerb.Edit, p.State, user)
            ? Html.Of($" <a class=\"edit-plan\" href=\"{DrawsPage.Base}/plans/{p.Id}/edit\">修改</a>") : Html.Empty;
        var withdraw = PlanLifecycle.Table.Offers(PlanVerb.Withdraw, p.State, user)
            ? Html.Of($"""
                <form class="inline" method="post" action="{DrawsPage.Base}/plans/{p.Id}/withdraw">{Layout.AntiforgeryField(ctx)}
                  <input name="reason" required maxlength="{TextRules.ReasonMaxLength}" placeholder="撤回理由"> <button type="submit">撤回</button></form>
                """) : Html.Empty;
        return Html.Of($"{PlanLifecycle.Table.Label(p.State)};{lead}{snapshot}{edit}{withdraw}");
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary><c>GET /hangfire/draws/plans/{id}/edit</c>: the plan's fields, prefilled, and the reason for the change.</summary>
internal static class PlanEditPage
{
    public static async Task<IResult> Show(HttpContext ctx, long planId, InspectionsView view, CancellationToken ct)
    {
        var p = await view.PlanAsync(planId, ct);
        if (p is null) return Layout.Page(ctx, "没有该抽查计划", Html.Of($"<p><a href=\"{DrawsPage.Base}\">返回</a></p>"), 404);
        if (!PlanLifecycle.Table.Allows(PlanVerb.Edit, p.State))
            return Layout.Page(ctx, $"计划 {planId} 不能修改", Html.Of($"<p class=\"error\" role=\"alert\">计划当前状态为「{PlanLifecycle.Table.Label(p.State)}」,只有未摇号的计划可以修改。<a href=\"{DrawsPage.Base}\">返回</a></p>"), 409);
        // Operators may look at everything under the draws page; they are told, not refused, here (their POST gets 403).
        if (!DrawsPage.CanChange(ctx))
            return Layout.Page(ctx, $"计划 {planId}", Html.Of($"<p>只读账号不能修改计划。<a href=\"{DrawsPage.Base}\">返回</a></p>"));
        var body = Html.Of($"""
            <p><a href="{DrawsPage.Base}">返回</a></p>
            <p>修改后原计划 {p.Id} 撤回(连同其承诺值留存并公开),新计划重新生成随机种子并立即公开新的承诺值;摇号须在新承诺值公开满规定工作日之后。</p>
            <form method="post" action="{DrawsPage.Base}/plans/{p.Id}/edit">
              {Layout.AntiforgeryField(ctx)}
              <p><label>计划名称 <input name="name" required maxlength="{TextRules.NameMaxLength}" value="{p.Name}"></label>
                 <label>期间 <input name="period" required value="{p.Period}"></label>
                 <label>摇号日期 <input name="drawDate" type="date" required value="{Day(p.DrawDate)}"></label></p>
              <p><label>抽查比例 <input name="ratios" value="{p.RatiosText}"></label>
                 <label>每组人数 <input name="teamSize" type="number" min="2" value="{p.TeamSize}"></label>
                 <label>每人上限(户) <input name="cap" type="number" min="1" value="{p.WorkloadCap}"></label>
                 <label>轮换回溯(月) <input name="rotationMonths" type="number" min="0" value="{p.RotationLookbackMonths}"></label></p>
              <p><label>街道(逗号分隔,空为全部) <input name="streets" value="{string.Join(",", p.Streets)}"></label>
                 <label>行业(逗号分隔,空为全部) <input name="industries" value="{string.Join(",", p.Industries)}"></label></p>
              <p><label>修改理由 <input name="reason" required maxlength="{TextRules.ReasonMaxLength}"></label></p>
              <button type="submit">保存修改并重新生成承诺值</button>
            </form>
            """);
        return Layout.Page(ctx, $"修改计划 {p.Id}", body);
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
