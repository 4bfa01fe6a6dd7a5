using System.Security.Claims;
using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Notifications;

/// <summary>The operator's mail on the home page: messages that failed and wait for a person.</summary>
public sealed class OutboxHomeWork(OutboxView view) : IHomeWork
{
    public async Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct) =>
        user.IsAny([Roles.Operator])
            ? [new("运行情况", "发送失败的邮件", await view.FailedCountAsync(ct), $"/hangfire/{OutboxPage.Path}?state=failed", Urgent: true)]
            : [];
}
