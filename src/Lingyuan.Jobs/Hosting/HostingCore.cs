using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Hosting;

/// <summary>Settings of the job runner as a whole (section <c>Jobs</c>).</summary>
public sealed class JobsOptions
{
    /// <summary>IANA id of the zone every schedule and legal date runs in. "China Standard Time" does not exist on Linux.</summary>
    public string TimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>Hangfire worker threads per worker process.</summary>
    [Range(1, 100)]
    public int WorkerCount { get; set; } = 8;

    /// <summary>How long a stopping worker waits for running jobs before they are cancelled.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional cron overrides per recurring job id (e.g. <c>Jobs:Schedules:outbox-delivery</c>).</summary>
    public Dictionary<string, string> Schedules { get; set; } = [];

    /// <summary>Who is mailed when a run fails, a draw cannot be made, mail fails or waits too long (<c>Jobs:AlertRecipients:0</c>, …).</summary>
    public string[] AlertRecipients { get; set; } = [];

    /// <summary>A pending message older than this is an alert (the outbox backlog).</summary>
    public TimeSpan AlertBacklogAge { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A run still unfinished this long after its start is an alert (its process most likely ended).</summary>
    public TimeSpan RunStuckAfter { get; set; } = TimeSpan.FromHours(6);

    public TimeZoneInfo GetZone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
}

public sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    public ValidateOptionsResult Validate(string? name, JobsOptions o)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(o.TimeZone, out _))
            return ValidateOptionsResult.Fail($"Jobs:TimeZone: '{o.TimeZone}' is not a known time zone, expected an IANA id such as Asia/Shanghai / 未知时区");
        foreach (var r in o.AlertRecipients)
            if (!System.Net.Mail.MailAddress.TryCreate(r, out _))
                return ValidateOptionsResult.Fail($"Jobs:AlertRecipients: '{r}' is not an e-mail address / 告警收件地址无效");
        if (o.AlertBacklogAge <= TimeSpan.Zero)
            return ValidateOptionsResult.Fail("Jobs:AlertBacklogAge must be positive / 积压告警时长必须为正");
        if (o.RunStuckAfter <= TimeSpan.Zero)
            return ValidateOptionsResult.Fail("Jobs:RunStuckAfter must be positive / 运行超时告警时长必须为正");
        foreach (var (id, cron) in o.Schedules)
            if (!CronIsValid(cron))
                return ValidateOptionsResult.Fail($"Jobs:Schedules:{id}: '{cron}' is not a valid cron expression / cron 表达式无效");
        return ValidateOptionsResult.Success;
    }

    private static bool CronIsValid(string cron)
    {
        // Hangfire takes 5-part expressions, or 6 with seconds first.
        var format = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? Cronos.CronFormat.IncludeSeconds : Cronos.CronFormat.Standard;
        try { Cronos.CronExpression.Parse(cron, format); return true; }
        catch (Cronos.CronFormatException) { return false; }
    }
}

public static class HostingCoreExtensions
{
    public static WebApplicationBuilder AddHostingCore(this WebApplicationBuilder builder, AppRole role)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new AppRoleHolder(role));
        builder.Services.AddOptions<JobsOptions>().BindConfiguration("Jobs").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        if (role == AppRole.Cli)
        {
            // Verbs print their results on stdout; log lines go to stderr and only when they matter.
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            // Configuration's LogLevel rules would win over a minimum level; a verb keeps to warnings whatever they say.
            builder.Services.PostConfigure<LoggerFilterOptions>(o => { o.Rules.Clear(); o.MinLevel = LogLevel.Warning; });
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Hangfire", LogLevel.Information);
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);

        var urls = role switch
        {
            AppRole.All or AppRole.Dashboard => builder.Configuration["Dashboard:Urls"] ?? "http://127.0.0.1:5000",
            // A worker listens only for /healthz, on a port of its own choosing unless told one.
            AppRole.Worker => builder.Configuration["Worker:Urls"] ?? "http://127.0.0.1:0",
            _ => null,
        };
        if (urls is not null) builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries));
        return builder;
    }
}

public sealed record AppRoleHolder(AppRole Role);
