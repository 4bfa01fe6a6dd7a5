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

    private sealed record CaseRow(long Id, string State, DateOnly? IdentifiedOn, DateOnly? Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn, DateOnly? ClearedOn, string? ClearedBy, string? CloseReason);

    /// <summary>A digest's dedupe key without the hash of what it lists.</summary>
    private static string Unhashed(string key) => key[..key.LastIndexOf(':')];

    private static DateOnly? Day(DateTime? d) => d is { } x ? DateOnly.FromDateTime(x) : null;

    private async Task<List<CaseRow>> CasesAsync(string household) =>
        (await _conn.QueryAsync<(long, string, DateTime?, DateTime?, DateTime?, DateTime?, DateTime?, string?, string?)>(
            """
            SELECT id, state, identified_on::timestamp, deadline::timestamp, reminded_on::timestamp, overdue_on::timestamp, cleared_on::timestamp, cleared_by::text, close_reason
            FROM app.zero_employment_cases WHERE household_no = @household ORDER BY id
            """, new { household }))
        .Select(r => new CaseRow(r.Item1, r.Item2, Day(r.Item3), Day(r.Item4), Day(r.Item5), Day(r.Item6), Day(r.Item7), r.Item8, r.Item9)).ToList();

    /// <summary>A caseworker account whose e-mail the communities register names.</summary>
    private async Task<string> CaseworkerAccountAsync(string email)
    {
        var name = $"cw{Guid.NewGuid():N}"[..12];
        var users = _app.Services.GetRequiredService<Lingyuan.Jobs.Dashboard.UserStore>();
        await users.AddAsync(name, Lingyuan.Jobs.Dashboard.Roles.Caseworker, TestSignIn.Password, "test", CancellationToken.None);
        await users.SetEmailAsync(name, email, "test", CancellationToken.None);
        return name;
    }

    private Task DecideAt(int year, int month, int day, long id, bool confirm, string note, string actor)
    {
        _clock.SetUtcNow(new DateTimeOffset(year, month, day, 10, 0, 0, TimeSpan.FromHours(8)));
        return _app.Services.GetRequiredService<ZeroEmploymentCases>().DecideAsync(id, confirm, note, actor, CancellationToken.None);
    }

    [Fact]
    public async Task A_household_is_proposed_confirmed_reminded_overdue_escalated_then_cleared_and_reruns_send_nothing_new()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        var wang = await CaseworkerAccountAsync(Caseworker);
        var ids = await ZeroEmploymentData.InsertAsync(_conn, null,
            new Member("H-LIFE", new DateOnly(1980, 5, 1), Male: true),
            new Member("H-LIFE", new DateOnly(1952, 1, 1), Male: false, Employment: "retired"));

        // Day 0 (Monday 2026-03-02): the scan proposes; no deadline yet; the caseworker's digest lists it.
        await RunDailyJobAt(2026, 3, 2);
        var c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("proposed", (DateOnly?)null, (DateOnly?)null), (c.State, c.IdentifiedOn, c.Deadline));
        var digest = Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        Assert.Equal([Caseworker], digest.Recipients);
        Assert.StartsWith($"zero-employment:digest:2026-03-02:{Caseworker}:", digest.DedupeKey);
        Assert.Contains("待确认(新) 1 户", digest.Subject);
        Assert.Contains("H-LIFE", digest.TextBody);
        Assert.Contains(ids[0][..6] + "********" + ids[0][^4..], digest.TextBody);
        Assert.DoesNotContain(ids[0], digest.TextBody + digest.HtmlBody);
        Assert.Contains("王芳同志", digest.TextBody);

        // A second run on the same day (and a third, from `jobs run`) changes nothing and queues nothing.
        await RunDailyJobAt(2026, 3, 2);
        await RunDailyJobAt(2026, 3, 2);
        Assert.Equal([c], await CasesAsync("H-LIFE"));
        Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        var inbox = await DeliverAndReadMailboxAsync(1);
        Assert.Equal(digest.Subject, Assert.Single(inbox).Subject);

        // The caseworker confirms on 2026-03-03: identified that day, deadline 30 calendar days later; audited.
        await DecideAt(2026, 3, 3, c.Id, confirm: true, "入户核实:户主失业,有就业意愿", wang);
        c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("identified", (DateOnly?)new DateOnly(2026, 3, 3), (DateOnly?)new DateOnly(2026, 4, 2)), (c.State, c.IdentifiedOn, c.Deadline));
        Assert.Equal(1, await _conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'zero-employment.confirm' AND subject_id = @id AND actor = @wang AND details LIKE '入户核实%'",
            new { id = c.Id.ToString(), wang }));
        await Assert.ThrowsAsync<DomainRuleException>(() => DecideAt(2026, 3, 3, c.Id, confirm: false, "再次", wang));

        // Day before the reminder window, nothing; 7 days before the deadline, the reminder, once.
        await RunDailyJobAt(2026, 3, 25);
        Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        await RunDailyJobAt(2026, 3, 26);
        await RunDailyJobAt(2026, 3, 26);
        var mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal([$"zero-employment:digest:2026-03-02:{Caseworker}", $"zero-employment:digest:2026-03-26:{Caseworker}"], mails.Select(m => Unhashed(m.DedupeKey)));
        Assert.Contains("临近期限 1 户", mails[1].Subject);

        // On the deadline itself still open; the day after, overdue: the employment service's digest, the
        // caseworker's digest, and the week's overdue digest.
        await RunDailyJobAt(2026, 4, 2);
        Assert.Equal("identified", (await CasesAsync("H-LIFE"))[0].State);
        await RunDailyJobAt(2026, 4, 3);
        await RunDailyJobAt(2026, 4, 3);
        c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("overdue", (DateOnly?)new DateOnly(2026, 4, 3)), (c.State, c.OverdueOn));
        mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal(5, mails.Count);
        Assert.Equal(
            [$"zero-employment:digest:2026-04-03:{Escalation}", $"zero-employment:digest:2026-04-03:{Caseworker}", "zero-employment:overdue-digest:2026-W14"],
            mails.Skip(2).Select(m => m.DedupeKey.StartsWith("zero-employment:digest:", StringComparison.Ordinal) ? Unhashed(m.DedupeKey) : m.DedupeKey));
        Assert.Equal([Escalation], mails[2].Recipients);
        Assert.Contains("逾期 1 户", mails[2].Subject);
        Assert.Equal([Caseworker], mails[3].Recipients);
        Assert.Equal([Escalation], mails[4].Recipients);

        // Same ISO week: no second digest. Next Monday: the next week's digest.
        await RunDailyJobAt(2026, 4, 5);
        Assert.Equal(5, (await ZeroEmploymentData.QueuedToAsync(_conn, _domain)).Count);
        await RunDailyJobAt(2026, 4, 6);
        mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal("zero-employment:overdue-digest:2026-W15", mails[^1].DedupeKey);

        // The member finds work: the next run clears the case, with the date and who (masked).
        await _conn.ExecuteAsync("UPDATE app.persons SET employment = 'employed', employment_since = '2026-04-06' WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 4, 7);
        c = Assert.Single(await CasesAsync("H-LIFE"));
        Assert.Equal(("cleared", (DateOnly?)new DateOnly(2026, 4, 7)), (c.State, c.ClearedOn));
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

        // Out of work again later: a NEW proposal.
        await _conn.ExecuteAsync("UPDATE app.persons SET employment = 'unemployed', updated_at = now() WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 5, 4);
        Assert.Equal(["cleared", "proposed"], (await CasesAsync("H-LIFE")).Select(x => x.State));
    }

    [Fact]
    public async Task An_unconfirmed_proposal_is_reminded_every_ConfirmRemindDays_days_and_a_rejected_one_is_not_proposed_again_until_the_register_changes()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        var wang = await CaseworkerAccountAsync(Caseworker);
        var ids = await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-WAIT", new DateOnly(1990, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        await RunDailyJobAt(2026, 3, 4);
        Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        // ConfirmRemindDays = 3 (default): reminded on 03-05, again on 03-08.
        await RunDailyJobAt(2026, 3, 5);
        await RunDailyJobAt(2026, 3, 7);
        await RunDailyJobAt(2026, 3, 8);
        var mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal(["2026-03-02", "2026-03-05", "2026-03-08"], mails.Select(m => m.DedupeKey.Split(':')[2]));
        Assert.All(mails.Skip(1), m => Assert.Contains("待确认(提醒) 1 户", m.Subject));

        var c = Assert.Single(await CasesAsync("H-WAIT"));
        await DecideAt(2026, 3, 9, c.Id, confirm: false, "入户核实:已在外地务工", wang);
        Assert.Equal("rejected", Assert.Single(await CasesAsync("H-WAIT")).State);
        await RunDailyJobAt(2026, 3, 10);
        await RunDailyJobAt(2026, 3, 13);
        Assert.Single(await CasesAsync("H-WAIT"));
        Assert.Equal(3, (await ZeroEmploymentData.QueuedToAsync(_conn, _domain)).Count);

        // A rejected case is a record; a register change after the rejection makes the household a proposal again.
        await Assert.ThrowsAsync<PostgresException>(() => _conn.ExecuteAsync("UPDATE app.zero_employment_cases SET state = 'proposed' WHERE id = @Id", new { c.Id }));
        await _conn.ExecuteAsync("UPDATE app.persons SET updated_at = now() + interval '1 second' WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 3, 14);
        Assert.Equal(["rejected", "proposed"], (await CasesAsync("H-WAIT")).Select(x => x.State));
    }

    [Fact]
    public async Task A_caseworker_decides_only_on_households_of_the_communities_whose_register_row_names_their_email()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "北街社区", "李强", $"li@{_domain}");
        var wang = await CaseworkerAccountAsync(Caseworker);
        await ZeroEmploymentData.InsertAsync(_conn, null,
            new Member("H-SOUTH", new DateOnly(1990, 1, 1), Male: true),
            new Member("H-NORTH", new DateOnly(1991, 1, 1), Male: true, Community: "北街社区"));
        await RunDailyJobAt(2026, 3, 2);
        var north = Assert.Single(await CasesAsync("H-NORTH"));
        var e = await Assert.ThrowsAsync<DomainRuleException>(() => DecideAt(2026, 3, 3, north.Id, confirm: true, "核实", wang));
        Assert.Contains("不属于您负责的社区", e.Message);
        var operatorName = $"op{Guid.NewGuid():N}"[..12];
        await _app.Services.GetRequiredService<Lingyuan.Jobs.Dashboard.UserStore>().AddAsync(operatorName, "operator", TestSignIn.Password, "test", CancellationToken.None);
        await Assert.ThrowsAsync<DomainRuleException>(() => DecideAt(2026, 3, 3, north.Id, confirm: true, "核实", operatorName));
        await Assert.ThrowsAsync<UsageException>(() => DecideAt(2026, 3, 3, north.Id, confirm: true, " ", wang));
        Assert.Equal("proposed", Assert.Single(await CasesAsync("H-NORTH")).State);

        // One digest per caseworker per run, each listing only their own households.
        var mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal(2, mails.Count);
        Assert.Contains("H-SOUTH", Assert.Single(mails, m => m.Recipients.Single() == Caseworker).TextBody);
        Assert.DoesNotContain("H-NORTH", Assert.Single(mails, m => m.Recipients.Single() == Caseworker).TextBody);
    }

    public static TheoryData<string, string, bool, bool> Deciders() => new()
    {
        // (source, role, the account's e-mail is the one the household's community row names, may decide)
        { "就业服务与就业管理规定 arts. 40-43: the caseworker of the household's community confirms", "caseworker", true, true },
        { "DOMAIN §3: a caseworker sees and decides only the communities whose register row names their e-mail", "caseworker", false, false },
        { "DOMAIN §3: an admin may decide for any community", "admin", false, true },
        { "QUALITY (roles): an operator is read-only", "operator", true, false },
        { "QUALITY (roles): a finance user has no business with households", "finance", true, false },
    };

    [Theory]
    [MemberData(nameof(Deciders))]
    public async Task Who_may_confirm_a_proposal(string source, string role, bool emailMatches, bool allowed)
    {
        _ = source;
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-WHO", new DateOnly(1990, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        var name = $"u{Guid.NewGuid():N}"[..12];
        var users = _app.Services.GetRequiredService<Lingyuan.Jobs.Dashboard.UserStore>();
        await users.AddAsync(name, role, TestSignIn.Password, "test", CancellationToken.None);
        await users.SetEmailAsync(name, emailMatches ? Caseworker.ToUpperInvariant() : $"other@{_domain}", "test", CancellationToken.None);
        var c = Assert.Single(await CasesAsync("H-WHO"));
        if (allowed)
        {
            await DecideAt(2026, 3, 3, c.Id, confirm: true, "入户核实", name);
            Assert.Equal("identified", Assert.Single(await CasesAsync("H-WHO")).State);
        }
        else
        {
            await Assert.ThrowsAsync<DomainRuleException>(() => DecideAt(2026, 3, 3, c.Id, confirm: true, "入户核实", name));
            Assert.Equal("proposed", Assert.Single(await CasesAsync("H-WHO")).State);
        }
    }

    [Fact]
    public async Task A_household_whose_community_has_no_caseworker_is_still_proposed_and_listed_to_the_escalation_address_with_a_note()
    {
        await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-NOCW", new DateOnly(1990, 1, 1), Male: false, Community: "无人社区"));
        await RunDailyJobAt(2026, 3, 2);
        Assert.Equal("proposed", Assert.Single(await CasesAsync("H-NOCW")).State);
        var mail = Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        Assert.Equal([Escalation], mail.Recipients);
        Assert.Contains("没有以下社区的社区协理员", mail.TextBody);
        Assert.Contains("城关街道无人社区", mail.TextBody);
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
        var users = _app.Services.GetRequiredService<Lingyuan.Jobs.Dashboard.UserStore>();
        await users.AddAsync("admin1", "admin", TestSignIn.Password, "test", CancellationToken.None);
        await RunDailyJobAt(2026, 3, 2);
        var c = Assert.Single(await CasesAsync("H-REFUSE"));
        var cases = _app.Services.GetRequiredService<ZeroEmploymentCases>();
        // A proposal is rejected, not closed; once confirmed (here by an admin) it may be closed.
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.CloseAsync(c.Id, "refused_referrals", "三次推荐均拒绝", "admin1", CancellationToken.None));
        await DecideAt(2026, 3, 2, c.Id, confirm: true, "核实无误", "admin1");
        await cases.CloseAsync(c.Id, "refused_referrals", "三次推荐均拒绝", "admin1", CancellationToken.None);
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.CloseAsync(c.Id, "moved", "再次结案", "admin1", CancellationToken.None));
        Assert.Equal(1, await _conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'zero-employment.close' AND subject_id = @id AND actor = 'admin1'", new { id = c.Id.ToString() }));

        await RunDailyJobAt(2026, 3, 3);
        Assert.Single(await CasesAsync("H-REFUSE"));

        await _conn.ExecuteAsync("UPDATE app.persons SET wants_work = true, updated_at = now() + interval '1 second' WHERE id_number = @id", new { id = ids[0] });
        await RunDailyJobAt(2026, 3, 4);
        Assert.Equal(["closed", "proposed"], (await CasesAsync("H-REFUSE")).Select(x => x.State));
    }

    [Fact]
    public async Task A_second_run_the_same_day_after_an_import_tells_the_caseworker_of_the_new_households_only()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-FIRST", new DateOnly(1990, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        await ZeroEmploymentData.InsertAsync(_conn, null, new Member("H-SECOND", new DateOnly(1991, 1, 1), Male: true));
        await RunDailyJobAt(2026, 3, 2);
        await RunDailyJobAt(2026, 3, 2);
        var mails = await ZeroEmploymentData.QueuedToAsync(_conn, _domain);
        Assert.Equal(2, mails.Count);
        Assert.Contains("H-FIRST", mails[0].TextBody);
        Assert.Contains("H-SECOND", mails[1].TextBody);
        Assert.DoesNotContain("H-FIRST", mails[1].TextBody);
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
    public async Task Two_checks_at_once_propose_each_household_once_and_queue_one_digest_per_caseworker()
    {
        await ZeroEmploymentData.AddCommunityAsync(_conn, "城关街道", "南街社区", "王芳", Caseworker);
        await ZeroEmploymentData.InsertAsync(_conn, null,
            Enumerable.Range(0, 20).Select(i => new Member($"H-RACE-{i}", new DateOnly(1980 + i, 1, 1), Male: i % 2 == 0)).ToArray());
        var check = _app.Services.GetRequiredService<ZeroEmploymentCheck>();
        var asOf = new DateOnly(2026, 3, 2);
        var results = await Task.WhenAll(check.RunAsync(asOf, CancellationToken.None), check.RunAsync(asOf, CancellationToken.None));
        Assert.Equal(20, results.Sum(r => r.Opened));
        Assert.Equal(20, await _conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases"));
        var digest = Assert.Single(await ZeroEmploymentData.QueuedToAsync(_conn, _domain));
        Assert.Contains("待确认(新) 20 户", digest.Subject);
    }
}
