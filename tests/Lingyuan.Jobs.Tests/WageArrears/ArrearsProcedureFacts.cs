using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using Microsoft.Extensions.Time.Testing;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>
/// The listing procedure on a real database, the clock moved by the test. Each test looks only at its own
/// cases. Rewritten for issue 16: the daily job no longer sends notices or decides (the old autopilot
/// expectations are gone); every act is a named person's through <see cref="ArrearsActs"/>.
/// </summary>
public class ArrearsProcedureFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private const string Inspector = "insp-a", OtherInspector = "insp-c", Head = "head-b", OtherHead = "head-d";

    private async Task<(WebApplication App, FakeTimeProvider Clock, ArrearsProcedure Proc, ArrearsActs Acts)> Start(string day, Dictionary<string, string?>? settings = null)
    {
        var (app, clock) = App(db, Day(day), settings);
        await UserAsync(db.DataSource, Inspector);
        await UserAsync(db.DataSource, OtherInspector);
        await UserAsync(db.DataSource, Head, decider: true);
        await UserAsync(db.DataSource, OtherHead, decider: true);
        return (app, clock, app.Services.GetRequiredService<ArrearsProcedure>(), app.Services.GetRequiredService<ArrearsActs>());
    }

    private static async Task<DomainRuleException> Refused(Func<Task> act) => await Assert.ThrowsAsync<DomainRuleException>(act);

    /// <summary>
    /// A listable case with a payment deadline of Mon 2026-03-02: screened 03-03 and its notice issued by post,
    /// served 03-04 (statement period to 03-11), proposed by an inspector and approved by the head on 03-12.
    /// </summary>
    private async Task<string> ListedCaseAsync(FakeTimeProvider clock, ArrearsProcedure proc, ArrearsActs acts, string? uscc = null)
    {
        uscc ??= await EmployerAsync(db.DataSource, "凌源市宏达建筑劳务有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"), responsible: "王五(项目经理)");
        clock.SetUtcNow(At(Day("2026-03-03")));
        await proc.RunDailyAsync(default);
        await acts.IssueNoticeAsync(caseNo, Inspector, ServiceMethods.Post, false, default);
        clock.SetUtcNow(At(Day("2026-03-05")));
        Assert.Equal(Day("2026-03-11"), await acts.RecordServiceAsync(caseNo, Inspector, ServiceMethods.Post, Day("2026-03-04"), "挂号信 XA0001 回执", default));
        clock.SetUtcNow(At(Day("2026-03-12")));
        await acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default);
        Assert.Equal(DecisionKind.Listed, await acts.ApproveAsync(caseNo, Head, default));
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State);
        return caseNo;
    }

    [Fact]
    public async Task The_daily_job_stores_the_listing_outcome_and_the_rule_that_decided_it_and_leaves_listable_cases_as_candidates()
    {
        var (app, _, proc, _) = await Start("2026-06-02");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市某某建设有限公司", $"a@{Guid.NewGuid():N}.test");
        var deadline = Day("2026-06-01");
        var cases = new (string CaseNo, string Expected, string Basis)[]
        {
            (await CaseAsync(db.DataSource, uscc, 1, 9_999.99m, 3, deadline), "below_thresholds", "case_totals"),
            (await CaseAsync(db.DataSource, uscc, 1, 10_000.00m, 3, deadline), "single_worker", "case_totals"),
            (await CaseAsync(db.DataSource, uscc, 1, 10_000.00m, 2, deadline), "below_thresholds", "case_totals"),
            (await CaseAsync(db.DataSource, uscc, 10, 50_000.00m, 1, deadline), "multi_worker", "not_testable"),
            (await CaseAsync(db.DataSource, uscc, 9, 60_000.00m, 4, deadline), "below_thresholds", "not_testable"),
            (await CaseAsync(db.DataSource, uscc, 4, 2_000.00m, 1, deadline, incident: "group"), "incident", "not_testable"),
        };
        // Not yet due (deadline today) and paid in time: not tested at all.
        var notDue = await CaseAsync(db.DataSource, uscc, 20, 900_000m, 6, Day("2026-06-02"));
        var paidInTime = await CaseAsync(db.DataSource, uscc, 20, 900_000m, 6, deadline);
        await PaidAsync(db.DataSource, paidInTime, Day("2026-06-01"), null);

        await proc.RunDailyAsync(default);

        foreach (var (caseNo, expected, basis) in cases)
        {
            var v = await ViewAsync(db.DataSource, caseNo);
            Assert.Equal((expected, basis), (v.TestRule, v.SingleWorkerBasis));
            Assert.Equal(expected != "below_thresholds", v.Listable);
            Assert.Equal(expected == "below_thresholds" ? "screened_out" : "candidate", v.State);
            Assert.Equal(Day("2026-06-02"), v.TestedOn);
            Assert.Empty(await DocumentsAsync(db.DataSource, caseNo));
        }
        Assert.Null((await ViewAsync(db.DataSource, notDue)).State);
        Assert.Null((await ViewAsync(db.DataSource, paidInTime)).State);
    }

    [Fact]
    public async Task Three_workers_owed_45000_yuan_are_listable_through_their_worker_rows_and_not_without_them()
    {
        var (app, _, proc, _) = await Start("2026-06-02");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市三人欠薪测试有限公司", $"a@{Guid.NewGuid():N}.test");
        var withRows = await CaseAsync(db.DataSource, uscc, 3, 45_000m, 4, Day("2026-06-01"));
        await WorkerAsync(db.DataSource, withRows, "211382********0011", 12_000m, 4);
        await WorkerAsync(db.DataSource, withRows, "211382********0022", 18_000m, 2);
        await WorkerAsync(db.DataSource, withRows, "211382********003X", 15_000m, 2);
        var withoutRows = await CaseAsync(db.DataSource, uscc, 3, 45_000m, 4, Day("2026-06-01"));
        var rowsBelow = await CaseAsync(db.DataSource, uscc, 3, 45_000m, 4, Day("2026-06-01"));
        await WorkerAsync(db.DataSource, rowsBelow, "211382********0044", 9_999.99m, 4);
        await WorkerAsync(db.DataSource, rowsBelow, "211382********0055", 35_000.01m, 2);

        await proc.RunDailyAsync(default);

        var v = await ViewAsync(db.DataSource, withRows);
        Assert.Equal(("candidate", "single_worker", "worker_rows"), (v.State!, v.TestRule!, v.SingleWorkerBasis));
        v = await ViewAsync(db.DataSource, withoutRows);
        Assert.Equal(("screened_out", "below_thresholds", "not_testable"), (v.State!, v.TestRule!, v.SingleWorkerBasis));
        v = await ViewAsync(db.DataSource, rowsBelow);
        Assert.Equal(("screened_out", "below_thresholds", "worker_rows"), (v.State!, v.TestRule!, v.SingleWorkerBasis));
    }

    [Fact]
    public async Task A_case_screened_out_becomes_a_candidate_when_an_import_update_raises_it_over_the_threshold()
    {
        var (app, clock, proc, _) = await Start("2026-06-02");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市补录测试有限公司", $"a@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 1, 9_000m, 3, Day("2026-06-01"));
        await proc.RunDailyAsync(default);
        Assert.Equal("screened_out", (await ViewAsync(db.DataSource, caseNo)).State);

        await using (var conn = await db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("UPDATE app.arrears_cases SET amount_owed_fen = 1200000 WHERE case_no = @caseNo", new { caseNo });
        clock.SetUtcNow(At(Day("2026-06-03")));
        await proc.RunDailyAsync(default);

        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("candidate", "single_worker", Day("2026-06-03")), (v.State!, v.TestRule!, v.CandidateOn!.Value));
    }

    [Fact]
    public async Task The_daily_job_sends_nothing_to_employers_and_decides_nothing_however_long_cases_wait()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        var settings = new Dictionary<string, string?>
        {
            ["WageArrears:StaffRecipients:0"] = $"jiancha@{domain}",
            ["WageArrears:PartnerRecipients:0"] = $"credit@{domain}",
        };
        var (app, clock, proc, acts) = await Start("2026-03-03", settings);
        await using var _app = app;
        var cases = new List<string>();
        var employers = Enumerable.Range(0, 4).Select(i => $"boss{i}@{domain}").ToArray();
        for (var i = 0; i < 4; i++)
        {
            var uscc = await EmployerAsync(db.DataSource, $"凌源市无人值守测试{i}有限公司", $"boss{i}@{domain}");
            cases.Add(await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02")));
        }
        clock.SetUtcNow(At(Day("2026-03-03"), 7));
        await proc.RunDailyAsync(default);
        // One served by a person: the job leaves its statement period's end alone too.
        await acts.IssueNoticeAsync(cases[0], Inspector, ServiceMethods.Personal, false, default);
        await acts.RecordServiceAsync(cases[0], Inspector, ServiceMethods.Personal, Day("2026-03-03"), "签收人 张三", default);

        foreach (var day in new[] { "2026-03-11", "2026-03-27", "2026-04-30", "2027-03-03" })
        {
            clock.SetUtcNow(At(Day(day), 7));
            await proc.RunDailyAsync(default);
        }

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var states = (await conn.QueryAsync<string>("SELECT state FROM app.arrears_procedures WHERE case_no = ANY(@cases) ORDER BY case_no", new { cases = cases.ToArray() })).ToList();
        Assert.Equal(3, states.Count(s => s == "candidate"));
        Assert.Equal(1, states.Count(s => s == "notice_served"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE recipients && @employers", new { employers }));
        Assert.True(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE @staff = ANY(recipients)", new { staff = $"jiancha@{domain}" }) > 0);
        var jobKinds = (await conn.QueryAsync<string>(
            "SELECT DISTINCT kind FROM app.arrears_events WHERE case_no = ANY(@cases) AND actor LIKE 'job:%'", new { cases = cases.ToArray() })).ToList();
        Assert.Equal(["candidate"], jobKinds);
        var documentKinds = (await conn.QueryAsync<string>(
            "SELECT DISTINCT kind FROM app.arrears_documents WHERE case_no = ANY(@cases)", new { cases = cases.ToArray() })).Order().ToList();
        Assert.Equal(["pre_listing_notice", "staff_reminder"], documentKinds); // the notice a person issued; reminders to staff
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.arrears_listed_parties WHERE case_no = ANY(@cases)", new { cases = cases.ToArray() }));
    }

    [Fact]
    public async Task The_notice_served_on_Friday_February_13_ends_its_statement_period_on_February_27_over_the_Spring_Festival()
    {
        var (app, clock, proc, acts) = await Start("2026-02-12");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市春节测试建筑有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 15, 120_000m, 3, Day("2026-02-11"));

        await proc.RunDailyAsync(default); // Thursday 2026-02-12
        await acts.IssueNoticeAsync(caseNo, Inspector, ServiceMethods.Post, false, default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("notice_issued", Day("2026-02-12")), (v.State!, v.NoticeSentOn!.Value));
        // 20 working days after the payment deadline, across the holiday and the Saturday Feb 28 working day.
        Assert.Equal(Day("2026-03-17"), v.DecisionDueOn);
        var text = await DocumentTextAsync($"wage-arrears:{caseNo}:notice");
        Assert.Contains("自本告知书送达之日起5个工作日内", text);
        Assert.DoesNotContain("发出之日起", text);

        // The post office's receipt is dated Friday Feb 13: Sat 14 (调休上班), Feb 15-23 off, 24, 25, 26, 27.
        clock.SetUtcNow(At(Day("2026-02-14"), 9));
        await Refused(() => acts.RecordServiceAsync(caseNo, Inspector, ServiceMethods.Post, Day("2026-02-13"), null, default)); // no evidence
        Assert.Equal(Day("2026-02-27"), await acts.RecordServiceAsync(caseNo, Inspector, ServiceMethods.Post, Day("2026-02-13"), "EMS 1234 回执", default));
        v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("notice_served", Day("2026-02-13"), Day("2026-02-27")), (v.State!, v.ServedOn!.Value, v.StatementDueOn!.Value));
        Assert.False(v.StatementDueCalendarMissing);

        // On the last day of the period, early and late: the job leaves it alone, a person is refused.
        foreach (var time in new[] { At(Day("2026-02-27"), 7), At(Day("2026-02-27"), 23, 59) })
        {
            clock.SetUtcNow(time);
            await proc.RunDailyAsync(default);
            Assert.Equal("notice_served", (await ViewAsync(db.DataSource, caseNo)).State);
            Assert.Contains("2026-02-27", (await Refused(() => acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default))).Message);
        }

        clock.SetUtcNow(At(Day("2026-03-02"), 9));
        await proc.RunDailyAsync(default);
        Assert.Equal("notice_served", (await ViewAsync(db.DataSource, caseNo)).State);
        await acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default);
        await acts.ApproveAsync(caseNo, Head, default);
        v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("listed", Day("2026-03-02"), Day("2029-03-02"), Head, Inspector), (v.State!, v.DecidedOn!.Value, v.ListedUntil!.Value, v.DecidedBy!, v.ProposedBy!));
        Assert.Equal([("pre_listing_notice", $"wage-arrears:{caseNo}:notice"), ("listing_decision", $"wage-arrears:{caseNo}:decision")],
            await DocumentsAsync(db.DataSource, caseNo));
        // Served by post: nothing was mailed to the employer.
        Assert.Empty(await OutboxKeysAsync(db.DataSource, caseNo));
    }

    private async Task<string> DocumentTextAsync(string key)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return System.Net.WebUtility.HtmlDecode(await c.QuerySingleAsync<string>("SELECT html FROM app.arrears_documents WHERE dedupe_key = @key", new { key }));
    }

    [Fact]
    public async Task A_decision_needs_a_second_person_with_the_decider_duty()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市四眼测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var a = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        var b = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        foreach (var c in new[] { a, b })
        {
            await acts.IssueNoticeAsync(c, Inspector, ServiceMethods.Post, false, default);
            await acts.RecordServiceAsync(c, Inspector, ServiceMethods.Post, Day("2026-03-03"), "回执", default);
        }
        clock.SetUtcNow(At(Day("2026-03-11")));
        await acts.ProposeAsync(a, Inspector, DecisionKind.Listed, null, default);
        await acts.ProposeAsync(b, Head, DecisionKind.Listed, null, default);

        var own = await Refused(() => acts.ApproveAsync(a, Inspector, default));
        Assert.True(own.Data.Contains(ProcedureLifecycle.ForbiddenKey));
        var notDecider = await Refused(() => acts.ApproveAsync(a, OtherInspector, default));
        Assert.Contains("决定权限", notDecider.Message);
        var ownAsHead = await Refused(() => acts.ApproveAsync(b, Head, default));
        Assert.Contains("双人复核", ownAsHead.Message);
        var operatorAccount = await UserAsync(db.DataSource, "op-x", "operator");
        await Refused(() => acts.ProposeAsync(a, operatorAccount, DecisionKind.NotListed, "x", default));
        Assert.Equal("decision_proposed", (await ViewAsync(db.DataSource, a)).State);

        await acts.ApproveAsync(a, Head, default);
        await acts.ApproveAsync(b, OtherHead, default);
        Assert.Equal(("listed", Head), ((await ViewAsync(db.DataSource, a)).State!, (await ViewAsync(db.DataSource, a)).DecidedBy!));

        // The database holds the same rule.
        await using var c2 = await db.DataSource.OpenConnectionAsync();
        var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => c2.ExecuteAsync(
            "UPDATE app.arrears_procedures SET decided_by = proposed_by WHERE case_no = @a", new { a }));
        Assert.Equal("23514", ex.SqlState);
    }

    [Fact]
    public async Task The_extension_of_20_working_days_moves_the_deadline_once_and_is_refused_without_a_reason_or_a_decider()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市复杂案件测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        Assert.Equal(Day("2026-03-30"), (await ViewAsync(db.DataSource, caseNo)).DecisionDueOn);

        Assert.Contains("理由", (await Refused(() => acts.ExtendAsync(caseNo, Head, "  ", default))).Message);
        Assert.True((await Refused(() => acts.ExtendAsync(caseNo, Inspector, "案情复杂", default))).Data.Contains(ProcedureLifecycle.ForbiddenKey));
        Assert.Equal(Day("2026-03-30"), (await ViewAsync(db.DataSource, caseNo)).DecisionDueOn);

        // Mar 31, Apr 1-3, Qingming Apr 4-6, Apr 7-10, 13-17, 20-24, 27, 28: twenty working days.
        Assert.Equal(Day("2026-04-28"), await acts.ExtendAsync(caseNo, Head, "涉及多个分包单位,需核实工资表", default));
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal((Day("2026-04-28"), Day("2026-03-30"), Head, "涉及多个分包单位,需核实工资表"),
            (v.DecisionDueOn!.Value, v.DecisionDueOriginal!.Value, v.ExtensionApprovedBy!, v.ExtensionReason!));
        Assert.Equal("candidate", v.State);
        Assert.Contains("延长过一次", (await Refused(() => acts.ExtendAsync(caseNo, OtherHead, "再延", default))).Message);
    }

    [Fact]
    public async Task An_overdue_case_is_never_listed_and_may_still_be_decided_not_listed_with_a_reason()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市逾期测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        await acts.IssueNoticeAsync(caseNo, Inspector, ServiceMethods.Post, false, default);
        await acts.RecordServiceAsync(caseNo, Inspector, ServiceMethods.Post, Day("2026-03-03"), "回执", default);

        clock.SetUtcNow(At(Day("2026-03-31"), 7));
        await proc.RunDailyAsync(default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal("notice_served", v.State);
        var (next, warning) = ArrearsPages.NextStep(v, Day("2026-03-31"));
        Assert.Contains("不予列入", next);
        Assert.Contains("已超过决定期限(2026-03-30)", warning);
        Assert.Contains("不会自动列入", warning);
        var staff = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, Lingyuan.Jobs.Dashboard.Roles.Inspection)], "test"));
        var home = app.Services.GetServices<Lingyuan.Jobs.Dashboard.IHomeNotices>().OfType<ArrearsHomeNotices>().Single();
        Assert.Contains(await home.ForAsync(staff, default), n => n.TextZh.Contains("已超过决定期限") && n.Link == "/hangfire/arrears");
        Assert.Contains("已超过决定期限", (await Refused(() => acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default))).Message);
        Assert.Contains("届满", (await Refused(() => acts.ExtendAsync(caseNo, Head, "来不及", default))).Message);

        await acts.ProposeAsync(caseNo, Inspector, DecisionKind.NotListed, "超过法定决定期限,不予列入", default);
        Assert.Equal(DecisionKind.NotListed, await acts.ApproveAsync(caseNo, Head, default));
        Assert.Contains(("not_listed_decision", $"wage-arrears:{caseNo}:decision"), await DocumentsAsync(db.DataSource, caseNo));
    }

    [Fact]
    public async Task A_statement_is_checked_and_the_party_told_before_a_decision_is_proposed()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市申辩测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 1, 15_000m, 5, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        await acts.IssueNoticeAsync(caseNo, Inspector, ServiceMethods.Personal, false, default);
        await acts.RecordServiceAsync(caseNo, Inspector, ServiceMethods.Personal, Day("2026-03-03"), "签收人 李会计", default);
        clock.SetUtcNow(At(Day("2026-03-06")));
        await acts.RecordStatementAsync(caseNo, Inspector, Day("2026-03-05"), "称已支付部分工资", default);
        await Refused(() => acts.RecordStatementAsync(caseNo, Inspector, Day("2026-03-06"), "再次", default));
        Assert.Equal(Day("2026-03-12"), (await ViewAsync(db.DataSource, caseNo)).StatementCheckDueOn); // 5 working days after receipt

        clock.SetUtcNow(At(Day("2026-03-11")));
        Assert.Contains("核查结果", (await Refused(() => acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default))).Message);
        await acts.CheckStatementAsync(caseNo, OtherInspector, upheld: false, "经核对银行流水,未见支付记录", default);
        Assert.Contains(("statement_check_result", $"wage-arrears:{caseNo}:statement-check"), await DocumentsAsync(db.DataSource, caseNo));

        await acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default);
        await acts.ReturnProposalAsync(caseNo, Head, "请补充工资表", default);
        Assert.Equal(("notice_served", (string?)null), ((await ViewAsync(db.DataSource, caseNo)).State!, (await ViewAsync(db.DataSource, caseNo)).ProposedBy));
        await acts.ProposeAsync(caseNo, Inspector, DecisionKind.Listed, null, default);
        await acts.ApproveAsync(caseNo, Head, default);
        var html = await DocumentTextAsync($"wage-arrears:{caseNo}:decision");
        Assert.Contains("经核对银行流水,未见支付记录", html);
    }

    [Fact]
    public async Task The_database_refuses_a_decision_dated_inside_the_statement_period()
    {
        var (app, clock, proc, acts) = await Start("2026-02-12");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市约束测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 15, 120_000m, 3, Day("2026-02-11"));
        await proc.RunDailyAsync(default);
        await acts.IssueNoticeAsync(caseNo, Inspector, ServiceMethods.Post, false, default);
        clock.SetUtcNow(At(Day("2026-02-13"), 12));
        await acts.RecordServiceAsync(caseNo, Inspector, ServiceMethods.Post, Day("2026-02-13"), "回执", default);

        await using var c = await db.DataSource.OpenConnectionAsync();
        var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => c.ExecuteAsync("""
            UPDATE app.arrears_procedures SET state = 'listed', decided_on = '2026-02-27', decision_reason = 'x', listed_until = '2029-02-27'
            WHERE case_no = @caseNo
            """, new { caseNo }));
        Assert.Equal("23514", ex.SqlState); // check_violation
    }

    [Fact]
    public async Task A_listed_party_leaves_the_public_list_on_the_day_its_period_ends_and_a_person_records_the_removal()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var list = app.Services.GetRequiredService<PublicList>();
        var caseNo = await ListedCaseAsync(clock, proc, acts);
        Assert.Equal(Day("2029-03-12"), (await ViewAsync(db.DataSource, caseNo)).ListedUntil);
        Assert.Contains(await list.AsOfAsync(Day("2029-03-11"), default), e => e.CaseNo == caseNo);
        Assert.DoesNotContain(await list.AsOfAsync(Day("2029-03-12"), default), e => e.CaseNo == caseNo);

        clock.SetUtcNow(At(Day("2029-03-11"), 10));
        await Refused(() => acts.RemoveExpiredAsync(caseNo, Inspector, default));
        clock.SetUtcNow(At(Day("2029-03-14"), 7));
        await proc.RunDailyAsync(default);
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State); // the job removes nobody
        await acts.RemoveExpiredAsync(caseNo, Inspector, default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("removed", "expired", Day("2029-03-12")), (v.State!, v.RemovalKind!, v.RemovedOn!.Value));
        Assert.Contains(("removal_notice", $"wage-arrears:{caseNo}:removal"), await DocumentsAsync(db.DataSource, caseNo));
    }

    [Fact]
    public async Task Early_removal_is_refused_before_six_months_granted_after_them_and_revoked_for_fraud_with_the_original_period_restored()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var list = app.Services.GetRequiredService<PublicList>();
        var caseNo = await ListedCaseAsync(clock, proc, acts);

        clock.SetUtcNow(At(Day("2026-04-20"), 10));
        // Mon Apr 20 + 15 working days over Labour Day (May 1-5 off, Sat May 9 worked): May 13.
        Assert.Equal(Day("2026-05-13"), await acts.ApplyRemovalAsync(caseNo, Inspector, Day("2026-04-20"), Day("2026-04-15"), "银行转账凭证 3 张", Day("2026-04-16"), default));
        await Refused(() => acts.ApplyRemovalAsync(caseNo, Inspector, Day("2026-04-20"), Day("2026-04-15"), "重复", Day("2026-04-16"), default));
        var early = await Refused(() => acts.DecideRemovalAsync(caseNo, Head, grant: true, null, default));
        Assert.Contains("未满6个月(2026-10-15 起方满)", early.Message);
        Assert.True((await Refused(() => acts.DecideRemovalAsync(caseNo, Inspector, grant: false, "未满", default))).Data.Contains(ProcedureLifecycle.ForbiddenKey));
        Assert.Contains("书面说明理由", (await Refused(() => acts.DecideRemovalAsync(caseNo, Head, grant: false, " ", default))).Message);
        await acts.DecideRemovalAsync(caseNo, Head, grant: false, "申请时改正未满六个月", default);
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State);
        var refusal = await DocumentsAsync(db.DataSource, caseNo);
        Assert.Contains(refusal, d => d.Kind == "removal_refusal");

        clock.SetUtcNow(At(Day("2026-10-15"), 9));
        await acts.ApplyRemovalAsync(caseNo, Inspector, Day("2026-10-15"), Day("2026-04-15"), "银行转账凭证 3 张", Day("2026-04-16"), default);
        await acts.DecideRemovalAsync(caseNo, Head, grant: true, null, default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("removed", "repaired", Day("2026-10-15")), (v.State!, v.RemovalKind!, v.RemovedOn!.Value));
        Assert.DoesNotContain(await list.AsOfAsync(Day("2026-10-15"), default), e => e.CaseNo == caseNo);

        clock.SetUtcNow(At(Day("2026-11-02"), 9));
        await Refused(() => acts.RevokeRemovalAsync(caseNo, Head, "", default));
        await acts.RevokeRemovalAsync(caseNo, Head, "银行转账凭证系伪造(第十五条)", default);
        v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("listed", Day("2029-03-12"), Day("2026-11-02")), (v.State!, v.ListedUntil!.Value, v.RevokedOn!.Value));
        Assert.Null(v.RemovedOn);
        var entry = Assert.Single(await list.AsOfAsync(Day("2026-11-02"), default), e => e.CaseNo == caseNo);
        Assert.Equal((Day("2026-03-12"), Day("2029-03-11")), (entry.ListedOn, entry.LastDay));

        // Once revoked for fraud, a later application is barred.
        clock.SetUtcNow(At(Day("2027-06-01"), 9));
        await acts.ApplyRemovalAsync(caseNo, Inspector, Day("2027-06-01"), Day("2026-04-15"), "再次申请", Day("2027-05-30"), default);
        Assert.Contains("虚假材料", (await Refused(() => acts.DecideRemovalAsync(caseNo, Head, grant: true, null, default))).Message);

        await using var c = await db.DataSource.OpenConnectionAsync();
        var trail = (await c.QueryAsync<string>("SELECT action FROM app.audit_log WHERE subject_id = @caseNo ORDER BY id", new { caseNo })).ToList();
        Assert.Equal(["arrears.candidate", "arrears.notice_issued", "arrears.notice_served", "arrears.decision_proposed", "arrears.listed",
            "arrears.removal_applied", "arrears.removal_refused", "arrears.removal_applied", "arrears.removed", "arrears.removal_revoked",
            "arrears.removal_applied"], trail);
    }

    [Fact]
    public async Task Early_removal_is_refused_under_article_13_when_the_party_owes_wages_again_while_listed()
    {
        var (app, clock, proc, acts) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市再次欠薪测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await ListedCaseAsync(clock, proc, acts, uscc);
        var again = await CaseAsync(db.DataSource, uscc, 3, 8_000m, 1, Day("2026-08-20")); // ordered 2026-08-05, while listed

        clock.SetUtcNow(At(Day("2026-10-20"), 9));
        await acts.ApplyRemovalAsync(caseNo, Inspector, Day("2026-10-20"), Day("2026-04-15"), "支付凭证", Day("2026-04-16"), default);
        var barred = await Refused(() => acts.DecideRemovalAsync(caseNo, Head, grant: true, null, default));
        Assert.Contains($"再次发生拖欠农民工工资违法行为(案件 {again})", barred.Message);
        await acts.DecideRemovalAsync(caseNo, Head, grant: false, "列入期间再次拖欠", default);
        await using var c = await db.DataSource.OpenConnectionAsync();
        var reasons = await c.ExecuteScalarAsync<string>("SELECT refusal_reasons FROM app.arrears_removal_applications WHERE case_no = @caseNo", new { caseNo });
        Assert.Contains(again, reasons);
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State);
    }

    [Fact]
    public async Task A_legal_representative_changed_after_listing_leaves_the_public_list_and_the_digest_as_decided()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        var (app, clock, proc, acts) = await Start("2026-03-03", new() { ["WageArrears:PartnerRecipients:0"] = $"credit@{domain}" });
        await using var _app = app;
        var oldId = NewIdNumber();
        var uscc = await EmployerAsync(db.DataSource, "凌源市换法人测试有限公司", $"boss@{domain}", oldId, "李四");
        var caseNo = await ListedCaseAsync(clock, proc, acts, uscc);

        var newId = NewIdNumber();
        await using (var c = await db.DataSource.OpenConnectionAsync())
            await c.ExecuteAsync("UPDATE app.employers SET legal_rep_name = '赵六', legal_rep_id_number = @newId, name = '凌源市新名称有限公司' WHERE uscc = @uscc", new { uscc, newId });
        clock.SetUtcNow(At(Day("2026-03-13"), 7));
        await proc.RunDailyAsync(default);

        var entry = Assert.Single(await app.Services.GetRequiredService<PublicList>().AsOfAsync(Day("2026-03-13"), default), e => e.CaseNo == caseNo);
        Assert.Equal(("凌源市换法人测试有限公司", "李四", oldId, "王五(项目经理)"), (entry.EmployerName, entry.LegalRepName, entry.LegalRepIdNumber, entry.ResponsiblePersons));
        await using var conn2 = await db.DataSource.OpenConnectionAsync();
        var digest = await conn2.QuerySingleAsync<string>("SELECT text_body FROM app.outbox WHERE dedupe_key = 'wage-arrears:digest:2026-03-13'");
        Assert.Contains("李四", digest);
        Assert.Contains("王五(项目经理)", digest);
        Assert.DoesNotContain("赵六", digest);
        // A document issued later names the party as listed too.
        clock.SetUtcNow(At(Day("2026-04-01"), 9));
        await acts.OverturnAsync(caseNo, Head, "行政复议决定撤销", default);
        var removal = await DocumentTextAsync($"wage-arrears:{caseNo}:removal");
        Assert.Contains("李四", removal);
        Assert.DoesNotContain("赵六", removal);
    }

    [Fact]
    public async Task A_deadline_beyond_the_loaded_calendar_is_computed_on_weekends_and_flagged()
    {
        var (app, _, proc, _) = await Start("2026-12-11");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市跨年测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-12-10"));
        await proc.RunDailyAsync(default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.True(v.DecisionDueCalendarMissing);
        Assert.Equal(Day("2027-01-07"), v.DecisionDueOn); // Dec 11..31: 15 working days, then Jan 1 (a plain Friday without 2027 data), 4-7
    }

    [Fact]
    public async Task A_notice_goes_by_e_mail_only_when_the_party_agreed_to_electronic_service()
    {
        var (app, _, proc, acts) = await Start("2026-06-02");
        await using var _app = app;
        var noMail = await EmployerAsync(db.DataSource, "凌源市无邮箱有限公司", "");
        var a = await CaseAsync(db.DataSource, noMail, 12, 86_000m, 4, Day("2026-06-01"));
        var withMail = await EmployerAsync(db.DataSource, "凌源市有邮箱有限公司", $"boss@{Guid.NewGuid():N}.test");
        var b = await CaseAsync(db.DataSource, withMail, 12, 86_000m, 4, Day("2026-06-01"));
        await proc.RunDailyAsync(default);

        await Refused(() => acts.IssueNoticeAsync(a, Inspector, ServiceMethods.Email, true, default));
        Assert.Contains("同意", (await Refused(() => acts.IssueNoticeAsync(b, Inspector, ServiceMethods.Email, false, default))).Message);
        Assert.Empty(await OutboxKeysAsync(db.DataSource, b));
        await acts.IssueNoticeAsync(b, Inspector, ServiceMethods.Email, true, default);
        Assert.Equal([$"wage-arrears:{b}:notice"], await OutboxKeysAsync(db.DataSource, b));
        Assert.Contains("尚未投递", (await Refused(() => acts.RecordServiceAsync(b, Inspector, ServiceMethods.Email, null, null, default))).Message);
        await acts.IssueNoticeAsync(a, Inspector, ServiceMethods.Post, false, default);
        Assert.Empty(await OutboxKeysAsync(db.DataSource, a));
    }
}
