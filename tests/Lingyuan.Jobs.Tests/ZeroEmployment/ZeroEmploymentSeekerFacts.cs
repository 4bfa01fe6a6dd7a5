using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>
/// Who is a job-seeker (DOMAIN.md §3, corrected for issue #17): full-time students and people drawing a pension
/// never are, whatever the willingness flags say; a household qualifies with at least ZeroEmployment:MinJobSeekers
/// of them. Each row names its source; each household is scanned alone as of 2026-06-15.
/// </summary>
public class ZeroEmploymentSeekerFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly DateOnly AsOf = new(2026, 6, 15);

    private static DateOnly D(string s) => DateOnly.Parse(s);

    /// <summary>A pension entitlement of a member (index into the household), as the entitlements register holds it.</summary>
    public sealed record Pension(int Member, string Benefit, string Start, string? End = null);

    public static readonly Dictionary<string, (Member[] Members, Pension[] Pensions, int MinJobSeekers, bool Qualifies)> Cases = new()
    {
        ["issue #17 example: a 19-year-old student and a 70-year-old retiree, both flagged willing, open no case"] =
            ([new("h", D("2007-03-01"), Male: true, Employment: "student"), new("h", D("1956-02-01"), Male: false, Employment: "retired")], [], 1, false),
        ["DOMAIN §3: a full-time student of working age flagged able and willing is not a job-seeker"] =
            ([new("h", D("2004-09-01"), Male: false, Employment: "student")], [], 1, false),
        ["DOMAIN §3: a working-age member recorded retired (early retirement) is not a job-seeker"] =
            ([new("h", D("1978-01-01"), Male: true, Employment: "retired")], [], 1, false),
        ["DOMAIN §3: a working-age member drawing an enterprise pension is not a job-seeker, whatever the register's employment says"] =
            ([new("h", D("1976-05-01"), Male: false, FemaleBaseline: 55)], [new(0, "enterprise_pension", "2024-01-01")], 1, false),
        ["DOMAIN §3: a pension that ended before the month no longer excludes"] =
            ([new("h", D("1976-05-01"), Male: false, FemaleBaseline: 55)], [new(0, "resident_pension", "2024-01-01", "2026-01-01")], 1, true),
        ["DOMAIN §3: an unemployment benefit is not a pension: the member still seeks work"] =
            ([new("h", D("1985-05-01"), Male: true)], [new(0, "unemployment", "2026-01-01")], 1, true),
        ["DOMAIN §3: a student beside an unemployed willing parent: the parent makes the household qualify"] =
            ([new("h", D("2007-03-01"), Male: true, Employment: "student"), new("h", D("1980-01-01"), Male: false, FemaleBaseline: 55)], [], 1, true),
        ["就业促进法 art. 56, MinJobSeekers 1 (default): one job-seeker is enough"] =
            ([new("h", D("1985-01-01"), Male: true), new("h", D("1950-01-01"), Male: false, Employment: "retired")], [], 1, true),
        ["Liaoning practice, MinJobSeekers 2: one job-seeker is not enough"] =
            ([new("h", D("1985-01-01"), Male: true), new("h", D("1950-01-01"), Male: false, Employment: "retired")], [], 2, false),
        ["Liaoning practice, MinJobSeekers 2: two job-seekers qualify"] =
            ([new("h", D("1985-01-01"), Male: true), new("h", D("1987-01-01"), Male: false, FemaleBaseline: 55)], [], 2, true),
        ["Liaoning practice, MinJobSeekers 2: a student does not make up the second job-seeker"] =
            ([new("h", D("1985-01-01"), Male: true), new("h", D("2006-01-01"), Male: false, Employment: "student")], [], 2, false),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Students_and_pensioners_are_never_job_seekers_and_MinJobSeekers_counts_the_rest(string name)
    {
        var (members, pensions, minJobSeekers, qualifies) = Cases[name];
        var household = $"S-{Guid.NewGuid():N}"[..20];
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var ids = await ZeroEmploymentData.InsertAsync(conn, tx, members.Select(m => m with { Household = household }).ToArray());
        foreach (var p in pensions)
            await conn.ExecuteAsync("""
                INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period, end_period)
                VALUES (@id, @Benefit, 250000, @start, @end)
                """, new { id = ids[p.Member], p.Benefit, start = D(p.Start), end = p.End is null ? (DateOnly?)null : D(p.End) }, tx);

        await ZeroEmploymentCheck.ScanAsync(ZeroEmploymentData.Work(conn, tx), AsOf, includeRural: false, defaultFemaleBaseline: 50, minimumAge: 16, minJobSeekers);

        var found = await conn.QuerySingleOrDefaultAsync<bool?>("SELECT qualifies FROM ze_scan WHERE household_no = @household", new { household }, tx);
        Assert.Equal(qualifies, found ?? false);
        await tx.RollbackAsync();
    }

    [Theory]
    [InlineData("ZeroEmployment:MinJobSeekers", "0")]
    [InlineData("ZeroEmployment:ConfirmRemindDays", "0")]
    public void A_bad_setting_stops_the_start_with_a_message_naming_the_key(string key, string value)
    {
        using var app = db.BuildApp(extra: new() { [key] = value });
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());
        Assert.Contains(key, ex.Message);
    }
}
