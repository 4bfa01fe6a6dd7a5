using System.Globalization;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Hosting.Runs;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// "A batch not built by its day" (issue #18): a period the build job owes (<see cref="BatchBuilder.MissingDuePeriodsAsync"/>)
/// that still has no live batch <c>Disbursements:BuildLateAfter</c> after its build time — the worker was down on
/// the day, the run failed, or a rejected batch was never rebuilt. Over as soon as the period has a batch.
/// </summary>
public sealed class BatchLateWatch(BatchBuilder builder, BureauClock clock, IOptions<DisbursementOptions> options) : IOverdueWatch
{
    public async Task<IReadOnlyList<RunProblem>> CheckAsync(CancellationToken ct)
    {
        var o = options.Value;
        var problems = new List<RunProblem>();
        foreach (var p in await builder.MissingDuePeriodsAsync(ct, afterRunningBuild: true))
        {
            var due = p.FirstDay.AddDays(o.BuildDay - 1).ToDateTime(TimeOnly.FromTimeSpan(o.BuildTime));
            if (clock.Now.DateTime < due + o.BuildLateAfter) continue;
            problems.Add(new RunProblem($"batch-late:{p}",
                $"{p} 期待遇发放批次应于 {due.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} (北京时间)生成,至今没有批次。" +
                "请在“运行记录”页查看“生成待遇发放批次”的运行结果;财务人员可在“待遇发放”页手动生成该月批次。"));
        }
        return problems;
    }
}
