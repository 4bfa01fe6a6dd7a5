using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Hosting.Runs;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.WageArrears;
using Lingyuan.Jobs.ZeroEmployment;

return await CommandLine.RunAsync(args);

/// <summary>The table of contents: every feature adds its services, verbs, jobs and pages here.</summary>
public partial class Program
{
    public static void Configure(WebApplicationBuilder builder, AppRole role)
    {
        builder.AddHostingCore(role);
        builder.AddDatabase();
        builder.AddCalendar();
        builder.AddHangfireJobs(role);
        builder.AddDashboard();
        builder.AddRegisters();
        builder.AddNotifications();
        builder.AddInspections();
        builder.AddWageArrears();
        builder.AddDisbursements();
        builder.AddZeroEmployment();
        builder.AddOverdueWatch();
    }

    public static void Map(WebApplication app)
    {
        app.MapMetrics(); // first: a Metrics:Urls address answers the scrape and nothing else
        app.UseDashboard();
        app.MapHealth();
        app.MapCalendar();
        app.MapRegisters();
        app.MapRuns();
        app.MapNotifications();
        app.MapInspections();
        app.MapWageArrears();
        app.MapDisbursements();
        app.MapZeroEmployment();
    }
}
