using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// <c>inspection-draws</c>: draws every plan whose draw date has come and that has no standing draw.
/// Idempotent: the plan lock and the one-draw-per-plan key make a rerun (or a second worker) a no-op.
/// </summary>
public sealed class InspectionDrawsJob(DrawService draws, InspectionPlans plans, ILogger<InspectionDrawsJob> log) : IRecurringJob
{
    public const string Id = "inspection-draws";

    public async Task RunAsync(CancellationToken ct)
    {
        var due = await draws.DuePlansAsync(plans.Today, ct);
        var failed = 0;
        foreach (var planId in due)
        {
            var run = await draws.RunAsync(planId, $"job:{Id}", onlyIfNone: true, ct);
            if (!run.Succeeded && !run.Existing) failed++;
        }
        // A failed draw is recorded with its report and shown on the dashboard; the job itself succeeds
        // (retrying cannot help until the registers change; tomorrow's run tries again).
        if (due.Count > 0) log.LogInformation("{Due} plan(s) due, {Failed} failed", due.Count, failed);
    }
}
