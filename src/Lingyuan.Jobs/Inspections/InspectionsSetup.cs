using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Inspections;

public static class InspectionsSetup
{
    public static WebApplicationBuilder AddInspections(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<InspectionOptions>().BindConfiguration("Inspections").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InspectionOptions>, InspectionOptionsValidator>();
        builder.Services.AddSingleton<InspectionPlans>();
        builder.Services.AddSingleton<DrawService>();
        builder.Services.AddSingleton<InspectionResults>();
        builder.Services.AddSingleton<InspectionDeadlines>();
        builder.Services.AddSingleton<InspectionCases>();
        builder.Services.AddCommand<InspectionCaseCommand>();
        builder.Services.AddSingleton<InspectionsView>();
        builder.Services.AddSingleton<IHomeWork, InspectionsHomeWork>();
        builder.Services.AddSingleton<PlanSecrets>();
        builder.Services.AddSingleton<SnapshotFreeze>();
        builder.Services.AddSingleton<DrawProofs>();
        builder.Services.Configure<Microsoft.AspNetCore.RateLimiting.RateLimiterOptions>(o =>
            o.AddPolicy<string, PublicDrawsRateLimit>(PublicDrawsRateLimit.Name));
        builder.Services.AddCommand<PlanAddCommand>();
        builder.Services.AddCommand<PlanEditCommand>();
        builder.Services.AddCommand<PlanWithdrawCommand>();
        builder.Services.AddCommand<DrawFreezeCommand>();
        builder.Services.AddCommand<DrawRunCommand>();
        builder.Services.AddCommand<DrawExportProofCommand>();
        builder.Services.AddCommand<DrawVerifyCommand>();
        builder.Services.AddCommand<DrawCancelCommand>();
        builder.Services.AddCommand<InspectionResultsImportCommand>();
        builder.AddRecurringJob<InspectionDrawsJob>(InspectionDrawsJob.Id, "双随机抽查摇号", "0 9 * * *");
        builder.AddRecurringJob<InspectionDeadlinesJob>(InspectionDeadlinesJob.Id, "双随机抽查期限提醒", "0 8 * * *");
        builder.AddDashboardPage("draws", "双随机抽查", Roles.Inspection, Roles.Operator);
        return builder;
    }

    public static WebApplication MapInspections(this WebApplication app)
    {
        DrawsPage.Map(app);
        DrawsPublicPage.Map(app);
        return app;
    }
}
