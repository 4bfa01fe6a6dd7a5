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
    public async Task The_daily_job_on_a_synthetic_county_tells_each_caseworker_of_their_households_and_the_ledger_equals_a_direct_count()
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

        // The definition written out once more, the plain way: the per-person SQL function, no bounds.
        var direct = await conn.ExecuteScalarAsync<int>($"""
            SELECT count(*) FROM (
                SELECT household_no FROM app.persons
                GROUP BY household_no
                HAVING bool_or(hukou = 'urban') AND NOT bool_or(business_income)
                   AND bool_or(able_to_work AND wants_work AND employment NOT IN {Employed}
                               AND app.is_working_age(id_number, coalesce(female_baseline, 50), @today, 16))
                   AND NOT bool_or(employment IN {Employed} AND app.is_working_age(id_number, coalesce(female_baseline, 50), @today, 16))
            ) q
            """, new { today });
        output.WriteLine($"{direct} zero-employment households as of {today}");
        Assert.True(direct > 20, $"the synthetic county should have zero-employment households, has {direct}");
        Assert.Equal(direct, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases WHERE state = 'identified' AND identified_on = @today", new { today }));

        // Each caseworker got one mail per case of their community; the community without one: the escalation address.
        var perCommunity = (await conn.QueryAsync<(string Street, string Community, string? Email, int Cases, int Mails)>("""
            SELECT c.street, c.community, cw.caseworker_email, count(*)::int,
                   (SELECT count(*)::int FROM app.outbox o
                    WHERE o.regarding_type = 'zero_employment_case' AND o.dedupe_key LIKE 'zero-employment:case:%:opened'
                      AND o.recipients = ARRAY[coalesce(cw.caseworker_email, @escalation)]
                      AND o.regarding_id::bigint IN (SELECT id FROM app.zero_employment_cases x WHERE x.street = c.street AND x.community = c.community))
            FROM app.zero_employment_cases c
            LEFT JOIN app.communities cw ON cw.street = c.street AND cw.community = c.community
            GROUP BY c.street, c.community, cw.caseworker_email
            """, new { escalation })).ToList();
        Assert.Equal(direct, perCommunity.Sum(p => p.Cases));
        Assert.All(perCommunity, p => Assert.True(p.Cases == p.Mails, $"{p.Street}{p.Community}: {p.Cases} cases, {p.Mails} mails to {p.Email ?? escalation}"));
        var orphan = Assert.Single(perCommunity, p => p.Email is null);
        Assert.Equal("街道8社区12", orphan.Community);
        var queued = await ZeroEmploymentData.QueuedToAsync(conn, domain);
        Assert.Equal(direct, queued.Count);
        Assert.Equal(orphan.Cases, queued.Count(m => m.Recipients.Single() == escalation && m.TextBody.Contains("没有街道8街道8社区12的社区协理员")));

        // The ledger of this month: county total and each row equal direct counts.
        var month = new DateOnly(today.Year, today.Month, 1);
        var ledger = await db.Services.GetRequiredService<ZeroEmploymentLedger>().LedgerAsync(month, CancellationToken.None);
        var total = Assert.Single(ledger, r => r.Street is null);
        Assert.Equal((direct, 0, direct, 0), (total.Identified, total.Cleared, total.Open, total.Overdue));
        Assert.All(ledger.Where(r => r.Community is not null), r =>
            Assert.Equal(perCommunity.Single(p => p.Street == r.Street && p.Community == r.Community).Cases, r.Identified));
        Assert.Equal(direct, ledger.Where(r => r.Street is not null && r.Community is null).Sum(r => r.Identified));

        // Delivered by the real delivery job: each caseworker's mailbox holds one mail per case of their community.
        var (sent, sentText) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
        Assert.True(sent == 0, sentText);
        var inbox = await Smtp4dev.WaitForAsync(domain, direct, TimeSpan.FromSeconds(60));
        var states = string.Join(", ", await conn.QueryAsync<string>("SELECT state || ' ' || count(*) || ' ' || coalesce(min(last_reply), '') FROM app.outbox GROUP BY state"));
        Assert.True(direct == inbox.Count, $"{inbox.Count} of {direct} received; outbox: {states}; delivery said: {sentText}");
        foreach (var p in perCommunity)
        {
            var to = p.Email ?? escalation;
            var got = inbox.Count(m => m.To.Any(r => r.Contains(to, StringComparison.OrdinalIgnoreCase)));
            Assert.True(p.Cases == got, $"{to}: {p.Cases} cases, {got} mails received");
        }

        // Run again: nothing new.
        var (again, againText) = await ServiceProcess.RunAsync(db, "jobs run zero-employment-check", settings);
        Assert.True(again == 0, againText);
        Assert.Equal(direct, (await ZeroEmploymentData.QueuedToAsync(conn, domain)).Count);
        Assert.Equal(direct, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases"));
        (sent, sentText) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
        Assert.True(sent == 0, sentText);
        Assert.Equal(direct, (await Smtp4dev.MessagesToAsync(domain)).Count);
    }
}
