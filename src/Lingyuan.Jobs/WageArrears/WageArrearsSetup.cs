using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>The daily run of the listing procedure: screening and deadlines, staff reminders, the partner digest. It sends nothing to employers and decides nothing.</summary>
public sealed class WageArrearsDailyJob(ArrearsProcedure procedure) : IRecurringJob
{
    public async Task RunAsync(CancellationToken ct)
    {
        var r = await procedure.RunDailyAsync(ct);
        // The job only screens and reminds: notices, decisions and removals are people's acts (issue 16).
        Hosting.Runs.RunReport.Done($"筛查 {r.Screened} 件,提醒 {r.Reminders} 封,通报清单 {r.DigestLines} 条(告知、决定与移出由工作人员办理)",
            new { screened = r.Screened, reminders = r.Reminders, digest_lines = r.DigestLines });
    }
}

public static class WageArrearsSetup
{
    public const string JobId = "wage-arrears-daily";

    public static WebApplicationBuilder AddWageArrears(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WageArrearsOptions>().BindConfiguration("WageArrears").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WageArrearsOptions>, WageArrearsOptionsValidator>();
        builder.Services.AddSingleton<ArrearsProcedure>();
        builder.Services.AddSingleton<ArrearsActs>();
        builder.Services.AddCommand<ArrearsNoticeCommand>();
        builder.Services.AddCommand<ArrearsServiceCommand>();
        builder.Services.AddCommand<ArrearsStatementCommand>();
        builder.Services.AddCommand<ArrearsCheckCommand>();
        builder.Services.AddCommand<ArrearsProposeCommand>();
        builder.Services.AddCommand<ArrearsApproveCommand>();
        builder.Services.AddCommand<ArrearsExtendCommand>();
        builder.Services.AddCommand<ArrearsReturnCommand>();
        builder.Services.AddCommand<ArrearsExpireCommand>();
        builder.Services.AddCommand<ArrearsRemovalApplyCommand>();
        builder.Services.AddCommand<ArrearsRemovalDecideCommand>();
        builder.Services.AddCommand<ArrearsRevokeRemovalCommand>();
        builder.Services.AddSingleton<IHomeNotices, ArrearsHomeNotices>();
        builder.Services.AddSingleton<PublicList>();
        builder.Services.AddSingleton<ArrearsView>();
        builder.Services.AddSingleton<IHomeWork, ArrearsHomeWork>();
        builder.Services.AddSingleton<IssuedDocuments>();
        builder.AddRecurringJob<WageArrearsDailyJob>(JobId, "欠薪失信名单每日处理", "0 7 * * *");
        builder.AddDashboardPage("arrears", "欠薪失信名单", Roles.Inspection, Roles.Operator);
        return builder;
    }

    public static WebApplication MapWageArrears(this WebApplication app)
    {
        ArrearsPages.Map(app);
        return app;
    }
}
