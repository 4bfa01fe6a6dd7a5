using CsCheck;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Calendar;

public class WorkingCalendarFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private Task<WorkingCalendar> Shipped() => db.Services.GetRequiredService<CalendarStore>().LoadAsync();

    [Fact]
    public async Task The_2026_State_Council_schedule_ships_with_the_project()
    {
        var cal = await Shipped();
        Assert.False(cal.IsWorkingDay(new DateOnly(2026, 1, 1)));
        Assert.True(cal.IsWorkingDay(new DateOnly(2026, 1, 4)));   // Sunday, 调休上班
        Assert.True(cal.IsWorkingDay(new DateOnly(2026, 2, 14)));  // Saturday, 调休上班
        Assert.False(cal.IsWorkingDay(new DateOnly(2026, 2, 16))); // Monday, Spring Festival
        Assert.True(cal.IsWorkingDay(new DateOnly(2026, 2, 28)));
        Assert.False(cal.IsWorkingDay(new DateOnly(2026, 10, 7)));
        Assert.True(cal.IsWorkingDay(new DateOnly(2026, 10, 10)));
        Assert.False(cal.IsWorkingDay(new DateOnly(2026, 3, 7)));  // an ordinary Saturday
    }

    [Fact]
    public async Task A_statement_period_across_the_Spring_Festival_ends_on_February_26()
    {
        var cal = await Shipped();
        // Notice sent Thursday 2026-02-12; the day of sending is not counted; Feb 14 works, Feb 15-23 do not.
        Assert.Equal(new DueDate(new DateOnly(2026, 2, 26), false), cal.AddWorkingDays(new DateOnly(2026, 2, 12), 5));
        Assert.Equal(5, cal.WorkingDaysBetween(new DateOnly(2026, 2, 12), new DateOnly(2026, 2, 26)));
    }

    [Fact]
    public async Task A_deadline_beyond_the_loaded_years_is_computed_on_weekends_and_flagged()
    {
        var cal = await Shipped();
        var due = cal.AddWorkingDays(new DateOnly(2026, 12, 28), 5);
        Assert.Equal(new DateOnly(2027, 1, 4), due.Date); // Dec 29, 30, 31, Jan 1 (no 2027 data: a plain Friday), Jan 4
        Assert.True(due.CalendarMissing);
        Assert.False(cal.AddWorkingDays(new DateOnly(2026, 12, 1), 5).CalendarMissing);
    }

    [Fact]
    public async Task Adding_n_working_days_then_counting_back_gives_n()
    {
        var cal = await Shipped();
        Gen.Select(Gen.Int[0, 800], Gen.Int[-60, 120]).Sample((offset, n) =>
        {
            var start = new DateOnly(2025, 6, 1).AddDays(offset);
            var due = cal.AddWorkingDays(start, n);
            if (n >= 0)
            {
                Assert.Equal(n, cal.WorkingDaysBetween(start, due.Date));
            }
            else
            {
                // Counting back |n| working days passes |n| working days before the start, the start excluded.
                var startCounts = cal.IsWorkingDay(start) ? 1 : 0;
                Assert.Equal(-n - 1 + startCounts, cal.WorkingDaysBetween(due.Date, start));
            }
            if (n != 0) Assert.True(cal.IsWorkingDay(due.Date));
        }, iter: 2000);
    }
}
