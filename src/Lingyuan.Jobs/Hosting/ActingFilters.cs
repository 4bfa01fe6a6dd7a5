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

/// <summary>
/// Names the person who pressed 立即执行 on a recurring job (Hangfire's trigger runs in their request): the run
/// record shows the run as 手动触发 by them instead of as the schedule's. A job the schedule or a feature
/// creates (no signed-in request, or no recurring job) carries nothing.
/// </summary>
public sealed class TriggeredByFilter(IHttpContextAccessor http) : Hangfire.Client.IClientFilter
{
    public const string Parameter = "TriggeredBy";

    public void OnCreating(Hangfire.Client.CreatingContext context)
    {
        if (http.HttpContext?.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name }
            && context.Parameters.ContainsKey("RecurringJobId"))
            context.SetJobParameter(Parameter, name);
    }

    public void OnCreated(Hangfire.Client.CreatedContext context) { }
}
