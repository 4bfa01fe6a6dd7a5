using System.Security.Claims;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>Open alerts on the home page of the people who watch the jobs (admin, operator) until resolved.</summary>
public sealed class AlertNotices(JobRuns runs, BureauClock clock) : IHomeNotices
{
    public async Task<IReadOnlyList<HomeNotice>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsAny([Roles.Admin, Roles.Operator])) return [];
        var open = await runs.OpenAlertsAsync(ct);
        return open.Select(a => new HomeNotice(NoticeLevel.Danger,
            $"{a.TextZh}(自 {clock.Format(Utc(a.OpenedAt))} 起)", "/hangfire/" + RunsSetup.PagePath)).ToList();
    }

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
