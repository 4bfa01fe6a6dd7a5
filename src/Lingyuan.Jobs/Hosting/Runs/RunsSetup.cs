using Lingyuan.Jobs.Dashboard;

namespace Lingyuan.Jobs.Hosting.Runs;

public static class RunsSetup
{
    public const string PagePath = "runs";

    /// <summary>Run records, alerts and the 运行记录 page (issue #18); called from <c>AddHangfireJobs</c>.</summary>
    public static WebApplicationBuilder AddRuns(this WebApplicationBuilder builder, AppRole role)
    {
        builder.AddMetricsExport(role);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<JobMetrics>();
        builder.Services.AddSingleton<JobRuns>();
        builder.Services.AddSingleton<JobRunner>();
        builder.Services.AddSingleton<IHomeNotices, AlertNotices>();
        builder.Services.AddSingleton<IOverdueWatch, StuckRunsWatch>();
        builder.AddDashboardPage(PagePath, "运行记录", Roles.Admin, Roles.Operator);
        return builder;
    }

    /// <summary>
    /// The <c>overdue-watch</c> job, added after every feature (the table of contents' last line): its catalog
    /// entry comes after the jobs whose work it checks, so running the catalog in order checks finished work.
    /// </summary>
    public static WebApplicationBuilder AddOverdueWatch(this WebApplicationBuilder builder)
    {
        builder.AddRecurringJob<OverdueWatchJob>(OverdueWatchJob.Id, "逾期工作巡查", "*/15 * * * *");
        return builder;
    }
}
