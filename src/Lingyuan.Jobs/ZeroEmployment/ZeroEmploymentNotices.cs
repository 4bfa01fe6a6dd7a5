using System.Security.Claims;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>
/// The home-page line of work waiting (DOMAIN.md §3): the proposals awaiting a caseworker's confirmation, for a
/// caseworker those of their communities, for an admin all of them. One count query.
/// </summary>
public sealed class ZeroEmploymentNotices(Work work) : IHomeNotices
{
    public async Task<IReadOnlyList<HomeNotice>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsInRole(Roles.Caseworker) && !user.IsInRole(Roles.Admin)) return [];
        var name = user.Identity?.Name ?? "";
        var count = await work.RunAsync("zero-employment.notices", async uow =>
        {
            var scope = user.IsInRole(Roles.Caseworker) ? await ZeroEmploymentView.ScopeOfAsync(uow, name) : null;
            return await uow.ScalarAsync<int>(
                $"SELECT count(*)::int FROM app.zero_employment_cases c WHERE c.state = @proposed AND {ZeroEmploymentView.InScopeSql}",
                new { proposed = CaseLifecycle.Table.Db(CaseState.Proposed), scope });
        }, ct);
        return count == 0 ? []
            : [new HomeNotice(NoticeLevel.Warning, $"{count} 户疑似零就业家庭待确认(请入户核实后确认认定或不予认定)", "/hangfire/" + ZeroEmploymentSetup.PagePath + "/proposals")];
    }
}
