using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Disbursements;
using Microsoft.Extensions.DependencyInjection;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>Reads a batch's header as the service does: through its state module, in a unit of work.</summary>
internal static class Batches
{
    public static Task<BatchHeader?> FindAsync(IServiceProvider services, long id) =>
        services.GetRequiredService<Work>().RunAsync("test: read batch", uow => BatchLifecycle.FindAsync(uow, id), default);
}
