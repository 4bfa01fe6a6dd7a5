using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>The edges of the definition (DOMAIN.md §3), each household scanned alone as of 2026-06-15.</summary>
public class ZeroEmploymentDefinitionFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly DateOnly AsOf = new(2026, 6, 15);

    private static DateOnly D(string s) => DateOnly.Parse(s);

    public static readonly Dictionary<string, (Member[] Members, bool IncludeRural, bool Qualifies)> Cases = new()
    {
        // Born 1966-03: 60 years 4 months, retires 2026-07-15.
        ["a man one month short of his reformed retirement age counts"] = ([new("h", D("1966-03-15"), Male: true)], false, true),
        // Born 1966-02: 60 years 4 months, retires 2026-06-15, the day of the check.
        ["a man at his reformed retirement age does not count"] = ([new("h", D("1966-02-15"), Male: true)], false, false),
        ["a 15-year-old (16 tomorrow) does not count"] = ([new("h", D("2010-06-16"), Male: false)], false, false),
        ["a 16-year-old counts"] = ([new("h", D("2010-06-15"), Male: false)], false, true),
        ["one retired and one unemployed member qualify"] =
            ([new("h", D("1955-01-01"), Male: true, Employment: "retired"), new("h", D("1985-03-01"), Male: false)], false, true),
        ["flexible employment with social insurance counts as employed"] =
            ([new("h", D("1980-01-01"), Male: true, Employment: "flexible_insured"), new("h", D("1982-01-01"), Male: false)], false, false),
        ["flexible employment without social insurance does not count as employed"] =
            ([new("h", D("1980-01-01"), Male: true, Employment: "flexible_uninsured")], false, true),
        ["self-employment with a licence counts as employed"] =
            ([new("h", D("1980-01-01"), Male: true, Employment: "self_employed"), new("h", D("1982-01-01"), Male: false)], false, false),
        ["business income of any member excludes the household"] =
            ([new("h", D("1985-01-01"), Male: true), new("h", D("1950-01-01"), Male: false, Employment: "retired", Business: true)], false, false),
        ["a rural household is left out when IncludeRural is off"] = ([new("h", D("1985-01-01"), Male: true, Hukou: "rural")], false, false),
        ["a rural household counts when IncludeRural is on"] = ([new("h", D("1985-01-01"), Male: true, Hukou: "rural")], true, true),
        ["a household whose only working-age member cannot work is not a case"] =
            ([new("h", D("1980-01-01"), Male: true, Able: false), new("h", D("1950-01-01"), Male: false, Employment: "retired")], false, false),
        ["a household whose only working-age member does not want work is not a case"] =
            ([new("h", D("1980-01-01"), Male: true, Wants: false)], false, false),
        ["an employed pensioner does not make the household employed"] =
            ([new("h", D("1950-01-01"), Male: true, Employment: "employed"), new("h", D("1990-01-01"), Male: false)], false, true),
        ["an employed working-age member makes the household employed"] =
            ([new("h", D("1980-01-01"), Male: true, Employment: "employed"), new("h", D("1990-01-01"), Male: false)], false, false),
        // Born 1971-03: a cadre (baseline 55) retires at 55 years 4 months, 2026-07-15; a worker (50) retired in 2021.
        ["a woman of baseline 55 is still of working age"] = ([new("h", D("1971-03-15"), Male: false, FemaleBaseline: 55)], false, true),
        ["a woman of unknown baseline takes the default 50 and is retired"] = ([new("h", D("1971-03-15"), Male: false)], false, false),
        ["a household of students and pensioners only is not a case"] =
            ([new("h", D("2005-01-01"), Male: true, Employment: "student", Wants: false), new("h", D("1950-01-01"), Male: false, Employment: "retired")], false, false),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task The_definition_holds_at_its_edge(string name)
    {
        var (members, includeRural, qualifies) = Cases[name];
        var household = $"H-{Guid.NewGuid():N}"[..20];
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await ZeroEmploymentData.InsertAsync(conn, tx, members.Select(m => m with { Household = household }).ToArray());

        await ZeroEmploymentCheck.ScanAsync(ZeroEmploymentData.Work(conn, tx), AsOf, includeRural, defaultFemaleBaseline: 50, minimumAge: 16);

        var found = await conn.QuerySingleOrDefaultAsync<bool?>("SELECT qualifies FROM ze_scan WHERE household_no = @household", new { household }, tx);
        Assert.Equal(qualifies, found ?? false);
        await tx.RollbackAsync();
    }
}
