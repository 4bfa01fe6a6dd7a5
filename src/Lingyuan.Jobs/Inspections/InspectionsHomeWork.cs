using System.Security.Claims;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Inspections;

/// <summary>Inspection's part of the home page: draws due this week, inspection deadlines due this week, and overdue ones.</summary>
public sealed class InspectionsHomeWork(InspectionsView view, BureauClock clock) : IHomeWork
{
    private const string Area = "双随机抽查";

    public async Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsAny([Roles.Inspection])) return [];
        var (drawsDue, deadlinesDue, overdue) = await view.DueAsync(clock.Today.AddDays(7), ct);
        return
        [
            new(Area, "7 日内到期、尚未摇号的抽查计划", drawsDue, "/hangfire/draws"),
            new(Area, "7 日内到期的检查或公示期限", deadlinesDue, "/hangfire/draws"),
            new(Area, "已逾期的检查或公示", overdue, "/hangfire/draws", Urgent: true),
        ];
    }
}
