using Hangfire.Server;
using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.Hosting;

/// <summary>
/// Every Hangfire job runs as <c>job:RECURRING_ID</c> (or <c>job:TYPE</c> when enqueued by hand), with the
/// job id in the log scope and the audit trail (see <see cref="Acting"/>). Applied once, to every job,
/// so a new job cannot forget it.
/// </summary>
public sealed class JobActingFilter(ILoggerFactory logs) : IServerFilter
{
    private const string ScopeKey = "lingyuan.acting";
    private readonly ILogger _log = logs.CreateLogger("Lingyuan.Jobs.Job");

    public void OnPerforming(PerformingContext context)
    {
        var recurringId = context.GetJobParameter<string>("RecurringJobId", allowStale: true);
        var name = recurringId ?? context.BackgroundJob.Job?.Type.Name ?? "unknown";
        var acting = Acting.Begin(new Acting($"job:{name}", Acting.Job, context.BackgroundJob.Id));
        var scope = _log.BeginScope(new Dictionary<string, object?> { ["JobId"] = context.BackgroundJob.Id, ["Job"] = name });
        context.Items[ScopeKey] = new Scopes(acting, scope);
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(ScopeKey, out var s) && s is Scopes scopes) scopes.Dispose();
    }

    private sealed record Scopes(IDisposable Acting, IDisposable? Log) : IDisposable
    {
        public void Dispose()
        {
            Log?.Dispose();
            Acting.Dispose();
        }
    }
}
