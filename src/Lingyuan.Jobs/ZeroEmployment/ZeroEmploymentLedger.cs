using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.ZeroEmployment;

public sealed record LedgerRow(
    string? Street, string? Community, int Identified, int Cleared, int Open, int Overdue, double? MedianDaysToClear, int AwaitingConfirmation);

/// <summary>The Ledger slice: the monthly ledger (台账) per street and community.</summary>
public sealed class ZeroEmploymentLedger(Work work, BureauClock clock)
{
    /// <summary>
    /// The monthly ledger per street and community, with street subtotals and a county total (null street):
    /// identified and cleared in the month; open and overdue at the month's end (today for the running month);
    /// median days from identification to clearing of the cases cleared in the month. Only households a person
    /// confirmed are identified (DOMAIN.md §3); proposals still awaiting confirmation at the month's end are
    /// counted apart. <paramref name="scope"/>: null for all communities, else a caseworker's e-mail
    /// (<see cref="ZeroEmploymentView.InScopeSql"/>).
    /// </summary>
    public Task<IReadOnlyList<LedgerRow>> LedgerAsync(DateOnly month, CancellationToken ct, string? scope = null)
    {
        var today = clock.Today;
        var end = month.AddMonths(1);
        var at = end.AddDays(-1) < today ? end.AddDays(-1) : today;
        return work.RunAsync<IReadOnlyList<LedgerRow>>("zero-employment.ledger",
            async uow => await uow.ListAsync<LedgerRow>(LedgerSql, new { start = month, end, at, scope }), ct);
    }

    public const string LedgerSql = $"""
        SELECT CASE WHEN grouping(street) = 0 THEN street END AS Street,
               CASE WHEN grouping(community) = 0 THEN community END AS Community,
               count(*) FILTER (WHERE identified_on >= @start AND identified_on < @end)::int AS identified,
               count(*) FILTER (WHERE cleared_on >= @start AND cleared_on < @end)::int AS cleared,
               count(*) FILTER (WHERE identified_on <= @at AND coalesce(cleared_on, closed_on, 'infinity') > @at)::int AS open,
               count(*) FILTER (WHERE identified_on <= @at AND coalesce(cleared_on, closed_on, 'infinity') > @at AND deadline < @at)::int AS overdue,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY cleared_on - identified_on)
                   FILTER (WHERE cleared_on >= @start AND cleared_on < @end) AS MedianDaysToClear,
               count(*) FILTER (WHERE proposed_on <= @at AND coalesce(identified_on, rejected_on, closed_on, 'infinity') > @at)::int AS AwaitingConfirmation
        FROM app.zero_employment_cases c
        WHERE ((identified_on < @end AND coalesce(cleared_on, closed_on, 'infinity') >= @start)
               OR (proposed_on <= @at AND coalesce(identified_on, rejected_on, closed_on, 'infinity') > @at))
          AND {ZeroEmploymentView.InScopeSql}
        GROUP BY GROUPING SETS ((street, community), (street), ())
        ORDER BY grouping(street), street, grouping(community), community
        """;
}
