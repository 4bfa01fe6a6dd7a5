using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>
/// The scan reads precomputed bits (migration 0070) and four birth-date bounds; the definition says it per
/// person with <c>app.is_working_age</c>. Over 3,000 synthetic households, on dates that move members across
/// the minimum age and the reformed retirement ages, under both default baselines and with rural households
/// in and out, both must find exactly the same households — with the planner's statistics (the pass runs as
/// two halves split at the median household number) and without them (one half is empty).
/// </summary>
public class ZeroEmploymentScanFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    public static TheoryData<string, int, bool, bool> Runs() => new()
    {
        { "2026-11-28", 50, false, true },
        { "2026-11-28", 55, true, true },
        { "2025-01-01", 50, false, true },
        { "2028-02-29", 55, false, true },
        { "2031-07-15", 50, true, true },
        { "2040-03-01", 55, false, true },
        { "2026-11-28", 50, false, false },
        { "2031-07-15", 55, true, false },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public async Task The_scan_finds_exactly_the_households_of_the_plain_definition(string date, int defaultBaseline, bool includeRural, bool statistics)
    {
        var asOf = DateOnly.Parse(date);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync(ZeroEmploymentData.SyntheticSql(), transaction: tx);
        await conn.ExecuteAsync("SELECT pg_temp.ze_synthetic(3000, 'scan.test')", transaction: tx); // ends with ANALYZE
        // Entitlements for a quarter of the persons: pensions (in payment, ended, not yet started) and a benefit that
        // is no pension, so that the pensions the scan takes off are held to the plain definition too.
        await conn.ExecuteAsync("""
            INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period, end_period)
            SELECT id_number, (ARRAY['enterprise_pension', 'resident_pension', 'institution_pension', 'unemployment'])[1 + h / 4 % 4], 100000,
                   date_trunc('month', date '2020-01-01' + (h / 7 % 7000))::date,
                   CASE WHEN h % 3 = 0 THEN date_trunc('month', date '2020-01-01' + (h / 7 % 7000) + 400)::date END
            FROM (SELECT id_number, abs(hashtext(id_number)) AS h FROM app.persons) p
            WHERE h % 4 = 0
            """, transaction: tx);
        if (!statistics)
            await conn.ExecuteAsync("DELETE FROM pg_statistic WHERE starelid = 'app.persons'::regclass", transaction: tx); // rolled back below
        Assert.Equal(statistics, await ZeroEmploymentCheck.MedianHouseholdAsync(ZeroEmploymentData.Work(conn, tx)) is not null);

        var count = await ZeroEmploymentCheck.ScanAsync(ZeroEmploymentData.Work(conn, tx), asOf, includeRural, defaultBaseline, minimumAge: 16);
        var scanned = (await conn.QueryAsync<string>("SELECT household_no FROM ze_scan WHERE qualifies ORDER BY 1", transaction: tx)).ToList();

        var plain = (await conn.QueryAsync<string>($"""
            SELECT household_no FROM app.persons p
            GROUP BY household_no
            HAVING (bool_or(hukou = 'urban') OR @includeRural) AND NOT bool_or(business_income)
               AND bool_or(able_to_work AND wants_work AND employment NOT IN {ZeroEmploymentCheck.EmployedKinds}
                           AND employment NOT IN ('student', 'retired')
                           AND NOT EXISTS (SELECT 1 FROM app.entitlements e WHERE e.id_number = p.id_number
                                           AND e.benefit IN {ZeroEmploymentCheck.PensionBenefits} AND e.start_period <= @asOf
                                           AND (e.end_period IS NULL OR e.end_period >= date_trunc('month', @asOf::date)))
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
