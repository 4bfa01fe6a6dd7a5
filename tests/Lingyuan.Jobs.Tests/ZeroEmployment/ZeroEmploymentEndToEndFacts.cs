using Dapper;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>
/// The real executable's `jobs run zero-employment-check` on a synthetic county (the registers' seed-demo is not
/// on main yet; synthetic-households.sql stands in). Mail is delivered by the real `jobs run outbox-delivery` and
/// counted at smtp4dev per caseworker address.
/// </summary>
public class ZeroEmploymentEndToEndFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    private const string Employed = "('employed', 'self_employed', 'flexible_insured')";

    [Fact]
    public async Task The_daily_job_on_a_synthetic_county_proposes_each_household_and_sends_each_caseworker_one_digest()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        var escalation = $"jiuye@{domain}";
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync(ZeroEmploymentData.SyntheticSql());
        // 400 households (~50 cases): every mail must still be in smtp4dev when read back, and the shared dev
        // instance keeps only its latest 100 messages (ops/test starts one that keeps 100,000).
        var persons = await conn.ExecuteScalarAsync<long>("SELECT pg_temp.ze_synthetic(400, @domain)", new { domain });
        output.WriteLine($"{persons} persons in 400 households");
        var sample = await conn.QueryAsync<string>("SELECT id_number FROM app.persons ORDER BY id_number LIMIT 500");
        Assert.All(sample, id => Assert.True(IdNumber.IsValid(id), id));

        var settings = new Dictionary<string, string?> { ["ZeroEmployment:EscalationEmail"] = escalation };
        var (code, text) = await ServiceProcess.RunAsync(db, "jobs run zero-employment-check", settings);
        Assert.True(code == 0, text);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime);

        // The definition written out once more, the plain way: the per-person SQL function, no bounds; students
        // and pensioners are never job-seekers (DOMAIN.md §3).
        var direct = await conn.ExecuteScalarAsync<int>($"""
            SELECT count(*) FROM (
                SELECT household_no FROM app.persons
                GROUP BY household_no
                HAVING bool_or(hukou = 'urban') AND NOT bool_or(business_income)
                   AND bool_or(able_to_work AND wants_work AND employment NOT IN {Employed} AND employment NOT IN ('student', 'retired')
                               AND app.is_working_age(id_number, coalesce(female_baseline, 50), @today, 16))
                   AND NOT bool_or(employment IN {Employed} AND app.is_working_age(id_number, coalesce(female_baseline, 50), @today, 16))
            ) q
            """, new { today });
        output.WriteLine($"{direct} zero-employment households as of {today}");
        Assert.True(direct > 20, $"the synthetic county should have zero-employment households, has {direct}");
        Assert.Equal(direct, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases WHERE state = 'proposed' AND proposed_on = @today", new { today }));

        // One digest per caseworker listing every household of their community; the community without one: the escalation address.
        var perCommunity = (await conn.QueryAsync<(string Street, string Community, string? Email, int Cases)>("""
            SELECT c.street, c.community, cw.caseworker_email, count(*)::int
            FROM app.zero_employment_cases c
            LEFT JOIN app.communities cw ON cw.street = c.street AND cw.community = c.community
            GROUP BY c.street, c.community, cw.caseworker_email
            """)).ToList();
        Assert.Equal(direct, perCommunity.Sum(p => p.Cases));
        var queued = await ZeroEmploymentData.QueuedToAsync(conn, domain);
        var recipients = perCommunity.Select(p => p.Email ?? escalation).Distinct().Count();
        Assert.Equal(recipients, queued.Count);
        Assert.Equal(queued.Count, queued.Select(m => m.Recipients.Single()).Distinct().Count());
        foreach (var p in perCommunity)
        {
            var mail = Assert.Single(queued, m => m.Recipients.Single() == (p.Email ?? escalation));
            var households = await conn.QueryAsync<string>("SELECT household_no FROM app.zero_employment_cases WHERE street = @Street AND community = @Community", new { p.Street, p.Community });
            Assert.All(households, h => Assert.Contains(h, mail.TextBody));
        }
        var orphan = Assert.Single(perCommunity, p => p.Email is null);
        Assert.Equal("街道8社区12", orphan.Community);
        Assert.Contains("街道8街道8社区12", Assert.Single(queued, m => m.Recipients.Single() == escalation).TextBody);

        // The ledger of this month counts only confirmed households: nothing is identified yet, all await confirmation.
        var month = new DateOnly(today.Year, today.Month, 1);
        var ledger = await db.Services.GetRequiredService<ZeroEmploymentLedger>().LedgerAsync(month, CancellationToken.None);
        var total = Assert.Single(ledger, r => r.Street is null);
        Assert.Equal((0, 0, 0, 0, direct), (total.Identified, total.Cleared, total.Open, total.Overdue, total.AwaitingConfirmation));
        Assert.All(ledger.Where(r => r.Community is not null), r =>
            Assert.Equal(perCommunity.Single(p => p.Street == r.Street && p.Community == r.Community).Cases, r.AwaitingConfirmation));

        // Delivered by the real delivery job: each caseworker's mailbox holds one mail.
        var (sent, sentText) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
        Assert.True(sent == 0, sentText);
        var inbox = await Smtp4dev.WaitForAsync(domain, recipients, TimeSpan.FromSeconds(60));
        var states = string.Join(", ", await conn.QueryAsync<string>("SELECT state || ' ' || count(*) || ' ' || coalesce(min(last_reply), '') FROM app.outbox GROUP BY state"));
        Assert.True(recipients == inbox.Count, $"{inbox.Count} of {recipients} received; outbox: {states}; delivery said: {sentText}");
        foreach (var to in perCommunity.Select(p => p.Email ?? escalation).Distinct())
            Assert.Equal(1, inbox.Count(m => m.To.Any(r => r.Contains(to, StringComparison.OrdinalIgnoreCase))));

        // Run again: nothing new.
        var (again, againText) = await ServiceProcess.RunAsync(db, "jobs run zero-employment-check", settings);
        Assert.True(again == 0, againText);
        Assert.Equal(recipients, (await ZeroEmploymentData.QueuedToAsync(conn, domain)).Count);
        Assert.Equal(direct, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases"));
        (sent, sentText) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
        Assert.True(sent == 0, sentText);
        Assert.Equal(recipients, (await Smtp4dev.MessagesToAsync(domain)).Count);
    }
}
