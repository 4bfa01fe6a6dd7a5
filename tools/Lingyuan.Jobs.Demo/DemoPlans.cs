using System.Globalization;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Demo;

/// <summary>
/// Demo inspection plans, dated relative to today (issue 20: a plan is drawn after its commitment's lead time,
/// on a snapshot frozen before the public value): one whose commitment was published a week ago, dated today
/// and frozen yesterday morning — an inspection user can draw it today by entering a public value — and one
/// for next month, published now. Made through the service's own slices with the clock set back (the only
/// thing shifted), so the records are what the service itself would have written on those days.
/// </summary>
public sealed class DemoPlans(IServiceProvider services)
{
    public async Task<IReadOnlyList<string>> SeedAsync(CancellationToken ct)
    {
        var today = services.GetRequiredService<BureauClock>().Today;
        var street = await services.GetRequiredService<Work>().RunAsync("demo.plans", uow =>
            uow.SingleAsync<string>("SELECT street FROM app.employers GROUP BY street ORDER BY count(*) DESC, street LIMIT 1"), ct);
        var lines = new List<string>();
        using var acting = Acting.Begin(new Acting("demo", Acting.Cli));

        // A week ago at 10:00 Beijing time the plan is scheduled; yesterday at 10:00 its snapshot is frozen.
        var weekAgo = At(today.AddDays(-7));
        var due = await Plans(weekAgo).CreateAsync(new PlanInput($"{street}双随机抽查(演示,今日可摇号)", $"{today:yyyy-MM}", today, Streets: [street]), ct);
        var frozen = await Freeze(At(today.AddDays(-1))).FreezeAsync(due.Id, ct);
        lines.Add($"plan {due.Id}: draw date {today:yyyy-MM-dd}, commitment {due.CommitmentHex}, snapshot {Convert.ToHexStringLower(frozen.SnapshotHash)}, public value of {frozen.PublicValueDate:yyyy-MM-dd}");

        var next = today.AddMonths(1);
        var later = await services.GetRequiredService<InspectionPlans>().CreateAsync(
            new PlanInput($"{next:yyyy年M月}双随机抽查(演示)", $"{next:yyyy-MM}", next, Streets: [street]), ct);
        lines.Add($"plan {later.Id}: draw date {next:yyyy-MM-dd}, commitment {later.CommitmentHex}");
        return lines;
    }

    private DateTimeOffset At(DateOnly day) => new(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.FromHours(8));

    private BureauClock Clock(DateTimeOffset at) =>
        new(new ShiftedTime(at - DateTimeOffset.UtcNow), services.GetRequiredService<IOptions<JobsOptions>>());

    private InspectionPlans Plans(DateTimeOffset at) => new(
        services.GetRequiredService<Work>(), services.GetRequiredService<IOptions<InspectionOptions>>(), Clock(at), services.GetRequiredService<PlanSecrets>());

    private SnapshotFreeze Freeze(DateTimeOffset at) => new(
        services.GetRequiredService<Work>(), services.GetRequiredService<IOptions<InspectionOptions>>(), Clock(at));

    /// <summary>The system clock moved by a fixed offset (for records dated in the past).</summary>
    private sealed class ShiftedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
