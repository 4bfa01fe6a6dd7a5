using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Registers.Import;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Calendar;

public static class CalendarSetup
{
    public static WebApplicationBuilder AddCalendar(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CalendarStore>();
        builder.Services.AddSingleton<BureauClock>();
        builder.Services.AddOptions<WorkingAgeOptions>().BindConfiguration("WorkingAge")
            .Validate(o => o.DefaultFemaleBaseline is 50 or 55, "WorkingAge:DefaultFemaleBaseline must be 50 or 55 / 女性原退休年龄基准应为 50 或 55")
            .Validate(o => o.MinimumAge is >= 14 and <= 18, "WorkingAge:MinimumAge must be between 14 and 18 / 劳动年龄下限应在 14 到 18 之间")
            .ValidateOnStart();
        builder.Services.AddOptions<HolidayOptions>().BindConfiguration(HolidayOptions.Section)
            .Validate(o => o.MinWorkingDays is >= 200 and <= 262 && o.MaxWorkingDays is >= 200 and <= 262 && o.MinWorkingDays <= o.MaxWorkingDays,
                "Holidays:MinWorkingDays and MaxWorkingDays must be between 200 and 262, min ≤ max / 全年工作日合理范围应在 200 到 262 之间且下限不大于上限")
            .Validate(o => o.NextYearNoticeMonth is >= 1 and <= 12, "Holidays:NextYearNoticeMonth must be a month, 1-12 / 提醒月份应为 1 到 12")
            .ValidateOnStart();
        // The holidays register, with its whole-year check (INTERFACES.md: import holidays FILE; the upload page).
        builder.Services.AddImportKind(sp => HolidayCalendar.Kind(sp.GetRequiredService<IOptions<HolidayOptions>>()));
        builder.Services.AddSingleton<HolidayCalendar>();
        builder.Services.AddSingleton<IHomeNotices, HolidayCalendarNotices>();
        builder.AddDashboardPage(HolidaysPage.Path, "节假日安排", HolidaysPage.ViewRoles);
        return builder;
    }

    public static WebApplication MapCalendar(this WebApplication app)
    {
        HolidaysPage.Map(app);
        return app;
    }
}
