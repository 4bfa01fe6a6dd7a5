using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>
/// The scan reads precomputed bits (migration 0070) and four birth-date bounds; the definition says it per
/// person with <c>app.is_working_age</c>. Over 3,000 synthetic households, on dates that move members across
/// the minimum age and the reformed retirement ages, under both default baselines and with rural households
/// in and out, both must find exactly the same households.
/// </summary>
public class ZeroEmploymentScanFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    public static TheoryData<string, int, bool> Runs() => new()
    {
        { "2026-11-28", 50, false },
        { "2026-11-28", 55, true },
        { "2025-01-01", 50, false },
        { "2028-02-29", 55, false },
        { "2031-07-15", 50, true },
        { "2040-03-01", 55, false },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task The_scan_finds_exactly_the_households_of_the_plain_definition(string date, int defaultBaseline, bool includeRural)
    {
        var asOf = DateOnly.Parse(date);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync(ZeroEmploymentData.SyntheticSql(), transaction: tx);
        await conn.ExecuteAsync("SELECT pg_temp.ze_synthetic(3000, 'scan.test')", transaction: tx);

        var count = await ZeroEmploymentCheck.ScanAsync(conn, tx, asOf, includeRural, defaultBaseline, minimumAge: 16, CancellationToken.None);
        var scanned = (await conn.QueryAsync<string>("SELECT household_no FROM ze_scan WHERE qualifies ORDER BY 1", transaction: tx)).ToList();

        var plain = (await conn.QueryAsync<string>($"""
            SELECT household_no FROM app.persons
            GROUP BY household_no
            HAVING (bool_or(hukou = 'urban') OR @includeRural) AND NOT bool_or(business_income)
               AND bool_or(able_to_work AND wants_work AND employment NOT IN {ZeroEmploymentCheck.EmployedKinds}
                           AND app.is_working_age(id_number, coalesce(female_baseline, @defaultBaseline), @asOf, 16))
               AND NOT bool_or(employment IN {ZeroEmploymentCheck.EmployedKinds}
                               AND app.is_working_age(id_number, coalesce(female_baseline, @defaultBaseline), @asOf, 16))
            ORDER BY 1
            """, new { asOf, defaultBaseline, includeRural }, tx)).ToList();

        Assert.True(plain.Count > 100, $"the synthetic households should include zero-employment ones, found {plain.Count}");
        Assert.Equal(plain.Count, count);
        Assert.Equal(plain, scanned);
        await tx.RollbackAsync();
    }
}
