using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.WageArrears;

public enum DecisionKind { Listed, NotListed }

public sealed record DailyResult(int Screened, int NoticesSent, int Decided, int Expired, int Reminders, int DigestLines);

/// <summary>
/// The listing procedure of 人社部令第45号 (DOMAIN.md §4) as explicit states with dates:
/// screened_out | candidate → notice_sent → listed | not_listed; listed → removed (expired, repaired, overturned).
/// Every transition is a conditional UPDATE on the state, written with its event, audit record,
/// document and outbox message in one transaction: a rerun or a second worker finds nothing left to do.
/// </summary>
public sealed class ArrearsProcedure(
    NpgsqlDataSource db, CalendarStore calendars, TimeProvider clock,
    IOptions<WageArrearsOptions> options, IOptions<JobsOptions> jobs, ILogger<ArrearsProcedure> log)
{
    public const string JobActor = "job:wage-arrears-daily";
    private readonly WageArrearsOptions _o = options.Value;
    private readonly ListingThresholds _t = ListingThresholds.From(options.Value);
    private ArrearsNotices Notices => new(_o);

    public WageArrearsOptions Options => _o;

    /// <summary>Today in the bureau's zone (Asia/Shanghai), from the injected clock.</summary>
    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), jobs.Value.GetZone()).DateTime);

    public async Task<DailyResult> RunDailyAsync(CancellationToken ct)
    {
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
        await using var conn = await db.OpenConnectionAsync(ct);
        var cases = (await conn.QueryAsync<CaseView>(new CommandDefinition(CaseView.Select + """
             WHERE c.pay_deadline < @today AND (c.paid_on IS NULL OR c.paid_on > c.pay_deadline)
               AND (p.case_no IS NULL OR (p.state = 'screened_out' AND c.paid_on IS NULL))
             ORDER BY c.case_no
            """, new { today }, cancellationToken: ct))).ToList();
        if (cases.Count == 0) return 0;

        var rows = cases.Select(c =>
        {
            var rule = ListingTest.Evaluate(c.Facts, _t);
            var due = cal.AddWorkingDays(c.PayDeadline, _o.DecisionWorkingDays);
            return (c.CaseNo, Existing: c.State is not null, Rule: rule, Due: due);
        }).ToList();

        await using var tx = await conn.BeginTransactionAsync(ct);
        // New cases in one statement; a concurrent run inserting the same case first wins (ON CONFLICT).
        var fresh = rows.Where(r => !r.Existing).ToList();
        var inserted = (await conn.QueryAsync<(string CaseNo, string State, string Rule)>(new CommandDefinition("""
            WITH ins AS (
                INSERT INTO app.arrears_procedures (case_no, state, listable, test_rule, tested_on, candidate_on, decision_due_on, decision_due_calendar_missing)
                SELECT n.case_no, CASE WHEN n.listable THEN 'candidate' ELSE 'screened_out' END, n.listable, n.rule, @today,
                       CASE WHEN n.listable THEN @today::date END, CASE WHEN n.listable THEN n.due END, n.listable AND n.missing
                FROM unnest(@caseNos, @listables, @rules, @dues, @missing) AS n(case_no, listable, rule, due, missing)
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
                actor = JobActor,
                caseNos = fresh.Select(r => r.CaseNo).ToArray(),
                listables = fresh.Select(r => r.Rule.IsListable()).ToArray(),
                rules = fresh.Select(r => r.Rule.Code()).ToArray(),
                dues = fresh.Select(r => r.Due.Date).ToArray(),
                missing = fresh.Select(r => r.Due.CalendarMissing).ToArray(),
            }, tx, cancellationToken: ct))).ToList();
        foreach (var i in inserted)
            await AuditLog.WriteAsync(conn, tx, JobActor, $"arrears.{i.State}", "arrears_case", i.CaseNo, after: new { state = i.State, test_rule = i.Rule, tested_on = today });

        // Cases screened out earlier whose register data changed (an import update) may be listable now.
        var retested = 0;
        foreach (var r in rows.Where(r => r.Existing))
        {
            var became = await conn.ExecuteAsync(new CommandDefinition("""
                UPDATE app.arrears_procedures
                SET listable = @listable, test_rule = @rule, tested_on = @today, updated_at = now(),
                    state = CASE WHEN @listable THEN 'candidate' ELSE state END,
                    candidate_on = CASE WHEN @listable THEN @today::date END,
                    decision_due_on = CASE WHEN @listable THEN @due::date END,
                    decision_due_calendar_missing = @listable AND @missing
                WHERE case_no = @CaseNo AND state = 'screened_out' AND (test_rule <> @rule OR tested_on <> @today)
                """, new { r.CaseNo, listable = r.Rule.IsListable(), rule = r.Rule.Code(), today, due = r.Due.Date, missing = r.Due.CalendarMissing }, tx, cancellationToken: ct));
            if (became == 1 && r.Rule.IsListable())
            {
                await Event(conn, tx, r.CaseNo, "candidate", today, JobActor, $"retested: {r.Rule.Code()}", ct);
                await AuditLog.WriteAsync(conn, tx, JobActor, "arrears.candidate", "arrears_case", r.CaseNo,
                    before: new { state = "screened_out" }, after: new { state = "candidate", test_rule = r.Rule.Code() });
                retested++;
            }
        }
        await tx.CommitAsync(ct);
        return inserted.Count + retested;
    }

    // ---- 2. Pre-listing notice (告知书) with the statement period (陈述申辩). ----

    private async Task<int> SendNoticesAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // Without the employer in the register or an address the notice cannot be served by mail: the
        // case stays a candidate and the dashboard says why.
        var due = await conn.QueryAsync<CaseView>(new CommandDefinition(CaseView.Select + """
             WHERE p.state = 'candidate' AND e.uscc IS NOT NULL AND btrim(e.email) <> ''
             ORDER BY c.case_no
            """, cancellationToken: ct));
        var sent = 0;
        foreach (var c in due)
        {
            // The day of sending is not counted (WorkingCalendar.AddWorkingDays).
            var statementDue = cal.AddWorkingDays(today, _o.StatementPeriodWorkingDays);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var moved = await conn.ExecuteAsync(new CommandDefinition("""
                UPDATE app.arrears_procedures
                SET state = 'notice_sent', notice_sent_on = @today, statement_due_on = @due, statement_due_calendar_missing = @missing, updated_at = now()
                WHERE case_no = @CaseNo AND state = 'candidate'
                """, new { c.CaseNo, today, due = statementDue.Date, missing = statementDue.CalendarMissing }, tx, cancellationToken: ct));
            if (moved == 0) continue; // another run took it
            await Event(conn, tx, c.CaseNo, "notice_sent", today, JobActor, $"statement period ends {statementDue.Date:yyyy-MM-dd}", ct);
            await AuditLog.WriteAsync(conn, tx, JobActor, "arrears.notice_sent", "arrears_case", c.CaseNo,
                before: new { state = "candidate" }, after: new { state = "notice_sent", notice_sent_on = today, statement_due_on = statementDue.Date });
            await IssueAsync(conn, tx, c.CaseNo, "pre_listing_notice", $"wage-arrears:{c.CaseNo}:notice",
                Notices.PreListingNotice(c, _t, today, statementDue.Date), [c.EmployerEmail!], ct);
            TestHooks.Point("wage-arrears:notice");
            await tx.CommitAsync(ct);
            sent++;
        }
        return sent;
    }

    // ---- 3. Decisions: automatic when the statement period is over and no statement came in. ----

    private async Task<int> DecideDueAsync(DateOnly today, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // A statement received must be weighed by a person: those cases wait for a decision on the dashboard.
        var due = await conn.QueryAsync<string>(new CommandDefinition("""
            SELECT case_no FROM app.arrears_procedures
            WHERE state = 'notice_sent' AND statement_due_on < @today AND statement_received_on IS NULL
            ORDER BY case_no
            """, new { today }, cancellationToken: ct));
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
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var c = await LoadForUpdateAsync(conn, tx, caseNo, ct);
        if (c.State != "notice_sent")
        {
            if (requested is null) return null;
            throw new DomainRuleException($"案件 {caseNo} 当前为“{ArrearsNotices.StateZh(c.State)}”,不能作出列入决定");
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

        var listedUntil = kind == DecisionKind.Listed ? today.AddYears(_o.ListingYears) : (DateOnly?)null;
        var state = kind == DecisionKind.Listed ? "listed" : "not_listed";
        var moved = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE app.arrears_procedures
            SET state = @state, decided_on = @today, decided_by = @actor, decision_reason = @reason, listed_until = @listedUntil,
                listable = @listable, test_rule = @rule, tested_on = @today, updated_at = now()
            WHERE case_no = @caseNo AND state = 'notice_sent'
            """, new { caseNo, state, today, actor, reason, listedUntil, listable = rule.IsListable(), rule = rule.Code() }, tx, cancellationToken: ct));
        if (moved == 0) return null;
        await Event(conn, tx, caseNo, state, today, actor, reason, ct);
        await AuditLog.WriteAsync(conn, tx, actor, $"arrears.{state}", "arrears_case", caseNo,
            before: new { state = "notice_sent" }, after: new { state, decided_on = today, listed_until = listedUntil, test_rule = rule.Code() }, details: reason);
        c.DecidedOn = today;
        var doc = kind == DecisionKind.Listed
            ? Notices.ListingDecision(c, _t, today, listedUntil!.Value, reason)
            : Notices.NotListedDecision(c, today, reason);
        await IssueAsync(conn, tx, caseNo, kind == DecisionKind.Listed ? "listing_decision" : "not_listed_decision",
            $"wage-arrears:{caseNo}:decision", doc, c.HasEmail ? [c.EmployerEmail!] : [], ct);
        await tx.CommitAsync(ct);
        return kind;
    }

    // ---- 4. Removal when the listing period ends (the day ListingYears after the decision). ----

    private async Task<int> ExpireAsync(DateOnly today, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var due = await conn.QueryAsync<string>(new CommandDefinition(
            "SELECT case_no FROM app.arrears_procedures WHERE state = 'listed' AND listed_until <= @today ORDER BY case_no",
            new { today }, cancellationToken: ct));
        var removed = 0;
        foreach (var caseNo in due)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            var c = await LoadForUpdateAsync(conn, tx, caseNo, ct);
            // Removed as of the day the period ended, even when the job runs late.
            if (await RemoveAsync(conn, tx, c, c.ListedUntil!.Value, "expired", "列入期限届满", JobActor, ct)) removed++;
            await tx.CommitAsync(ct);
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
        await using var conn = await db.OpenConnectionAsync(ct);
        string refusal;
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            var c = await LoadForUpdateAsync(conn, tx, caseNo, ct);
            if (c.State != "listed") throw new DomainRuleException($"案件 {caseNo} 当前为“{ArrearsNotices.StateZh(c.State)}”,不在名单中");
            if (c.PaidOn is not { } paid) refusal = "尚未改正拖欠工资违法行为(无支付日期)";
            else if (c.CreditPromiseOn is null) refusal = "尚未作出书面信用承诺";
            else
            {
                var from = paid > c.DecidedOn!.Value ? paid : c.DecidedOn.Value;
                var eligible = from.AddMonths(_o.RepairWaitMonths);
                if (today < eligible) refusal = $"自改正之日起被列入名单未满{_o.RepairWaitMonths}个月,{eligible:yyyy-MM-dd} 起方可申请";
                else
                {
                    await RemoveAsync(conn, tx, c, today, "repaired",
                        $"已于{paid:yyyy-MM-dd}改正,{c.CreditPromiseOn:yyyy-MM-dd}作出书面信用承诺,列入满{_o.RepairWaitMonths}个月", actor, ct);
                    await tx.CommitAsync(ct);
                    return;
                }
            }
            await Event(conn, tx, caseNo, "repair_refused", today, actor, refusal, ct);
            await AuditLog.WriteAsync(conn, tx, actor, "arrears.repair_refused", "arrears_case", caseNo, details: refusal);
            await tx.CommitAsync(ct);
        }
        throw new DomainRuleException($"不予提前移出:{refusal}");
    }

    /// <summary>The listing decision was revoked (e.g. by administrative review or court): removed at once, with the reason.</summary>
    public async Task OverturnAsync(string caseNo, string reason, string actor, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("撤销须写明理由");
        reason = Dashboard.TextRules.SingleLine(reason, "reason", "撤销理由", Dashboard.TextRules.ReasonMaxLength);
        var today = Today();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var c = await LoadForUpdateAsync(conn, tx, caseNo, ct);
        if (c.State != "listed" || !await RemoveAsync(conn, tx, c, today, "overturned", reason.Trim(), actor, ct))
            throw new DomainRuleException($"案件 {caseNo} 当前为“{ArrearsNotices.StateZh(c.State)}”,不在名单中");
        await tx.CommitAsync(ct);
    }

    private async Task<bool> RemoveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CaseView c, DateOnly removedOn, string kind, string reason, string actor, CancellationToken ct)
    {
        var moved = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE app.arrears_procedures
            SET state = 'removed', removed_on = @removedOn, removal_kind = @kind, removal_reason = @reason, updated_at = now()
            WHERE case_no = @CaseNo AND state = 'listed'
            """, new { c.CaseNo, removedOn, kind, reason }, tx, cancellationToken: ct));
        if (moved == 0) return false;
        await Event(conn, tx, c.CaseNo, "removed", removedOn, actor, $"{kind}: {reason}", ct);
        await AuditLog.WriteAsync(conn, tx, actor, "arrears.removed", "arrears_case", c.CaseNo,
            before: new { state = "listed" }, after: new { state = "removed", removed_on = removedOn, removal_kind = kind }, details: reason);
        await IssueAsync(conn, tx, c.CaseNo, "removal_notice", $"wage-arrears:{c.CaseNo}:removal",
            Notices.RemovalNotice(c, removedOn, kind, reason), c.HasEmail ? [c.EmployerEmail!] : [], ct);
        return true;
    }

    /// <summary>A statement (陈述申辩) received from the party, with the date it came in.</summary>
    public async Task RecordStatementAsync(string caseNo, DateOnly receivedOn, string actor, CancellationToken ct)
    {
        var today = Today();
        if (receivedOn > today) throw new DomainRuleException("收到日期不能晚于今天");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var moved = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE app.arrears_procedures SET statement_received_on = @receivedOn, updated_at = now()
            WHERE case_no = @caseNo AND state = 'notice_sent' AND statement_received_on IS NULL AND notice_sent_on <= @receivedOn
            """, new { caseNo, receivedOn }, tx, cancellationToken: ct));
        if (moved == 0)
            throw new DomainRuleException($"案件 {caseNo} 不在陈述申辩环节、已登记过陈述申辩,或收到日期早于告知书发出日期");
        await Event(conn, tx, caseNo, "statement_received", receivedOn, actor, null, ct);
        await AuditLog.WriteAsync(conn, tx, actor, "arrears.statement_received", "arrears_case", caseNo, after: new { statement_received_on = receivedOn });
        await tx.CommitAsync(ct);
    }

    // ---- 5. Reminders to inspection staff of decisions falling due. ----

    private async Task<int> RemindStaffAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        if (_o.StaffRecipients.Count == 0) return 0;
        await using var conn = await db.OpenConnectionAsync(ct);
        var open = await conn.QueryAsync<CaseView>(new CommandDefinition(CaseView.Select + """
             WHERE p.state IN ('candidate', 'notice_sent') AND p.reminded_on IS NULL
             ORDER BY c.case_no
            """, cancellationToken: ct));
        var sent = 0;
        foreach (var c in open.Where(c => cal.WorkingDaysBetween(today, c.DecisionDueOn!.Value) <= _o.ReminderWorkingDays))
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            var moved = await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE app.arrears_procedures SET reminded_on = @today, updated_at = now() WHERE case_no = @CaseNo AND reminded_on IS NULL AND state IN ('candidate', 'notice_sent')",
                new { c.CaseNo, today }, tx, cancellationToken: ct));
            if (moved == 0) continue;
            await AuditLog.WriteAsync(conn, tx, JobActor, "arrears.staff_reminded", "arrears_case", c.CaseNo, after: new { reminded_on = today, decision_due_on = c.DecisionDueOn });
            var earliest = c.StatementDueOn is { } s ? s.AddDays(1) : today;
            await IssueAsync(conn, tx, c.CaseNo, "staff_reminder", $"wage-arrears:{c.CaseNo}:decision-reminder",
                Notices.StaffReminder(c, today, earliest), _o.StaffRecipients, ct);
            await tx.CommitAsync(ct);
            sent++;
        }
        return sent;
    }

    // ---- 6. One digest a day of newly listed and removed parties to the partner departments. ----

    private async Task<int> SendPartnerDigestAsync(DateOnly today, CancellationToken ct)
    {
        if (_o.PartnerRecipients.Count == 0) return 0;
        var key = $"wage-arrears:digest:{today:yyyy-MM-dd}";
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Serialises concurrent runs; changes after today's digest went out wait for tomorrow's.
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('wage-arrears-digest'))", transaction: tx, cancellationToken: ct));
        if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM app.arrears_documents WHERE dedupe_key = @key)", new { key }, tx, cancellationToken: ct)))
            return 0;
        var lines = (await conn.QueryAsync<ArrearsNotices.DigestLine>(new CommandDefinition("""
            WITH items AS (
                INSERT INTO app.arrears_digest_items (event_id, digest_on)
                SELECT ev.id, @today FROM app.arrears_events ev
                WHERE ev.kind IN ('listed', 'removed') AND ev.on_date <= @today
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
            """, new { today }, tx, cancellationToken: ct))).ToList();
        if (lines.Count == 0) return 0;
        await IssueAsync(conn, tx, null, "partner_digest", key, Notices.PartnerDigest(today, lines), _o.PartnerRecipients, ct);
        await AuditLog.WriteAsync(conn, tx, JobActor, "arrears.partner_digest", "arrears_digest", today.ToString("yyyy-MM-dd"),
            after: new { listed = lines.Count(l => l.Kind == "listed"), removed = lines.Count(l => l.Kind == "removed") });
        await tx.CommitAsync(ct);
        return lines.Count;
    }

    // ---- shared ----

    /// <summary>Locks the procedure row (a concurrent decision or removal waits, then finds the state moved on) and reads the case.</summary>
    private static async Task<CaseView> LoadForUpdateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string caseNo, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(
            "SELECT 1 FROM app.arrears_procedures WHERE case_no = @caseNo FOR UPDATE", new { caseNo }, tx, cancellationToken: ct));
        return await conn.QuerySingleOrDefaultAsync<CaseView>(new CommandDefinition(
            CaseView.Select + " WHERE c.case_no = @caseNo", new { caseNo }, tx, cancellationToken: ct))
            ?? throw new DomainRuleException($"没有案件 {caseNo}");
    }

    private static Task Event(NpgsqlConnection conn, NpgsqlTransaction tx, string caseNo, string kind, DateOnly on, string actor, string? details, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(
            "INSERT INTO app.arrears_events (case_no, kind, on_date, actor, details) VALUES (@caseNo, @kind, @on, @actor, @details)",
            new { caseNo, kind, on, actor, details }, tx, cancellationToken: ct));

    /// <summary>Keeps the document and queues its mail under the same dedupe key; without recipients it is kept for printing only.</summary>
    private static async Task IssueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string? caseNo, string kind, string key, Doc doc,
        IReadOnlyList<string> recipients, CancellationToken ct)
    {
        var html = DocRender.Html(doc);
        var stored = await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO app.arrears_documents (case_no, kind, issued_on, title, html, dedupe_key)
            VALUES (@caseNo, @kind, @issuedOn, @Title, @html, @key)
            ON CONFLICT (dedupe_key) DO NOTHING
            """, new { caseNo, kind, issuedOn = doc.IssuedOn, doc.Title, html, key }, tx, cancellationToken: ct));
        if (stored == 0 || recipients.Count == 0) return;
        var subject = caseNo is null ? $"【{doc.Issuer}】{doc.Title}" : $"【{doc.Issuer}】{doc.Title}(案件 {caseNo})";
        await Outbox.EnqueueAsync(conn, tx, new OutboxMessage(key, recipients, subject, DocRender.Text(doc), html,
            caseNo is null ? "arrears_digest" : "arrears_case", caseNo ?? doc.IssuedOn.ToString("yyyy-MM-dd")), ct);
    }
}
