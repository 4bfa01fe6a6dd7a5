using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.WageArrears;

public enum DecisionKind { Listed, NotListed }

public sealed record DailyResult(int Screened, int NoticesSent, int Decided, int Expired, int Reminders, int DigestLines);

/// <summary>
/// The Daily slice: the listing procedure of 人社部令第45号 (DOMAIN.md §4) as explicit states with dates
/// (<see cref="ProcedureLifecycle"/>): screened_out | candidate → notice_sent → listed | not_listed;
/// listed → removed (expired, repaired, overturned), and the people's decisions on the dashboard.
/// Every transition is a conditional UPDATE on the state, written with its event, audit record,
/// document and outbox message in one unit of work: a rerun or a second worker finds nothing left to do.
/// </summary>
public sealed class ArrearsProcedure(
    Work work, CalendarStore calendars, BureauClock clock,
    IOptions<WageArrearsOptions> options, ILogger<ArrearsProcedure> log)
{
    public const string JobActor = "job:" + WageArrearsSetup.JobId;
    private readonly WageArrearsOptions _o = options.Value;
    private readonly ListingThresholds _t = ListingThresholds.From(options.Value);
    private ArrearsNotices Notices => new(_o);
    private static StateTable<ProcedureState, ProcedureVerb> T => ProcedureLifecycle.Table;
    private static string Db(ProcedureState s) => ProcedureLifecycle.Table.Db(s);

    public WageArrearsOptions Options => _o;

    /// <summary>Today in the bureau's zone (<see cref="BureauClock"/>).</summary>
    public DateOnly Today() => clock.Today;

    /// <summary>Who acts on a case: a person named by the page, or the daily job.</summary>
    private static IDisposable As(string actor) => Acting.Begin(Acting.Current with { Actor = actor });

    public async Task<DailyResult> RunDailyAsync(CancellationToken ct)
    {
        // The job acts as itself whether Hangfire, `jobs run` or the dashboard's "run now" started it.
        using var acting = Acting.Begin(Acting.Current with { Actor = JobActor, Channel = Acting.Job });
        var today = Today();
        var cal = await calendars.LoadAsync(ct);
        var result = new DailyResult(
            await ScreenAsync(today, cal, ct),
            await SendNoticesAsync(today, cal, ct),
            await DecideDueAsync(today, ct),
            await ExpireAsync(today, ct),
            await RemindStaffAsync(today, cal, ct),
            await SendPartnerDigestAsync(today, ct));
        log.LogInformation("wage arrears {Today}: {Result}", today, result);
        return result;
    }

    // ---- 1. Screening: cases whose payment deadline passed unpaid are tested (art. 5). ----

    private async Task<int> ScreenAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        var cases = await work.RunAsync("wage-arrears.screen.find", uow => uow.ListAsync<CaseView>(CaseView.Select + """
             WHERE c.pay_deadline < @today AND (c.paid_on IS NULL OR c.paid_on > c.pay_deadline)
               AND (p.case_no IS NULL OR (p.state = @screenedOut AND c.paid_on IS NULL))
             ORDER BY c.case_no
            """, new { today, screenedOut = Db(ProcedureState.ScreenedOut) }), ct);
        if (cases.Count == 0) return 0;

        var rows = cases.Select(c =>
        {
            var rule = ListingTest.Evaluate(c.Facts, _t);
            var due = cal.AddWorkingDays(c.PayDeadline, _o.DecisionWorkingDays);
            return (c.CaseNo, Existing: c.State is not null, Rule: rule, Due: due);
        }).ToList();

        return await work.RunAsync("wage-arrears.screen", async uow =>
        {
            // New cases in one statement; a concurrent run inserting the same case first wins (ON CONFLICT).
            var fresh = rows.Where(r => !r.Existing).ToList();
            var inserted = await uow.ListAsync<(string CaseNo, string State, string Rule)>("""
                WITH ins AS (
                    INSERT INTO app.arrears_procedures (case_no, state, listable, test_rule, tested_on, candidate_on, decision_due_on, decision_due_calendar_missing)
                    SELECT n.case_no, n.state, n.listable, n.rule, @today,
                           CASE WHEN n.listable THEN @today::date END, CASE WHEN n.listable THEN n.due END, n.listable AND n.missing
                    FROM unnest(@caseNos, @states, @listables, @rules, @dues, @missing) AS n(case_no, state, listable, rule, due, missing)
                    ON CONFLICT (case_no) DO NOTHING
                    RETURNING case_no, state, test_rule
                ), ev AS (
                    INSERT INTO app.arrears_events (case_no, kind, on_date, actor, details)
                    SELECT case_no, state, @today, @actor, test_rule FROM ins
                )
                SELECT case_no, state, test_rule FROM ins
                """,
                new
                {
                    today,
                    actor = uow.Acting.Actor,
                    caseNos = fresh.Select(r => r.CaseNo).ToArray(),
                    states = fresh.Select(r => Db(ProcedureLifecycle.Entry(r.Rule.IsListable()))).ToArray(),
                    listables = fresh.Select(r => r.Rule.IsListable()).ToArray(),
                    rules = fresh.Select(r => r.Rule.Code()).ToArray(),
                    dues = fresh.Select(r => r.Due.Date).ToArray(),
                    missing = fresh.Select(r => r.Due.CalendarMissing).ToArray(),
                });
            foreach (var i in inserted)
                await uow.AuditAsync($"arrears.{i.State}", "arrears_case", i.CaseNo, after: new { state = i.State, test_rule = i.Rule, tested_on = today });

            // Cases screened out earlier whose register data changed (an import update) may be listable now.
            var retest = T.MoveOf(ProcedureVerb.Retest);
            var retested = 0;
            foreach (var r in rows.Where(r => r.Existing))
            {
                var became = await uow.ExecuteAsync("""
                    UPDATE app.arrears_procedures
                    SET listable = @listable, test_rule = @rule, tested_on = @today, updated_at = now(),
                        state = CASE WHEN @listable THEN @to ELSE state END,
                        candidate_on = CASE WHEN @listable THEN @today::date END,
                        decision_due_on = CASE WHEN @listable THEN @due::date END,
                        decision_due_calendar_missing = @listable AND @missing
                    WHERE case_no = @CaseNo AND state = ANY(@from) AND (test_rule <> @rule OR tested_on <> @today)
                    """, new
                    {
                        r.CaseNo, listable = r.Rule.IsListable(), rule = r.Rule.Code(), today, due = r.Due.Date, missing = r.Due.CalendarMissing,
                        to = Db(retest.To), from = retest.From.Select(Db).ToArray(),
                    });
                if (became == 1 && r.Rule.IsListable())
                {
                    await EventAsync(uow, r.CaseNo, Db(retest.To), today, $"retested: {r.Rule.Code()}");
                    await uow.AuditAsync($"arrears.{Db(retest.To)}", "arrears_case", r.CaseNo,
                        before: new { state = Db(retest.From[0]) }, after: new { state = Db(retest.To), test_rule = r.Rule.Code() });
                    retested++;
                }
            }
            return inserted.Count + retested;
        }, ct);
    }

    // ---- 2. Pre-listing notice (告知书) with the statement period (陈述申辩). ----

    private async Task<int> SendNoticesAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        var move = T.MoveOf(ProcedureVerb.SendNotice);
        // Without the employer in the register or an address the notice cannot be served by mail: the
        // case stays a candidate and the dashboard says why.
        var due = await work.RunAsync("wage-arrears.notices.find", uow => uow.ListAsync<CaseView>(CaseView.Select + """
             WHERE p.state = ANY(@from) AND e.uscc IS NOT NULL AND btrim(e.email) <> ''
             ORDER BY c.case_no
            """, new { from = move.From.Select(Db).ToArray() }), ct);
        var sent = 0;
        foreach (var c in due)
        {
            // The day of sending is not counted (WorkingCalendar.AddWorkingDays).
            var statementDue = cal.AddWorkingDays(today, _o.StatementPeriodWorkingDays);
            var done = await work.RunAsync("wage-arrears.notice", async uow =>
            {
                var moved = await uow.ExecuteAsync("""
                    UPDATE app.arrears_procedures
                    SET state = @to, notice_sent_on = @today, statement_due_on = @due, statement_due_calendar_missing = @missing, updated_at = now()
                    WHERE case_no = @CaseNo AND state = ANY(@from)
                    """, new { c.CaseNo, today, due = statementDue.Date, missing = statementDue.CalendarMissing, to = Db(move.To), from = move.From.Select(Db).ToArray() });
                if (moved == 0) return false; // another run took it
                await EventAsync(uow, c.CaseNo, Db(move.To), today, $"statement period ends {statementDue.Date:yyyy-MM-dd}");
                await uow.AuditAsync($"arrears.{Db(move.To)}", "arrears_case", c.CaseNo,
                    before: new { state = Db(move.From[0]) }, after: new { state = Db(move.To), notice_sent_on = today, statement_due_on = statementDue.Date });
                await IssuedDocuments.IssueAsync(uow, c.CaseNo, "pre_listing_notice", $"wage-arrears:{c.CaseNo}:notice",
                    Notices.PreListingNotice(c, _t, today, statementDue.Date), [c.EmployerEmail!]);
                TestHooks.Point("wage-arrears:notice");
                return true;
            }, ct, new WorkOptions { RecordId = c.CaseNo });
            if (done) sent++;
        }
        return sent;
    }

    // ---- 3. Decisions: automatic when the statement period is over and no statement came in. ----

    private async Task<int> DecideDueAsync(DateOnly today, CancellationToken ct)
    {
        // A statement received must be weighed by a person: those cases wait for a decision on the dashboard.
        var due = await work.RunAsync("wage-arrears.decisions.find", uow => uow.ListAsync<string>("""
            SELECT case_no FROM app.arrears_procedures
            WHERE state = ANY(@from) AND statement_due_on < @today AND statement_received_on IS NULL
            ORDER BY case_no
            """, new { today, from = T.MoveOf(ProcedureVerb.List).From.Select(Db).ToArray() }), ct);
        var decided = 0;
        foreach (var caseNo in due)
            if (await DecideAsync(caseNo, requested: null, note: null, JobActor, ct) is not null) decided++;
        return decided;
    }

    /// <summary>
    /// Decides a case: <paramref name="requested"/> null lets the rules decide (the job). Refused before
    /// the statement period has ended. Returns the decision, or null when the case was decided meanwhile
    /// by someone else (automatic runs only; a person gets an error).
    /// </summary>
    public async Task<DecisionKind?> DecideAsync(string caseNo, DecisionKind? requested, string? note, string actor, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(note)) note = Dashboard.TextRules.SingleLine(note, "reason", "理由", Dashboard.TextRules.ReasonMaxLength);
        var today = Today();
        using var acting = As(actor);
        return await work.RunAsync<DecisionKind?>("wage-arrears.decide", async uow =>
        {
            var c = await ProcedureLifecycle.LoadForUpdateAsync(uow, caseNo);
            if (c.Current is not { } current || !T.Allows(ProcedureVerb.List, current))
            {
                if (requested is null) return null;
                throw new DomainRuleException($"案件 {caseNo} 当前为“{ProcedureLifecycle.Label(c.State)}”,不能作出列入决定");
            }
            // 陈述申辩: the party may state and defend until the last day of the period; deciding earlier would cut that right short.
            if (today <= c.StatementDueOn)
                throw new DomainRuleException($"陈述申辩期至 {c.StatementDueOn:yyyy-MM-dd} 届满,届满前不得作出决定");

            var rule = ListingTest.Evaluate(c.Facts, _t);
            DecisionKind kind;
            string reason;
            if (requested == DecisionKind.NotListed)
            {
                if (string.IsNullOrWhiteSpace(note)) throw new DomainRuleException("不予列入须写明理由");
                kind = DecisionKind.NotListed;
                reason = note.Trim();
            }
            else if (requested == DecisionKind.Listed)
            {
                if (!rule.IsListable()) throw new DomainRuleException("按现有案件数据不符合列入条件(人社部令第45号第五条),不能列入");
                kind = DecisionKind.Listed;
                reason = ListingTest.ReasonZh(rule, c.Facts, _t);
            }
            else if (c.PaidOn is { } paid && c.CreditPromiseOn is { } promise && paid <= today && promise <= today)
            {
                // 审慎列入: corrected before the decision and promised in writing.
                kind = DecisionKind.NotListed;
                reason = $"当事人已于{DocRender.DateZh(paid)}改正拖欠工资违法行为,并于{DocRender.DateZh(promise)}作出不再拖欠农民工工资的书面信用承诺";
            }
            else if (!rule.IsListable())
            {
                kind = DecisionKind.NotListed;
                reason = "根据更新后的案件数据,已不符合列入条件(人社部令第45号第五条)";
            }
            else
            {
                kind = DecisionKind.Listed;
                reason = ListingTest.ReasonZh(rule, c.Facts, _t);
            }

            var move = T.Require(kind == DecisionKind.Listed ? ProcedureVerb.List : ProcedureVerb.NotList, current, caseNo);
            var listedUntil = kind == DecisionKind.Listed ? today.AddYears(_o.ListingYears) : (DateOnly?)null;
            var state = Db(move.To);
            var moved = await uow.ExecuteAsync("""
                UPDATE app.arrears_procedures
                SET state = @state, decided_on = @today, decided_by = @actor, decision_reason = @reason, listed_until = @listedUntil,
                    listable = @listable, test_rule = @rule, tested_on = @today, updated_at = now()
                WHERE case_no = @caseNo AND state = ANY(@from)
                """, new { caseNo, state, today, actor, reason, listedUntil, listable = rule.IsListable(), rule = rule.Code(), from = move.From.Select(Db).ToArray() });
            if (moved == 0) return null;
            await EventAsync(uow, caseNo, state, today, reason);
            await uow.AuditAsync($"arrears.{state}", "arrears_case", caseNo,
                before: new { state = c.State }, after: new { state, decided_on = today, listed_until = listedUntil, test_rule = rule.Code() }, details: reason);
            c.DecidedOn = today;
            var doc = kind == DecisionKind.Listed
                ? Notices.ListingDecision(c, _t, today, listedUntil!.Value, reason)
                : Notices.NotListedDecision(c, today, reason);
            await IssuedDocuments.IssueAsync(uow, caseNo, kind == DecisionKind.Listed ? "listing_decision" : "not_listed_decision",
                $"wage-arrears:{caseNo}:decision", doc, c.HasEmail ? [c.EmployerEmail!] : []);
            return kind;
        }, ct, new WorkOptions { RecordId = caseNo });
    }

    // ---- 4. Removal when the listing period ends (the day ListingYears after the decision). ----

    private async Task<int> ExpireAsync(DateOnly today, CancellationToken ct)
    {
        var move = T.MoveOf(ProcedureVerb.Expire);
        var due = await work.RunAsync("wage-arrears.expire.find", uow => uow.ListAsync<string>(
            "SELECT case_no FROM app.arrears_procedures WHERE state = ANY(@from) AND listed_until <= @today ORDER BY case_no",
            new { today, from = move.From.Select(Db).ToArray() }), ct);
        var removed = 0;
        foreach (var caseNo in due)
        {
            var done = await work.RunAsync("wage-arrears.expire", async uow =>
            {
                var c = await ProcedureLifecycle.LoadForUpdateAsync(uow, caseNo);
                // Removed as of the day the period ended, even when the job runs late.
                return await RemoveAsync(uow, c, ProcedureVerb.Expire, c.ListedUntil!.Value, "expired", "列入期限届满");
            }, ct, new WorkOptions { RecordId = caseNo });
            if (done) removed++;
        }
        return removed;
    }

    /// <summary>
    /// 信用修复: early removal on request when the arrears are paid, the party has been listed for
    /// RepairWaitMonths since the correction (人社部令第45号: "自改正之日起被列入名单满6个月"), and a
    /// written credit promise is on file. A refusal is recorded, then reported.
    /// </summary>
    public async Task RequestEarlyRemovalAsync(string caseNo, string actor, CancellationToken ct)
    {
        var today = Today();
        using var acting = As(actor);
        var refusal = await work.RunAsync<string?>("wage-arrears.repair", async uow =>
        {
            var c = await ProcedureLifecycle.LoadForUpdateAsync(uow, caseNo);
            if (c.Current is not { } current || !T.Allows(ProcedureVerb.Repair, current))
                throw new DomainRuleException($"案件 {caseNo} 当前为“{ProcedureLifecycle.Label(c.State)}”,不在名单中");
            string refusal;
            if (c.PaidOn is not { } paid) refusal = "尚未改正拖欠工资违法行为(无支付日期)";
            else if (c.CreditPromiseOn is null) refusal = "尚未作出书面信用承诺";
            else
            {
                var from = paid > c.DecidedOn!.Value ? paid : c.DecidedOn.Value;
                var eligible = from.AddMonths(_o.RepairWaitMonths);
                if (today < eligible) refusal = $"自改正之日起被列入名单未满{_o.RepairWaitMonths}个月,{eligible:yyyy-MM-dd} 起方可申请";
                else
                {
                    await RemoveAsync(uow, c, ProcedureVerb.Repair, today, "repaired",
                        $"已于{paid:yyyy-MM-dd}改正,{c.CreditPromiseOn:yyyy-MM-dd}作出书面信用承诺,列入满{_o.RepairWaitMonths}个月");
                    return null;
                }
            }
            await EventAsync(uow, caseNo, "repair_refused", today, refusal);
            await uow.AuditAsync("arrears.repair_refused", "arrears_case", caseNo, details: refusal);
            return refusal;
        }, ct, new WorkOptions { RecordId = caseNo });
        // The refusal is on record (committed); the person is told why.
        if (refusal is not null) throw new DomainRuleException($"不予提前移出:{refusal}");
    }

    /// <summary>The listing decision was revoked (e.g. by administrative review or court): removed at once, with the reason.</summary>
    public async Task OverturnAsync(string caseNo, string reason, string actor, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("撤销须写明理由");
        reason = Dashboard.TextRules.SingleLine(reason, "reason", "撤销理由", Dashboard.TextRules.ReasonMaxLength);
        var today = Today();
        using var acting = As(actor);
        await work.RunAsync("wage-arrears.overturn", async uow =>
        {
            var c = await ProcedureLifecycle.LoadForUpdateAsync(uow, caseNo);
            if (c.Current is not { } current || !T.Allows(ProcedureVerb.Overturn, current)
                || !await RemoveAsync(uow, c, ProcedureVerb.Overturn, today, "overturned", reason.Trim()))
                throw new DomainRuleException($"案件 {caseNo} 当前为“{ProcedureLifecycle.Label(c.State)}”,不在名单中");
        }, ct, new WorkOptions { RecordId = caseNo });
    }

    private async Task<bool> RemoveAsync(UnitOfWork uow, CaseView c, ProcedureVerb verb, DateOnly removedOn, string kind, string reason)
    {
        var move = T.MoveOf(verb);
        var moved = await uow.ExecuteAsync("""
            UPDATE app.arrears_procedures
            SET state = @to, removed_on = @removedOn, removal_kind = @kind, removal_reason = @reason, updated_at = now()
            WHERE case_no = @CaseNo AND state = ANY(@from)
            """, new { c.CaseNo, removedOn, kind, reason, to = Db(move.To), from = move.From.Select(Db).ToArray() });
        if (moved == 0) return false;
        await EventAsync(uow, c.CaseNo, Db(move.To), removedOn, $"{kind}: {reason}");
        await uow.AuditAsync($"arrears.{Db(move.To)}", "arrears_case", c.CaseNo,
            before: new { state = c.State }, after: new { state = Db(move.To), removed_on = removedOn, removal_kind = kind }, details: reason);
        await IssuedDocuments.IssueAsync(uow, c.CaseNo, "removal_notice", $"wage-arrears:{c.CaseNo}:removal",
            Notices.RemovalNotice(c, removedOn, kind, reason), c.HasEmail ? [c.EmployerEmail!] : []);
        return true;
    }

    /// <summary>A statement (陈述申辩) received from the party, with the date it came in.</summary>
    public async Task RecordStatementAsync(string caseNo, DateOnly receivedOn, string actor, CancellationToken ct)
    {
        var today = Today();
        if (receivedOn > today) throw new DomainRuleException("收到日期不能晚于今天");
        var move = T.MoveOf(ProcedureVerb.RecordStatement);
        using var acting = As(actor);
        await work.RunAsync("wage-arrears.statement", async uow =>
        {
            var moved = await uow.ExecuteAsync("""
                UPDATE app.arrears_procedures SET statement_received_on = @receivedOn, updated_at = now()
                WHERE case_no = @caseNo AND state = ANY(@from) AND statement_received_on IS NULL AND notice_sent_on <= @receivedOn
                """, new { caseNo, receivedOn, from = move.From.Select(Db).ToArray() });
            if (moved == 0)
                throw new DomainRuleException($"案件 {caseNo} 不在陈述申辩环节、已登记过陈述申辩,或收到日期早于告知书发出日期");
            await EventAsync(uow, caseNo, "statement_received", receivedOn, null);
            await uow.AuditAsync("arrears.statement_received", "arrears_case", caseNo, after: new { statement_received_on = receivedOn });
        }, ct, new WorkOptions { RecordId = caseNo });
    }

    // ---- 5. Reminders to inspection staff of decisions falling due. ----

    private async Task<int> RemindStaffAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        if (_o.StaffRecipients.Count == 0) return 0;
        var undecided = ProcedureLifecycle.Undecided;
        var open = await work.RunAsync("wage-arrears.reminders.find", uow => uow.ListAsync<CaseView>(CaseView.Select + """
             WHERE p.state = ANY(@undecided) AND p.reminded_on IS NULL
             ORDER BY c.case_no
            """, new { undecided }), ct);
        var sent = 0;
        foreach (var c in open.Where(c => cal.WorkingDaysBetween(today, c.DecisionDueOn!.Value) <= _o.ReminderWorkingDays))
        {
            var done = await work.RunAsync("wage-arrears.reminder", async uow =>
            {
                var moved = await uow.ExecuteAsync(
                    "UPDATE app.arrears_procedures SET reminded_on = @today, updated_at = now() WHERE case_no = @CaseNo AND reminded_on IS NULL AND state = ANY(@undecided)",
                    new { c.CaseNo, today, undecided });
                if (moved == 0) return false;
                await uow.AuditAsync("arrears.staff_reminded", "arrears_case", c.CaseNo, after: new { reminded_on = today, decision_due_on = c.DecisionDueOn });
                var earliest = c.StatementDueOn is { } s ? s.AddDays(1) : today;
                await IssuedDocuments.IssueAsync(uow, c.CaseNo, "staff_reminder", $"wage-arrears:{c.CaseNo}:decision-reminder",
                    Notices.StaffReminder(c, today, earliest), _o.StaffRecipients);
                return true;
            }, ct, new WorkOptions { RecordId = c.CaseNo });
            if (done) sent++;
        }
        return sent;
    }

    // ---- 6. One digest a day of newly listed and removed parties to the partner departments. ----

    private async Task<int> SendPartnerDigestAsync(DateOnly today, CancellationToken ct)
    {
        if (_o.PartnerRecipients.Count == 0) return 0;
        var key = $"wage-arrears:digest:{today:yyyy-MM-dd}";
        // The lock serialises concurrent runs; changes after today's digest went out wait for tomorrow's.
        return await work.RunAsync("wage-arrears.digest", async uow =>
        {
            if (await uow.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM app.arrears_documents WHERE dedupe_key = @key)", new { key }))
                return 0;
            var lines = await uow.ListAsync<ArrearsNotices.DigestLine>("""
                WITH items AS (
                    INSERT INTO app.arrears_digest_items (event_id, digest_on)
                    SELECT ev.id, @today FROM app.arrears_events ev
                    WHERE ev.kind = ANY(@kinds) AND ev.on_date <= @today
                      AND NOT EXISTS (SELECT 1 FROM app.arrears_digest_items d WHERE d.event_id = ev.id)
                    RETURNING event_id
                )
                SELECT ev.kind AS Kind, coalesce(e.name, '') AS EmployerName, c.uscc AS Uscc, e.legal_rep_name AS LegalRepName,
                       e.legal_rep_id_number AS LegalRepIdNumber, c.responsible_persons AS ResponsiblePersons, c.case_no AS CaseNo, p.decided_on AS DecidedOn, p.listed_until AS ListedUntil,
                       p.decision_reason AS DecisionReason, p.removed_on AS RemovedOn, p.removal_kind AS RemovalKind
                FROM items i
                JOIN app.arrears_events ev ON ev.id = i.event_id
                JOIN app.arrears_cases c ON c.case_no = ev.case_no
                JOIN app.arrears_procedures p ON p.case_no = ev.case_no
                LEFT JOIN app.employers e ON e.uscc = c.uscc
                ORDER BY ev.kind, c.case_no
                """, new { today, kinds = new[] { Db(ProcedureState.Listed), Db(ProcedureState.Removed) } });
            if (lines.Count == 0) return 0;
            await IssuedDocuments.IssueAsync(uow, null, IssuedDocuments.PartnerDigestKind, key, Notices.PartnerDigest(today, lines), _o.PartnerRecipients);
            await uow.AuditAsync("arrears.partner_digest", "arrears_digest", today.ToString("yyyy-MM-dd"),
                after: new { listed = lines.Count(l => l.Kind == Db(ProcedureState.Listed)), removed = lines.Count(l => l.Kind == Db(ProcedureState.Removed)) });
            return lines.Count;
        }, ct, new WorkOptions { Lock = "wage-arrears-digest" });
    }

    // ---- shared ----

    /// <summary>The case's event, as the acting person (or the job).</summary>
    private static Task EventAsync(UnitOfWork uow, string caseNo, string kind, DateOnly on, string? details) =>
        uow.ExecuteAsync(
            "INSERT INTO app.arrears_events (case_no, kind, on_date, actor, details) VALUES (@caseNo, @kind, @on, @actor, @details)",
            new { caseNo, kind, on, actor = uow.Acting.Actor, details });
}
