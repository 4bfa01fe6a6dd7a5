using Hangfire;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// A finance user builds the batch of a chosen month from the batches page (a catch-up month, or one picked
/// with the month chooser): the endpoint checks the month and enqueues <see cref="BatchBuildOnRequestJob"/>,
/// which runs the Build slice (<see cref="BatchBuilder.BuildAsync"/>) on a worker with the person as the
/// batch's builder. The same rules as <c>batch build PERIOD</c>: a month with a live batch is not built again.
/// </summary>
public static class BuildOnRequest
{
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/build", async (HttpContext ctx, IBackgroundJobClient jobs, BatchBuilder builder, BureauClock clock, CancellationToken ct) =>
        {
            var form = await ctx.Request.ReadFormAsync(ct);
            var text = form["period"].ToString();
            if (!Period.TryParse(text, out var period))
                return Layout.Page(ctx, "期别无效", Html.Of($"""<p class="error" role="alert">期别格式应为 YYYY-MM(例如 2026-11)。</p><p><a href="/hangfire/batches">返回</a></p>"""), StatusCodes.Status400BadRequest);
            if (period > clock.CurrentPeriod)
                return Layout.Page(ctx, "期别无效", Html.Of($"""<p class="error" role="alert">{period.ToString()} 尚未到来,只能生成本月({clock.CurrentPeriod.ToString()})及以前月份的批次。</p><p><a href="/hangfire/batches">返回</a></p>"""), StatusCodes.Status400BadRequest);
            var first = await builder.FirstOwedPeriodAsync(ct);
            if (period < first)
                return Layout.Page(ctx, "期别无效", Html.Of($"""<p class="error" role="alert">{period.ToString()} 早于本系统的第一个发放月份({first.ToString()}):此前月份的待遇由原有方式发放,在此生成会重复发放。如确需从更早的月份开始,请系统管理员调整首个发放月份的设置。</p><p><a href="/hangfire/batches">返回</a></p>"""), StatusCodes.Status400BadRequest);
            var user = BatchesPage.UserName(ctx);
            jobs.Enqueue<BatchBuildOnRequestJob>(j => j.RunAsync(period.ToString(), user, CancellationToken.None));
            return Results.Redirect($"/hangfire/batches?requested={period}", permanent: false, preserveMethod: false);
        });
    }
}

/// <summary>The Build slice for one month, enqueued from the batches page; the person who asked is the batch's builder (audited).</summary>
public sealed class BatchBuildOnRequestJob(BatchBuilder builder)
{
    [AutomaticRetry(Attempts = 0)] // a failed build is shown on the failed-jobs page; the person builds again
    public Task RunAsync(string period, string requestedBy, CancellationToken ct) =>
        Period.TryParse(period, out var p)
            ? builder.BuildAsync(p, requestedBy, ct)
            : throw new UsageException($"PERIOD must be YYYY-MM, got '{period}' / 期别格式应为 YYYY-MM");
}
