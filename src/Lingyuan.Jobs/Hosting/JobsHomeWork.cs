using System.Security.Claims;
using Hangfire;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Hosting;

/// <summary>The operator's runs on the home page: Hangfire jobs that failed (and are not retried any more) and jobs waiting to be retried.</summary>
public sealed class JobsHomeWork(JobStorage storage) : IHomeWork
{
    public Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsAny([Roles.Operator])) return Task.FromResult<IReadOnlyList<HomeWorkItem>>([]);
        var stats = storage.GetMonitoringApi().GetStatistics();
        return Task.FromResult<IReadOnlyList<HomeWorkItem>>(
        [
            new("运行情况", "失败的任务", stats.Failed, "/hangfire/jobs/failed", Urgent: true),
            new("运行情况", "等待重试的任务", stats.Retries ?? 0, "/hangfire/retries"),
        ]);
    }
}
