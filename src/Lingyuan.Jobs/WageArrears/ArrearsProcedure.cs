using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.WageArrears;

public enum DecisionKind { Listed, NotListed }

public sealed record DailyResult(int Screened, int Reminders, int DigestLines);

/// <summary>
/// The Daily slice of the listing procedure (人社部令第45号, DOMAIN.md §4): the service finds candidates,
/// tests them (storing the rule that decided and what the single-worker branch could be tested on),
/// computes the decision deadline, reminds staff of what falls due and sends the partner digest of what
/// people decided. It stops there: it sends nothing to an employer and decides nothing. Every legal act is
/// a person's (<see cref="ArrearsActs"/>).
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
    public ListingThresholds Thresholds => _t;

    /// <summary>Today in the bureau's zone (<see cref="BureauClock"/>).</summary>
    public DateOnly Today() => clock.Today;

    public async Task<DailyResult> RunDailyAsync(CancellationToken ct)
    {
        // The job acts as itself whether Hangfire, `jobs run` or the dashboard's "run now" started it.
        using var acting = Acting.Begin(Acting.Current with { Actor = JobActor, Channel = Acting.Job });
        var today = Today();
        var cal = await calendars.LoadAsync(ct);
        var result = new DailyResult(
            await ScreenAsync(today, cal, ct),
            await RemindStaffAsync(today, cal, ct),
            await SendPartnerDigestAsync(today, ct));
        log.LogInformation("wage arrears {Today}: {Result}", today, result);
        return result;
    }

    // ---- Screening: cases whose payment deadline passed unpaid are tested (art. 5). ----

    private async Task<int> ScreenAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        var cases = await work.RunAsync("wage-arrears.screen.find", async uow =>
        {
            var found = await uow.ListAsync<CaseView>(CaseView.Select + """
                 WHERE c.pay_deadline < @today AND (c.paid_on IS NULL OR c.paid_on > c.pay_deadline)
                   AND (p.case_no IS NULL OR (p.state = @screenedOut AND c.paid_on IS NULL))
                 ORDER BY c.case_no
                """, new { today, screenedOut = Db(ProcedureState.ScreenedOut) });
            await CaseView.LoadWorkersAsync(uow, found);
            return found;
        }, ct);
        if (cases.Count == 0) return 0;

        var rows = cases.Select(c =>
        {
            var (rule, basis) = ListingTest.EvaluateWithBasis(c.Facts, _t);
            var due = cal.AddWorkingDays(c.PayDeadline, _o.DecisionWorkingDays);
            return (c.CaseNo, Existing: c.State is not null, Rule: rule, Basis: basis, Due: due);
        }).ToList();

        return await work.RunAsync("wage-arrears.screen", async uow =>
        {
            // New cases in one statement; a concurrent run inserting the same case first wins (ON CONFLICT).
            var fresh = rows.Where(r => !r.Existing).ToList();
            var inserted = await uow.ListAsync<(string CaseNo, string State, string Rule)>("""
                WITH ins AS (
                    INSERT INTO app.arrears_procedures (case_no, state, listable, test_rule, single_worker_basis, tested_on, candidate_on, decision_due_on, decision_due_calendar_missing)
                    SELECT n.case_no, n.state, n.listable, n.rule, n.basis, @today,
                           CASE WHEN n.listable THEN @today::date END, CASE WHEN n.listable THEN n.due END, n.listable AND n.missing
                    FROM unnest(@caseNos, @states, @listables, @rules, @bases, @dues, @missing) AS n(case_no, state, listable, rule, basis, due, missing)
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
                    bases = fresh.Select(r => r.Basis.Code()).ToArray(),
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
                    SET listable = @listable, test_rule = @rule, single_worker_basis = @basis, tested_on = @today, updated_at = now(),
                        state = CASE WHEN @listable THEN @to ELSE state END,
                        candidate_on = CASE WHEN @listable THEN @today::date END,
                        decision_due_on = CASE WHEN @listable THEN @due::date END,
                        decision_due_calendar_missing = @listable AND @missing
                    WHERE case_no = @CaseNo AND state = ANY(@from) AND (test_rule <> @rule OR single_worker_basis <> @basis OR tested_on <> @today)
                    """, new
                    {
                        r.CaseNo, listable = r.Rule.IsListable(), rule = r.Rule.Code(), basis = r.Basis.Code(), today, due = r.Due.Date, missing = r.Due.CalendarMissing,
                        to = Db(retest.To), from = retest.From.Select(Db).ToArray(),
                    });
                if (became == 1 && r.Rule.IsListable())
                {
                    await ArrearsActs.EventAsync(uow, r.CaseNo, Db(retest.To), today, $"retested: {r.Rule.Code()}");
                    await uow.AuditAsync($"arrears.{Db(retest.To)}", "arrears_case", r.CaseNo,
                        before: new { state = Db(retest.From[0]) }, after: new { state = Db(retest.To), test_rule = r.Rule.Code() });
                    retested++;
                }
            }
            return inserted.Count + retested;
        }, ct);
    }

    // ---- Reminders to inspection staff: decisions and early-removal decisions falling due. ----

    private async Task<int> RemindStaffAsync(DateOnly today, WorkingCalendar cal, CancellationToken ct)
    {
        if (_o.StaffRecipients.Count == 0) return 0;
        var undecided = ProcedureLifecycle.Undecided;
        var (open, applications) = await work.RunAsync("wage-arrears.reminders.find", async uow =>
        {
            var cases = await uow.ListAsync<CaseView>(CaseView.Select + """
                 WHERE p.state = ANY(@undecided) AND p.reminded_on IS NULL
                 ORDER BY c.case_no
                """, new { undecided });
            var apps = await uow.ListAsync<RemovalApplication>(RemovalApplication.Select + " WHERE status = 'pending' AND reminded_on IS NULL ORDER BY id");
            return (cases, apps);
        }, ct);
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
                var earliest = c.StatementDueOn is { } s ? s.AddDays(1) : (DateOnly?)null;
                await IssuedDocuments.IssueAsync(uow, c.CaseNo, "staff_reminder", $"wage-arrears:{c.CaseNo}:decision-reminder",
                    Notices.StaffReminder(c, today, earliest), _o.StaffRecipients);
                return true;
            }, ct, new WorkOptions { RecordId = c.CaseNo });
            if (done) sent++;
        }
        foreach (var a in applications.Where(a => cal.WorkingDaysBetween(today, a.DueOn) <= _o.ReminderWorkingDays))
        {
            var done = await work.RunAsync("wage-arrears.removal-reminder", async uow =>
            {
                var moved = await uow.ExecuteAsync(
                    "UPDATE app.arrears_removal_applications SET reminded_on = @today WHERE id = @Id AND reminded_on IS NULL AND status = 'pending'",
                    new { a.Id, today });
                if (moved == 0) return false;
                await uow.AuditAsync("arrears.staff_reminded", "arrears_case", a.CaseNo, after: new { reminded_on = today, removal_due_on = a.DueOn });
                await IssuedDocuments.IssueAsync(uow, a.CaseNo, "staff_reminder", $"wage-arrears:{a.CaseNo}:removal-reminder:{a.Id}",
                    Notices.RemovalReminder(a, today), _o.StaffRecipients);
                return true;
            }, ct, new WorkOptions { RecordId = a.CaseNo });
            if (done) sent++;
        }
        return sent;
    }

    // ---- One digest a day of parties newly listed, removed or listed again to the partner departments. ----

    private async Task<int> SendPartnerDigestAsync(DateOnly today, CancellationToken ct)
    {
        if (_o.PartnerRecipients.Count == 0) return 0;
        var key = $"wage-arrears:digest:{today:yyyy-MM-dd}";
        // The lock serialises concurrent runs; changes after today's digest went out wait for tomorrow's.
        return await work.RunAsync("wage-arrears.digest", async uow =>
        {
            if (await uow.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM app.arrears_documents WHERE dedupe_key = @key)", new { key }))
                return 0;
            // Who was listed is read as fixed at decision (app.arrears_listed_parties), never from today's register.
            var lines = await uow.ListAsync<ArrearsNotices.DigestLine>("""
                WITH items AS (
                    INSERT INTO app.arrears_digest_items (event_id, digest_on)
                    SELECT ev.id, @today FROM app.arrears_events ev
                    WHERE ev.kind = ANY(@kinds) AND ev.on_date <= @today
                      AND NOT EXISTS (SELECT 1 FROM app.arrears_digest_items d WHERE d.event_id = ev.id)
                    RETURNING event_id
                )
                SELECT ev.kind AS Kind, lp.employer_name AS EmployerName, lp.uscc AS Uscc, lp.legal_rep_name AS LegalRepName,
                       lp.legal_rep_id_number AS LegalRepIdNumber, lp.responsible_persons AS ResponsiblePersons, c.case_no AS CaseNo,
                       p.decided_on AS DecidedOn, p.listed_until AS ListedUntil, p.decision_reason AS DecisionReason,
                       CASE WHEN ev.kind = @removed THEN ev.on_date END AS RemovedOn,
                       CASE WHEN ev.kind = @removed THEN split_part(ev.details, ':', 1) END AS RemovalKind
                FROM items i
                JOIN app.arrears_events ev ON ev.id = i.event_id
                JOIN app.arrears_cases c ON c.case_no = ev.case_no
                JOIN app.arrears_procedures p ON p.case_no = ev.case_no
                JOIN app.arrears_listed_parties lp ON lp.case_no = ev.case_no
                ORDER BY ev.kind, c.case_no
                """, new { today, removed = Db(ProcedureState.Removed), kinds = new[] { Db(ProcedureState.Listed), Db(ProcedureState.Removed), "removal_revoked" } });
            if (lines.Count == 0) return 0;
            await IssuedDocuments.IssueAsync(uow, null, IssuedDocuments.PartnerDigestKind, key, Notices.PartnerDigest(today, lines), _o.PartnerRecipients);
            await uow.AuditAsync("arrears.partner_digest", "arrears_digest", today.ToString("yyyy-MM-dd"),
                after: new { listed = lines.Count(l => l.Kind != Db(ProcedureState.Removed)), removed = lines.Count(l => l.Kind == Db(ProcedureState.Removed)) });
            return lines.Count;
        }, ct, new WorkOptions { Lock = "wage-arrears-digest" });
    }
}
