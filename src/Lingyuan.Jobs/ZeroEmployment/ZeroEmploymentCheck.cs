using System.Diagnostics;
using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.ZeroEmployment;

public sealed record CheckResult(
    DateOnly AsOf, int Qualifying, int Opened, int Cleared, int ClosedNoLongerQualifying,
    int ProposalsReminded, int Reminded, int Overdue, int MessagesQueued, TimeSpan ScanTime, bool DryRun);

/// <summary>
/// The daily check (DOMAIN.md §3): one set-based scan of the registers, then every case transition of
/// the day and the mail it causes, in ONE transaction under an advisory lock. Killed at any point, it
/// leaves nothing behind; run twice on a day, the second run finds every transition done and every
/// message's dedupe key taken, so it changes nothing and sends nothing.
/// </summary>
public sealed class ZeroEmploymentCheck(
    Work work,
    BureauClock clock,
    IOptions<ZeroEmploymentOptions> options,
    IOptions<WorkingAgeOptions> workingAge,
    ILogger<ZeroEmploymentCheck> log)
{
    /// <summary>The advisory lock of the check: two workers (or a worker and `jobs run`) never interleave.</summary>
    public const string LockName = "zero-employment-check";

    // The first run on a county may open thousands of cases in its one transaction; a second runner waits on the lock.
    private const int CommandTimeoutSeconds = 900;

    /// <summary>Kinds of employment that count as employed (DOMAIN.md §3): a labour contract, licensed self-employment, flexible employment with social insurance paid.</summary>
    public const string EmployedKinds = "('employed', 'self_employed', 'flexible_insured')";

    /// <summary>Pension benefits (app.entitlements.benefit): a person drawing one is not a job-seeker (DOMAIN.md §3).</summary>
    public const string PensionBenefits = "('enterprise_pension', 'institution_pension', 'resident_pension')";

    /// <summary>
    /// Whether member <c>m</c> draws a pension as of <c>@asOf</c>: retired in the persons register, or an
    /// entitlement to a pension that has started and not ended (a suspended one still counts: the person is a
    /// pensioner, not a job-seeker).
    /// </summary>
    public const string PensionerSql = $"""
        (m.employment = 'retired' OR EXISTS (SELECT 1 FROM app.entitlements e WHERE e.id_number = m.id_number AND {PensionInPaymentSql}))
        """;

    /// <summary>Whether entitlement <c>e</c> is a pension started and not ended as of <c>@asOf</c>.</summary>
    private const string PensionInPaymentSql = $"""
        e.benefit IN {PensionBenefits} AND e.start_period <= @asOf AND (e.end_period IS NULL OR e.end_period >= date_trunc('month', @asOf::date)::date)
        """;

    /// <summary>
    /// Whether person <c>m</c> is outside working age as of the run, by its birth-day bounds (<see cref="ScanBounds"/>:
    /// <c>@youngest</c>, and per retirement rule <c>@male</c>, <c>@female55</c>, <c>@female50</c>, <c>@femaleDefault</c>)
    /// and the row's retirement rule in <c>ze_code</c>: integers compared, where <c>app.is_working_age</c> computes
    /// dates per row (held equal by ZeroEmploymentScanFacts).
    /// </summary>
    private const string OutsideWorkingAgeSql = """
        (m.ze_birth > @youngest OR m.ze_birth <= CASE m.ze_code >> 4
            WHEN 1 THEN @male WHEN 2 THEN @female55 WHEN 3 THEN @female50 ELSE @femaleDefault END)
        """;

    /// <summary>
    /// Whether member <c>m</c> may be a job-seeker by its own row (DOMAIN.md §3; 就业促进法 art. 56): of working age,
    /// able and willing to work, not employed, not a full-time student and not retired in the register (bit 4 of
    /// <c>ze_code</c>, migration 0180). A job-seeker also draws no pension (<see cref="PensionerSql"/>), which the
    /// entitlements say.
    /// </summary>
    private const string SeekerByRowSql = $"(m.ze_code & 4 = 4 AND NOT {OutsideWorkingAgeSql})";

    /// <summary>Today in the bureau's time zone (<see cref="BureauClock"/>).</summary>
    public DateOnly Today() => clock.Today;

    /// <summary>
    /// The scan: every household's status as of a date, in one pass over all persons (two halves run by
    /// parallel workers), into the temporary table <c>ze_scan</c> (dropped at commit). Kept: households that qualify, and households with an open
    /// case (to clear or close it). Working age follows the 2025 reform: because the retirement date grows
    /// with the birth date, the working-age test of a run is one birth-date bound for the minimum age and one
    /// per retirement rule (<see cref="ScanBounds"/>). The pass itself reads only the covering index
    /// <c>persons_household_scan</c> (household number, birth date as YYYYMMDD, the row's bits: migration
    /// 0070), in household order, and compares integers.
    /// The pass counts each household's possible job-seekers by their rows (<see cref="SeekerByRowSql"/>: full-time
    /// students and those retired in the register are never job-seekers, DOMAIN.md §3); members among them who draw
    /// a pension are then taken off, found from the pensions in payment. A household qualifies with at least
    /// <paramref name="minJobSeekers"/> (ZeroEmployment:MinJobSeekers). The member-by-member count this replaced
    /// read every person's row again and computed working age per row: 1.2 s of a 1.5 s scan (bench data, lab).
    /// Returns the number of qualifying households.
    /// </summary>
    public static async Task<int> ScanAsync(UnitOfWork uow, DateOnly asOf, bool includeRural, int defaultFemaleBaseline, int minimumAge, int minJobSeekers = 1)
    {
        var b = ScanBounds.Of(asOf, minimumAge);
        // The pass runs as two halves of the household numbers, split at the median the planner's statistics
        // give ('' without statistics: the first half is empty), each half whole in one parallel worker: a
        // household is never split, so each worker filters its own households and only those kept travel.
        var median = await MedianHouseholdAsync(uow) ?? "";
        // One parameter object for both statements (Dapper sends a statement only the parameters it names).
        var args = new
        {
            median, asOf, includeRural, minJobSeekers, youngest = b.Youngest, male = b.Male, female55 = b.Female55, female50 = b.Female50,
            femaleDefault = defaultFemaleBaseline == 55 ? b.Female55 : b.Female50,
        };
        // One round trip: the settings (parallel plans not priced out by their ~50,000 output rows, for this
        // statement only: they are not the work's settings, the check's other statements keep the defaults),
        // the pass into ze_scan, the parallel settings back, and the count of qualifying households.
        await uow.Connection.ExecuteAsync(uow.Command($$"""
            SET LOCAL parallel_setup_cost = 0;
            SET LOCAL parallel_tuple_cost = 0;
            SET LOCAL min_parallel_index_scan_size = 0;
            CREATE TEMP TABLE ze_scan ON COMMIT DROP AS
            SELECT household_no, f & 1 = 1 AS urban, f & 2 = 2 AS business_income, f & 8 = 8 AS has_employed,
                   seekers, f & 10 = 0 AND seekers >= @minJobSeekers AND (f & 1 = 1 OR @includeRural) AS qualifies
            FROM ({{Pass("household_no < @median")}}
                  UNION ALL
                  {{Pass("household_no >= @median")}}) household
            WHERE (f & 14 = 4 AND (f & 1 = 1 OR @includeRural))
               OR household_no IN (SELECT household_no FROM app.zero_employment_cases WHERE state IN {{CaseLifecycle.OpenSqlList}});
            SET LOCAL parallel_setup_cost = DEFAULT;
            SET LOCAL parallel_tuple_cost = DEFAULT;
            SET LOCAL min_parallel_index_scan_size = DEFAULT;
            """, args, CommandTimeoutSeconds));

        // Members the pass counted who draw a pension are no job-seekers: found from the pensions in payment (a
        // fraction of the register; none in a register without entitlements), their households' counts lowered.
        // Per member, not per entitlement: a person with two pensions is one pensioner.
        return await uow.Connection.ExecuteScalarAsync<int>(uow.Command($$"""
            UPDATE ze_scan s SET seekers = s.seekers - p.pensioners,
                   qualifies = s.qualifies AND s.seekers - p.pensioners >= @minJobSeekers
            FROM (SELECT m.household_no, count(*) AS pensioners FROM app.persons m
                  WHERE m.id_number IN (SELECT e.id_number FROM app.entitlements e WHERE {{PensionInPaymentSql}})
                    AND {{SeekerByRowSql}} AND m.household_no IN (SELECT household_no FROM ze_scan WHERE seekers > 0)
                  GROUP BY m.household_no) p
            WHERE p.household_no = s.household_no;
            SELECT count(*) FROM ze_scan WHERE qualifies;
            """, args, CommandTimeoutSeconds));

        // One aggregate over a range of households: the bits of ze_code (migrations 0070, 0180) of every member, where
        // a member outside working age keeps only bits 1 (urban) and 2 (business income). So per household: 4 a
        // working-age member able and willing to work, not employed, not a student, not retired; 8 one employed;
        // and how many members have bit 4.
        static string Pass(string range) => $"""
            SELECT household_no, bit_or(ze_code & CASE WHEN {OutsideWorkingAgeSql} THEN 3 ELSE 15 END) AS f,
                   count(*) FILTER (WHERE {SeekerByRowSql}) AS seekers
            FROM app.persons m WHERE {range}
            GROUP BY household_no
            """;
    }

    /// <summary>The median household number by the planner's statistics of <c>app.persons</c>; null without statistics.</summary>
    internal static Task<string?> MedianHouseholdAsync(UnitOfWork uow) =>
        uow.ScalarAsync<string?>("""
            SELECT (histogram_bounds::text::text[])[array_length(histogram_bounds::text::text[], 1) / 2 + 1]
            FROM pg_stats WHERE schemaname = 'app' AND tablename = 'persons' AND attname = 'household_no'
            """);

    /// <summary>
    /// A run's working-age test as birth days (YYYYMMDD integers, as <c>ze_birth</c>): the latest birth day
    /// already of minimum age, and per retirement rule the latest already retired. The retirement date grows
    /// with the birth date (RetirementAge), so walking back from the youngest possible pensioner (49 years)
    /// finds each bound; the SQL definition, <c>app.is_working_age</c>, is held equal by ZeroEmploymentScanFacts.
    /// </summary>
    internal sealed record ScanBounds(int Youngest, int Male, int Female55, int Female50)
    {
        public static ScanBounds Of(DateOnly asOf, int minimumAge) => new(
            Latest(asOf.AddYears(-minimumAge).AddDays(2), d => d.AddYears(minimumAge) <= asOf),
            Latest(asOf.AddYears(-49), d => RetirementAge.RetirementDate(d, Sex.Male) <= asOf),
            Latest(asOf.AddYears(-49), d => RetirementAge.RetirementDate(d, Sex.Female, 55) <= asOf),
            Latest(asOf.AddYears(-49), d => RetirementAge.RetirementDate(d, Sex.Female, 50) <= asOf));

        private static int Latest(DateOnly from, Func<DateOnly, bool> reached)
        {
            var d = from;
            while (!reached(d)) d = d.AddDays(-1);
            return d.Year * 10_000 + d.Month * 100 + d.Day;
        }
    }

    public async Task<CheckResult> RunAsync(DateOnly asOf, CancellationToken ct, bool dryRun = false)
    {
        var r = await work.RunAsync("zero-employment.check", uow => CheckAsync(uow, asOf, dryRun), ct, new WorkOptions
        {
            RecordId = asOf.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            // JIT off for the whole check: JIT compiling took 1.7 s of 4.1 s on the earlier text-based scan, and
            // on the integer pass it saved under 5 %, measured.
            Settings = ["jit = off"],
            // Two workers (or a worker and `jobs run`) never interleave: the second waits, then finds nothing to do.
            Lock = LockName,
            CommandTimeout = CommandTimeoutSeconds,
            // --dry-run: everything is done, counted and timed, then rolled back (nothing changed, nothing signalled).
            RollBack = dryRun,
        });
        log.LogInformation(
            "zero-employment check as of {AsOf}: {Qualifying} qualifying, {Opened} proposed, {ProposalsReminded} proposals reminded, {Cleared} cleared, {Closed} closed, {Reminded} reminded, {Overdue} overdue, {Queued} messages, scan {ScanMs} ms{Dry}",
            asOf, r.Qualifying, r.Opened, r.ProposalsReminded, r.Cleared, r.ClosedNoLongerQualifying, r.Reminded, r.Overdue, r.MessagesQueued, (long)r.ScanTime.TotalMilliseconds, dryRun ? " (dry run, rolled back)" : "");
        return r;
    }

    private async Task<CheckResult> CheckAsync(UnitOfWork uow, DateOnly asOf, bool dryRun)
    {
        var o = options.Value;
        var wa = workingAge.Value;
        var table = CaseLifecycle.Table;

        var latest = await uow.ScalarAsync<DateOnly?>(
            "SELECT max(greatest(proposed_on, proposal_reminded_on, identified_on, overdue_on, cleared_on, closed_on, reminded_on, rejected_on)) FROM app.zero_employment_cases");
        if (latest > asOf)
            throw new DomainRuleException($"cases were updated as of {latest:yyyy-MM-dd}; a check as of the earlier {asOf:yyyy-MM-dd} would rewrite history / 不能按早于 {latest:yyyy-MM-dd} 的日期排查");

        var started = Stopwatch.GetTimestamp();
        var qualifying = await ScanAsync(uow, asOf, o.IncludeRural, wa.DefaultFemaleBaseline, wa.MinimumAge, o.MinJobSeekers);
        var scanTime = Stopwatch.GetElapsedTime(started);
        TestHooks.Point("zero-employment:scanned");

        var p = new
        {
            asOf, days = o.ClearWithinDays, remind = o.RemindDaysBefore, confirmRemind = o.ConfirmRemindDays,
            defaultFemaleBaseline = wa.DefaultFemaleBaseline, minimumAge = wa.MinimumAge,
            proposed = table.Db(CaseState.Proposed), identified = table.Db(CaseState.Identified), overdue = table.Db(CaseState.Overdue),
            cleared = table.Db(CaseState.Cleared), closed = table.Db(CaseState.Closed), rejected = table.Db(CaseState.Rejected),
        };

        // 清零: a working-age member of a confirmed household is employed now. The date is the run's; who is recorded masked.
        var cleared = await uow.ListAsync<long>($$"""
            UPDATE app.zero_employment_cases c
            SET state = @cleared, cleared_on = @asOf,
                cleared_by = (SELECT jsonb_agg(jsonb_build_object(
                                  'member', left(m.id_number, 6) || '********' || right(m.id_number, 4),
                                  'employment', m.employment, 'since', m.employment_since) ORDER BY m.id_number)
                              FROM app.persons m
                              WHERE m.household_no = c.household_no AND m.employment IN {{EmployedKinds}}
                                AND app.is_working_age(m.id_number, coalesce(m.female_baseline, @defaultFemaleBaseline), @asOf, @minimumAge))
            FROM ze_scan s
            WHERE s.household_no = c.household_no AND s.has_employed AND c.state IN {{CaseLifecycle.ActiveSqlList}}
            RETURNING c.id
            """, p);

        // Still open (a proposal, or confirmed and not cleared) but no longer qualifying: closed automatically,
        // with the cause. A proposal whose household found work before anyone confirmed it closes here too: it was
        // never identified, so it is not a clearing.
        var closed = await uow.ListAsync<long>($$"""
            UPDATE app.zero_employment_cases c
            SET state = @closed, closed_on = @asOf, close_reason = 'no_longer_qualifies', closed_by = 'zero-employment-check', closed_at = now(),
                close_note = CASE
                    WHEN s.household_no IS NULL THEN '户号已不在人员名册中'
                    WHEN s.has_employed THEN '家庭中已有劳动年龄内的成员就业'
                    WHEN s.business_income THEN '家庭成员有经营性收入'
                    WHEN s.seekers = 0 THEN '家庭中已无劳动年龄内有劳动能力和就业意愿的成员(在校学生、领取养老金人员不计)'
                    WHEN s.qualifies IS NOT TRUE AND (s.urban OR @includeRural) THEN '有就业意愿的成员人数少于认定标准'
                    ELSE '非城镇户籍家庭(未纳入排查范围)' END
            FROM app.zero_employment_cases c2
            LEFT JOIN ze_scan s ON s.household_no = c2.household_no
            WHERE c2.id = c.id AND c.state IN {{CaseLifecycle.OpenSqlList}} AND s.qualifies IS NOT TRUE
            RETURNING c.id
            """, new { p.asOf, p.closed, includeRural = o.IncludeRural });

        // New proposals. A household an operator closed (moved, refused referrals) or a caseworker rejected is not
        // proposed again until its register entry changes after that; otherwise the next night would reopen it at once.
        var opened = await uow.ListAsync<long>($$"""
            INSERT INTO app.zero_employment_cases (household_no, street, community, state, proposed_on, reason)
            SELECT s.household_no, d.street, d.community, @proposed, @asOf, d.reason
            FROM ze_scan s
            CROSS JOIN LATERAL (
                SELECT (array_agg(m.street ORDER BY m.id_number))[1] AS street,
                       (array_agg(m.community ORDER BY m.id_number))[1] AS community,
                       jsonb_build_object('as_of', @asOf, 'members', jsonb_agg(jsonb_build_object(
                           'member', left(m.id_number, 6) || '********' || right(m.id_number, 4),
                           'sex', CASE WHEN app.id_is_male(m.id_number) THEN 'M' ELSE 'F' END,
                           'age', extract(year FROM age(@asOf, app.id_birth_date(m.id_number)))::int,
                           'retires_on', app.retirement_date(app.id_birth_date(m.id_number), app.id_is_male(m.id_number), coalesce(m.female_baseline, @defaultFemaleBaseline)),
                           'hukou', m.hukou,
                           'employment', m.employment,
                           'counts', CASE
                               WHEN NOT app.is_working_age(m.id_number, coalesce(m.female_baseline, @defaultFemaleBaseline), @asOf, @minimumAge) THEN 'not_working_age'
                               WHEN m.employment = 'student' THEN 'student'
                               WHEN {{PensionerSql}} THEN 'pensioner'
                               WHEN NOT m.able_to_work THEN 'unable'
                               WHEN NOT m.wants_work THEN 'unwilling'
                               ELSE 'seeking' END) ORDER BY m.id_number)) AS reason
                FROM app.persons m WHERE m.household_no = s.household_no
            ) d
            WHERE s.qualifies
              AND NOT EXISTS (SELECT 1 FROM app.zero_employment_cases o WHERE o.household_no = s.household_no AND o.state IN {{CaseLifecycle.OpenSqlList}})
              AND NOT EXISTS (
                  SELECT 1 FROM app.zero_employment_cases l
                  WHERE l.id = (SELECT x.id FROM app.zero_employment_cases x WHERE x.household_no = s.household_no ORDER BY x.id DESC LIMIT 1)
                    AND ((l.state = @closed AND l.close_reason IN ('moved', 'refused_referrals')) OR l.state = @rejected)
                    AND NOT EXISTS (SELECT 1 FROM app.persons m WHERE m.household_no = s.household_no AND m.updated_at > coalesce(l.closed_at, l.decided_at)))
            ON CONFLICT (household_no) WHERE state IN {{CaseLifecycle.OpenSqlList}} DO NOTHING
            RETURNING id
            """, p);

        // A proposal left unconfirmed is reminded every ConfirmRemindDays days.
        var proposalsReminded = await uow.ListAsync<long>("""
            UPDATE app.zero_employment_cases SET proposal_reminded_on = @asOf
            WHERE state = @proposed AND coalesce(proposal_reminded_on, proposed_on) + @confirmRemind <= @asOf
            RETURNING id
            """, p);

        // Past the deadline (confirmation day + ClearWithinDays) and not cleared: overdue, escalated.
        var overdue = await uow.ListAsync<long>("""
            UPDATE app.zero_employment_cases SET state = @overdue, overdue_on = @asOf
            WHERE state = @identified AND deadline < @asOf
            RETURNING id
            """, p);

        var reminded = await uow.ListAsync<long>("""
            UPDATE app.zero_employment_cases SET reminded_on = @asOf
            WHERE state = @identified AND reminded_on IS NULL AND deadline - @remind <= @asOf AND deadline >= @asOf
            RETURNING id
            """, p);

        // One digest per recipient per run (the county demo once sent 8,291 mails, 120 to one caseworker): each
        // caseworker gets the new proposals, the unconfirmed ones and the deadlines near of their communities;
        // the employment service gets the newly overdue cases and the households of communities without a caseworker.
        var queued = await ZeroEmploymentMail.EnqueueDigestsAsync(uow, asOf, o.EscalationEmail, opened, proposalsReminded, reminded, overdue);
        var allOverdue = await ZeroEmploymentView.OpenOverdueAsync(uow);
        if (allOverdue.Count > 0)
            queued += await ZeroEmploymentMail.EnqueueAllAsync(uow, [ZeroEmploymentMail.WeeklyDigest(allOverdue, o.EscalationEmail, asOf)]);
        TestHooks.Point("zero-employment:before-commit");

        return new CheckResult(asOf, qualifying, opened.Count, cleared.Count, closed.Count, proposalsReminded.Count, reminded.Count, overdue.Count, queued, scanTime, dryRun);
    }
}
