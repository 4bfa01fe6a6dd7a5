using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>The monthly ledger (台账) over cases written straight into the table.</summary>
public class ZeroEmploymentLedgerFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task The_ledger_counts_identified_cleared_open_overdue_and_the_median_days_to_clear_per_street_and_community()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO app.zero_employment_cases (household_no, street, community, state, proposed_on, identified_on, deadline, reason, overdue_on, cleared_on, cleared_by, closed_on, close_reason, closed_by, closed_at)
            VALUES
              ('L1', 'A街道', 'a1社区', 'cleared',    '2026-03-02', '2026-03-02', '2026-04-01', '{"members":[]}', NULL, '2026-03-12', '[]', NULL, NULL, NULL, NULL),
              ('L2', 'A街道', 'a1社区', 'cleared',    '2026-03-05', '2026-03-05', '2026-04-04', '{"members":[]}', NULL, '2026-03-25', '[]', NULL, NULL, NULL, NULL),
              ('L3', 'A街道', 'a1社区', 'overdue',    '2026-02-10', '2026-02-10', '2026-03-12', '{"members":[]}', '2026-03-13', NULL, NULL, NULL, NULL, NULL, NULL),
              ('L4', 'A街道', 'a1社区', 'identified', '2026-03-20', '2026-03-20', '2026-04-19', '{"members":[]}', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
              ('L5', 'A街道', 'a2社区', 'cleared',    '2026-02-01', '2026-02-01', '2026-03-03', '{"members":[]}', NULL, '2026-02-20', '[]', NULL, NULL, NULL, NULL),
              ('L6', 'A街道', 'a2社区', 'closed',     '2026-03-01', '2026-03-01', '2026-03-31', '{"members":[]}', NULL, NULL, NULL, '2026-03-15', 'moved', 'admin', now()),
              ('L7', 'B街道', 'b1社区', 'cleared',    '2026-03-10', '2026-03-10', '2026-04-09', '{"members":[]}', NULL, '2026-04-05', '[]', NULL, NULL, NULL, NULL)
            """);
        // DOMAIN.md §3 (identification is a person's act): a proposal still awaiting confirmation and a rejected one
        // are never counted as identified or open; the proposal is counted as awaiting confirmation.
        await conn.ExecuteAsync("""
            INSERT INTO app.zero_employment_cases (household_no, street, community, state, proposed_on, reason, rejected_on, decided_by, decided_at, decision_note)
            VALUES
              ('L8', 'A街道', 'a1社区', 'proposed', '2026-03-25', '{"members":[]}', NULL, NULL, NULL, NULL),
              ('L9', 'A街道', 'a1社区', 'rejected', '2026-03-05', '{"members":[]}', '2026-03-06', 'cw1', now(), '已在外地务工')
            """);
        var cases = db.Services.GetRequiredService<ZeroEmploymentLedger>();

        var march = (await cases.LedgerAsync(new DateOnly(2026, 3, 1), CancellationToken.None))
            .ToDictionary(r => $"{r.Street ?? "*"}/{r.Community ?? "*"}", r => (r.Identified, r.Cleared, r.Open, r.Overdue, r.MedianDaysToClear));
        Assert.Equal((3, 2, 2, 1, 15.0), march["A街道/a1社区"]);
        Assert.Equal((1, 0, 0, 0, (double?)null), march["A街道/a2社区"]);
        Assert.Equal((4, 2, 2, 1, 15.0), march["A街道/*"]);
        Assert.Equal((1, 0, 1, 0, (double?)null), march["B街道/b1社区"]);
        Assert.Equal((5, 2, 3, 1, 15.0), march["*/*"]);
        var marchA1 = (await cases.LedgerAsync(new DateOnly(2026, 3, 1), CancellationToken.None)).Single(r => r.Community == "a1社区");
        Assert.Equal(1, marchA1.AwaitingConfirmation);

        var april = (await cases.LedgerAsync(new DateOnly(2026, 4, 1), CancellationToken.None)).Single(r => r.Street is null);
        Assert.Equal((0, 1, 2, 2, 26.0), (april.Identified, april.Cleared, april.Open, april.Overdue, april.MedianDaysToClear));
    }
}
