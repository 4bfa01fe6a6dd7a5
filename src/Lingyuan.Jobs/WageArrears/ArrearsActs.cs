using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>How a notice goes out and how its service (送达) is proven.</summary>
public static class ServiceMethods
{
    public const string Email = "email", Post = "post", Personal = "personal";
    public static readonly string[] All = [Email, Post, Personal];

    public static string Zh(string? m) => m switch
    {
        Email => "电子送达(当事人已同意)",
        Post => "邮寄送达",
        Personal => "直接送达",
        _ => "—",
    };
}

/// <summary>
/// The people's moves of the listing procedure (人社部令第45号 arts. 5-15; DOMAIN.md §4), each one unit of
/// work as the named account: the account's role checked against the move of <see cref="ProcedureLifecycle"/>,
/// the decider duty where the move needs it, the procedure locked and its state checked, the conditional
/// update, its event and audit record, and the document it issues. A document reaches the employer by
/// e-mail only when the employer agreed to electronic service; otherwise it is printed and served by post
/// or in person, and the service is recorded from the receipt.
/// </summary>
public sealed class ArrearsActs(Work work, CalendarStore calendars, BureauClock clock, IOptions<WageArrearsOptions> options)
{
    private readonly WageArrearsOptions _o = options.Value;
    private readonly ListingThresholds _t = ListingThresholds.From(options.Value);
    private ArrearsNotices Notices => new(_o);
    private static StateTable<ProcedureState, ProcedureVerb> T => ProcedureLifecycle.Table;
    private static string Db(ProcedureState s) => ProcedureLifecycle.Table.Db(s);
    private static string D(DateOnly? d) => d?.ToString("yyyy-MM-dd") ?? "—";

    public WageArrearsOptions Options => _o;

    // ---- the notice (告知书, art. 6) and its service (送达) ----

    /// <summary>
    /// Issues the drafted pre-listing notice: by e-mail when the party agreed to electronic service, otherwise
    /// for printing (post or personal service). The statement period starts only when service is recorded.
    /// </summary>
    public Task IssueNoticeAsync(string caseNo, string user, string channel, bool electronicServiceAgreed, CancellationToken ct) =>
        ActAsync("wage-arrears.notice", caseNo, user, ProcedureVerb.IssueNotice, async (uow, c, move, today) =>
        {
            if (!ServiceMethods.All.Contains(channel)) throw new DomainRuleException("请选择送达方式:电子送达、邮寄送达或直接送达");
            if (c.EmployerName is null) throw new DomainRuleException($"用人单位名录中无统一社会信用代码 {c.Uscc},无法制作告知书");
            if (channel == ServiceMethods.Email && !electronicServiceAgreed)
                throw new DomainRuleException("电子送达须经当事人同意;未同意的,请选择邮寄送达或直接送达");
            if (channel == ServiceMethods.Email && !c.HasEmail) throw new DomainRuleException("用人单位无电子邮箱,无法电子送达");
            await MoveAsync(uow, c, move, """
                notice_sent_on = @today, notice_sent_by = @user, notice_channel = @channel
                """, new { today, user, channel });
            await EventAsync(uow, caseNo, Db(move.To), today, ServiceMethods.Zh(channel));
            await uow.AuditAsync($"arrears.{Db(move.To)}", "arrears_case", caseNo,
                before: new { state = c.State }, after: new { state = Db(move.To), notice_sent_on = today, notice_channel = channel });
            c.NoticeSentOn = today;
            await IssuedDocuments.IssueAsync(uow, caseNo, "pre_listing_notice", $"wage-arrears:{caseNo}:notice",
                Notices.PreListingNotice(c, _t, today), channel == ServiceMethods.Email ? [c.EmployerEmail!] : []);
            TestHooks.Point("wage-arrears:notice");
        }, ct);

    /// <summary>
    /// Records service: for electronic service the day the mail server accepted the notice (the outbox's
    /// delivery time, in the bureau's zone); for post or personal service the date on the receipt. The
    /// statement period (StatementPeriodWorkingDays) runs from the day after.
    /// </summary>
    public Task<DateOnly> RecordServiceAsync(string caseNo, string user, string method, DateOnly? receiptDate, string? evidence, CancellationToken ct)
    {
        evidence = string.IsNullOrWhiteSpace(evidence) ? null : TextRules.SingleLine(evidence, "evidence", "送达凭证", TextRules.ReasonMaxLength);
        return ActAsync("wage-arrears.service", caseNo, user, ProcedureVerb.RecordService, async (uow, c, move, today) =>
        {
            DateOnly served;
            if (method == ServiceMethods.Email)
            {
                if (c.NoticeChannel != ServiceMethods.Email) throw new DomainRuleException("告知书未以电子方式发出,请按回执登记邮寄或直接送达");
                var sentAt = await uow.ScalarAsync<DateTime?>(
                    "SELECT sent_at FROM app.outbox WHERE dedupe_key = @key AND state = 'sent'", new { key = $"wage-arrears:{caseNo}:notice" });
                if (sentAt is not { } at) throw new DomainRuleException("告知书邮件尚未投递成功,暂不能登记电子送达");
                served = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)), clock.Zone).DateTime);
                evidence ??= $"邮件投递时间 {clock.Format(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)))}";
            }
            else if (method is ServiceMethods.Post or ServiceMethods.Personal)
            {
                served = receiptDate ?? throw new DomainRuleException("请填写送达回执上的签收日期");
                if (evidence is null) throw new DomainRuleException("请填写送达凭证(如邮件号、回执编号或签收人)");
            }
            else throw new DomainRuleException("请选择送达方式:电子送达、邮寄送达或直接送达");
            if (served < c.NoticeSentOn) throw new DomainRuleException($"送达日期不能早于告知书发出日期 {D(c.NoticeSentOn)}");
            if (served > today) throw new DomainRuleException("送达日期不能晚于今天");

            var cal = await calendars.LoadAsync(ct);
            // The day of service is not counted: the period ends on the 5th working day after it.
            var due = cal.AddWorkingDays(served, _o.StatementPeriodWorkingDays);
            await MoveAsync(uow, c, move, """
                served_on = @served, service_method = @method, service_evidence = @evidence, service_recorded_by = @user,
                statement_due_on = @due, statement_due_calendar_missing = @missing
                """, new { served, method, evidence, user, due = due.Date, missing = due.CalendarMissing });
            await EventAsync(uow, caseNo, Db(move.To), served, $"{ServiceMethods.Zh(method)};陈述申辩期至 {D(due.Date)}");
            await uow.AuditAsync($"arrears.{Db(move.To)}", "arrears_case", caseNo,
                before: new { state = c.State }, after: new { state = Db(move.To), served_on = served, service_method = method, statement_due_on = due.Date });
            return due.Date;
        }, ct);
    }

    // ---- the statement (陈述申辩) and its check (art. 6 ¶2) ----

    public Task RecordStatementAsync(string caseNo, string user, DateOnly receivedOn, string summary, CancellationToken ct)
    {
        summary = Required(summary, "summary", "陈述申辩要点");
        return ActAsync("wage-arrears.statement", caseNo, user, ProcedureVerb.RecordStatement, async (uow, c, move, today) =>
        {
            if (c.StatementReceivedOn is not null) throw new DomainRuleException($"案件 {caseNo} 已登记陈述申辩");
            if (receivedOn > today) throw new DomainRuleException("收到日期不能晚于今天");
            if (receivedOn < c.NoticeSentOn) throw new DomainRuleException($"收到日期不能早于告知书发出日期 {D(c.NoticeSentOn)}");
            var cal = await calendars.LoadAsync(ct);
            var checkDue = cal.AddWorkingDays(receivedOn, _o.StatementCheckWorkingDays).Date;
            await MoveAsync(uow, c, move, "statement_received_on = @receivedOn, statement_summary = @summary, statement_check_due_on = @checkDue",
                new { receivedOn, summary, checkDue });
            await EventAsync(uow, caseNo, "statement_received", receivedOn, $"核查结果应于 {D(checkDue)} 前告知当事人");
            await uow.AuditAsync("arrears.statement_received", "arrears_case", caseNo, after: new { statement_received_on = receivedOn, statement_check_due_on = checkDue }, details: summary);
        }, ct);
    }

    /// <summary>The result of checking the statement, told to the party (陈述申辩核查结果告知书).</summary>
    public Task CheckStatementAsync(string caseNo, string user, bool upheld, string result, CancellationToken ct)
    {
        result = Required(result, "result", "核查结果");
        return ActAsync("wage-arrears.statement-check", caseNo, user, ProcedureVerb.CheckStatement, async (uow, c, move, today) =>
        {
            if (c.StatementReceivedOn is null) throw new DomainRuleException("尚未登记陈述申辩");
            if (c.StatementCheckedOn is not null) throw new DomainRuleException("已登记核查结果");
            var text = (upheld ? "陈述申辩理由成立:" : "陈述申辩理由不成立:") + result;
            await MoveAsync(uow, c, move, "statement_checked_on = @today, statement_check_result = @text, statement_checked_by = @user", new { today, text, user });
            await EventAsync(uow, caseNo, "statement_checked", today, text);
            await uow.AuditAsync("arrears.statement_checked", "arrears_case", caseNo, after: new { statement_checked_on = today, upheld }, details: result);
            c.StatementCheckedOn = today;
            c.StatementCheckResult = text;
            await IssuedDocuments.IssueAsync(uow, caseNo, "statement_check_result", $"wage-arrears:{caseNo}:statement-check",
                Notices.StatementCheckResult(c, today), ToParty(c));
        }, ct);
    }

    // ---- the decision: proposed by one person, approved by a decider (four eyes) ----

    public Task ProposeAsync(string caseNo, string user, DecisionKind kind, string? note, CancellationToken ct)
    {
        note = string.IsNullOrWhiteSpace(note) ? null : TextRules.SingleLine(note, "reason", "理由", TextRules.ReasonMaxLength).Trim();
        return ActAsync("wage-arrears.propose", caseNo, user, ProcedureVerb.Propose, async (uow, c, move, today) =>
        {
            // 陈述申辩: the party may state and defend until the last day of the period.
            if (today <= c.StatementDueOn)
                throw new DomainRuleException($"陈述申辩期至 {D(c.StatementDueOn)} 届满,届满前不得提出决定");
            if (c.StatementReceivedOn is not null && c.StatementCheckedOn is null)
                throw new DomainRuleException("已收到陈述申辩,须先登记核查结果并告知当事人");
            await CaseView.LoadWorkersAsync(uow, [c]);
            var (rule, basis) = ListingTest.EvaluateWithBasis(c.Facts, _t);
            string reason;
            if (kind == DecisionKind.Listed)
            {
                if (!rule.IsListable()) throw new DomainRuleException("按现有案件数据不符合列入条件(人社部令第45号第五条),不能提出列入");
                if (today > c.DecisionDueOn)
                    throw new DomainRuleException($"已超过决定期限({D(c.DecisionDueOn)}),不得再作出列入决定;可提出不予列入并说明理由");
                reason = ListingTest.ReasonZh(rule, c.Facts, _t);
            }
            else
            {
                reason = note ?? throw new DomainRuleException("不予列入须写明理由");
            }
            var proposal = kind == DecisionKind.Listed ? Db(ProcedureState.Listed) : Db(ProcedureState.NotListed);
            await MoveAsync(uow, c, move, """
                proposal_kind = @proposal, proposal_reason = @reason, proposed_by = @user, proposed_on = @today,
                listable = @listable, test_rule = @rule, single_worker_basis = @basis, tested_on = @today
                """, new { proposal, reason, user, today, listable = rule.IsListable(), rule = rule.Code(), basis = basis.Code() });
            await EventAsync(uow, caseNo, "decision_proposed", today, $"{ProcedureLifecycle.ProposalZh(proposal)}:{reason}");
            await uow.AuditAsync("arrears.decision_proposed", "arrears_case", caseNo,
                before: new { state = c.State }, after: new { state = Db(move.To), proposal, test_rule = rule.Code() }, details: reason);
        }, ct);
    }

    /// <summary>
    /// A decider other than the proposer approves the proposed decision: the decision takes effect today,
    /// who is listed is fixed as the register shows them now, and the decision document is issued.
    /// </summary>
    public Task<DecisionKind> ApproveAsync(string caseNo, string user, CancellationToken ct) =>
        ActAsync("wage-arrears.approve", caseNo, user, ProcedureVerb.Approve, async (uow, c, move, today) =>
        {
            if (string.Equals(c.ProposedBy, user, StringComparison.Ordinal))
                throw ProcedureLifecycle.Forbidden($"双人复核:{user} 提出了该决定,须由另一名有决定权限的人员审批");
            var listed = c.ProposalKind == Db(ProcedureState.Listed);
            if (listed && today > c.DecisionDueOn)
                throw new DomainRuleException($"已超过决定期限({D(c.DecisionDueOn)}),不得再作出列入决定;请退回并提出不予列入");
            var to = listed ? ProcedureState.Listed : ProcedureState.NotListed;
            var listedUntil = listed ? today.AddYears(_o.ListingYears) : (DateOnly?)null;
            var moved = await uow.ExecuteAsync("""
                UPDATE app.arrears_procedures
                SET state = @to, decided_on = @today, decided_by = @user, decision_reason = proposal_reason, listed_until = @listedUntil, updated_at = now()
                WHERE case_no = @caseNo AND state = ANY(@from)
                """, new { caseNo, to = Db(to), today, user, listedUntil, from = move.From.Select(Db).ToArray() });
            if (moved == 0) throw new DomainRuleException($"案件 {caseNo} 已由他人处理");
            if (listed)
            {
                // Who is listed is fixed now: later changes of the register never change the list.
                if (c.EmployerName is null) throw new DomainRuleException($"用人单位名录中无统一社会信用代码 {c.Uscc},无法确定列入对象");
                await uow.ExecuteAsync("""
                    INSERT INTO app.arrears_listed_parties (case_no, employer_name, uscc, legal_rep_name, legal_rep_id_number, responsible_persons, fixed_on)
                    VALUES (@CaseNo, @EmployerName, @Uscc, coalesce(@LegalRepName, ''), coalesce(@LegalRepIdNumber, ''), @ResponsiblePersons, @today)
                    """, new { c.CaseNo, c.EmployerName, c.Uscc, c.LegalRepName, c.LegalRepIdNumber, c.ResponsiblePersons, today });
                c.FixedEmployerName = c.EmployerName;
                c.FixedLegalRepName = c.LegalRepName ?? "";
                c.FixedLegalRepIdNumber = c.LegalRepIdNumber ?? "";
                c.FixedResponsiblePersons = c.ResponsiblePersons;
            }
            var reason = c.ProposalReason!;
            await EventAsync(uow, caseNo, Db(to), today, $"{reason}(提出:{c.ProposedBy};审批:{user})");
            await uow.AuditAsync($"arrears.{Db(to)}", "arrears_case", caseNo,
                before: new { state = c.State, proposed_by = c.ProposedBy }, after: new { state = Db(to), decided_on = today, decided_by = user, listed_until = listedUntil }, details: reason);
            c.DecidedOn = today;
            c.DecidedBy = user;
            c.DecisionReason = reason;
            var doc = listed ? Notices.ListingDecision(c, today, listedUntil!.Value, reason) : Notices.NotListedDecision(c, today, reason);
            await IssuedDocuments.IssueAsync(uow, caseNo, listed ? "listing_decision" : "not_listed_decision", $"wage-arrears:{caseNo}:decision", doc, ToParty(c));
            return listed ? DecisionKind.Listed : DecisionKind.NotListed;
        }, ct);

    /// <summary>A decider sends the proposal back with a reason; the case waits for a new proposal.</summary>
    public Task ReturnProposalAsync(string caseNo, string user, string reason, CancellationToken ct)
    {
        reason = Required(reason, "reason", "退回理由");
        return ActAsync("wage-arrears.return", caseNo, user, ProcedureVerb.ReturnProposal, async (uow, c, move, today) =>
        {
            await MoveAsync(uow, c, move, "proposal_kind = NULL, proposal_reason = NULL, proposed_by = NULL, proposed_on = NULL", null);
            await EventAsync(uow, caseNo, "proposal_returned", today, reason);
            await uow.AuditAsync("arrears.proposal_returned", "arrears_case", caseNo,
                before: new { state = c.State, proposed_by = c.ProposedBy }, after: new { state = Db(move.To) }, details: reason);
        }, ct);
    }

    /// <summary>
    /// Art. 8: a complex case's decision deadline is extended once by DecisionExtensionWorkingDays, approved by
    /// a decider with its reason, before the deadline has passed.
    /// </summary>
    public Task<DateOnly> ExtendAsync(string caseNo, string user, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new DomainRuleException("延长决定期限须写明理由(案情复杂的具体情况)");
        reason = TextRules.SingleLine(reason, "reason", "延长理由", TextRules.ReasonMaxLength).Trim();
        return ActAsync("wage-arrears.extend", caseNo, user, ProcedureVerb.Extend, async (uow, c, move, today) =>
        {
            if (c.ExtendedOn is not null) throw new DomainRuleException($"决定期限已于 {D(c.ExtendedOn)} 延长过一次,不能再次延长");
            if (today > c.DecisionDueOn) throw new DomainRuleException($"决定期限已于 {D(c.DecisionDueOn)} 届满,届满后不能延长");
            var cal = await calendars.LoadAsync(ct);
            var due = cal.AddWorkingDays(c.DecisionDueOn!.Value, _o.DecisionExtensionWorkingDays);
            await uow.ExecuteAsync("""
                UPDATE app.arrears_procedures
                SET decision_due_original = decision_due_on, decision_due_on = @due, decision_due_calendar_missing = decision_due_calendar_missing OR @missing,
                    extended_on = @today, extension_reason = @reason, extension_approved_by = @user, reminded_on = NULL, updated_at = now()
                WHERE case_no = @caseNo
                """, new { caseNo, due = due.Date, missing = due.CalendarMissing, today, reason, user });
            await EventAsync(uow, caseNo, "decision_extended", today, $"决定期限由 {D(c.DecisionDueOn)} 延长至 {D(due.Date)}:{reason}");
            await uow.AuditAsync("arrears.decision_extended", "arrears_case", caseNo,
                before: new { decision_due_on = c.DecisionDueOn }, after: new { decision_due_on = due.Date, approved_by = user }, details: reason);
            return due.Date;
        }, ct);
    }

    // ---- removal ----

    /// <summary>Records removal when the listing period has ended (the public list drops the party that day by itself).</summary>
    public Task RemoveExpiredAsync(string caseNo, string user, CancellationToken ct) =>
        ActAsync("wage-arrears.expire", caseNo, user, ProcedureVerb.RemoveExpired, async (uow, c, move, today) =>
        {
            if (today < c.ListedUntil) throw new DomainRuleException($"列入期限至 {D(c.ListedUntil?.AddDays(-1))},尚未届满");
            await RemoveAsync(uow, c, move, c.ListedUntil!.Value, "expired", "列入期限届满", user);
        }, ct);

    /// <summary>An application for early removal (arts. 12-14): recorded with its date, proof of payment and credit promise; due in 15 working days.</summary>
    public Task<DateOnly> ApplyRemovalAsync(string caseNo, string user, DateOnly appliedOn, DateOnly correctedOn, string proof, DateOnly promiseOn, CancellationToken ct)
    {
        proof = Required(proof, "proof", "已改正(支付)证明");
        return ActAsync("wage-arrears.removal-apply", caseNo, user, ProcedureVerb.ApplyRemoval, async (uow, c, move, today) =>
        {
            if (appliedOn > today || correctedOn > today || promiseOn > today) throw new DomainRuleException("申请、改正和承诺日期不能晚于今天");
            if (appliedOn < c.DecidedOn) throw new DomainRuleException("申请日期不能早于列入决定日期");
            if (await uow.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM app.arrears_removal_applications WHERE case_no = @caseNo AND status = 'pending')", new { caseNo }))
                throw new DomainRuleException("该案件已有待决定的提前移出申请");
            var cal = await calendars.LoadAsync(ct);
            var due = cal.AddWorkingDays(appliedOn, _o.RemovalDecisionWorkingDays);
            await uow.ExecuteAsync("""
                INSERT INTO app.arrears_removal_applications (case_no, applied_on, corrected_on, payment_proof, credit_promise_on, recorded_by, due_on, due_calendar_missing)
                VALUES (@caseNo, @appliedOn, @correctedOn, @proof, @promiseOn, @user, @due, @missing)
                """, new { caseNo, appliedOn, correctedOn, proof, promiseOn, user, due = due.Date, missing = due.CalendarMissing });
            await EventAsync(uow, caseNo, "removal_applied", appliedOn, $"改正日期 {D(correctedOn)};信用承诺 {D(promiseOn)};应于 {D(due.Date)} 前作出决定");
            await uow.AuditAsync("arrears.removal_applied", "arrears_case", caseNo,
                after: new { applied_on = appliedOn, corrected_on = correctedOn, credit_promise_on = promiseOn, due_on = due.Date }, details: proof);
            return due.Date;
        }, ct);
    }

    /// <summary>
    /// Why early removal cannot be granted today: the conditions of art. 12 (six months listed since the
    /// correction) and the bars (new arrears while listed; an earlier early removal revoked for fraud).
    /// </summary>
    public async Task<List<string>> RemovalBarsAsync(UnitOfWork uow, CaseView c, RemovalApplication a, DateOnly today)
    {
        var bars = new List<string>();
        var from = a.CorrectedOn > c.DecidedOn!.Value ? a.CorrectedOn : c.DecidedOn.Value;
        var eligible = from.AddMonths(_o.RepairWaitMonths);
        if (today < eligible)
            bars.Add($"自改正之日起被列入名单未满{_o.RepairWaitMonths}个月({D(eligible)} 起方满)");
        var newArrears = await uow.ListAsync<string>("""
            SELECT case_no FROM app.arrears_cases
            WHERE uscc = @Uscc AND case_no <> @CaseNo AND order_issued_on >= @DecidedOn ORDER BY case_no
            """, new { c.Uscc, c.CaseNo, c.DecidedOn });
        if (newArrears.Count > 0)
            bars.Add($"列入名单期间再次发生拖欠农民工工资违法行为(案件 {string.Join("、", newArrears)})");
        var revoked = await uow.ListAsync<string>("""
            SELECT p.case_no FROM app.arrears_procedures p JOIN app.arrears_cases c ON c.case_no = p.case_no
            WHERE c.uscc = @Uscc AND p.revoked_on IS NOT NULL ORDER BY p.case_no
            """, new { c.Uscc });
        if (revoked.Count > 0)
            bars.Add($"曾以提供虚假材料等方式获得提前移出而被撤销(案件 {string.Join("、", revoked)})");
        return bars;
    }

    /// <summary>
    /// A decider decides the pending application: granting is refused while a condition is unmet or a bar
    /// applies (nothing is recorded); a refusal states its written reasons (with any unmet condition found).
    /// </summary>
    public Task DecideRemovalAsync(string caseNo, string user, bool grant, string? reasons, CancellationToken ct)
    {
        reasons = string.IsNullOrWhiteSpace(reasons) ? null : TextRules.SingleLine(reasons, "reason", "理由", TextRules.ReasonMaxLength).Trim();
        var verb = grant ? ProcedureVerb.GrantRemoval : ProcedureVerb.RefuseRemoval;
        return ActAsync("wage-arrears.removal-decide", caseNo, user, verb, async (uow, c, move, today) =>
        {
            var a = await uow.SingleOrDefaultAsync<RemovalApplication>(RemovalApplication.Select + " WHERE case_no = @caseNo AND status = 'pending' FOR UPDATE", new { caseNo })
                ?? throw new DomainRuleException("该案件没有待决定的提前移出申请");
            var bars = await RemovalBarsAsync(uow, c, a, today);
            if (grant)
            {
                if (bars.Count > 0) throw new DomainRuleException($"不符合提前移出条件:{string.Join(";", bars)}。如不予移出,请写明理由作出不予提前移出决定");
                await uow.ExecuteAsync("UPDATE app.arrears_removal_applications SET status = 'granted', decided_on = @today, decided_by = @user WHERE id = @Id",
                    new { a.Id, today, user });
                await RemoveAsync(uow, c, move, today, "repaired",
                    $"已于{D(a.CorrectedOn)}改正,{D(a.CreditPromiseOn)}作出书面信用承诺,自改正之日起列入满{_o.RepairWaitMonths}个月", user, a);
                return;
            }
            if (reasons is null) throw new DomainRuleException("不予提前移出须书面说明理由");
            var all = bars.Count == 0 ? reasons : $"{reasons};{string.Join(";", bars)}";
            await uow.ExecuteAsync("UPDATE app.arrears_removal_applications SET status = 'refused', decided_on = @today, decided_by = @user, refusal_reasons = @all WHERE id = @Id",
                new { a.Id, today, user, all });
            await EventAsync(uow, caseNo, "removal_refused", today, all);
            await uow.AuditAsync("arrears.removal_refused", "arrears_case", caseNo, after: new { application = a.Id, decided_by = user }, details: all);
            await IssuedDocuments.IssueAsync(uow, caseNo, "removal_refusal", $"wage-arrears:{caseNo}:removal-refusal:{a.Id}",
                Notices.RemovalRefusal(c, a, today, all), ToParty(c));
        }, ct);
    }

    /// <summary>Art. 15: an early removal obtained by fraud is revoked; the party is listed again for the original period.</summary>
    public Task RevokeRemovalAsync(string caseNo, string user, string reason, CancellationToken ct)
    {
        reason = Required(reason, "reason", "撤销理由");
        return ActAsync("wage-arrears.removal-revoke", caseNo, user, ProcedureVerb.RevokeRemoval, async (uow, c, move, today) =>
        {
            if (c.RemovalKind != "repaired") throw new DomainRuleException("只有提前移出(信用修复)的决定可以撤销恢复列入");
            await MoveAsync(uow, c, move, """
                removed_on = NULL, removal_kind = NULL, removal_reason = NULL, removed_by = NULL, revoked_on = @today, revoke_reason = @reason
                """, new { today, reason });
            await EventAsync(uow, caseNo, "removal_revoked", today, $"{reason};恢复列入至 {D(c.ListedUntil?.AddDays(-1))}");
            await uow.AuditAsync("arrears.removal_revoked", "arrears_case", caseNo,
                before: new { state = c.State, removed_on = c.RemovedOn }, after: new { state = Db(move.To), listed_until = c.ListedUntil }, details: reason);
        }, ct);
    }

    /// <summary>The listing decision was revoked (administrative review, court or the bureau itself): removed at once, with the reason.</summary>
    public Task OverturnAsync(string caseNo, string user, string reason, CancellationToken ct)
    {
        reason = Required(reason, "reason", "撤销理由");
        return ActAsync("wage-arrears.overturn", caseNo, user, ProcedureVerb.Overturn,
            (uow, c, move, today) => RemoveAsync(uow, c, move, today, "overturned", reason, user), ct);
    }

    private async Task RemoveAsync(UnitOfWork uow, CaseView c, Move<ProcedureState, ProcedureVerb> move, DateOnly removedOn, string kind, string reason, string user,
        RemovalApplication? application = null)
    {
        await MoveAsync(uow, c, move, "removed_on = @removedOn, removal_kind = @kind, removal_reason = @reason, removed_by = @user",
            new { removedOn, kind, reason, user });
        await EventAsync(uow, c.CaseNo, Db(move.To), removedOn, $"{kind}: {reason}");
        await uow.AuditAsync($"arrears.{Db(move.To)}", "arrears_case", c.CaseNo,
            before: new { state = c.State }, after: new { state = Db(move.To), removed_on = removedOn, removal_kind = kind }, details: reason);
        var doc = application is not null
            ? Notices.EarlyRemovalDecision(c, application, removedOn)
            : Notices.RemovalNotice(c, removedOn, kind, reason);
        var key = application is not null ? $"wage-arrears:{c.CaseNo}:early-removal:{application.Id}" : $"wage-arrears:{c.CaseNo}:removal";
        await IssuedDocuments.IssueAsync(uow, c.CaseNo, application is not null ? "early_removal_decision" : "removal_notice", key, doc, ToParty(c));
    }

    // ---- shared ----

    /// <summary>The party's address for a document: only when it agreed to electronic service; otherwise the document is printed.</summary>
    private static IReadOnlyList<string> ToParty(CaseView c) =>
        c.NoticeChannel == ServiceMethods.Email && c.HasEmail ? [c.EmployerEmail!] : [];

    private static string Required(string? text, string field, string fieldZh)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new DomainRuleException($"请填写{fieldZh}");
        return TextRules.SingleLine(text, field, fieldZh, TextRules.ReasonMaxLength).Trim();
    }

    /// <summary>The case's event, as the acting person (or the job).</summary>
    internal static Task EventAsync(UnitOfWork uow, string caseNo, string kind, DateOnly on, string? details) =>
        uow.ExecuteAsync(
            "INSERT INTO app.arrears_events (case_no, kind, on_date, actor, details) VALUES (@caseNo, @kind, @on, @actor, @details)",
            new { caseNo, kind, on, actor = uow.Acting.Actor, details });

    /// <summary>The conditional update of a move: to its state (a same-state move keeps it), setting <paramref name="set"/> too.</summary>
    private static async Task MoveAsync(UnitOfWork uow, CaseView c, Move<ProcedureState, ProcedureVerb> move, string set, object? args)
    {
        var p = new Dapper.DynamicParameters(args);
        p.Add("caseNo", c.CaseNo);
        p.Add("to", move.Verb == ProcedureVerb.Extend ? c.State : Db(move.To));
        p.Add("from", move.From.Select(Db).ToArray());
        var moved = await uow.ExecuteAsync($"UPDATE app.arrears_procedures SET state = @to, {set}, updated_at = now() WHERE case_no = @caseNo AND state = ANY(@from)", p);
        if (moved == 0) throw new DomainRuleException($"案件 {c.CaseNo} 已由他人处理");
    }

    private delegate Task<TResult> Body<TResult>(UnitOfWork uow, CaseView c, Move<ProcedureState, ProcedureVerb> move, DateOnly today);

    private Task ActAsync(string use, string caseNo, string user, ProcedureVerb verb,
        Func<UnitOfWork, CaseView, Move<ProcedureState, ProcedureVerb>, DateOnly, Task> body, CancellationToken ct) =>
        ActAsync<bool>(use, caseNo, user, verb, async (uow, c, move, today) => { await body(uow, c, move, today); return true; }, ct);

    /// <summary>
    /// The sequence every move shares: as the account, in one unit of work, its role checked against the move
    /// (and the decider duty where the move needs it), the procedure locked, the move's guard.
    /// </summary>
    private async Task<TResult> ActAsync<TResult>(string use, string caseNo, string user, ProcedureVerb verb, Body<TResult> body, CancellationToken ct)
    {
        var today = clock.Today;
        using var acting = Acting.Begin(Acting.Current with { Actor = user });
        return await work.RunAsync(use, async uow =>
        {
            var move = T.MoveOf(verb);
            var role = await uow.ScalarAsync<string?>("SELECT role FROM app.users WHERE name = @user AND NOT disabled", new { user });
            if (role is null || !move.Roles.Contains(role))
                throw ProcedureLifecycle.Forbidden(role is null
                    ? $"账号 {user} 不存在或已停用"
                    : $"账号 {user} 无劳动保障监察权限,不能{move.LabelZh}");
            if (ProcedureLifecycle.DeciderVerbs.Contains(verb) && !await UserStore.IsDeciderAsync(uow, user))
                throw ProcedureLifecycle.Forbidden($"{move.LabelZh}须由有决定权限的部门负责人办理,账号 {user} 无此权限");
            var c = await ProcedureLifecycle.LoadForUpdateAsync(uow, caseNo);
            if (c.Current is not { } state) throw new DomainRuleException($"案件 {caseNo} 尚未进入列入程序");
            T.Require(verb, state, caseNo);
            return await body(uow, c, move, today);
        }, ct, new WorkOptions { RecordId = caseNo });
    }
}
