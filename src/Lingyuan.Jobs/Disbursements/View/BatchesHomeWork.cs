using System.Security.Claims;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>Finance's part of the home page: batches to submit, batches another person submitted for approval, months without a batch.</summary>
public sealed class BatchesHomeWork(BatchView view, BatchBuilder builder, BureauClock clock, IOptions<DisbursementOptions> options) : IHomeWork
{
    private const string Area = "待遇发放";

    public async Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsAny([Roles.Finance])) return [];
        var name = user.Identity?.Name ?? "";
        var (drafts, _, byOthers) = await view.WaitingAsync(name, ct);
        var catchUp = await view.CatchUpAsync(clock.CurrentPeriod, options.Value.GetFirstPeriod(), builder.LatestDuePeriod(), ct);
        return
        [
            new(Area, "待核对并提交审批的批次(草稿)", drafts, "/hangfire/batches"),
            new(Area, "待您审批的批次(他人提交)", byOthers, "/hangfire/batches", Urgent: true),
            new(Area, "尚未生成批次的月份", catchUp.Count, "/hangfire/batches#build-month"),
        ];
    }
}
