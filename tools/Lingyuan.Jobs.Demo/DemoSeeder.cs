using System.Diagnostics;
using System.Globalization;
using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Npgsql;
using NpgsqlTypes;
using static Lingyuan.Jobs.Demo.DemoNames;

namespace Lingyuan.Jobs.Demo;

/// <summary>Sizes of the synthetic registers. County is Lingyuan itself (~0.6 M people); small is 1/100 of it for tests.</summary>
public sealed record DemoScale(
    string Name, int Employers, int Inspectors, int Conflicts, int Persons, int Holders, int Entitlements, int ArrearsCases)
{
    public static readonly DemoScale Small = new("small", 300, 30, 6, 6_000, 1_500, 1_500, 40);
    public static readonly DemoScale County = new("county", 30_000, 300, 600, 600_000, 150_000, 150_000, 400);
    public static readonly DemoScale Large = new("large", 100_000, 1_000, 2_000, 1_000_000, 800_000, 1_000_000, 1_000);

    public static DemoScale Parse(string? name) => name switch
    {
        null or "small" => Small,
        "county" => County,
        "large" => Large,
        _ => throw new UsageException($"--scale must be small, county or large, got '{name}' / --scale 取值应为 small、county 或 large"),
    };
}

public sealed record DemoResult(IReadOnlyDictionary<string, long> Rows, TimeSpan Elapsed);

/// <summary>
/// Fills empty registers with deterministic synthetic data: the same seed on the same day gives the same rows (one
/// seeded <see cref="Random"/> drawn in a fixed order). Ages, jobs and entitlement starts count from a fixed reference
/// day; what a month's jobs act on counts from today — life events (verifications, deaths, suspensions,
/// imprisonment) and wage arrears — so a demo started on any day shows an ordinary month, not one months stale.
/// Every ID number, USCC and bank account carries a valid check character. Rows stream into binary COPY.
/// </summary>
public sealed class DemoSeeder(Work work, NpgsqlDataSource db, BureauClock clock)
{
    /// <summary>The day the persons' ages, jobs and entitlement starts are drawn for (life events and arrears count from today).</summary>
    public static readonly DateOnly Reference = new(2026, 6, 30);

    private static readonly string[] RegisterTables =
        ["employers", "inspectors", "conflicts", "communities", "persons", "cards", "entitlements", "life_events", "arrears_cases"];

    public async Task<DemoResult> SeedAsync(DemoScale scale, int seed, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        // One unit of work (the seed is all or nothing), under the seed's own lock; the large scale's statements
        // run without a timeout.
        var rows = await work.RunAsync("seed-demo", uow => FillAsync(uow, scale, seed), ct,
            new WorkOptions { Lock = "lingyuan.seed-demo", CommandTimeout = 0 });
        // Statistics and the visibility map now rather than at autovacuum's next turn: the first jobs an operator
        // runs on the demo get their real plans (the zero-employment scan its index-only parallel pass).
        await using var conn = await db.OpenConnectionAsync(ct);
        foreach (var table in RegisterTables)
            await conn.ExecuteAsync(new CommandDefinition($"VACUUM (ANALYZE) app.{table}", commandTimeout: 0, cancellationToken: ct));
        return new DemoResult(rows, watch.Elapsed);
    }

    private async Task<Dictionary<string, long>> FillAsync(UnitOfWork uow, DemoScale scale, int seed)
    {
        var (conn, tx, ct) = (uow.Connection, uow.Transaction, uow.Cancellation);
        var filled = new List<string>();
        foreach (var t in RegisterTables)
            if (await conn.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM app.{t})", transaction: tx)) filled.Add(t);
        if (filled.Count > 0)
            throw new DomainRuleException($"seed-demo fills empty registers only; these have rows: {string.Join(", ", filled)} / 名录非空,拒绝生成演示数据");

        var g = new Generator(new Random(seed), scale);
        var rows = new Dictionary<string, long>
        {
            ["employers"] = await g.EmployersAsync(conn, ct),
            ["inspectors"] = await g.InspectorsAsync(conn, ct),
            ["conflicts"] = await g.ConflictsAsync(conn, ct),
            ["communities"] = await g.CommunitiesAsync(conn, ct),
            ["persons"] = await g.PersonsAsync(conn, ct),
        };
        await DemoCaseworkers.OnePerStreetAsync(conn, tx, ct); // one caseworker per street (issue #17)
        rows["cards"] = await g.CardsAsync(conn, ct);
        rows["entitlements"] = await g.EntitlementsAsync(conn, ct);
        // Life events and wage arrears count from today (issue 16 for arrears): anchored on the fixed day, a demo
        // started in December showed 40 % of pensioners held for a verification that lapsed in the months between.
        var today = clock.Today;
        rows["life_events"] = await g.LifeEventsAsync(conn, today, ct);
        // The random arrears cases are the daily job's candidates, ArrearsDemo the staged ones.
        rows["arrears_cases"] = await g.ArrearsCasesAsync(conn, today, ct) + await ArrearsDemo.SeedAsync(conn, tx, db, today, ct);
        await DisbursementDemoCases.AddAsync(conn, tx, today, ct);
        await uow.AuditAsync("seed-demo", "register", "all",
            details: $"scale {scale.Name}, seed {seed}: " + string.Join(", ", rows.Select(r => $"{r.Key} {r.Value}")));
        return rows;
    }

    private sealed record Person(string Id, int Age, bool Male, string Name);

    private sealed class Generator(Random r, DemoScale scale)
    {
        private readonly List<string> _usccs = new(scale.Employers);
        private readonly List<Person> _persons = new(scale.Persons);
        private readonly List<Person> _holders = new(scale.Holders);
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
        private readonly string[] _streets = [.. UrbanStreets, .. Towns];

        private static async Task<NpgsqlBinaryImporter> CopyAsync(NpgsqlConnection conn, string copy, CancellationToken ct)
        {
            var w = await conn.BeginBinaryImportAsync(copy, ct);
            w.Timeout = TimeSpan.Zero; // the large scale's million-row COPYs outlast the 30 s default on a busy server
            return w;
        }

        private T Pick<T>(IReadOnlyList<T> items) => items[r.Next(items.Count)];
        private bool Chance(double p) => r.NextDouble() < p;
        private DateOnly DaysBefore(DateOnly d, int min, int max) => d.AddDays(-r.Next(min, max + 1));

        private string Name(bool male) => Pick(Surnames) + Pick(male ? MaleGiven : FemaleGiven);

        private string Communities(string street) => street.EndsWith("街道", StringComparison.Ordinal)
            ? UrbanCommunities[r.Next(UrbanCommunities.Length)]
            : Villages[r.Next(Villages.Length)];

        /// <summary>A unique, valid resident ID number: region, birth date, sequence (odd = male), check character.</summary>
        private string IdNumber(DateOnly born, bool male, string region = Region)
        {
            for (var attempt = 0; ; attempt++)
            {
                var seq = r.Next(0, 500) * 2 + (male ? 1 : 0);
                var first17 = string.Create(CultureInfo.InvariantCulture, $"{region}{born:yyyyMMdd}{seq:D3}");
                var id = first17 + Jobs.Registers.IdNumber.CheckCharacter(first17);
                if (_ids.Add(id)) return id;
                if (attempt > 50) born = born.AddDays(1); // a crowded birthday: move on
            }
        }

        private string Uscc()
        {
            var chars = new char[17];
            chars[0] = '9';
            chars[1] = Chance(0.9) ? '1' : '2';
            Region.CopyTo(0, chars, 2, 6);
            for (var i = 8; i < 17; i++) chars[i] = Jobs.Registers.Uscc.Alphabet[r.Next(Jobs.Registers.Uscc.Alphabet.Length)];
            var first17 = new string(chars);
            return first17 + Jobs.Registers.Uscc.CheckCharacter(first17);
        }

        private DateOnly BirthForAge(int age) => Reference.AddYears(-age).AddDays(-r.Next(0, 365));

        public async Task<long> EmployersAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            await using var w = await CopyAsync(conn,
                "COPY app.employers (uscc, name, street, community, industry, risk_class, migrant_workers, email, legal_rep_name, legal_rep_id_number, abnormal) FROM STDIN (FORMAT BINARY)", ct);
            for (var i = 0; i < scale.Employers; i++)
            {
                string uscc;
                do uscc = Uscc(); while (!seen.Add(uscc));
                _usccs.Add(uscc);
                var (industry, suffix, maxWorkers) = Pick(Industries);
                var street = Pick(_streets);
                var abnormal = Chance(0.03);
                var risk = abnormal ? "D" : r.NextDouble() switch { < 0.40 => "A", < 0.75 => "B", < 0.93 => "C", _ => "D" };
                var repMale = Chance(0.75);
                await w.StartRowAsync(ct);
                await w.WriteAsync(uscc, NpgsqlDbType.Text, ct);
                await w.WriteAsync($"凌源市{Pick(TradeNames)}{Pick(TradeNames)}{suffix}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(street, NpgsqlDbType.Text, ct);
                await w.WriteAsync(Communities(street), NpgsqlDbType.Text, ct);
                await w.WriteAsync(industry, NpgsqlDbType.Text, ct);
                await w.WriteAsync(risk, NpgsqlDbType.Text, ct);
                await w.WriteAsync((int)(maxWorkers * Math.Pow(r.NextDouble(), 2)), NpgsqlDbType.Integer, ct);
                await w.WriteAsync($"employer{i + 1:D6}@{MailDomain}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Name(repMale), NpgsqlDbType.Text, ct);
                await w.WriteAsync(IdNumber(BirthForAge(r.Next(28, 66)), repMale), NpgsqlDbType.Text, ct);
                await w.WriteAsync(abnormal, NpgsqlDbType.Boolean, ct);
            }
            return (long)await w.CompleteAsync(ct);
        }

        public async Task<long> InspectorsAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            await using var w = await CopyAsync(conn, "COPY app.inspectors (badge_no, name, email, unit, street, active) FROM STDIN (FORMAT BINARY)", ct);
            for (var i = 1; i <= scale.Inspectors; i++)
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync($"LYJC-{i:D4}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Name(Chance(0.6)), NpgsqlDbType.Text, ct);
                await w.WriteAsync($"inspector{i:D4}@{MailDomain}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Chance(0.7) ? "凌源市劳动保障监察大队" : "凌源市人力资源和社会保障局", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Pick(_streets), NpgsqlDbType.Text, ct);
                await w.WriteAsync(Chance(0.95), NpgsqlDbType.Boolean, ct);
            }
            return (long)await w.CompleteAsync(ct);
        }

        public async Task<long> ConflictsAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            var pairs = new HashSet<(int, int)>();
            while (pairs.Count < Math.Min(scale.Conflicts, scale.Inspectors * scale.Employers))
                pairs.Add((r.Next(1, scale.Inspectors + 1), r.Next(scale.Employers)));
            await using var w = await CopyAsync(conn, "COPY app.conflicts (badge_no, uscc, reason) FROM STDIN (FORMAT BINARY)", ct);
            foreach (var (badge, employer) in pairs.Order())
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync($"LYJC-{badge:D4}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(_usccs[employer], NpgsqlDbType.Text, ct);
                await w.WriteAsync(Pick(ConflictReasons), NpgsqlDbType.Text, ct);
            }
            return (long)await w.CompleteAsync(ct);
        }

        public async Task<long> CommunitiesAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            await using var w = await CopyAsync(conn,
                "COPY app.communities (street, community, caseworker_name, caseworker_email) FROM STDIN (FORMAT BINARY)", ct);
            for (var s = 0; s < _streets.Length; s++)
            {
                var names = s < UrbanStreets.Length ? UrbanCommunities : Villages;
                for (var c = 0; c < names.Length; c++)
                {
                    await w.StartRowAsync(ct);
                    await w.WriteAsync(_streets[s], NpgsqlDbType.Text, ct);
                    await w.WriteAsync(names[c], NpgsqlDbType.Text, ct);
                    await w.WriteAsync(Name(Chance(0.3)), NpgsqlDbType.Text, ct);
                    await w.WriteAsync($"caseworker-{s + 1:D2}-{c + 1:D2}@{MailDomain}", NpgsqlDbType.Text, ct);
                }
            }
            return (long)await w.CompleteAsync(ct);
        }

        /// <summary>
        /// Households of 1-6 (mean ≈ 2.73, so county has ≈ 220,000): a head, often a spouse, children or an elderly parent.
        /// About 2 % of urban households are zero-employment (every working-age member unemployed and wanting work).
        /// </summary>
        public async Task<long> PersonsAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            await using var w = await CopyAsync(conn,
                "COPY app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment, employment_since, business_income, female_baseline) FROM STDIN (FORMAT BINARY)", ct);
            var household = 0;
            while (_persons.Count < scale.Persons)
            {
                household++;
                var size = Math.Min(scale.Persons - _persons.Count, HouseholdSize());
                var street = Pick(_streets);
                var urbanStreet = street.EndsWith("街道", StringComparison.Ordinal);
                var community = Communities(street);
                var hukou = urbanStreet ? (Chance(0.95) ? "urban" : "rural") : (Chance(0.9) ? "rural" : "urban");
                var zeroEmployment = hukou == "urban" && Chance(0.02);
                var householdNo = $"{Region}-{household:D7}";
                var headAge = 22 + (int)((r.NextDouble() + r.NextDouble()) * 30); // 22..81, most around 50
                var headMale = Chance(0.6);
                for (var m = 0; m < size; m++)
                {
                    var (age, male) = m switch
                    {
                        0 => (headAge, headMale),
                        1 when Chance(0.85) => (Math.Clamp(headAge + r.Next(-4, 5), 20, 95), !headMale),
                        _ when headAge >= 45 && Chance(0.8) => (Math.Max(0, headAge - r.Next(22, 36)), Chance(0.5)),
                        _ => (Math.Min(98, headAge + r.Next(22, 31)), Chance(0.4)),
                    };
                    var born = BirthForAge(age);
                    var person = new Person(IdNumber(born, male, Chance(0.95) ? Region : "211302"), age, male, Name(male));
                    _persons.Add(person);
                    await WritePersonAsync(w, person, householdNo, street, community, hukou, zeroEmployment, ct);
                }
            }
            return (long)await w.CompleteAsync(ct);
        }

        /// <summary>Sizes 1..6 with mean ≈ 2.73 (Lingyuan: about 600,000 people in 220,000 households).</summary>
        private int HouseholdSize() => r.NextDouble() switch { < 0.19 => 1, < 0.50 => 2, < 0.76 => 3, < 0.90 => 4, < 0.97 => 5, _ => 6 };

        private async Task WritePersonAsync(NpgsqlBinaryImporter w, Person p, string householdNo, string street, string community,
            string hukou, bool zeroEmployment, CancellationToken ct)
        {
            var retireAge = p.Male ? 60 : 50;
            var workingAge = p.Age >= 16 && p.Age < retireAge;
            var able = workingAge && Chance(0.96);
            string employment;
            if (p.Age < 16) employment = p.Age >= 6 ? "student" : "other";
            else if (p.Age <= 22 && Chance(0.7)) employment = "student";
            else if (!workingAge) employment = Chance(0.85) ? "retired" : "other";
            else if (zeroEmployment && able) employment = Chance(0.6) ? "registered_unemployed" : "unemployed";
            else employment = r.NextDouble() switch
            {
                < 0.52 => "employed",
                < 0.60 => "self_employed",
                < 0.67 => "flexible_insured",
                < 0.72 => "flexible_uninsured",
                < 0.80 => "unemployed",
                < 0.85 => "registered_unemployed",
                _ => "other",
            };
            var working = employment is "employed" or "self_employed" or "flexible_insured" or "flexible_uninsured";
            var wants = working || (employment is "unemployed" or "registered_unemployed" ? zeroEmployment || Chance(0.85) : employment == "other" && workingAge && Chance(0.3));
            DateOnly? since = working ? DaysBefore(Reference, 30, Math.Max(31, (p.Age - 17) * 365)) : null;
            short? baseline = p.Male ? null : r.NextDouble() switch { < 0.2 => (short)50, < 0.3 => (short)55, _ => null };

            await w.StartRowAsync(ct);
            await w.WriteAsync(p.Id, NpgsqlDbType.Text, ct);
            await w.WriteAsync(p.Name, NpgsqlDbType.Text, ct);
            await w.WriteAsync(householdNo, NpgsqlDbType.Text, ct);
            await w.WriteAsync(street, NpgsqlDbType.Text, ct);
            await w.WriteAsync(community, NpgsqlDbType.Text, ct);
            await w.WriteAsync(hukou, NpgsqlDbType.Text, ct);
            await w.WriteAsync(able, NpgsqlDbType.Boolean, ct);
            await w.WriteAsync(wants, NpgsqlDbType.Boolean, ct);
            await w.WriteAsync(employment, NpgsqlDbType.Text, ct);
            if (since is { } s) await w.WriteAsync(s, NpgsqlDbType.Date, ct); else await w.WriteNullAsync(ct);
            await w.WriteAsync(!zeroEmployment && (employment == "self_employed" ? Chance(0.4) : Chance(0.01)), NpgsqlDbType.Boolean, ct);
            if (baseline is { } b) await w.WriteAsync(b, NpgsqlDbType.Smallint, ct); else await w.WriteNullAsync(ct);
        }

        /// <summary>Card holders: pension-age people first (most draw a pension), then others at random.</summary>
        private void ChooseHolders()
        {
            var order = Enumerable.Range(0, _persons.Count).Select(i => (i, key: r.NextDouble() - (_persons[i].Age >= 60 ? 1 : 0))).ToArray();
            Array.Sort(order, (a, b) => a.key.CompareTo(b.key) is var c && c != 0 ? c : a.i.CompareTo(b.i));
            foreach (var (i, _) in order.Take(scale.Holders)) _holders.Add(_persons[i]);
        }

        public async Task<long> CardsAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            ChooseHolders();
            var accounts = new HashSet<string>(StringComparer.Ordinal);
            string? previous = null;
            await using var w = await CopyAsync(conn,
                "COPY app.cards (id_number, card_no, bank_code, bank_account, financial_status) FROM STDIN (FORMAT BINARY)", ct);
            for (var i = 0; i < _holders.Count; i++)
            {
                var (code, bin) = Pick(Banks);
                string account;
                // A few accounts receive benefits of unrelated persons: what the duplicate-account hold catches.
                if (previous is not null && Chance(0.0005)) account = previous;
                else
                {
                    do
                    {
                        var payload = bin + r.NextInt64(0, 1_000_000_000_000).ToString("D12", CultureInfo.InvariantCulture);
                        account = payload + BankAccount.LuhnCheckDigit(payload);
                    } while (!accounts.Add(account));
                }
                previous = account;
                await w.StartRowAsync(ct);
                await w.WriteAsync(_holders[i].Id, NpgsqlDbType.Text, ct);
                await w.WriteAsync($"LY{i + 1:D9}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(code, NpgsqlDbType.Text, ct);
                await w.WriteAsync(account, NpgsqlDbType.Text, ct);
                await w.WriteAsync(r.NextDouble() switch { < 0.96 => "active", < 0.98 => "inactive", < 0.99 => "frozen", _ => "lost" }, NpgsqlDbType.Text, ct);
            }
            return (long)await w.CompleteAsync(ct);
        }

        public async Task<long> EntitlementsAsync(NpgsqlConnection conn, CancellationToken ct)
        {
            var second = scale.Entitlements - _holders.Count;
            await using var w = await CopyAsync(conn,
                "COPY app.entitlements (id_number, benefit, monthly_amount_fen, start_period, end_period, suspended) FROM STDIN (FORMAT BINARY)", ct);
            for (var i = 0; i < _holders.Count; i++)
            {
                var p = _holders[i];
                var retired = p.Age >= (p.Male ? 60 : 50);
                var first = retired
                    ? r.NextDouble() switch { < 0.6 => "enterprise_pension", < 0.7 => "institution_pension", _ => "resident_pension" }
                    : r.NextDouble() switch
                    {
                        < 0.3 => "unemployment",
                        < 0.45 => "work_injury",
                        < 0.65 => "employment_subsidy",
                        < 0.8 => "training_subsidy",
                        < 0.95 => "insurance_subsidy",
                        _ => "survivor_allowance",
                    };
                await WriteEntitlementAsync(w, p, first, ct);
                if (i < second)
                    await WriteEntitlementAsync(w, p, first == "survivor_allowance" ? "insurance_subsidy" : "survivor_allowance", ct);
            }
            return (long)await w.CompleteAsync(ct);
        }

        private async Task WriteEntitlementAsync(NpgsqlBinaryImporter w, Person p, string benefit, CancellationToken ct)
        {
            var (minYuan, maxYuan) = benefit switch
            {
                "enterprise_pension" => (1_800, 4_800),
                "institution_pension" => (3_500, 7_000),
                "resident_pension" => (150, 320),
                "unemployment" => (1_500, 1_800),
                "work_injury" => (1_200, 4_000),
                "survivor_allowance" => (600, 1_500),
                _ => (100, 1_000),
            };
            var start = new DateOnly(r.Next(2015, 2027), r.Next(1, 13), 1);
            if (start > Reference) start = new DateOnly(Reference.Year, Reference.Month, 1);
            DateOnly? end = benefit is "unemployment" or "employment_subsidy" or "training_subsidy" && Chance(0.5) ? start.AddMonths(r.Next(3, 25)) : null;
            await w.StartRowAsync(ct);
            await w.WriteAsync(p.Id, NpgsqlDbType.Text, ct);
            await w.WriteAsync(benefit, NpgsqlDbType.Text, ct);
            await w.WriteAsync((long)r.Next(minYuan * 100, maxYuan * 100 + 1), NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(start, NpgsqlDbType.Date, ct);
            if (end is { } e) await w.WriteAsync(e, NpgsqlDbType.Date, ct); else await w.WriteNullAsync(ct);
            await w.WriteAsync(Chance(0.01), NpgsqlDbType.Boolean, ct);
        }

        /// <summary>Annual eligibility verifications (most within 12 months before <paramref name="today"/>, some lapsed), a few recent deaths and suspensions.</summary>
        public async Task<long> LifeEventsAsync(NpgsqlConnection conn, DateOnly today, CancellationToken ct)
        {
            await using var w = await CopyAsync(conn, "COPY app.life_events (id_number, event, date) FROM STDIN (FORMAT BINARY)", ct);
            async Task Event(string id, string kind, DateOnly date)
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync(id, NpgsqlDbType.Text, ct);
                await w.WriteAsync(kind, NpgsqlDbType.Text, ct);
                await w.WriteAsync(date, NpgsqlDbType.Date, ct);
            }
            foreach (var p in _holders)
            {
                var x = r.NextDouble();
                if (x < 0.92) await Event(p.Id, "eligibility_verified", DaysBefore(today, 0, 360));
                else if (x < 0.97) await Event(p.Id, "eligibility_verified", DaysBefore(today, 380, 720));
                if (Chance(p.Age >= 75 ? 0.02 : 0.002)) await Event(p.Id, "death", DaysBefore(today, 0, 170));
                else if (Chance(0.002))
                {
                    var suspended = DaysBefore(today, 60, 300);
                    await Event(p.Id, "suspended", suspended);
                    if (Chance(0.5)) await Event(p.Id, "resumed", suspended.AddDays(r.Next(10, 50)));
                }
            }
            return (long)await w.CompleteAsync(ct);
        }

        /// <summary>
        /// Wage-arrears cases; about half meet the Liaoning listing test (one worker ≥ 3 months and ≥ 10,000 yuan,
        /// or ≥ 10 workers and ≥ 50,000 yuan, or a group incident), the rest fall short of it. Dates count back from
        /// <paramref name="today"/>: every payment deadline lies within the last 20 days or the next two weeks, so no
        /// decision deadline (20 working days after it) has passed when the demo starts.
        /// </summary>
        public async Task<long> ArrearsCasesAsync(NpgsqlConnection conn, DateOnly today, CancellationToken ct)
        {
            await using var w = await CopyAsync(conn,
                "COPY app.arrears_cases (case_no, uscc, workers_affected, amount_owed_fen, max_months_owed, order_issued_on, pay_deadline, paid_on, incident, credit_promise_on, responsible_persons) FROM STDIN (FORMAT BINARY)", ct);
            for (var i = 1; i <= scale.ArrearsCases - ArrearsDemo.StagedCases; i++)
            {
                var x = r.NextDouble();
                var (workers, yuan, months, incident) = x switch
                {
                    < 0.25 => (1, r.Next(10_000, 40_001), r.Next(3, 10), "none"),
                    < 0.42 => (r.Next(10, 61), r.Next(50_000, 400_001), r.Next(1, 8), "none"),
                    < 0.50 => (r.Next(5, 40), r.Next(20_000, 200_001), r.Next(1, 6), Chance(0.8) ? "group" : "extreme"),
                    < 0.75 => (1, r.Next(2_000, 10_000), r.Next(1, 6), "none"),
                    _ => (r.Next(2, 10), r.Next(5_000, 49_999), r.Next(1, 3), "none"),
                };
                var issued = DaysBefore(today, 16, 35);
                var deadline = issued.AddDays(Chance(0.5) ? 15 : 30);
                DateOnly? paid = Chance(0.3) ? Min(deadline.AddDays(r.Next(-5, 21)), today) : null;
                DateOnly? promise = paid is not null && Chance(0.4) ? paid : null;
                await w.StartRowAsync(ct);
                await w.WriteAsync($"LYQX-{Reference.Year}-{i:D4}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Pick(_usccs), NpgsqlDbType.Text, ct);
                await w.WriteAsync(workers, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(yuan * 100L + r.Next(0, 100), NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(months, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(issued, NpgsqlDbType.Date, ct);
                await w.WriteAsync(deadline, NpgsqlDbType.Date, ct);
                if (paid is { } pd) await w.WriteAsync(pd, NpgsqlDbType.Date, ct); else await w.WriteNullAsync(ct);
                await w.WriteAsync(incident, NpgsqlDbType.Text, ct);
                if (promise is { } pr) await w.WriteAsync(pr, NpgsqlDbType.Date, ct); else await w.WriteNullAsync(ct);
                await w.WriteAsync($"项目经理 {Name(true)};财务负责人 {Name(Chance(0.5))}", NpgsqlDbType.Text, ct);
            }
            return (long)await w.CompleteAsync(ct);
        }

        private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;
    }
}
