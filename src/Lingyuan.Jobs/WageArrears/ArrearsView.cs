using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>A case as the procedure and its documents see it: the register facts, the employer, the procedure row.</summary>
public sealed class CaseView
{
    public string CaseNo { get; set; } = "";
    public string Uscc { get; set; } = "";
    public int WorkersAffected { get; set; }
    public long AmountOwedFen { get; set; }
    public int MaxMonthsOwed { get; set; }
    public DateOnly OrderIssuedOn { get; set; }
    public DateOnly PayDeadline { get; set; }
    public DateOnly? PaidOn { get; set; }
    public string Incident { get; set; } = "none";
    public DateOnly? CreditPromiseOn { get; set; }
    public string ResponsiblePersons { get; set; } = "";
    public string? EmployerName { get; set; }
    public string? EmployerEmail { get; set; }
    public string? LegalRepName { get; set; }
    public string? LegalRepIdNumber { get; set; }
    /// <summary>The procedure's state as stored; null when the case has not entered the procedure.</summary>
    public string? State { get; set; }

    /// <summary>The procedure's state, read through <see cref="ProcedureLifecycle.Table"/>.</summary>
    public ProcedureState? Current => State is null ? null : ProcedureLifecycle.Table.Parse(State);
    public bool Listable { get; set; }
    public string? TestRule { get; set; }
    public DateOnly? TestedOn { get; set; }
    public DateOnly? CandidateOn { get; set; }
    public DateOnly? NoticeSentOn { get; set; }
    public DateOnly? StatementDueOn { get; set; }
    public bool StatementDueCalendarMissing { get; set; }
    public DateOnly? StatementReceivedOn { get; set; }
    public DateOnly? DecisionDueOn { get; set; }
    public bool DecisionDueCalendarMissing { get; set; }
    public DateOnly? DecidedOn { get; set; }
    public string? DecidedBy { get; set; }
    public string? DecisionReason { get; set; }
    public DateOnly? ListedUntil { get; set; }
    public DateOnly? RemovedOn { get; set; }
    public string? RemovalKind { get; set; }
    public string? RemovalReason { get; set; }
    public DateOnly? RemindedOn { get; set; }

    public ArrearsFacts Facts => new(WorkersAffected, AmountOwedFen, MaxMonthsOwed, Incident);
    public bool HasEmail => !string.IsNullOrWhiteSpace(EmployerEmail);

    public const string Select = """
        SELECT c.case_no AS CaseNo, c.uscc AS Uscc, c.workers_affected AS WorkersAffected, c.amount_owed_fen AS AmountOwedFen,
               c.max_months_owed AS MaxMonthsOwed, c.order_issued_on AS OrderIssuedOn, c.pay_deadline AS PayDeadline, c.paid_on AS PaidOn,
               c.incident AS Incident, c.credit_promise_on AS CreditPromiseOn, c.responsible_persons AS ResponsiblePersons,
               e.name AS EmployerName, e.email AS EmployerEmail, e.legal_rep_name AS LegalRepName, e.legal_rep_id_number AS LegalRepIdNumber,
               p.state AS State, coalesce(p.listable, false) AS Listable, p.test_rule AS TestRule, p.tested_on AS TestedOn,
               p.candidate_on AS CandidateOn, p.notice_sent_on AS NoticeSentOn,
               p.statement_due_on AS StatementDueOn, coalesce(p.statement_due_calendar_missing, false) AS StatementDueCalendarMissing,
               p.statement_received_on AS StatementReceivedOn,
               p.decision_due_on AS DecisionDueOn, coalesce(p.decision_due_calendar_missing, false) AS DecisionDueCalendarMissing,
               p.decided_on AS DecidedOn, p.decided_by AS DecidedBy, p.decision_reason AS DecisionReason, p.listed_until AS ListedUntil,
               p.removed_on AS RemovedOn, p.removal_kind AS RemovalKind, p.removal_reason AS RemovalReason, p.reminded_on AS RemindedOn
        FROM app.arrears_cases c
        LEFT JOIN app.arrears_procedures p ON p.case_no = c.case_no
        LEFT JOIN app.employers e ON e.uscc = c.uscc
        """;
}

public sealed record ArrearsDocumentRef(long Id, string Kind, DateOnly IssuedOn, string Title);

public sealed record ArrearsEvent(DateOnly OnDate, string Kind, string Actor, string? Details, DateTime At);

/// <summary>What the overview page shows.</summary>
public sealed record ArrearsOverview(
    IReadOnlyDictionary<string, long> Counts, IReadOnlyList<CaseView> Open, IReadOnlyList<CaseView> Recent,
    IReadOnlyList<ArrearsDocumentRef> Digests);

/// <summary>A case with its documents and its events, as the case page shows it.</summary>
public sealed record ArrearsCasePage(CaseView Case, IReadOnlyList<ArrearsDocumentRef> Documents, IReadOnlyList<ArrearsEvent> Events);

/// <summary>The View slice: what the arrears pages read.</summary>
public sealed class ArrearsView(Work work)
{
    public Task<ArrearsOverview> OverviewAsync(CancellationToken ct) =>
        work.RunAsync("wage-arrears.overview", async uow =>
        {
            var counts = (await uow.ListAsync<(string State, long N)>("SELECT state, count(*) FROM app.arrears_procedures GROUP BY state"))
                .ToDictionary(r => r.State, r => r.N);
            var open = await uow.ListAsync<CaseView>(CaseView.Select +
                " WHERE p.state = ANY(@undecided) ORDER BY p.decision_due_on, c.case_no", new { undecided = ProcedureLifecycle.Undecided });
            var recent = await uow.ListAsync<CaseView>(CaseView.Select +
                " WHERE p.state IS NOT NULL ORDER BY p.updated_at DESC, c.case_no LIMIT 100");
            var digests = await uow.ListAsync<ArrearsDocumentRef>(
                "SELECT id AS Id, kind AS Kind, issued_on AS IssuedOn, title AS Title FROM app.arrears_documents WHERE kind = @kind ORDER BY issued_on DESC LIMIT 30", new { kind = IssuedDocuments.PartnerDigestKind });
            return new ArrearsOverview(counts, open, recent, digests);
        }, ct);

    /// <summary>The home page's counts: candidates waiting for their notice, notices waiting for a decision, and decisions due by <paramref name="horizon"/>.</summary>
    public Task<(long Candidates, long AwaitingDecision, long DecisionsDue)> WaitingAsync(DateOnly horizon, CancellationToken ct) =>
        work.RunAsync("wage-arrears.waiting", uow => uow.SingleAsync<(long, long, long)>(
            """
            SELECT count(*) FILTER (WHERE state = @candidate), count(*) FILTER (WHERE state = @noticeSent),
                   count(*) FILTER (WHERE state = ANY(@undecided) AND decision_due_on <= @horizon)
            FROM app.arrears_procedures
            """,
            new
            {
                candidate = ProcedureLifecycle.Table.Db(ProcedureState.Candidate),
                noticeSent = ProcedureLifecycle.Table.Db(ProcedureState.NoticeSent),
                undecided = ProcedureLifecycle.Undecided,
                horizon,
            }), ct);

    public Task<ArrearsCasePage?> CaseAsync(string caseNo, CancellationToken ct) =>
        work.RunAsync("wage-arrears.case", async uow =>
        {
            var c = await uow.SingleOrDefaultAsync<CaseView>(CaseView.Select + " WHERE c.case_no = @caseNo", new { caseNo });
            if (c is null) return null;
            var docs = await uow.ListAsync<ArrearsDocumentRef>(
                "SELECT id AS Id, kind AS Kind, issued_on AS IssuedOn, title AS Title FROM app.arrears_documents WHERE case_no = @caseNo ORDER BY id", new { caseNo });
            var events = await uow.ListAsync<ArrearsEvent>(
                "SELECT on_date AS OnDate, kind AS Kind, actor AS Actor, details AS Details, at AS At FROM app.arrears_events WHERE case_no = @caseNo ORDER BY id", new { caseNo });
            return new ArrearsCasePage(c, docs, events);
        }, ct, new WorkOptions { RecordId = caseNo });
}
