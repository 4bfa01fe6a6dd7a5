using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Demo;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Registers.RegisterFiles;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>A second database, to seed the same demo twice and compare.</summary>
public sealed class SecondDatabaseFixture : DatabaseFixture;

public sealed class SeedDemoFacts(DatabaseFixture db, SecondDatabaseFixture other) : IClassFixture<DatabaseFixture>, IClassFixture<SecondDatabaseFixture>
{
    private static readonly string[] Tables =
        ["app.employers", "app.inspectors", "app.conflicts", "app.communities", "app.persons", "app.cards", "app.entitlements", "app.life_events", "app.arrears_cases"];

    // The seeder as tools/Lingyuan.Jobs.Demo builds it: on the application's data source.
    private static DemoSeeder Seeder(DatabaseFixture fixture) => ActivatorUtilities.CreateInstance<DemoSeeder>(fixture.Services);

    private static async Task<string> RegistersHashAsync(DatabaseFixture fixture)
    {
        // updated_at is the seeding instant; everything else must be equal.
        var parts = new List<string>();
        foreach (var t in Tables)
        {
            await using var cmd = fixture.DataSource.CreateCommand(
                $"SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'updated_at')::text, '|' ORDER BY (to_jsonb(t) - 'updated_at')::text)), '') FROM {t} t");
            parts.Add($"{t}={await cmd.ExecuteScalarAsync()}");
        }
        return string.Join(';', parts);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_registers_and_every_identifier_is_valid()
    {
        await ExecuteAsync(db, TruncateRegisters);
        await ExecuteAsync(other, TruncateRegisters);
        var seeder = Seeder(db);
        var first = await seeder.SeedAsync(DemoScale.Small, 42, CancellationToken.None);
        await Seeder(other).SeedAsync(DemoScale.Small, 42, CancellationToken.None);

        Assert.Equal(await RegistersHashAsync(db), await RegistersHashAsync(other));
        Assert.Equal(6_000, first.Rows["persons"]);
        Assert.Equal(300, first.Rows["employers"]);

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var ctx = new ParseContext(DateOnly.FromDateTime(DateTime.UtcNow));
        async Task AllValid(string sql, FieldParser parser)
        {
            var values = (await conn.QueryAsync<string>(sql)).ToList();
            Assert.NotEmpty(values);
            var bad = values.Where(v => parser(v, in ctx, out _) is not null).Take(3).ToList();
            Assert.Empty(bad);
        }
        await AllValid("SELECT id_number FROM app.persons UNION ALL SELECT legal_rep_id_number FROM app.employers", Fields.ResidentId);
        await AllValid("SELECT uscc FROM app.employers", Fields.CreditCode);
        await AllValid("SELECT bank_account FROM app.cards", Fields.CardAccount);
        // Cross-check against the test's own implementation of the formulas, not just the code under test.
        Assert.All(await conn.QueryAsync<string>("SELECT id_number FROM app.persons LIMIT 500"), id =>
            Assert.Equal(id, RegisterFiles.IdNumberCheck(id[..17])));

        // A realistic mix for the jobs that read these registers.
        var mix = await conn.QuerySingleAsync<(long Households, long Retired, long Students, long ZeroHouseholds, long Dead, long Inactive, long Listable)>(
            """
            SELECT (SELECT count(DISTINCT household_no) FROM app.persons),
                   (SELECT count(*) FROM app.persons WHERE employment = 'retired'),
                   (SELECT count(*) FROM app.persons WHERE employment = 'student'),
                   (SELECT count(*) FROM (SELECT household_no FROM app.persons GROUP BY household_no
                        HAVING bool_and(employment NOT IN ('employed', 'self_employed', 'flexible_insured')) AND bool_or(able_to_work AND wants_work)) z),
                   (SELECT count(*) FROM app.life_events WHERE event = 'death'),
                   (SELECT count(*) FROM app.cards WHERE financial_status <> 'active'),
                   (SELECT count(*) FROM app.arrears_cases WHERE incident <> 'none'
                        OR (workers_affected >= 1 AND max_months_owed >= 3 AND amount_owed_fen >= 1000000)
                        OR (workers_affected >= 10 AND amount_owed_fen >= 5000000))
            """);
        Assert.InRange(mix.Households, 1_900, 2_500);
        Assert.True(mix.Retired > 300 && mix.Students > 100 && mix.ZeroHouseholds > 10 && mix.Dead > 0 && mix.Inactive > 0, mix.ToString());
        Assert.InRange(mix.Listable, 5, 35);
        // Life events count from the day of seeding: whatever the day, the month's batch is an ordinary one (most
        // pensioners verified within the year, deaths within the last half year), not one that aged since a fixed day.
        var today = db.Services.GetRequiredService<Lingyuan.Jobs.Calendar.BureauClock>().Today;
        var events = await conn.QuerySingleAsync<(long Verified, long WithinYear, long DeathsElsewhen)>(
            """
            SELECT (SELECT count(DISTINCT id_number) FROM app.life_events WHERE event = 'eligibility_verified'),
                   (SELECT count(DISTINCT id_number) FROM app.life_events WHERE event = 'eligibility_verified' AND date > @today - 365 AND date <= @today),
                   (SELECT count(*) FROM app.life_events WHERE event = 'death' AND (date > @today OR date < @today - 180))
            """, new { today });
        Assert.True(events.Verified > 500 && events.WithinYear >= 0.9 * events.Verified, events.ToString());
        Assert.Equal(0, events.DeathsElsewhen);
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM (SELECT caseworker_email FROM app.communities UNION ALL SELECT email FROM app.inspectors UNION ALL SELECT email FROM app.employers) e WHERE caseworker_email NOT LIKE '%@lingyuan-demo.test'"));
    }

    [Fact]
    public async Task A_different_seed_gives_different_registers()
    {
        await ExecuteAsync(db, TruncateRegisters);
        await ExecuteAsync(other, TruncateRegisters);
        await Seeder(db).SeedAsync(DemoScale.Small, 1, CancellationToken.None);
        await Seeder(other).SeedAsync(DemoScale.Small, 2, CancellationToken.None);
        Assert.NotEqual(await RegistersHashAsync(db), await RegistersHashAsync(other));
    }

    [Fact]
    public async Task Seeding_registers_that_have_rows_is_refused_on_the_command_line()
    {
        await ExecuteAsync(db, TruncateRegisters);
        await ExecuteAsync(db, $"INSERT INTO app.inspectors (badge_no, name, email, unit, street) VALUES ('X-1', '某', 'x@lingyuan-demo.test', '大队', '城关街道')");
        var before = await RegistersHashAsync(db);

        var (code, output) = await ServiceProcess.RunAsync(db, "seed-demo --scale small --seed 3", dll: ServiceProcess.DemoDllPath);

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("seed-demo fills empty registers only; these have rows: inspectors", output);
        Assert.Equal(before, await RegistersHashAsync(db));
    }
}
