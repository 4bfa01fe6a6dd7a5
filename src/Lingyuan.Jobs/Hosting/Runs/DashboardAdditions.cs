using Hangfire;
using Hangfire.Dashboard;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// What the project adds to Hangfire's own pages (process-wide, so once per process): the script that
/// puts them in Chinese and Beijing time (<c>Dashboard/hangfire-zh.js</c>), and the open alerts as a
/// metric on Hangfire's home page.
/// </summary>
public static class DashboardAdditions
{
    private static int _added;

    public static IGlobalConfiguration Once(IGlobalConfiguration config)
    {
        if (Interlocked.Exchange(ref _added, 1) == 1) return config;
        config.UseDashboardJavaScript(typeof(DashboardAdditions).Assembly, "Lingyuan.Jobs.Dashboard.hangfire-zh.js");
        config.UseDashboardMetric(OpenAlerts);
        return config;
    }

    /// <summary>未解除告警 on Hangfire's home page: red while any alert is open (details on 运行记录).</summary>
    public static readonly DashboardMetric OpenAlerts = new("lingyuan:open-alerts", "未解除告警", page =>
    {
        var runs = page.Context.GetHttpContext().RequestServices.GetRequiredService<JobRuns>();
        var count = runs.OpenAlertsAsync(CancellationToken.None).GetAwaiter().GetResult().Count;
        return new Metric(count)
        {
            Style = count > 0 ? MetricStyle.Danger : MetricStyle.Success,
            Highlighted = count > 0,
        };
    });
}
