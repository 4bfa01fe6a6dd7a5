using System.Globalization;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Calendar;

/// <summary>
/// The bureau's clock: now, today and the current benefit month in <c>Jobs:TimeZone</c>. Every legal date
/// (a deadline, a draw date, a benefit month) is a date in the bureau's zone, not the server's: a job that
/// runs at 00:30 Beijing time runs on the previous UTC day. Tests move the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class BureauClock(TimeProvider time, IOptions<JobsOptions> jobs)
{
    private readonly TimeZoneInfo _zone = jobs.Value.GetZone();

    public TimeZoneInfo Zone => _zone;

    /// <summary>The instant, for timestamps stored in <c>timestamptz</c> columns.</summary>
    public DateTimeOffset UtcNow => time.GetUtcNow();

    /// <summary>The bureau's wall-clock time.</summary>
    public DateTimeOffset Now => TimeZoneInfo.ConvertTime(time.GetUtcNow(), _zone);

    public DateOnly Today => DateOnly.FromDateTime(Now.DateTime);

    /// <summary>The benefit month running today.</summary>
    public Disbursements.Period CurrentPeriod => Disbursements.Period.Of(Today);

    /// <summary>An instant as people at the bureau read it: <c>2026-12-02 10:38 (北京时间)</c>.</summary>
    public string Format(DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, _zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " (北京时间)";

    /// <summary>A stored UTC time (a <c>timestamptz</c> read as <see cref="DateTime"/>) as people at the bureau read it.</summary>
    public string Format(DateTime utc) => Format(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));
}
