using System.Security.Claims;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>
/// A caseworker's part of the home page: the open zero-employment cases of the communities whose register row
/// names the account's e-mail (an admin sees every community's).
/// </summary>
public sealed class ZeroEmploymentHomeWork(ZeroEmploymentView view) : IHomeWork
{
    private const string Area = "零就业家庭";

    public async Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        var admin = user.IsInRole(Roles.Admin);
        if (!admin && !user.IsInRole(Roles.Caseworker)) return [];
        var scope = admin ? null : await view.ScopeOfAsync(user.Identity?.Name ?? "", ct);
        var (proposed, identified, overdue) = await view.OpenCountsAsync(scope, ct);
        var link = "/hangfire/" + ZeroEmploymentSetup.PagePath;
        return
        [
            new(Area, admin ? "待社区确认的拟认定家庭" : "本社区待确认的拟认定家庭", proposed, link + "/proposals", Urgent: true),
            new(Area, admin ? "帮扶中的家庭" : "本社区帮扶中的家庭", identified, link),
            new(Area, admin ? "已逾期未清零的家庭" : "本社区已逾期未清零的家庭", overdue, link, Urgent: true),
        ];
    }
}
