using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>The daily run of the listing procedure: screening, notices, due decisions, expiries, reminders, the partner digest.</summary>
public sealed class WageArrearsDailyJob(ArrearsProcedure procedure) : IRecurringJob
{
    public async Task RunAsync(CancellationToken ct)
    {
        var r = await procedure.RunDailyAsync(ct);
        Hosting.Runs.RunReport.Done($"筛查 {r.Screened} 件,发出告知书 {r.NoticesSent} 件,作出决定 {r.Decided} 件,期满移出 {r.Expired} 件,提醒 {r.Reminders} 封,通报清单 {r.DigestLines} 条",
            new { screened = r.Screened, notices = r.NoticesSent, decided = r.Decided, expired = r.Expired, reminders = r.Reminders, digest_lines = r.DigestLines });
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
        builder.Services.AddSingleton<PublicList>();
        builder.Services.AddSingleton<ArrearsView>();
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
