using System.Net.Mail;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>Settings of the zero-employment household work (section <c>ZeroEmployment</c>, DOMAIN.md §3).</summary>
public sealed class ZeroEmploymentOptions
{
    /// <summary>
    /// Count rural-hukou households too. Off by default: the rule (就业促进法 art. 56 and the local
    /// notices of Fuzhou, Tangshan, Ningbo) targets urban households (城镇零就业家庭).
    /// </summary>
    public bool IncludeRural { get; set; }

    /// <summary>
    /// Calendar days from identification by which a member must be in work (动态清零). Local practice
    /// ranges from 10 working days to one quarter; 30 calendar days is the bureau's default.
    /// </summary>
    public int ClearWithinDays { get; set; } = 30;

    /// <summary>
    /// The least number of members of working age, able and willing to work (and neither full-time students
    /// nor drawing a pension), that makes a household without employed members a zero-employment household.
    /// DOMAIN.md §3, after 就业促进法 art. 56 ("at least one"); some Liaoning practice requires 2.
    /// </summary>
    public int MinJobSeekers { get; set; } = 1;

    /// <summary>
    /// Calendar days after which the caseworker is reminded of a proposal still unconfirmed, and again every
    /// as many days while it stays unconfirmed (bureau practice; identification is the caseworker's act:
    /// 就业服务与就业管理规定 arts. 40-43).
    /// </summary>
    public int ConfirmRemindDays { get; set; } = 3;

    /// <summary>Calendar days before the deadline at which the caseworker is reminded.</summary>
    public int RemindDaysBefore { get; set; } = 7;

    /// <summary>
    /// The bureau's employment service (就业服务机构): receives each overdue case, the weekly digest of
    /// overdue cases, and the mail of households whose community has no caseworker in the register.
    /// </summary>
    public string EscalationEmail { get; set; } = "jiuye@lingyuan-hrss.local";
}

public sealed class ZeroEmploymentOptionsValidator : IValidateOptions<ZeroEmploymentOptions>
{
    public ValidateOptionsResult Validate(string? name, ZeroEmploymentOptions o)
    {
        var problems = new List<string>();
        if (o.ClearWithinDays is < 1 or > 366)
            problems.Add($"ZeroEmployment:ClearWithinDays must be between 1 and 366 calendar days, got {o.ClearWithinDays} / 清零期限应在 1 到 366 天之间");
        if (o.RemindDaysBefore < 0 || o.RemindDaysBefore >= o.ClearWithinDays)
            problems.Add($"ZeroEmployment:RemindDaysBefore must be at least 0 and less than ClearWithinDays ({o.ClearWithinDays}), got {o.RemindDaysBefore} / 提醒天数应小于清零期限");
        if (o.MinJobSeekers is < 1 or > 10)
            problems.Add($"ZeroEmployment:MinJobSeekers must be between 1 and 10, got {o.MinJobSeekers} / 最少求职人数应在 1 到 10 之间");
        if (o.ConfirmRemindDays is < 1 or > 90)
            problems.Add($"ZeroEmployment:ConfirmRemindDays must be between 1 and 90 days, got {o.ConfirmRemindDays} / 待确认提醒间隔应在 1 到 90 天之间");
        if (!MailAddress.TryCreate(o.EscalationEmail, out _))
            problems.Add($"ZeroEmployment:EscalationEmail: '{o.EscalationEmail}' is not an e-mail address / 就业服务机构邮箱无效");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

public static class ZeroEmploymentSetup
{
    public const string JobId = "zero-employment-check";
    public const string PagePath = "zero-employment";

    public static WebApplicationBuilder AddZeroEmployment(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ZeroEmploymentOptions>().BindConfiguration("ZeroEmployment").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ZeroEmploymentOptions>, ZeroEmploymentOptionsValidator>();
        builder.Services.AddSingleton<ZeroEmploymentCheck>();
        builder.Services.AddSingleton<ZeroEmploymentCases>();
        builder.Services.AddSingleton<ZeroEmploymentLedger>();
        builder.Services.AddSingleton<ZeroEmploymentView>();
        builder.Services.AddSingleton<IHomeWork, ZeroEmploymentHomeWork>();
        builder.Services.AddSingleton<IHomeNotices, ZeroEmploymentNotices>();
        // Daily at 03:00 in Jobs:TimeZone (Asia/Shanghai), when the registers' nightly imports are done.
        builder.AddRecurringJob<ZeroEmploymentCheckJob>(JobId, "零就业家庭排查", "0 3 * * *");
        builder.Services.AddCommand<ZeroEmploymentCheckCommand>();
        builder.Services.AddCommand<ZeroEmploymentCloseCommand>();
        builder.Services.AddCommand<ZeroEmploymentDecideCommand>();
        builder.AddDashboardPage(PagePath, "零就业家庭", Roles.Operator, Roles.Caseworker);
        return builder;
    }

    public static WebApplication MapZeroEmployment(this WebApplication app)
    {
        ZeroEmploymentPages.Map(app);
        return app;
    }
}

/// <summary>The recurring job: thin, calls the check for today's date in the bureau's zone.</summary>
public sealed class ZeroEmploymentCheckJob(ZeroEmploymentCheck check) : IRecurringJob
{
    public async Task RunAsync(CancellationToken ct)
    {
        var r = await check.RunAsync(check.Today(), ct);
        Hosting.Runs.RunReport.Done($"符合条件 {r.Qualifying} 户:新立案 {r.Opened} 户,已就业销案 {r.Cleared} 户,不再符合条件结案 {r.ClosedNoLongerQualifying} 户,提醒 {r.Reminded} 件,逾期 {r.Overdue} 件,邮件 {r.MessagesQueued} 封",
            new { qualifying = r.Qualifying, opened = r.Opened, cleared = r.Cleared, closed = r.ClosedNoLongerQualifying, reminded = r.Reminded, overdue = r.Overdue, mails = r.MessagesQueued });
    }
}
