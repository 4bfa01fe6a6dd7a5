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
    public string SingleWorkerBasis { get; set; } = "case_totals";
    public string? NoticeSentBy { get; set; }
    public string? NoticeChannel { get; set; }
    public DateOnly? ServedOn { get; set; }
    public string? ServiceMethod { get; set; }
    public string? ServiceEvidence { get; set; }
    public string? StatementSummary { get; set; }
    public DateOnly? StatementCheckDueOn { get; set; }
    public DateOnly? StatementCheckedOn { get; set; }
    public string? StatementCheckResult { get; set; }
    public string? StatementCheckedBy { get; set; }
    public string? ProposalKind { get; set; }
    public string? ProposalReason { get; set; }
    public string? ProposedBy { get; set; }
    public DateOnly? ProposedOn { get; set; }
    public DateOnly? DecisionDueOriginal { get; set; }
    public DateOnly? ExtendedOn { get; set; }
    public string? ExtensionReason { get; set; }
    public string? ExtensionApprovedBy { get; set; }
    public string? RemovedBy { get; set; }
    public DateOnly? RevokedOn { get; set; }
    public string? RevokeReason { get; set; }

    // Who was listed, fixed at decision (app.arrears_listed_parties); null before a listing decision.
    public string? FixedEmployerName { get; set; }
    public string? FixedLegalRepName { get; set; }
    public string? FixedLegalRepIdNumber { get; set; }
    public string? FixedResponsiblePersons { get; set; }
    public bool IsFixed => FixedEmployerName is not null;

    /// <summary>The party as documents name it: as fixed at decision once listed, before that as the register shows it.</summary>
    public string? PartyName => IsFixed ? FixedEmployerName : EmployerName;
    public string? PartyLegalRepName => IsFixed ? FixedLegalRepName : LegalRepName;
    public string? PartyLegalRepIdNumber => IsFixed ? FixedLegalRepIdNumber : LegalRepIdNumber;
    public string PartyResponsiblePersons => IsFixed ? FixedResponsiblePersons ?? "" : ResponsiblePersons;

    /// <summary>The amounts per worker (import arrears-workers), loaded by <see cref="LoadWorkersAsync"/>.</summary>
    public List<WorkerOwed> Workers { get; set; } = [];

    public ArrearsFacts Facts => new(WorkersAffected, AmountOwedFen, MaxMonthsOwed, Incident, Workers);
    public bool HasEmail => !string.IsNullOrWhiteSpace(EmployerEmail);

    /// <summary>Fills <see cref="Workers"/> of the cases from <c>app.arrears_workers</c>.</summary>
    public static async Task LoadWorkersAsync(UnitOfWork uow, IReadOnlyList<CaseView> cases)
    {
        if (cases.Count == 0) return;
        var rows = await uow.ListAsync<(string CaseNo, string WorkerId, long AmountOwedFen, int MonthsOwed)>(
            "SELECT case_no, worker_id, amount_owed_fen, months_owed FROM app.arrears_workers WHERE case_no = ANY(@caseNos) ORDER BY case_no, worker_id",
            new { caseNos = cases.Select(c => c.CaseNo).ToArray() });
        var byCase = rows.ToLookup(r => r.CaseNo);
        foreach (var c in cases)
            c.Workers = byCase[c.CaseNo].Select(r => new WorkerOwed(r.WorkerId, r.AmountOwedFen, r.MonthsOwed)).ToList();
    }

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
               p.removed_on AS RemovedOn, p.removal_kind AS RemovalKind, p.removal_reason AS RemovalReason, p.reminded_on AS RemindedOn,
               coalesce(p.single_worker_basis, 'case_totals') AS SingleWorkerBasis, p.notice_sent_by AS NoticeSentBy, p.notice_channel AS NoticeChannel,
               p.served_on AS ServedOn, p.service_method AS ServiceMethod, p.service_evidence AS ServiceEvidence,
               p.statement_summary AS StatementSummary, p.statement_check_due_on AS StatementCheckDueOn, p.statement_checked_on AS StatementCheckedOn,
               p.statement_check_result AS StatementCheckResult, p.statement_checked_by AS StatementCheckedBy,
               p.proposal_kind AS ProposalKind, p.proposal_reason AS ProposalReason, p.proposed_by AS ProposedBy, p.proposed_on AS ProposedOn,
               p.decision_due_original AS DecisionDueOriginal, p.extended_on AS ExtendedOn, p.extension_reason AS ExtensionReason,
               p.extension_approved_by AS ExtensionApprovedBy, p.removed_by AS RemovedBy, p.revoked_on AS RevokedOn, p.revoke_reason AS RevokeReason,
               lp.employer_name AS FixedEmployerName, lp.legal_rep_name AS FixedLegalRepName, lp.legal_rep_id_number AS FixedLegalRepIdNumber,
               lp.responsible_persons AS FixedResponsiblePersons
        FROM app.arrears_cases c
        LEFT JOIN app.arrears_procedures p ON p.case_no = c.case_no
        LEFT JOIN app.employers e ON e.uscc = c.uscc
        LEFT JOIN app.arrears_listed_parties lp ON lp.case_no = c.case_no
        """;
}

public sealed record ArrearsDocumentRef(long Id, string Kind, DateOnly IssuedOn, string Title);

/// <summary>An application for early removal (信用修复) as recorded.</summary>
public sealed class RemovalApplication
{
    public long Id { get; set; }
    public string CaseNo { get; set; } = "";
    public DateOnly AppliedOn { get; set; }
    public DateOnly CorrectedOn { get; set; }
    public string PaymentProof { get; set; } = "";
    public DateOnly CreditPromiseOn { get; set; }
    public string RecordedBy { get; set; } = "";
    public DateOnly DueOn { get; set; }
    public bool DueCalendarMissing { get; set; }
    public string Status { get; set; } = "";
    public DateOnly? DecidedOn { get; set; }
    public string? DecidedBy { get; set; }
    public string? RefusalReasons { get; set; }
    public DateOnly? RemindedOn { get; set; }

    public const string Select = """
        SELECT id AS Id, case_no AS CaseNo, applied_on AS AppliedOn, corrected_on AS CorrectedOn, payment_proof AS PaymentProof,
               credit_promise_on AS CreditPromiseOn, recorded_by AS RecordedBy, due_on AS DueOn, due_calendar_missing AS DueCalendarMissing,
               status AS Status, decided_on AS DecidedOn, decided_by AS DecidedBy, refusal_reasons AS RefusalReasons, reminded_on AS RemindedOn
        FROM app.arrears_removal_applications
        """;
}

public sealed record ArrearsEvent(DateOnly OnDate, string Kind, string Actor, string? Details, DateTime At);

/// <summary>What the overview page shows.</summary>
public sealed record ArrearsOverview(
    IReadOnlyDictionary<string, long> Counts, IReadOnlyList<CaseView> Open, IReadOnlyList<CaseView> Recent,
    IReadOnlyList<ArrearsDocumentRef> Digests, IReadOnlyList<CaseView> ListedWork, IReadOnlyDictionary<string, RemovalApplication> Pending);

/// <summary>A case with its documents, its events and its early-removal applications, as the case page shows it.</summary>
public sealed record ArrearsCasePage(CaseView Case, IReadOnlyList<ArrearsDocumentRef> Documents, IReadOnlyList<ArrearsEvent> Events,
    IReadOnlyList<RemovalApplication> Applications);

/// <summary>The View slice: what the arrears pages read.</summary>
public sealed class ArrearsView(Work work)
{
    public Task<ArrearsOverview> OverviewAsync(DateOnly today, CancellationToken ct) =>
        work.RunAsync("wage-arrears.overview", async uow =>
        {
            var counts = (await uow.ListAsync<(string State, long N)>("SELECT state, count(*) FROM app.arrears_procedures GROUP BY state"))
                .ToDictionary(r => r.State, r => r.N);
            var open = await uow.ListAsync<CaseView>(CaseView.Select +
                " WHERE p.state = ANY(@undecided) ORDER BY p.decision_due_on, c.case_no", new { undecided = ProcedureLifecycle.Undecided });
            // Listed cases that need a person: a pending early-removal application, or a period that has ended.
            var pending = (await uow.ListAsync<RemovalApplication>(RemovalApplication.Select + " WHERE status = 'pending'")).ToDictionary(a => a.CaseNo);
            var listedWork = await uow.ListAsync<CaseView>(CaseView.Select + """
                 WHERE p.state = @listed AND (p.listed_until <= @today OR c.case_no = ANY(@pending))
                 ORDER BY p.listed_until, c.case_no
                """, new { listed = ProcedureLifecycle.ListedDb, today, pending = pending.Keys.ToArray() });
            var recent = await uow.ListAsync<CaseView>(CaseView.Select +
                " WHERE p.state IS NOT NULL ORDER BY p.updated_at DESC, c.case_no LIMIT 100");
            var digests = await uow.ListAsync<ArrearsDocumentRef>(
                "SELECT id AS Id, kind AS Kind, issued_on AS IssuedOn, title AS Title FROM app.arrears_documents WHERE kind = @kind ORDER BY issued_on DESC LIMIT 30", new { kind = IssuedDocuments.PartnerDigestKind });
            return new ArrearsOverview(counts, open, recent, digests, listedWork, pending);
        }, ct);

    /// <summary>The home page's counts: candidates waiting for their notice, served notices and proposals waiting for a decision, and decisions due by <paramref name="horizon"/>.</summary>
    public Task<(long Candidates, long AwaitingDecision, long DecisionsDue)> WaitingAsync(DateOnly horizon, CancellationToken ct) =>
        work.RunAsync("wage-arrears.waiting", uow => uow.SingleAsync<(long, long, long)>(
            """
            SELECT count(*) FILTER (WHERE state = @candidate), count(*) FILTER (WHERE state = ANY(@awaiting)),
                   count(*) FILTER (WHERE state = ANY(@undecided) AND decision_due_on <= @horizon)
            FROM app.arrears_procedures
            """,
            new
            {
                candidate = ProcedureLifecycle.Table.Db(ProcedureState.Candidate),
                awaiting = new[] { ProcedureLifecycle.Table.Db(ProcedureState.NoticeServed), ProcedureLifecycle.Table.Db(ProcedureState.DecisionProposed) },
                undecided = ProcedureLifecycle.Undecided,
                horizon,
            }), ct);

    /// <summary>Whether the account carries the decider duty (which forms its case page offers; the acts check it again).</summary>
    public Task<bool> IsDeciderAsync(string name, CancellationToken ct) =>
        work.RunAsync("wage-arrears.decider", uow => Dashboard.UserStore.IsDeciderAsync(uow, name), ct);

    public Task<ArrearsCasePage?> CaseAsync(string caseNo, CancellationToken ct) =>
        work.RunAsync("wage-arrears.case", async uow =>
        {
            var c = await uow.SingleOrDefaultAsync<CaseView>(CaseView.Select + " WHERE c.case_no = @caseNo", new { caseNo });
            if (c is null) return null;
            await CaseView.LoadWorkersAsync(uow, [c]);
            var applications = await uow.ListAsync<RemovalApplication>(RemovalApplication.Select + " WHERE case_no = @caseNo ORDER BY id", new { caseNo });
            var docs = await uow.ListAsync<ArrearsDocumentRef>(
                "SELECT id AS Id, kind AS Kind, issued_on AS IssuedOn, title AS Title FROM app.arrears_documents WHERE case_no = @caseNo ORDER BY id", new { caseNo });
            var events = await uow.ListAsync<ArrearsEvent>(
                "SELECT on_date AS OnDate, kind AS Kind, actor AS Actor, details AS Details, at AS At FROM app.arrears_events WHERE case_no = @caseNo ORDER BY id", new { caseNo });
            return new ArrearsCasePage(c, docs, events, applications);
        }, ct, new WorkOptions { RecordId = caseNo });
}
