using System.Globalization;
using System.Security.Claims;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Registers.Import;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Calendar;

/// <summary>Settings of the holiday calendar (section <c>Holidays</c>).</summary>
public sealed class HolidayOptions
{
    public const string Section = "Holidays";

    /// <summary>
    /// The fewest working days a loaded year may have. China's years since the 2025 change of the holiday rules
    /// (国务院令第793号, 13 days of public holiday) have about 248–250; 2026 has 248. A year below or above the band is a
    /// calendar loaded half or with a typo (a holiday entered as a working day), refused before it moves any deadline.
    /// </summary>
    public int MinWorkingDays { get; set; } = 245;

    /// <summary>The most working days a loaded year may have (a year with no holidays at all has 260–262).</summary>
    public int MaxWorkingDays { get; set; } = 252;

    /// <summary>From this month on the home page warns that next year's calendar is missing (the State Council publishes it in October–November).</summary>
    public int NextYearNoticeMonth { get; set; } = 11;
}

/// <summary>One year of the calendar as the holidays page shows it.</summary>
public sealed record CalendarYear(int Year, long Holidays, long Workdays, long WorkingDays);

/// <summary>
/// The holiday calendar as a register: the <c>holidays</c> import kind with its whole-year check, what the holidays
/// page reads, and the home-page notice when next year is missing.
/// </summary>
public sealed class HolidayCalendar(Work work, BureauClock clock, IOptions<HolidayOptions> options)
{
    /// <summary>Working days per year over every date of it: the file's rows (import_stage) over the loaded ones over Monday–Friday.</summary>
    private const string WorkingDaysOfStagedYears =
        """
        SELECT y AS "Year", count(*) FILTER (WHERE coalesce(s.kind, h.kind,
                   CASE WHEN extract(isodow FROM g.d) < 6 THEN 'workday' ELSE 'holiday' END) = 'workday') AS "WorkingDays"
        FROM (SELECT DISTINCT extract(year FROM date)::int AS y FROM import_stage) years
        CROSS JOIN LATERAL generate_series(make_date(y, 1, 1), make_date(y, 12, 31), interval '1 day') AS g(d)
        LEFT JOIN import_stage s ON s.date = g.d::date
        LEFT JOIN app.holidays h ON h.date = g.d::date
        GROUP BY y ORDER BY y
        """;

    /// <summary>The <c>holidays</c> kind (INTERFACES.md) with the check that every year it touches ends with a plausible number of working days.</summary>
    public static ImportKind Kind(IOptions<HolidayOptions> options) => RegisterKinds.Holidays with
    {
        Check = async ctx =>
        {
            var o = options.Value;
            var years = await ctx.Connection.QueryAsync<(int Year, long WorkingDays)>(new CommandDefinition(
                WorkingDaysOfStagedYears, transaction: ctx.Transaction, cancellationToken: ctx.Cancellation));
            return years.Where(y => y.WorkingDays < o.MinWorkingDays || y.WorkingDays > o.MaxWorkingDays)
                .Select(y => string.Create(CultureInfo.InvariantCulture,
                    $"{y.Year}: working days: the year would have {y.WorkingDays} working days, expected between {o.MinWorkingDays} and {o.MaxWorkingDays} / " +
                    $"{y.Year}年将有{y.WorkingDays}个工作日,不在合理范围({o.MinWorkingDays}–{o.MaxWorkingDays}个)内,请核对放假和调休上班日期是否完整、类型是否填反"))
                .ToList();
        },
    };

    /// <summary>Every loaded year, newest first: its holidays, its weekend working days (调休上班), its working days.</summary>
    public Task<List<CalendarYear>> YearsAsync(CancellationToken ct) =>
        work.RunAsync("holidays.view", uow => uow.ListAsync<CalendarYear>(
            """
            SELECT y AS "Year",
                   count(h.date) FILTER (WHERE h.kind = 'holiday') AS "Holidays",
                   count(h.date) FILTER (WHERE h.kind = 'workday') AS "Workdays",
                   count(*) FILTER (WHERE coalesce(h.kind, CASE WHEN extract(isodow FROM g.d) < 6 THEN 'workday' ELSE 'holiday' END) = 'workday') AS "WorkingDays"
            FROM (SELECT DISTINCT extract(year FROM date)::int AS y FROM app.holidays) years
            CROSS JOIN LATERAL generate_series(make_date(y, 1, 1), make_date(y, 12, 31), interval '1 day') AS g(d)
            LEFT JOIN app.holidays h ON h.date = g.d::date
            GROUP BY y ORDER BY y DESC
            """), ct);

    /// <summary>The days of one year that differ from Monday–Friday, in date order.</summary>
    public Task<List<(DateTime Date, string Kind)>> DaysAsync(int year, CancellationToken ct) =>
        work.RunAsync("holidays.view", uow => uow.ListAsync<(DateTime Date, string Kind)>(
            "SELECT date, kind FROM app.holidays WHERE date >= make_date(@year, 1, 1) AND date < make_date(@year + 1, 1, 1) ORDER BY date",
            new { year }), ct);

    /// <summary>The years the calendar should hold and does not: this year, and next year once <see cref="HolidayOptions.NextYearNoticeMonth"/> has come.</summary>
    public async Task<IReadOnlyList<int>> MissingYearsAsync(CancellationToken ct)
    {
        var today = clock.Today;
        var wanted = today.Month >= options.Value.NextYearNoticeMonth ? new[] { today.Year, today.Year + 1 } : [today.Year];
        var loaded = await work.RunAsync("holidays.view", uow => uow.ListAsync<int>(
            "SELECT y FROM unnest(@wanted) AS y WHERE EXISTS (SELECT 1 FROM app.holidays WHERE date >= make_date(y, 1, 1) AND date < make_date(y + 1, 1, 1))",
            new { wanted }), ct);
        return wanted.Except(loaded).ToList();
    }
}

/// <summary>The home-page banner: from 1 November (by default), next year's calendar is missing; any time, this year's.</summary>
public sealed class HolidayCalendarNotices(HolidayCalendar calendar, BureauClock clock) : IHomeNotices
{
    public async Task<IReadOnlyList<HomeNotice>> ForAsync(ClaimsPrincipal user, CancellationToken ct)
    {
        var missing = await calendar.MissingYearsAsync(ct);
        var who = user.IsAny(HolidaysPage.EditRoles) ? "请上传或录入" : "请通知管理员、劳动监察或财务人员上传";
        return missing.Select(y => y == clock.Today.Year
            ? new HomeNotice(NoticeLevel.Danger, $"本年度({y}年)节假日安排尚未导入,期限按周一至周五推算,可能有误。{who}。", "/" + "hangfire/" + HolidaysPage.Path)
            : new HomeNotice(NoticeLevel.Warning, $"{y}年节假日安排尚未导入(国务院办公厅通知发布后即可导入),跨年的期限将按周一至周五推算。{who}。", "/" + "hangfire/" + HolidaysPage.Path))
            .ToList();
    }
}
