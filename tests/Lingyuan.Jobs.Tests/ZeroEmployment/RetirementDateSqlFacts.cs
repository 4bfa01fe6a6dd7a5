using CsCheck;
using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>The reform formula in SQL (app.retirement_date, the scan's working-age bounds) equals Calendar/RetirementAge.cs.</summary>
public class RetirementDateSqlFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly Gen<(DateOnly Birth, Sex Sex, int Baseline)> Person =
        Gen.Select(Gen.Int[0, 365 * 80], Gen.OneOfConst(Sex.Male, Sex.Female), Gen.OneOfConst(50, 55))
            .Select((d, sex, baseline) => (new DateOnly(1930, 1, 1).AddDays(d), sex, baseline));

    [Fact]
    public async Task The_SQL_retirement_date_equals_RetirementAge_for_generated_birth_dates()
    {
        await Person.Array[500].SampleAsync(async batch =>
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            var births = batch.Select(b => b.Birth).ToArray();
            var sql = (await conn.QueryAsync<string>(
                "SELECT app.retirement_date(b, m, f)::text FROM unnest(@births, @males, @baselines) WITH ORDINALITY AS t(b, m, f, n) ORDER BY n",
                new { births, males = batch.Select(b => b.Sex == Sex.Male).ToArray(), baselines = batch.Select(b => b.Baseline).ToArray() }))
                .Select(DateOnly.Parse).ToArray();
            for (var i = 0; i < batch.Length; i++)
                Assert.True(RetirementAge.RetirementDate(batch[i].Birth, batch[i].Sex, batch[i].Baseline) == sql[i],
                    $"{batch[i]}: C# {RetirementAge.RetirementDate(batch[i].Birth, batch[i].Sex, batch[i].Baseline)}, SQL {sql[i]}");
        }, iter: 40);
    }

    [Fact]
    public async Task The_SQL_birth_date_and_sex_equal_IdNumber_Parse()
    {
        await Person.Array[200].SampleAsync(async batch =>
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            var ids = batch.Select(b => ZeroEmploymentData.Id(b.Birth, b.Sex == Sex.Male)).ToArray();
            var rows = (await conn.QueryAsync<string>(
                "SELECT app.id_birth_date(i)::text || ' ' || app.id_is_male(i) FROM unnest(@ids) WITH ORDINALITY AS t(i, n) ORDER BY n", new { ids })).ToArray();
            for (var i = 0; i < ids.Length; i++)
            {
                var (birth, sex) = IdNumber.Parse(ids[i]);
                Assert.Equal($"{birth:yyyy-MM-dd} {(sex == Sex.Male ? "true" : "false")}", rows[i]);
            }
        }, iter: 10);
    }

    /// <summary>
    /// The scan does not call the function per person: it turns the rule into birth-date bounds once per run.
    /// Persons born around each bound, one per household, all seeking work: the scan must keep exactly
    /// those RetirementAge.IsWorkingAge keeps.
    /// </summary>
    [Fact]
    public async Task The_scan_keeps_exactly_the_persons_RetirementAge_calls_working_age()
    {
        var gen = Gen.Select(
            Gen.Int[0, 365 * 20].Select(d => new DateOnly(2025, 1, 1).AddDays(d)),
            Gen.OneOfConst(50, 55),
            Gen.Select(Gen.Int[0, 3], Gen.Int[-70, 70], Gen.OneOfConst<int?>(null, 50, 55)).Array[150]);
        await gen.SampleAsync(async sample =>
        {
            var (asOf, defaultBaseline, people) = sample;
            var members = people.Select((p, i) =>
            {
                var (kind, offset, baseline) = p;
                var (male, b) = kind switch { 0 => (true, 0), 1 => (false, 55), 2 => (false, 50), _ => (i % 2 == 0, 0) };
                var birth = kind == 3 ? asOf.AddYears(-16).AddDays(offset) : RetirementBoundary(asOf, male ? Sex.Male : Sex.Female, b).AddDays(offset);
                // A woman whose baseline equals the default is sometimes left unknown, so the default path is tried too.
                var recorded = male || kind == 3 ? baseline : baseline is null && b == defaultBaseline ? null : b;
                return new Member($"P{i:000}", birth, male, FemaleBaseline: recorded);
            }).ToArray();

            await using var conn = await db.DataSource.OpenConnectionAsync();
            await using var tx = await conn.BeginTransactionAsync();
            await ZeroEmploymentData.InsertAsync(conn, tx, members);
            await ZeroEmploymentCheck.ScanAsync(ZeroEmploymentData.Work(conn, tx), asOf, includeRural: false, defaultBaseline, minimumAge: 16);
            var kept = (await conn.QueryAsync<string>("SELECT household_no FROM ze_scan WHERE qualifies", transaction: tx)).ToHashSet();
            await tx.RollbackAsync();

            foreach (var m in members)
            {
                var expected = RetirementAge.IsWorkingAge(m.Birth, m.Male ? Sex.Male : Sex.Female, asOf, m.FemaleBaseline ?? defaultBaseline);
                Assert.True(expected == kept.Contains(m.Household),
                    $"as of {asOf}, born {m.Birth}, {(m.Male ? "male" : "female")}, baseline {m.FemaleBaseline?.ToString() ?? $"default {defaultBaseline}"}: C# says {expected}");
            }
        }, iter: 12);
    }

    /// <summary>About the latest birth date already retired as of a day (fixed point of birth = asOf - age(birth)).</summary>
    private static DateOnly RetirementBoundary(DateOnly asOf, Sex sex, int baseline)
    {
        var birth = asOf.AddYears(-60);
        for (var i = 0; i < 4; i++) birth = asOf.AddMonths(-RetirementAge.For(birth, sex, baseline).TotalMonths);
        return birth;
    }
}
