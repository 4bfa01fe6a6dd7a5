using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>
/// Cases through time with a fake clock. Mail is counted where it arrives: the real delivery job sends the
/// outbox to the test run's smtp4dev, and the test reads it back by its own recipient domain.
/// </summary>
public class ZeroEmploymentLifecycleFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly string _domain = $"{Guid.NewGuid():N}.test";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.FromHours(8)));
    private WebApplication _app = null!;
    private NpgsqlConnection _conn = null!;

    private string Caseworker => $"wang@{_domain}";
    private string Escalation => $"jiuye@{_domain}";

    public async Task InitializeAsync()
    {
        _conn = await db.DataSource.OpenConnectionAsync();
        await ZeroEmploymentData.ResetAsync(_conn);
        _app = db.BuildApp(extra: new() { ["ZeroEmployment:EscalationEmail"] = Escalation }, testServices: s => s.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _conn.DisposeAsync();
    }

    /// <summary>The recurring job as Hangfire runs it: resolved from DI, today from the (fake) clock.</summary>
    private async Task RunDailyJobAt(int year, int month, int day)
    {
        _clock.SetUtcNow(new DateTimeOffset(year, month, day, 3, 0, 0, TimeSpan.FromHours(8)));
        await using var scope = _app.Services.CreateAsyncScope();
        var catalog = scope.ServiceProvider.GetRequiredService<JobCatalog>();
        var job = (IRecurringJob)scope.ServiceProvider.GetRequiredService(catalog.Find("zero-employment-check")!.JobType);
        await job.RunAsync(CancellationToken.None);
    }

    /// <summary>Delivers the outbox with the fixture's app (real clock: the fake one would make no message due yet).</summary>
    private async Task<IReadOnlyList<Smtp4dev.Summary>> DeliverAndReadMailboxAsync(int expected)
    {
        var report = await db.Services.GetRequiredService<Lingyuan.Jobs.Notifications.OutboxDelivery>().DeliverDueAsync(CancellationToken.None);
        Assert.True(report.ServerDown is null, report.ToString());
        var received = await Smtp4dev.WaitForAsync(_domain, expected, TimeSpan.FromSeconds(30));
        await Task.Delay(500); // a late duplicate would show now
        return await Smtp4dev.MessagesToAsync(_domain);
    }

    private sealed record CaseRow(long Id, string State, DateOnly IdentifiedOn, DateOnly Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn, DateOnly? ClearedOn, string? ClearedBy, string? CloseReason);

    private async Task<List<CaseRow>> CasesAsync(string household) =>
        (await _conn.QueryAsync<(long, string, DateTime, DateTime, DateTime?, DateTime?, DateTime?, string?, string?)>(
            """
            SELECT id, state, identified_on::timestamp, deadline::timestamp, reminded_on::timestamp, overdue_on::timestamp, cleared_on::timestamp, cleared_by::text, close_reason
            FROM app.zero_employment_cases WHERE household_no = @household ORDER BY id
            """, new { household }))
        .Select(r => new CaseRow(r.Item1, r.Item2, DateOnly.FromDateTime(r.Item3), DateOnly.FromDateTime(r.Item4),
            r.Item5 is { } a ? DateOnly.FromDateTime(a) : null, r.Item6 is { } b ? DateOnly.FromDateTime(b) : null,
            r.Item7 is { } c ? DateOnly.FromDateTime(c) : null, r.Item8, r.Item9)).ToList();

    [Fact]
    public async Task A_case_is_identified_reminded_overdue_escalated_then_cleared_and_reruns_send_nothing_new()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        var ids = await ZeroEmploymentData.InsertAsync(_conn, null,
            new Member("H-LIFE", new DateOnly(1980, 5, 1), Male: true),
            new Member("H-LIFE", new DateOnly(1952, 1, 1), Male: false, Employment: "retired"));

        // Day 0 (Monday 2026-03-02): identified; deadline 30 calendar days later; the caseworker is told.
        await RunDailyJobAt(2026, 3, 2);
        var c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("identified", new DateOnly(2026, 3, 2), new DateOnly(2026, 4, 1)), (c.State, c.IdentifiedOn, c.Deadline));
        var opened = Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        Assert.Equal([Caseworker], opened.Recipients);
        Assert.Equal($"zero-employment:case:{c.Id}:opened", opened.DedupeKey);
        Assert.Contains("H-LIFE", opened.Subject);
        Assert.Contains("2026年4月1日", opened.TextBody);
        Assert.Contains(ids[0][..6] + "********" + ids[0][^4..], opened.TextBody);
        Assert.DoesNotContain(ids[0], opened.TextBody + opened.HtmlBody);
        Assert.Contains("不在劳动年龄内", opened.TextBody); // why the pensioner does not count

        // A second run on the same day (and a third, from `jobs run`) changes nothing and queues nothing.
        await RunDailyJobAt(2026, 3, 2);
        await RunDailyJobAt(2026, 3, 2);
        Assert.Equal([c], await CasesAsync("H-LIFE"));
        Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        var inbox = await DeliverAndReadMailboxAsync(1);
        var received = Assert.Single(inbox);
        Assert.Equal(opened.Subject, received.Subject);
        Assert.Contains(Caseworker, received.To.Single());

        // Day before the reminder window, nothing; 7 days before the deadline, the reminder, once.
        await RunDailyJobAt(2026, 3, 24);
        Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        await RunDailyJobAt(2026, 3, 25);
        await RunDailyJobAt(2026, 3, 25);
        var mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal([$"zero-employment:case:{c.Id}:opened", $"zero-employment:case:{c.Id}:reminder"], mails.Select(m => m.DedupeKey));
        Assert.Equal([Caseworker], mails[1].Recipients);

        // On the deadline itself still open; the day after, overdue: escalated, and the week's digest.
        await RunDailyJobAt(2026, 4, 1);
        Assert.Equal("identified", (await CasesAsync("H-LIFE"))[0].State);
        await RunDailyJobAt(2026, 4, 2);
        await RunDailyJobAt(2026, 4, 2);
        c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("overdue", new DateOnly(2026, 4, 2)), (c.State, c.OverdueOn));
        mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal(4, mails.Count);
        Assert.Equal([Escalation], mails[2].Recipients);
        Assert.Equal($"zero-employment:case:{c.Id}:overdue", mails[2].DedupeKey);
        Assert.Equal("zero-employment:overdue-digest:2026-W14", mails[3].DedupeKey);
        Assert.Equal([Escalation], mails[3].Recipients);

        // Same ISO week: no second digest. Next Monday: the next week's digest.
        await RunDailyJobAt(2026, 4, 5);
        Assert.Equal(4, (await ZeroEmploymentData.QueuedToAsync(_conn, _domain)).Count);
        await RunDailyJobAt(2026, 4, 6);
        mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal("zero-employment:overdue-digest:2026-W15", mails[^1].DedupeKey);

        // The member finds work: the next run clears the case, with the date and who (masked).
        await _conn.ExecuteAsync("UPDATE app.persons SET employment = 'employed', employment_since = '2026-04-06' WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 4, 7);
        c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("cleared", new DateOnly(2026, 4, 7)), (c.State, c.ClearedOn));
        Assert.Contains(ids[0][..6] + "********" + ids[0][^4..], c.ClearedBy);
        Assert.DoesNotContain(ids[0], c.ClearedBy);
        Assert.Contains("2026-04-06", c.ClearedBy);
        var count = (await ZeroEmploymentData.QueuedToAsync(_conn, _domain)).Count;
        await RunDailyJobAt(2026, 4, 7);
        await RunDailyJobAt(2026, 4, 13); // no overdue case left: no digest
        Assert.Equal(count, (await ZeroEmploymentData.QueuedToAsync(_conn, _domain)).Count);

        // Everything queued so far arrived at the SMTP server exactly once.
        var queuedAll = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        inbox = await DeliverAndReadMailboxAsync(queuedAll.Count);
        Assert.Equal(queuedAll.Select(m => m.Subject).Order(), inbox.Select(m => m.Subject).Order());
        Assert.Equal(3, inbox.Count(m => m.To.Single().Contains(Escalation)));

        // A cleared case is a record: the database refuses to change it.
        var ex = await Assert.ThrowsAsync<PostgresException>(() => _conn.ExecuteAsync("UPDATE app.zero_employment_cases SET state = 'identified' WHERE id = @Id", new { c.Id }));
        Assert.Contains("cannot change", ex.MessageText);

        // Out of work again later: a NEW case.
        await _conn.ExecuteAsync("UPDATE app.persons SET employment = 'unemployed', updated_at = now() WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 5, 4);
        var all = await CasesAsync("H-LIFE");
        Assert.Equal(["cleared", "identified"], all.Select(x => x.State));
        Assert.Equal(new DateOnly(2026, 5, 4), all[1].IdentifiedOn);
    }

    [Fact]
    public async Task A_household_whose_community_has_no_caseworker_still_gets_a_case_and_its_mail_goes_to_the_escalation_address_with_a_note()
    {
        await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-NOCW", new DateOnly(1990, 1, 1), Male: false, Community: "无人社区"));
        await RunDailyJobAt(2026, 3, 2);
        Assert.Equal("identified", Assert.Single(await CasesAsync("H-NOCW")).State);
        var mail = Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        Assert.Equal([Escalation], mail.Recipients);
        Assert.Contains("没有城关街道无人社区的社区协理员", mail.TextBody);
    }

    [Fact]
    public async Task A_case_closes_by_itself_when_the_household_no_longer_qualifies_with_the_cause()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        var ids = await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-GONE", new DateOnly(1990, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        await _conn.ExecuteAsync("UPDATE app.persons SET business_income = true WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 3, 3);
        var c = Assert.Single(await CasesAsync("H-GONE"));
        Assert.Equal(("closed", "no_longer_qualifies"), (c.State, c.CloseReason));
        Assert.Equal("家庭成员有经营性收入", await _conn.ExecuteScalarAsync<string>("SELECT close_note FROM app.zero_employment_cases WHERE id = @Id", new { c.Id }));
    }

    [Fact]
    public async Task An_operator_closed_case_is_not_reopened_until_the_household_register_entry_changes()
    {
        var ids = await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-REFUSE", new DateOnly(1990, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        var c = Assert.Single(await CasesAsync("H-REFUSE"));
        var cases = _app.Services.GetRequiredService<ZeroEmploymentCases>();
        await cases.CloseAsync(c.Id, "refused_referrals", "三次推荐均拒绝", "admin1", CancellationToken.None);
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.CloseAsync(c.Id, "moved", "再次结案", "admin1", CancellationToken.None));
        Assert.Equal(1, await _conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'zero-employment.close' AND subject_id = @id AND actor = 'admin1'", new { id = c.Id.ToString() }));

        await RunDailyJobAt(2026, 3, 3);
        Assert.Single(await CasesAsync("H-REFUSE"));

        await _conn.ExecuteAsync("UPDATE app.persons SET wants_work = true, updated_at = now() + interval '1 second' WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 3, 4);
        Assert.Equal(["closed", "identified"], (await CasesAsync("H-REFUSE")).Select(x => x.State));
    }

    [Fact]
    public async Task A_check_as_of_a_day_before_the_last_one_is_refused()
    {
        await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-PAST", new DateOnly(1990, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        var check = _app.Services.GetRequiredService<ZeroEmploymentCheck>();
        await Assert.ThrowsAsync<DomainRuleException>(() => check.RunAsync(new DateOnly(2026, 3, 1), CancellationToken.None));
    }

    [Fact]
    public async Task Two_checks_at_once_open_each_case_once_and_queue_each_mail_once()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        await ZeroEmploymentData.InsertAsync(_conn, null,
            Enumerable.Range(0, 20).Select(i => new Member($"H-RACE-{i}", new DateOnly(1980 + i, 1, 1), Male: i % 2 == 0)).ToArray());
        var check = _app.Services.GetRequiredService<ZeroEmploymentCheck>();
        var asOf = new DateOnly(2026, 3, 2);
        var results = await Task.WhenAll(check.RunAsync(asOf, CancellationToken.None), check.RunAsync(asOf, CancellationToken.None));
        Assert.Equal(20, results.Sum(r => r.Opened));
        Assert.Equal(20, await _conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases"));
        Assert.Equal(20, (await ZeroEmploymentData.QueuedToAsync(_conn, _domain)).Count);
    }
}
