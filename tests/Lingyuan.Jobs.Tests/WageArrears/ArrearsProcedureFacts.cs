using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>The listing procedure on a real database, the clock moved by the test. Each test looks only at its own cases.</summary>
public class ArrearsProcedureFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private async Task<(WebApplication App, Microsoft.Extensions.Time.Testing.FakeTimeProvider Clock, ArrearsProcedure Proc)> Start(string day)
    {
        var (app, clock) = App(db, Day(day));
        return (app, clock, app.Services.GetRequiredService<ArrearsProcedure>());
    }

    /// <summary>Creates a listable case with a deadline of <paramref name="deadline"/> and runs the job until it is listed.</summary>
    private async Task<string> ListedCaseAsync(ArrearsProcedure proc, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, string deadline, string noticeDay, string decisionDay)
    {
        var uscc = await EmployerAsync(db.DataSource, "凌源市宏达建筑劳务有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day(deadline));
        clock.SetUtcNow(At(Day(noticeDay)));
        await proc.RunDailyAsync(default);
        clock.SetUtcNow(At(Day(decisionDay)));
        await proc.RunDailyAsync(default);
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State);
        return caseNo;
    }

    [Fact]
    public async Task The_daily_job_stores_the_listing_outcome_and_the_rule_that_decided_it()
    {
        var (app, _, proc) = await Start("2026-06-02");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市某某建设有限公司", $"a@{Guid.NewGuid():N}.test");
        var deadline = Day("2026-06-01");
        var cases = new (string CaseNo, string Expected)[]
        {
            (await CaseAsync(db.DataSource, uscc, 1, 9_999.99m, 3, deadline), "below_thresholds"),
            (await CaseAsync(db.DataSource, uscc, 1, 10_000.00m, 3, deadline), "single_worker"),
            (await CaseAsync(db.DataSource, uscc, 1, 10_000.00m, 2, deadline), "below_thresholds"),
            (await CaseAsync(db.DataSource, uscc, 10, 50_000.00m, 1, deadline), "multi_worker"),
            (await CaseAsync(db.DataSource, uscc, 9, 60_000.00m, 4, deadline), "below_thresholds"),
            (await CaseAsync(db.DataSource, uscc, 4, 2_000.00m, 1, deadline, incident: "group"), "incident"),
        };
        // Not yet due (deadline today) and paid in time: not tested at all.
        var notDue = await CaseAsync(db.DataSource, uscc, 20, 900_000m, 6, Day("2026-06-02"));
        var paidInTime = await CaseAsync(db.DataSource, uscc, 20, 900_000m, 6, deadline);
        await PaidAsync(db.DataSource, paidInTime, Day("2026-06-01"), null);

        await proc.RunDailyAsync(default);

        foreach (var (caseNo, expected) in cases)
        {
            var v = await ViewAsync(db.DataSource, caseNo);
            Assert.Equal(expected, v.TestRule);
            Assert.Equal(expected != "below_thresholds", v.Listable);
            Assert.Equal(expected == "below_thresholds" ? "screened_out" : "notice_sent", v.State);
            Assert.Equal(Day("2026-06-02"), v.TestedOn);
        }
        Assert.Null((await ViewAsync(db.DataSource, notDue)).State);
        Assert.Null((await ViewAsync(db.DataSource, paidInTime)).State);
    }

    [Fact]
    public async Task A_case_screened_out_becomes_a_candidate_when_an_import_update_raises_it_over_the_threshold()
    {
        var (app, clock, proc) = await Start("2026-06-02");
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
        Assert.Equal(("notice_sent", "single_worker", Day("2026-06-03")), (v.State, v.TestRule, v.CandidateOn!.Value));
    }

    [Fact]
    public async Task A_notice_sent_on_February_12_has_its_statement_period_end_on_February_26_and_no_decision_comes_before_it()
    {
        var (app, clock, proc) = await Start("2026-02-12");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市春节测试建筑有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 15, 120_000m, 3, Day("2026-02-11"));

        await proc.RunDailyAsync(default); // Thursday 2026-02-12
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal("notice_sent", v.State);
        Assert.Equal(Day("2026-02-12"), v.NoticeSentOn);
        // Feb 13 (Fri), 14 (Sat, 调休上班), Feb 15-23 off, 24, 25, 26: five working days, the day of sending not counted.
        Assert.Equal(Day("2026-02-26"), v.StatementDueOn);
        Assert.False(v.StatementDueCalendarMissing);
        // 20 working days after the payment deadline, across the holiday and the Saturday Feb 28 working day.
        Assert.Equal(Day("2026-03-17"), v.DecisionDueOn);

        // The last day of the statement period, early and late: the job leaves it alone, a person is refused.
        foreach (var time in new[] { At(Day("2026-02-26"), 7), At(Day("2026-02-26"), 23, 59) })
        {
            clock.SetUtcNow(time);
            await proc.RunDailyAsync(default);
            Assert.Equal("notice_sent", (await ViewAsync(db.DataSource, caseNo)).State);
            var refused = await Assert.ThrowsAsync<DomainRuleException>(() => proc.DecideAsync(caseNo, DecisionKind.Listed, null, "user:inspector", default));
            Assert.Contains("2026-02-26", refused.Message);
        }

        clock.SetUtcNow(At(Day("2026-02-27"), 7));
        await proc.RunDailyAsync(default);
        v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("listed", Day("2026-02-27"), Day("2029-02-27")), (v.State, v.DecidedOn!.Value, v.ListedUntil!.Value));
        Assert.Equal([("pre_listing_notice", $"wage-arrears:{caseNo}:notice"), ("listing_decision", $"wage-arrears:{caseNo}:decision")],
            await DocumentsAsync(db.DataSource, caseNo));
    }

    [Fact]
    public async Task The_database_refuses_a_decision_dated_inside_the_statement_period()
    {
        var (app, clock, proc) = await Start("2026-02-12");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市约束测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 15, 120_000m, 3, Day("2026-02-11"));
        await proc.RunDailyAsync(default);

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => conn.ExecuteAsync("""
            UPDATE app.arrears_procedures SET state = 'listed', decided_on = '2026-02-26', decision_reason = 'x', listed_until = '2029-02-26'
            WHERE case_no = @caseNo
            """, new { caseNo }));
        Assert.Equal("23514", ex.SqlState); // check_violation
    }

    [Fact]
    public async Task A_listed_party_is_removed_by_the_daily_job_exactly_three_years_after_the_decision()
    {
        var (app, clock, proc) = await Start("2026-03-03");
        await using var _app = app;
        var list = app.Services.GetRequiredService<PublicList>();
        // Deadline Mon 2026-03-02, notice Tue 03-03, statement period ends Tue 03-10, decided Wed 03-11.
        var caseNo = await ListedCaseAsync(proc, clock, "2026-03-02", "2026-03-03", "2026-03-11");
        Assert.Equal(Day("2029-03-11"), (await ViewAsync(db.DataSource, caseNo)).ListedUntil);

        clock.SetUtcNow(At(Day("2029-03-10"), 23, 30));
        await proc.RunDailyAsync(default);
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State);
        Assert.Contains(await list.AsOfAsync(Day("2029-03-10"), default), e => e.CaseNo == caseNo);

        // On the day the period ends the party is off the public list, even before the job has run.
        Assert.DoesNotContain(await list.AsOfAsync(Day("2029-03-11"), default), e => e.CaseNo == caseNo);
        clock.SetUtcNow(At(Day("2029-03-11"), 7));
        await proc.RunDailyAsync(default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("removed", "expired", Day("2029-03-11")), (v.State, v.RemovalKind, v.RemovedOn!.Value));
        Assert.Contains(("removal_notice", $"wage-arrears:{caseNo}:removal"), await DocumentsAsync(db.DataSource, caseNo));
    }

    [Fact]
    public async Task A_party_removed_late_is_removed_as_of_the_day_its_period_ended()
    {
        var (app, clock, proc) = await Start("2026-03-03");
        await using var _app = app;
        var caseNo = await ListedCaseAsync(proc, clock, "2026-03-02", "2026-03-03", "2026-03-11");
        clock.SetUtcNow(At(Day("2029-03-16")));
        await proc.RunDailyAsync(default);
        Assert.Equal(Day("2029-03-11"), (await ViewAsync(db.DataSource, caseNo)).RemovedOn);
    }

    [Fact]
    public async Task Early_removal_is_refused_before_six_months_after_the_payment_and_granted_from_that_day()
    {
        var (app, clock, proc) = await Start("2026-03-03");
        await using var _app = app;
        var caseNo = await ListedCaseAsync(proc, clock, "2026-03-02", "2026-03-03", "2026-03-11");

        clock.SetUtcNow(At(Day("2026-04-20")));
        var noPayment = await Assert.ThrowsAsync<DomainRuleException>(() => proc.RequestEarlyRemovalAsync(caseNo, "user:inspector", default));
        Assert.Contains("尚未改正", noPayment.Message);

        await PaidAsync(db.DataSource, caseNo, Day("2026-04-15"), null);
        var noPromise = await Assert.ThrowsAsync<DomainRuleException>(() => proc.RequestEarlyRemovalAsync(caseNo, "user:inspector", default));
        Assert.Contains("信用承诺", noPromise.Message);

        await PaidAsync(db.DataSource, caseNo, Day("2026-04-15"), Day("2026-04-16"));
        clock.SetUtcNow(At(Day("2026-10-14"), 22));
        var early = await Assert.ThrowsAsync<DomainRuleException>(() => proc.RequestEarlyRemovalAsync(caseNo, "user:inspector", default));
        Assert.Contains("2026-10-15", early.Message);
        Assert.Equal("listed", (await ViewAsync(db.DataSource, caseNo)).State);

        clock.SetUtcNow(At(Day("2026-10-15"), 9));
        await proc.RequestEarlyRemovalAsync(caseNo, "user:inspector", default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("removed", "repaired", Day("2026-10-15")), (v.State, v.RemovalKind, v.RemovedOn!.Value));

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var trail = (await conn.QueryAsync<string>("SELECT action FROM app.audit_log WHERE subject_id = @caseNo ORDER BY id", new { caseNo })).ToList();
        Assert.Equal(["arrears.candidate", "arrears.notice_sent", "arrears.listed", "arrears.repair_refused", "arrears.repair_refused",
            "arrears.repair_refused", "arrears.removed"], trail);
    }

    [Fact]
    public async Task A_party_that_paid_and_promised_before_the_decision_is_not_listed_with_the_reason_recorded()
    {
        var (app, clock, proc) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市改正测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        await PaidAsync(db.DataSource, caseNo, Day("2026-03-06"), Day("2026-03-09"));
        clock.SetUtcNow(At(Day("2026-03-11")));
        await proc.RunDailyAsync(default);

        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal("not_listed", v.State);
        Assert.Contains("书面信用承诺", v.DecisionReason);
        Assert.Null(v.ListedUntil);
        Assert.Contains(("not_listed_decision", $"wage-arrears:{caseNo}:decision"), await DocumentsAsync(db.DataSource, caseNo));
        Assert.DoesNotContain(await app.Services.GetRequiredService<PublicList>().AsOfAsync(Day("2026-03-11"), default), e => e.CaseNo == caseNo);
    }

    [Fact]
    public async Task A_statement_received_holds_the_case_for_a_person_to_decide()
    {
        var (app, clock, proc) = await Start("2026-03-03");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市申辩测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 1, 15_000m, 5, Day("2026-03-02"));
        await proc.RunDailyAsync(default);
        clock.SetUtcNow(At(Day("2026-03-06")));
        await proc.RecordStatementAsync(caseNo, Day("2026-03-05"), "user:inspector", default);
        await Assert.ThrowsAsync<DomainRuleException>(() => proc.RecordStatementAsync(caseNo, Day("2026-03-06"), "user:inspector", default));

        clock.SetUtcNow(At(Day("2026-03-12")));
        await proc.RunDailyAsync(default);
        Assert.Equal("notice_sent", (await ViewAsync(db.DataSource, caseNo)).State);

        var noReason = await Assert.ThrowsAsync<DomainRuleException>(() => proc.DecideAsync(caseNo, DecisionKind.NotListed, " ", "user:inspector", default));
        Assert.Contains("理由", noReason.Message);
        Assert.Equal(DecisionKind.Listed, await proc.DecideAsync(caseNo, DecisionKind.Listed, null, "user:inspector", default));
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("listed", "user:inspector", Day("2026-03-05")), (v.State, v.DecidedBy!, v.StatementReceivedOn!.Value));
        // Deciding again changes nothing.
        await Assert.ThrowsAsync<DomainRuleException>(() => proc.DecideAsync(caseNo, DecisionKind.NotListed, "再议", "user:other", default));
    }

    [Fact]
    public async Task Overturning_a_listing_removes_the_party_at_once_with_the_reason()
    {
        var (app, clock, proc) = await Start("2026-03-03");
        await using var _app = app;
        var caseNo = await ListedCaseAsync(proc, clock, "2026-03-02", "2026-03-03", "2026-03-11");
        clock.SetUtcNow(At(Day("2026-05-20")));
        await Assert.ThrowsAsync<DomainRuleException>(() => proc.OverturnAsync(caseNo, "", "user:admin", default));
        await proc.OverturnAsync(caseNo, "行政复议决定撤销列入决定", "user:admin", default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("removed", "overturned", "行政复议决定撤销列入决定", Day("2026-05-20")), (v.State, v.RemovalKind, v.RemovalReason, v.RemovedOn!.Value));
        await Assert.ThrowsAsync<DomainRuleException>(() => proc.OverturnAsync(caseNo, "again", "user:admin", default));
    }

    [Fact]
    public async Task A_deadline_beyond_the_loaded_calendar_is_computed_on_weekends_and_flagged()
    {
        var (app, _, proc) = await Start("2026-12-11");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市跨年测试有限公司", $"boss@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-12-10"));
        await proc.RunDailyAsync(default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.True(v.DecisionDueCalendarMissing);
        Assert.Equal(Day("2027-01-07"), v.DecisionDueOn); // Dec 11..31: 15 working days, then Jan 1 (a plain Friday without 2027 data), 4-7
        Assert.False(v.StatementDueCalendarMissing);
    }

    [Fact]
    public async Task A_candidate_whose_employer_has_no_address_waits_for_one()
    {
        var (app, clock, proc) = await Start("2026-06-02");
        await using var _app = app;
        var uscc = await EmployerAsync(db.DataSource, "凌源市无邮箱有限公司", "");
        var caseNo = await CaseAsync(db.DataSource, uscc, 12, 86_000m, 4, Day("2026-06-01"));
        await proc.RunDailyAsync(default);
        Assert.Equal("candidate", (await ViewAsync(db.DataSource, caseNo)).State);
        Assert.Empty(await DocumentsAsync(db.DataSource, caseNo));

        await using (var conn = await db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("UPDATE app.employers SET email = @email WHERE uscc = @uscc", new { uscc, email = $"late@{Guid.NewGuid():N}.test" });
        clock.SetUtcNow(At(Day("2026-06-03")));
        await proc.RunDailyAsync(default);
        var v = await ViewAsync(db.DataSource, caseNo);
        Assert.Equal(("notice_sent", Day("2026-06-03")), (v.State!, v.NoticeSentOn!.Value));
        Assert.Equal([$"wage-arrears:{caseNo}:notice"], await OutboxKeysAsync(db.DataSource, caseNo));
    }
}
