using Dapper;
using Npgsql;

namespace Lingyuan.Jobs.Calendar;

/// <summary>A date a deadline falls on; <see cref="CalendarMissing"/> when it was counted through a year whose calendar is not loaded (weekends only).</summary>
public readonly record struct DueDate(DateOnly Date, bool CalendarMissing);

/// <summary>
/// Working days (工作日): Monday–Friday, minus public holidays, plus the weekend days the State
/// Council declares working days (调休上班). The exceptions come from <c>app.holidays</c>, which the
/// bureau maintains (<c>import holidays</c>); 2026 ships with the project. DOMAIN.md §0.
/// </summary>
public sealed class WorkingCalendar
{
    private readonly IReadOnlyDictionary<DateOnly, bool> _exceptions;
    private readonly HashSet<int> _loadedYears;

    /// <param name="exceptions">date → true when it is a working day (调休), false when a holiday.</param>
    public WorkingCalendar(IReadOnlyDictionary<DateOnly, bool> exceptions)
    {
        _exceptions = exceptions;
        _loadedYears = exceptions.Keys.Select(d => d.Year).ToHashSet();
    }

    public IReadOnlyCollection<int> LoadedYears => _loadedYears;

    public bool Covers(DateOnly date) => _loadedYears.Contains(date.Year);

    public bool IsWorkingDay(DateOnly date) =>
        _exceptions.TryGetValue(date, out var working) ? working : date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    /// <summary>
    /// The <paramref name="n"/>th working day after <paramref name="start"/> (the start day itself is not
    /// counted, as for a statement period "within 5 working days of the notice"); negative n counts back.
    /// </summary>
    public DueDate AddWorkingDays(DateOnly start, int n)
    {
        var step = n >= 0 ? 1 : -1;
        var remaining = Math.Abs(n);
        var date = start;
        var missing = false;
        while (remaining > 0)
        {
            date = date.AddDays(step);
            missing |= !Covers(date);
            if (IsWorkingDay(date)) remaining--;
        }
        return new DueDate(date, missing);
    }

    /// <summary>Working days d with from &lt; d ≤ to (negative when to is before from).</summary>
    public int WorkingDaysBetween(DateOnly from, DateOnly to)
    {
        if (to < from) return -WorkingDaysBetween(to, from);
        var count = 0;
        for (var d = from.AddDays(1); d <= to; d = d.AddDays(1))
            if (IsWorkingDay(d)) count++;
        return count;
    }
}

/// <summary>Loads the calendar from <c>app.holidays</c>.</summary>
public sealed class CalendarStore(NpgsqlDataSource db)
{
    public async Task<WorkingCalendar> LoadAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(DateTime Date, string Kind)>(new CommandDefinition(
            "SELECT date, kind FROM app.holidays", cancellationToken: ct));
        return new WorkingCalendar(rows.ToDictionary(r => DateOnly.FromDateTime(r.Date), r => r.Kind == "workday"));
    }
}
