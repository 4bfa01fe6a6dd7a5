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
        var (identified, overdue) = await view.OpenCountsAsync(admin ? null : user.Identity?.Name ?? "", ct);
        // The cases page is the operator's and admin's; a caseworker's own page comes with their confirmations.
        var link = admin ? "/hangfire/" + ZeroEmploymentSetup.PagePath : null;
        return
        [
            new(Area, admin ? "帮扶中的家庭" : "本社区帮扶中的家庭", identified, link),
            new(Area, admin ? "已逾期未清零的家庭" : "本社区已逾期未清零的家庭", overdue, link, Urgent: true),
        ];
    }
}
