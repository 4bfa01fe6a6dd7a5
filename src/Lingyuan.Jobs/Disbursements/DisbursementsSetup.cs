using System.Globalization;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>Settings of the monthly disbursement (section <c>Disbursements</c>; DOMAIN.md §2).</summary>
public sealed class DisbursementOptions
{
    /// <summary>Day of the month (1-28) on which the month's batch is built, at <see cref="BuildTime"/> Asia/Shanghai. Local fund-management practice.</summary>
    public int BuildDay { get; set; } = 5;

    /// <summary>Time of day of the build on <see cref="BuildDay"/> (default 02:00, outside office hours).</summary>
    public TimeSpan BuildTime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>A due period still without a batch this long after its build time is an alert (issue #18).</summary>
    public TimeSpan BuildLateAfter { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// <c>YYYY-MM</c>: the earliest period the recurring job catches up. Unset: from the earliest period
    /// that has any batch, or only the latest due period on an empty database.
    /// </summary>
    public string? FirstPeriod { get; set; }

    /// <summary>A line whose amount differs from last month's by more than this percentage is held for review (DOMAIN.md §2, default 20).</summary>
    public decimal AmountChangeAlertPercent { get; set; } = 20m;

    /// <summary>待遇资格认证 is valid this many months (once per 12 months, 人社部发〔2024〕6号 practice).</summary>
    public int EligibilityValidityMonths { get; set; } = 12;

    /// <summary>Extra reviewer addresses told when a batch awaits review, besides the e-mails of finance accounts.</summary>
    public string[] ReviewerEmails { get; set; } = [];

    public Period? GetFirstPeriod() => Period.TryParse(FirstPeriod, out var p) ? p : null;

    public string Cron => string.Create(CultureInfo.InvariantCulture, $"{BuildTime.Minutes} {BuildTime.Hours} {BuildDay} * *");
}

public sealed class DisbursementOptionsValidator : IValidateOptions<DisbursementOptions>
{
    public ValidateOptionsResult Validate(string? name, DisbursementOptions o)
    {
        var errors = new List<string>();
        if (o.BuildDay is < 1 or > 28)
            errors.Add($"Disbursements:BuildDay must be 1-28, got {o.BuildDay} / 发放批次生成日应为 1 到 28");
        if (o.BuildTime < TimeSpan.Zero || o.BuildTime >= TimeSpan.FromDays(1) || o.BuildTime.Seconds != 0)
            errors.Add($"Disbursements:BuildTime must be a time of day in whole minutes (HH:mm), got {o.BuildTime} / 生成时间无效");
        if (o.BuildLateAfter <= TimeSpan.Zero)
            errors.Add($"Disbursements:BuildLateAfter must be positive, got {o.BuildLateAfter} / 逾期告警时长必须为正");
        if (!string.IsNullOrEmpty(o.FirstPeriod) && o.GetFirstPeriod() is null)
            errors.Add($"Disbursements:FirstPeriod must be YYYY-MM, got '{o.FirstPeriod}' / 起始期别格式应为 YYYY-MM");
        if (o.AmountChangeAlertPercent is < 0 or > 10000)
            errors.Add($"Disbursements:AmountChangeAlertPercent must be 0-10000, got {o.AmountChangeAlertPercent} / 金额变动预警比例无效");
        if (o.EligibilityValidityMonths is < 1 or > 120)
            errors.Add($"Disbursements:EligibilityValidityMonths must be 1-120, got {o.EligibilityValidityMonths} / 资格认证有效月数无效");
        foreach (var e in o.ReviewerEmails)
            if (!e.Contains('@', StringComparison.Ordinal))
                errors.Add($"Disbursements:ReviewerEmails: '{e}' is not an e-mail address / 邮箱地址无效");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

public static class DisbursementsSetup
{
    public static WebApplicationBuilder AddDisbursements(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DisbursementOptions>().BindConfiguration("Disbursements").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DisbursementOptions>, DisbursementOptionsValidator>();
        builder.Services.AddSingleton<BatchBuilder>();
        builder.Services.AddSingleton<BatchReview>();
        builder.Services.AddSingleton<HoldRelease>();
        builder.Services.AddSingleton<BankFile>();
        builder.Services.AddSingleton<Reconciler>();
        builder.Services.AddSingleton<BatchView>();
        builder.Services.AddTransient<BatchBuildOnRequestJob>();
        builder.Services.AddSingleton<IHomeWork, BatchesHomeWork>();
        builder.Services.AddSingleton<Hosting.Runs.IOverdueWatch, BatchLateWatch>();
        builder.Services.AddCommand<BatchBuildCommand>();
        builder.Services.AddCommand<BatchSubmitCommand>();
        builder.Services.AddCommand<BatchApproveCommand>();
        builder.Services.AddCommand<BatchRejectCommand>();
        builder.Services.AddCommand<BatchReleaseHoldCommand>();
        builder.Services.AddCommand<BatchExportCommand>();
        builder.Services.AddCommand<BatchReconcileCommand>();

        // The schedule follows Disbursements:BuildDay/BuildTime (Jobs:Schedules:disbursement-build still overrides it).
        var o = builder.Configuration.GetSection("Disbursements").Get<DisbursementOptions>() ?? new DisbursementOptions();
        var cron = o.BuildDay is >= 1 and <= 28 ? o.Cron : new DisbursementOptions().Cron;
        builder.AddRecurringJob<DisbursementBuildJob>("disbursement-build", "生成待遇发放批次", cron);
        builder.AddDashboardPage("batches", "待遇发放", Roles.Finance);
        return builder;
    }

    public static WebApplication MapDisbursements(this WebApplication app)
    {
        BatchesPage.Map(app);
        return app;
    }
}
