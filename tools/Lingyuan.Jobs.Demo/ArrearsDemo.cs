using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.WageArrears;
using Npgsql;

namespace Lingyuan.Jobs.Demo;

/// <summary>
/// The wage-arrears story the demo tells on the day it is seeded (issue 16): a few cases at each stage of the
/// procedure that people have worked on so far, every date counted back from today in working days so that
/// no deadline has passed by accident, and all of them served by post or in person (nothing was or will be
/// mailed to an employer). The random register cases of <see cref="DemoSeeder"/> become the daily job's new
/// candidates. Same seed and same day, same rows.
/// </summary>
public static class ArrearsDemo
{
    public const string Inspector = "demo-inspector", Head = "demo-head";

    /// <summary>How many staged cases this adds (the random generator makes the rest of the scale's cases).</summary>
    public const int StagedCases = 9;

    private sealed record Stage(string Key, int Workers, long Fen, int Months, string Note);

    public static async Task<long> SeedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, NpgsqlDataSource db, DateOnly today, CancellationToken ct)
    {
        var cal = await new CalendarStore(db).LoadAsync(ct);
        DateOnly Back(int workingDays) => cal.AddWorkingDays(today, -workingDays).Date;
        DateOnly Ahead(DateOnly from, int workingDays) => cal.AddWorkingDays(from, workingDays).Date;
        var o = new WageArrearsOptions();
        var t = ListingThresholds.From(o);
        var notices = new ArrearsNotices(o);
        var employers = (await conn.QueryAsync<(string Uscc, string Name, string LegalRepName, string LegalRepId)>(new CommandDefinition(
            "SELECT uscc, name, legal_rep_name, legal_rep_id_number FROM app.employers ORDER BY uscc LIMIT @n",
            new { n = StagedCases }, tx, cancellationToken: ct))).ToList();
        if (employers.Count < StagedCases) return 0;
        var rows = 0L;
        var n = 0;

        async Task<CaseView> Case(string stage, DateOnly deadline, int workers, long fen, int months, string responsible)
        {
            var e = employers[n++];
            var caseNo = $"LYQX-{today:yyyyMMdd}-{stage}";
            await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO app.arrears_cases (case_no, uscc, workers_affected, amount_owed_fen, max_months_owed, order_issued_on, pay_deadline, incident, responsible_persons)
                VALUES (@caseNo, @Uscc, @workers, @fen, @months, @ordered, @deadline, 'none', @responsible)
                """, new { caseNo, e.Uscc, workers, fen, months, ordered = deadline.AddDays(-15), deadline, responsible }, tx, cancellationToken: ct));
            rows++;
            var rule = ListingTest.EvaluateWithBasis(new ArrearsFacts(workers, fen, months, "none"), t);
            var due = Ahead(deadline, o.DecisionWorkingDays);
            await conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO app.arrears_procedures (case_no, state, listable, test_rule, single_worker_basis, tested_on, candidate_on, decision_due_on)
                VALUES (@caseNo, 'candidate', true, @rule, @basis, @tested, @tested, @due)
                """, new { caseNo, rule = rule.Rule.Code(), basis = rule.Basis.Code(), tested = Ahead(deadline, 1), due }, tx, cancellationToken: ct));
            await Event(caseNo, "candidate", Ahead(deadline, 1), "job:wage-arrears-daily", rule.Rule.Code());
            return new CaseView
            {
                CaseNo = caseNo, Uscc = e.Uscc, WorkersAffected = workers, AmountOwedFen = fen, MaxMonthsOwed = months,
                OrderIssuedOn = deadline.AddDays(-15), PayDeadline = deadline, ResponsiblePersons = responsible, EmployerName = e.Name,
                LegalRepName = e.LegalRepName, LegalRepIdNumber = e.LegalRepId, State = "candidate", Listable = true, TestRule = rule.Rule.Code(),
                DecisionDueOn = due,
            };
        }

        Task Event(string caseNo, string kind, DateOnly on, string actor, string? details) =>
            conn.ExecuteAsync(new CommandDefinition(
                "INSERT INTO app.arrears_events (case_no, kind, on_date, actor, details) VALUES (@caseNo, @kind, @on, @actor, @details)",
                new { caseNo, kind, on, actor, details }, tx, cancellationToken: ct));

        Task Set(CaseView c, string set, object args)
        {
            var p = new DynamicParameters(args);
            p.Add("caseNo", c.CaseNo);
            return conn.ExecuteAsync(new CommandDefinition($"UPDATE app.arrears_procedures SET {set} WHERE case_no = @caseNo", p, tx, cancellationToken: ct));
        }

        Task Document(CaseView c, string kind, string key, Doc doc) =>
            conn.ExecuteAsync(new CommandDefinition("""
                INSERT INTO app.arrears_documents (case_no, kind, issued_on, title, html, dedupe_key) VALUES (@CaseNo, @kind, @IssuedOn, @Title, @html, @key)
                """, new { c.CaseNo, kind, doc.IssuedOn, doc.Title, html = DocRender.Html(doc), key }, tx, cancellationToken: ct));

        async Task Issue(CaseView c, DateOnly on, string channel)
        {
            await Set(c, "state = 'notice_issued', notice_sent_on = @on, notice_sent_by = @Inspector, notice_channel = @channel", new { on, Inspector, channel });
            await Event(c.CaseNo, "notice_issued", on, Inspector, ServiceMethods.Zh(channel));
            c.NoticeSentOn = on;
            c.NoticeChannel = channel;
            await Document(c, "pre_listing_notice", $"wage-arrears:{c.CaseNo}:notice", notices.PreListingNotice(c, t, on));
        }

        async Task Serve(CaseView c, DateOnly on, string method, string evidence)
        {
            var due = Ahead(on, o.StatementPeriodWorkingDays);
            await Set(c, """
                state = 'notice_served', served_on = @on, service_method = @method, service_evidence = @evidence, service_recorded_by = @Inspector,
                statement_due_on = @due
                """, new { on, method, evidence, Inspector, due });
            await Event(c.CaseNo, "notice_served", on, Inspector, $"{ServiceMethods.Zh(method)};陈述申辩期至 {due:yyyy-MM-dd}");
            c.ServedOn = on;
            c.ServiceMethod = method;
            c.StatementDueOn = due;
        }

        async Task Propose(CaseView c, DateOnly on, string kind, string reason)
        {
            await Set(c, "state = 'decision_proposed', proposal_kind = @kind, proposal_reason = @reason, proposed_by = @Inspector, proposed_on = @on",
                new { kind, reason, Inspector, on });
            await Event(c.CaseNo, "decision_proposed", on, Inspector, reason);
            c.ProposalKind = kind;
            c.ProposalReason = reason;
            c.ProposedBy = Inspector;
        }

        async Task Decide(CaseView c, DateOnly on)
        {
            var listed = c.ProposalKind == "listed";
            var until = listed ? on.AddYears(o.ListingYears) : (DateOnly?)null;
            await Set(c, "state = @kind, decided_on = @on, decided_by = @Head, decision_reason = proposal_reason, listed_until = @until",
                new { kind = c.ProposalKind, on, Head, until });
            await Event(c.CaseNo, c.ProposalKind!, on, Head, c.ProposalReason);
            c.DecidedOn = on;
            c.DecisionReason = c.ProposalReason;
            if (listed)
            {
                await conn.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO app.arrears_listed_parties (case_no, employer_name, uscc, legal_rep_name, legal_rep_id_number, responsible_persons, fixed_on)
                    VALUES (@CaseNo, @EmployerName, @Uscc, @LegalRepName, @LegalRepIdNumber, @ResponsiblePersons, @on)
                    """, new { c.CaseNo, c.EmployerName, c.Uscc, c.LegalRepName, c.LegalRepIdNumber, c.ResponsiblePersons, on }, tx, cancellationToken: ct));
                c.FixedEmployerName = c.EmployerName;
                c.FixedLegalRepName = c.LegalRepName;
                c.FixedLegalRepIdNumber = c.LegalRepIdNumber;
                c.FixedResponsiblePersons = c.ResponsiblePersons;
                await Document(c, "listing_decision", $"wage-arrears:{c.CaseNo}:decision", notices.ListingDecision(c, on, until!.Value, c.ProposalReason!));
            }
            else
            {
                await Document(c, "not_listed_decision", $"wage-arrears:{c.CaseNo}:decision", notices.NotListedDecision(c, on, c.ProposalReason!));
            }
        }

        const long Big = 8_600_000; // 86,000 yuan owed to 12 workers: the multi-worker branch
        string Reason(CaseView c) => ListingTest.ReasonZh(ListingTest.Parse(c.TestRule!), c.Facts, t);

        // 1. Notice issued by post two working days ago: waiting for the receipt.
        var issued = await Case("01", Back(6), 12, Big, 4, "项目经理 周建国");
        await Issue(issued, Back(2), ServiceMethods.Post);

        // 2. Served in person two working days ago: the statement period is running.
        var running = await Case("02", Back(8), 15, 12_000_000, 3, "项目经理 孙立新;财务负责人 钱红");
        await Issue(running, Back(6), ServiceMethods.Personal);
        await Serve(running, Back(2), ServiceMethods.Personal, "签收人 财务负责人 钱红");

        // 3. A statement came in four working days ago: its check is due tomorrow.
        var stated = await Case("03", Back(10), 1, 1_500_000, 5, "项目经理 吴志强");
        await Issue(stated, Back(9), ServiceMethods.Post);
        await Serve(stated, Back(8), ServiceMethods.Post, "挂号信回执 XA20260001");
        var received = Back(4);
        await Set(stated, "statement_received_on = @received, statement_summary = @summary, statement_check_due_on = @due",
            new { received, summary = "称已支付部分工资,请求不予列入", due = Ahead(received, o.StatementCheckWorkingDays) });
        await Event(stated.CaseNo, "statement_received", received, Inspector, null);

        // 4. The statement period is over, no statement: a decision is to be proposed.
        var toPropose = await Case("04", Back(12), 18, 21_000_000, 2, "项目经理 郑海");
        await Issue(toPropose, Back(11), ServiceMethods.Post);
        await Serve(toPropose, Back(10), ServiceMethods.Post, "挂号信回执 XA20260002");

        // 5. Proposed yesterday: waiting for the department head.
        var proposed = await Case("05", Back(13), 12, Big, 4, "项目经理 冯刚");
        await Issue(proposed, Back(12), ServiceMethods.Post);
        await Serve(proposed, Back(11), ServiceMethods.Post, "挂号信回执 XA20260003");
        await Propose(proposed, Back(1), "listed", Reason(proposed));

        // 6. A complex case whose deadline the head extended by 20 working days.
        var extended = await Case("06", Back(18), 40, 52_000_000, 6, "项目经理 陈涛;劳务分包负责人 褚明");
        await Issue(extended, Back(17), ServiceMethods.Post);
        await Serve(extended, Back(15), ServiceMethods.Post, "挂号信回执 XA20260004");
        await Set(extended, """
            decision_due_original = decision_due_on, decision_due_on = @due, extended_on = @on, extension_reason = @reason, extension_approved_by = @Head
            """, new { due = Ahead(extended.DecisionDueOn!.Value, o.DecisionExtensionWorkingDays), on = Back(3), reason = "涉及多个劳务分包单位,需逐一核实工资表", Head });
        await Event(extended.CaseNo, "decision_extended", Back(3), Head, "涉及多个劳务分包单位,需逐一核实工资表");

        // 7. Listed two months ago.
        var listed = await Case("07", Back(62), 12, Big, 4, "项目经理 褚卫东");
        await Issue(listed, Back(61), ServiceMethods.Post);
        await Serve(listed, Back(59), ServiceMethods.Post, "挂号信回执 XA20250005");
        await Propose(listed, Back(52), "listed", Reason(listed));
        await Decide(listed, Back(51));

        // 8. Listed eight months ago, paid since, applied for early removal three working days ago.
        var repairing = await Case("08", Back(190), 11, 6_500_000, 3, "项目经理 卫强");
        await Issue(repairing, Back(189), ServiceMethods.Post);
        await Serve(repairing, Back(187), ServiceMethods.Post, "挂号信回执 XA20250006");
        await Propose(repairing, Back(180), "listed", Reason(repairing));
        await Decide(repairing, Back(179));
        var applied = Back(3);
        var corrected = today.AddMonths(-7);
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO app.arrears_removal_applications (case_no, applied_on, corrected_on, payment_proof, credit_promise_on, recorded_by, due_on)
            VALUES (@CaseNo, @applied, @corrected, '工资支付银行流水及农民工签收表', @applied, @Inspector, @due)
            """, new { repairing.CaseNo, applied, corrected, Inspector, due = Ahead(applied, o.RemovalDecisionWorkingDays) }, tx, cancellationToken: ct));
        await Event(repairing.CaseNo, "removal_applied", applied, Inspector, null);

        // 9. Paid and promised in writing before the decision: not listed (审慎列入).
        var notListed = await Case("09", Back(30), 10, 5_200_000, 2, "项目经理 蒋文");
        await Issue(notListed, Back(29), ServiceMethods.Post);
        await Serve(notListed, Back(27), ServiceMethods.Post, "挂号信回执 XA20260007");
        await Propose(notListed, Back(12), "not_listed", "当事人已于决定前足额支付拖欠工资,并作出不再拖欠农民工工资的书面信用承诺");
        await Decide(notListed, Back(11));
        return rows;
    }
}
