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
        return builder;
    }
}
