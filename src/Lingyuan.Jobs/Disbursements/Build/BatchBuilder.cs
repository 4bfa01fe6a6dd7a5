using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Disbursements;

public sealed record BuildResult(long BatchId, Period Period, bool Built);

/// <summary>
/// The Build slice: builds a period's batch in one transaction with two set-based statements: the regular lines of every
/// active entitlement (payable or held with a reason), back-pay for held months whose cause cleared,
/// and re-issues of failed payments whose card data changed. A kill at any point leaves nothing half
/// built (the transaction rolls back); the advisory lock and the one-batch-per-period index make two
/// workers or a rerun end with one batch.
/// </summary>
public sealed class BatchBuilder(Work work, BureauClock clock, IOptions<DisbursementOptions> options, ILogger<BatchBuilder> log)
{
    // Builds of any period are serialised: back-pay and re-issue read every earlier batch.
    private static WorkOptions BuildWork => new() { Lock = "lingyuan.disbursement-build", Settings = BulkSettings };

    /// <summary>Every due period without a live batch, oldest first (the recurring job).</summary>
    public async Task<IReadOnlyList<BuildResult>> BuildDueAsync(string actor, CancellationToken ct)
    {
        var results = new List<BuildResult>();
        foreach (var period in await MissingDuePeriodsAsync(ct))
        {
            results.Add(await BuildAsync(period, actor, ct));
            TestHooks.Point("disbursement.build-period");
        }
        return results;
    }

    /// <summary>The latest period whose build time (BuildDay at BuildTime, in Jobs:TimeZone) has passed.</summary>
    public Period LatestDuePeriod()
    {
        var local = clock.Now;
        var current = clock.CurrentPeriod;
        var due = current.FirstDay.AddDays(options.Value.BuildDay - 1).ToDateTime(TimeOnly.FromTimeSpan(options.Value.BuildTime));
        return local.DateTime >= due ? current : Period.Of(current.FirstDay.AddMonths(-1));
    }

    /// <summary>
    /// The service's first month: <c>Disbursements:FirstPeriod</c>, else the earliest month any batch was built for,
    /// else (an empty database) the latest due month. Months before it were paid by whatever came before the
    /// service: neither the job nor the batches page ever builds them (they would be paid twice).
    /// </summary>
    public static async Task<Period> FirstOwedAsync(UnitOfWork uow, Period? configured, Period latestDue)
    {
        if (configured is { } c) return c;
        var earliest = await uow.ScalarAsync<string?>("SELECT to_char(min(period), 'YYYY-MM') FROM app.disbursement_batches");
        return Period.TryParse(earliest, out var e) && e < latestDue ? e : latestDue;
    }

    public Task<Period> FirstOwedPeriodAsync(CancellationToken ct) =>
        work.RunAsync("batch first owed", uow => FirstOwedAsync(uow, options.Value.GetFirstPeriod(), LatestDuePeriod()), ct);

    /// <param name="afterRunningBuild">Wait for a build in progress (its lock) first: what it is building is not missing.</param>
    public Task<IReadOnlyList<Period>> MissingDuePeriodsAsync(CancellationToken ct, bool afterRunningBuild = false) =>
        work.RunAsync<IReadOnlyList<Period>>("batch due periods", async uow =>
        {
            var latest = LatestDuePeriod();
            Period? first = await FirstOwedAsync(uow, options.Value.GetFirstPeriod(), latest);
            var live = (await uow.ListAsync<string>(
                $"SELECT to_char(period, 'YYYY-MM') FROM app.disbursement_batches WHERE {BatchLifecycle.LiveSql()} AND period BETWEEN @from AND @to",
                new { from = first.Value.FirstDay, to = latest.FirstDay })).ToHashSet();
            var missing = new List<Period>();
            for (var p = first.Value; p <= latest; p = p.Next())
                if (!live.Contains(p.ToString())) missing.Add(p);
            return missing;
        }, ct, afterRunningBuild ? BuildWork : null);

    /// <summary>Builds the period's batch unless it has a live one; returns that batch either way.</summary>
    public async Task<BuildResult> BuildAsync(Period period, string actor, CancellationToken ct)
    {
        using var acting = Acting.Begin(Acting.Current with { Actor = actor });
        var result = await work.RunAsync("batch build", async uow =>
        {
            if (await BatchLifecycle.LiveBatchOfAsync(uow, period) is { } existing) return new BuildResult(existing, period, false);

            var id = await uow.ScalarAsync<long>(
                "INSERT INTO app.disbursement_batches (period, state, built_by) VALUES (@p, @draft, @actor) RETURNING id",
                new { p = period.FirstDay, draft = BatchLifecycle.Table.Db(BatchState.Draft), actor });
            TestHooks.Point("disbursement.build-step");

            var o = options.Value;
            var args = Arguments(id, period, o);
            await uow.ExecuteAsync(RegularLinesSql, args, timeout: 0);
            await uow.ExecuteAsync($"{FollowUpSettings}; {FollowUpLinesSql}; SET LOCAL enable_seqscan = DEFAULT", args, timeout: 0);
            // The insert trigger keeps the batch's counters equal to its lines.
            var summary = await uow.SingleAsync<(long Payable, long Total, long Held)>(
                "SELECT payable_count, payable_total_fen, held_count FROM app.disbursement_batches WHERE id = @id", new { id });
            TestHooks.Point("disbursement.build-step");

            await Recoveries.ListNewAsync(uow);
            await uow.AuditAsync("disbursement.build", "disbursement_batch", BatchLifecycle.Id(id),
                after: new { period = period.ToString(), state = BatchLifecycle.Table.Db(BatchState.Draft), payable = summary.Payable, total_fen = summary.Total, held = summary.Held });
            await Notices.AwaitingReviewAsync(uow, o, id, period, BatchState.Draft, summary.Payable, summary.Total, summary.Held, exclude: null);
            TestHooks.Point("disbursement.build-step");
            log.LogInformation("disbursement batch {BatchId} for {Period} built: {Payable} payable, {Held} held", id, period, summary.Payable, summary.Held);
            return new BuildResult(id, period, true);
        }, ct, BuildWork with { RecordId = period.ToString() });
        return result;
    }

    internal static object Arguments(long batchId, Period period, DisbursementOptions o) => new
    {
        batch = batchId,
        p = period.FirstDay,
        next = period.FirstDay.AddMonths(1),
        prev = period.FirstDay.AddMonths(-1),
        lapse = period.FirstDay.AddMonths(-o.EligibilityValidityMonths),
        pct = o.AmountChangeAlertPercent,
    };

    /// <summary>
    /// For the set-based passes over a million rows: JIT compilation costs seconds per statement here and buys
    /// nothing; every input is keyed and stored by id_number, so merge joins over the primary keys beat
    /// hashing (measured 6.8 s against 17.5 s for the evaluation of 1 M entitlements).
    /// </summary>
    internal static readonly IReadOnlyList<string> BulkSettings =
        ["jit = off", "work_mem = '256MB'", "max_parallel_workers_per_gather = 0", "enable_hashjoin = off", "enable_hashagg = off"];

    // The regular lines: every active entitlement evaluated once, streamed straight into the table in id_number
    // order (the merge joins' order, which is also the unique index's order). Hold reasons in the order of
    // HoldReasons.All (the one table), each tested by its condition in HoldConditions below.
    // Not materialised and nothing RETURNed: the follow-ups read the payable regular lines back from the table
    // instead of a second pass over this evaluation, and the insert trigger counts the lines.
    internal static readonly string RegularLinesSql = $"""
        WITH ev AS (
            SELECT id_number,
                   min(date) FILTER (WHERE event = 'death') AS died_on,
                   max(date) FILTER (WHERE event = 'eligibility_verified' AND date < @next) AS verified_on,
                   -- Suspended when the latest suspension is not followed by a resumption (same day: suspended,
                   -- the cautious reading). Two maxima instead of an ordered array per person: one sort less per group.
                   max(date) FILTER (WHERE event IN ('suspended', 'imprisoned') AND date < @next) AS suspended_on,
                   max(date) FILTER (WHERE event = 'imprisoned' AND date < @next) AS imprisoned_on,
                   max(date) FILTER (WHERE event = 'resumed' AND date < @next) AS resumed_on
            FROM app.life_events
            GROUP BY id_number
        ),
        -- Accounts registered on more than one person's card (DOMAIN.md §2: whose account), found on the account
        -- index alone (no sort of a million cards).
        shared AS MATERIALIZED (
            SELECT bank_account FROM app.cards GROUP BY bank_account HAVING count(*) > 1
        ),
        prev AS (
            SELECT l.id, l.id_number, l.benefit, l.amount_fen, l.status, l.hold_reason, l.basis_fen
            FROM app.disbursement_lines l JOIN app.disbursement_batches b ON b.id = l.batch_id
            WHERE b.period = @prev AND {BatchLifecycle.LiveSql("b")} AND l.kind = 'regular'
        ),
        -- The month's entitlements, each with the start of the person's other benefits that it may not be paid
        -- beside (one window over the entitlements in key order, the order the merge joins read them in anyway).
        ent AS (
            SELECT e.id_number, e.benefit, e.monthly_amount_fen, e.start_period, e.suspended{IncompatibleColumns}
            FROM app.entitlements e
            WHERE e.start_period <= @p AND (e.end_period IS NULL OR e.end_period >= @p)
            WINDOW w AS (PARTITION BY e.id_number)
        )
        INSERT INTO app.disbursement_lines
            (batch_id, kind, id_number, benefit, period, amount_fen, status, hold_reason, refers_to, bank_code, bank_account, account_name, basis_fen)
        SELECT @batch, 'regular', id_number, benefit, @p, amount_fen,
               CASE WHEN hold_reason IS NULL THEN 'payable' ELSE 'held' END, hold_reason, NULL, bank_code, bank_account, name, basis_fen
        FROM (
            SELECT x.id_number, x.benefit, x.amount_fen, x.bank_code, x.bank_account, x.name, x.basis_fen,
                   CASE
                       {HoldCaseSql}
                   END AS hold_reason
            FROM (
                SELECT e.*, e.monthly_amount_fen AS amount_fen, p.id_number AS person_id, p.name,
                       c.id_number AS card_id, c.financial_status, c.bank_code, c.bank_account, c.account_holder,
                       ev.died_on, ev.verified_on, ev.imprisoned_on, ev.suspended_on, ev.resumed_on,
                       e.suspended OR ev.suspended_on >= coalesce(ev.resumed_on, ev.suspended_on) AS suspended_now,
                       -- The amount a change is measured against: last month's if it was paid or its change released
                       -- by a person, else what last month was itself measured against (the last paid amount).
                       CASE WHEN pr.id IS NULL THEN NULL
                            WHEN pr.status = 'payable' THEN pr.amount_fen
                            WHEN pr.hold_reason = 'amount_change'
                                 AND EXISTS (SELECT 1 FROM app.disbursement_hold_releases r WHERE r.line_id = pr.id) THEN pr.amount_fen
                            ELSE coalesce(pr.basis_fen, pr.amount_fen)
                       END AS basis_fen
                FROM ent e
                LEFT JOIN app.persons p ON p.id_number = e.id_number
                LEFT JOIN app.cards c ON c.id_number = e.id_number
                LEFT JOIN ev ON ev.id_number = e.id_number
                LEFT JOIN prev pr ON pr.id_number = e.id_number AND pr.benefit = e.benefit
                OFFSET 0 -- evaluate each column once per row
            ) x
            OFFSET 0 -- evaluate the hold reason once per row, not once per output column that uses it
        ) eval
        """;

    // Per incompatible pair i: the earliest start of the person's benefits of each side, this month.
    private static string IncompatibleColumns => string.Concat(BenefitRules.IncompatiblePairs.Select((pair, i) => $"""
        ,
                   min(e.start_period) FILTER (WHERE e.benefit IN ({BenefitRules.SqlList(pair.First)})) OVER w AS first_start_{i},
                   min(e.start_period) FILTER (WHERE e.benefit IN ({BenefitRules.SqlList(pair.Second)})) OVER w AS second_start_{i}
        """));

    /// <summary>
    /// The condition of each hold reason over the evaluated row <c>x</c> (DOMAIN.md §2). Tested in the order of
    /// <see cref="HoldReasons.All"/>; a test checks every reason has one.
    /// </summary>
    internal static IReadOnlyDictionary<string, string> HoldConditions => new Dictionary<string, string>
    {
        // Paid for the month of death; held from the month after it.
        [HoldReasons.Dead.Code] = "x.died_on < @p",
        // Any suspension of an unemployment benefit stops it (失业保险条例 art. 15 lists the causes, imprisonment among them).
        [HoldReasons.UnemploymentStopped.Code] = "x.suspended_now AND x.benefit = 'unemployment'",
        // The latest suspension event is an imprisonment and no resumption followed it.
        [HoldReasons.Imprisoned.Code] = "x.imprisoned_on = x.suspended_on AND x.suspended_on >= coalesce(x.resumed_on, x.suspended_on)",
        [HoldReasons.Suspended.Code] = "x.suspended_now",
        // Later-starting of two benefits the person may not receive together; on the same start, the second of the pair.
        [HoldReasons.IncompatibleBenefit.Code] = "(" + string.Join(" OR ", BenefitRules.IncompatiblePairs.Select((pair, i) =>
            $"(x.benefit IN ({BenefitRules.SqlList(pair.Second)}) AND x.first_start_{i} <= x.start_period) "
            + $"OR (x.benefit IN ({BenefitRules.SqlList(pair.First)}) AND x.second_start_{i} < x.start_period)")) + ")",
        [HoldReasons.NoPerson.Code] = "x.person_id IS NULL",
        [HoldReasons.NoCard.Code] = "x.card_id IS NULL",
        [HoldReasons.CardInactive.Code] = "x.financial_status <> 'active'",
        // Long-term benefits only, and not in the first EligibilityValidityMonths of an entitlement (its award verified the person).
        [HoldReasons.EligibilityLapsed.Code] = $"x.benefit IN ({BenefitRules.SqlList(BenefitRules.NeedVerification)}) AND x.start_period <= @lapse "
            + "AND (x.verified_on IS NULL OR x.verified_on <= @lapse)",
        // The card register names another holder of the account (a spouse's included).
        [HoldReasons.NotOwnAccount.Code] = "x.account_holder IS NOT NULL AND x.account_holder <> x.id_number",
        // One account on several persons' cards and this card does not name its holder: whose it is is unknown.
        [HoldReasons.DuplicateAccount.Code] = "x.account_holder IS NULL AND x.bank_account IN (SELECT bank_account FROM shared)",
        [HoldReasons.AmountChange.Code] = "x.basis_fen IS NOT NULL AND abs(x.amount_fen - x.basis_fen) * 100 > @pct * x.basis_fen",
    };

    private static string HoldCaseSql => string.Join("\n                       ",
        HoldReasons.All.Select(r => $"WHEN {HoldConditions[r.Code]} THEN '{r.Code}'"));

    // Back-pay and re-issues, after the regular lines: a person is payable now exactly when this batch holds a
    // payable regular line for them, which also carries the current card and name. Looked up per follow-up on
    // the one-payment index (few rows), instead of joining the whole evaluation again.
    // The million lines just inserted are not in the planner's statistics yet (ANALYZE would cost ~0.5 s), and a
    // plan guessed from them drove from the batch's lines and rescanned the held ones per line (minutes). The
    // shape is therefore fixed: from the few held lines and failed outcomes, each looking up its person's line
    // of this batch (LATERAL: always the inner side) on the one-payment index (seqscan off for this statement).
    // `batch_id + 0`: the batch is checked, but never as an index condition — the statistics call the new batch
    // empty, and a lookup on disbursement_lines_batch then scanned all its million lines for every held line (a
    // third month ran for over ten minutes). The one-payment key finds the one line. The held lines are read by
    // month on disbursement_lines_held, which carries the columns read here (0160): the batch just built is skipped
    // in the index, earlier months come from the index alone.
    internal const string FollowUpSettings = "SET LOCAL enable_seqscan = off";

    internal static readonly string FollowUpLinesSql = $"""
        INSERT INTO app.disbursement_lines
            (batch_id, kind, id_number, benefit, period, amount_fen, status, hold_reason, refers_to, bank_code, bank_account, account_name)
        -- Back-pay: a held month of a live batch, not yet followed up, whose person is payable now, if its hold reason
        -- is one whose months are back-paid (HoldReasons) and, for an amount change, a person released it.
        SELECT @batch, 'back_pay', h.id_number, h.benefit, h.period, h.amount_fen, 'payable', NULL, h.id, v.bank_code, v.bank_account, v.account_name
        FROM app.disbursement_lines h
        CROSS JOIN LATERAL (SELECT * FROM app.disbursement_lines v
                            WHERE v.id_number = h.id_number AND v.benefit = h.benefit AND v.period = @p AND v.batch_id + 0 = @batch
                              AND v.kind = 'regular' AND v.kind <> 'reissue' AND v.status = 'payable' AND NOT v.released
                            LIMIT 1) v -- at most one (the unique index); LIMIT also keeps the subquery from being flattened
        WHERE h.status = 'held' AND NOT h.released AND h.period < @p
          AND h.hold_reason IN ({HoldReasons.BackPaidSqlList()})
          AND (h.hold_reason <> '{HoldReasons.AmountChange.Code}'
               OR EXISTS (SELECT 1 FROM app.disbursement_hold_releases r WHERE r.line_id = h.id))
          AND NOT EXISTS (SELECT 1 FROM app.disbursement_lines x WHERE x.refers_to = h.id AND NOT x.released)
        UNION ALL
        -- Re-issue: a payment the bank returned, once the card or name changed after the return.
        SELECT @batch, 'reissue', f.id_number, f.benefit, f.period, f.amount_fen, 'payable', NULL, f.id, v.bank_code, v.bank_account, v.account_name
        FROM app.disbursement_outcomes o
        JOIN app.disbursement_lines f ON f.id = o.line_id
        JOIN app.cards c ON c.id_number = f.id_number
        JOIN app.persons p ON p.id_number = f.id_number
        CROSS JOIN LATERAL (SELECT * FROM app.disbursement_lines v
                            WHERE v.id_number = f.id_number AND v.benefit = f.benefit AND v.period = @p AND v.batch_id + 0 = @batch
                              AND v.kind = 'regular' AND v.kind <> 'reissue' AND v.status = 'payable' AND NOT v.released
                            LIMIT 1) v -- at most one (the unique index); LIMIT also keeps the subquery from being flattened
        WHERE o.status = 'failed'
          AND NOT EXISTS (SELECT 1 FROM app.disbursement_lines x WHERE x.refers_to = f.id AND NOT x.released)
          AND (c.updated_at > o.recorded_at OR p.updated_at > o.recorded_at
               OR c.bank_account <> f.bank_account OR c.bank_code <> f.bank_code OR p.name <> f.account_name)
        """;
}

/// <summary><c>batch build PERIOD</c>: the Build slice from the command line.</summary>
public sealed class BatchBuildCommand(BatchBuilder builder) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch build",
        "build a period's disbursement batch if it has none / 生成某月待遇发放批次(若尚未生成)",
        """
        usage: Lingyuan.Jobs batch build PERIOD        (PERIOD = YYYY-MM)
        用法:  Lingyuan.Jobs batch build 期别           (期别格式 YYYY-MM)
        Prints the batch id. A period that has a batch (not rejected) is not built again.
        输出批次编号。已有批次(未被退回)的期别不会重复生成。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var text = args.Positional(0, "PERIOD");
        args.ExpectPositionals(1);
        if (!Period.TryParse(text, out var period))
            throw new UsageException($"PERIOD must be YYYY-MM, got '{text}' / 期别格式应为 YYYY-MM");
        var r = await builder.BuildAsync(period, Acting.Current.Actor, ct);
        Console.WriteLine(r.BatchId);
        if (!r.Built) Console.Error.WriteLine($"period {period} already has batch {r.BatchId} / {period} 已有批次 {r.BatchId}");
        return ExitCodes.Ok;
    }
}

/// <summary><c>disbursement-build</c> (runs as <c>job:disbursement-build</c>): builds every due period that has no batch (a missed month catches up).</summary>
public sealed class DisbursementBuildJob(BatchBuilder builder) : IRecurringJob
{
    // Named here, as the draw and arrears jobs do, so `jobs run` from the CLI records the job too, not the shell user.
    public async Task RunAsync(CancellationToken ct)
    {
        var results = await builder.BuildDueAsync("job:disbursement-build", ct);
        var built = results.Where(r => r.Built).ToList();
        Hosting.Runs.RunReport.Done(built.Count == 0 ? "没有需要生成的批次" : "已生成批次:" + string.Join("、", built.Select(r => $"{r.Period}(编号 {r.BatchId})")),
            new { built = built.Count });
    }
}

