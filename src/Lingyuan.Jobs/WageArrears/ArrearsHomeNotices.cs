using System.Security.Claims;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>The arrears work waiting for inspection staff, on their home page (one small query).</summary>
public sealed class ArrearsHomeNotices(Work work, BureauClock clock) : IHomeNotices
{
    public async Task<IReadOnlyList<HomeNotice>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsAny([Roles.Inspection])) return [];
        var today = clock.Today;
        var (open, overdue, proposed, removals) = await work.RunAsync("wage-arrears.home", uow => uow.SingleAsync<(long, long, long, long)>("""
            SELECT count(*) FILTER (WHERE state = ANY(@open)),
                   count(*) FILTER (WHERE state = ANY(@open) AND decision_due_on < @today),
                   count(*) FILTER (WHERE state = 'decision_proposed'),
                   (SELECT count(*) FROM app.arrears_removal_applications WHERE status = 'pending')
            FROM app.arrears_procedures
            """, new { open = ProcedureLifecycle.Undecided, today }), ct);
        var notices = new List<HomeNotice>();
        if (overdue > 0) notices.Add(new(NoticeLevel.Warning, $"欠薪失信名单:{overdue} 件案件已超过决定期限,不会自动列入,请处理", "/hangfire/arrears"));
        if (proposed > 0) notices.Add(new(NoticeLevel.Warning, $"欠薪失信名单:{proposed} 件拟作决定待部门负责人审批", "/hangfire/arrears"));
        if (removals > 0) notices.Add(new(NoticeLevel.Warning, $"欠薪失信名单:{removals} 件提前移出申请待决定", "/hangfire/arrears"));
        if (open > 0) notices.Add(new(NoticeLevel.Info, $"欠薪失信名单:{open} 件案件在办理中(待发告知书、送达、陈述申辩或决定)", "/hangfire/arrears"));
        return notices;
    }
}
