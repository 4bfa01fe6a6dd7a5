using System.Security.Claims;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>Inspection's arrears work on the home page: candidates waiting for a notice, notices waiting for a decision, decisions due this week.</summary>
public sealed class ArrearsHomeWork(ArrearsView view, BureauClock clock) : IHomeWork
{
    private const string Area = "欠薪失信名单";

    public async Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsAny([Roles.Inspection])) return [];
        var (candidates, awaiting, due) = await view.WaitingAsync(clock.Today.AddDays(7), ct);
        return
        [
            new(Area, "待发出告知书的拟列入案件", candidates, "/hangfire/arrears"),
            new(Area, "已送达告知书或已拟决定、待作出决定的案件", awaiting, "/hangfire/arrears"),
            new(Area, "7 日内(含已过)须作出决定的案件", due, "/hangfire/arrears", Urgent: true),
        ];
    }
}
