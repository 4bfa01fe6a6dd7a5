using Dapper;
using Ical.Net;
using Lingyuan.Jobs.Tests.Infrastructure;
using MimeKit;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.EndToEnd;

/// <summary>
/// The county demo data (seed-demo --scale county, ~0.6 M people) with the real executable and the real
/// SMTP server. Every address is moved to a domain of this test's own, so the shared SMTP server's
/// other mail cannot be counted here.
/// </summary>
public sealed class CountyDemoFixture : DatabaseFixture
{
    public string Domain { get; } = $"county-{Guid.NewGuid():N}.test";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var (code, output) = await ServiceProcess.RunAsync(this, "seed-demo --scale county", timeout: TimeSpan.FromMinutes(10), dll: ServiceProcess.DemoDllPath);
        if (code != 0) throw new InvalidOperationException(output);
        await using var conn = await DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            UPDATE app.employers SET email = split_part(email, '@', 1) || '@' || @d;
            UPDATE app.inspectors SET email = split_part(email, '@', 1) || '@' || @d;
            UPDATE app.communities SET caseworker_email = split_part(caseworker_email, '@', 1) || '@' || @d;
            """, new { d = Domain });
    }

    public async Task<(int Code, string Output)> RunAsync(string args)
    {
        var result = await ServiceProcess.RunAsync(this, args, timeout: TimeSpan.FromMinutes(10));
        Assert.True(result.ExitCode == 0, $"{args}: {result.Output}");
        return result;
    }
}

public class CountyDemoFacts(CountyDemoFixture fx, ITestOutputHelper output) : IClassFixture<CountyDemoFixture>
{
    [Fact]
    public async Task The_scheduled_draw_runs_and_every_drawn_inspector_receives_exactly_one_assignment_mail_with_a_valid_ics()
    {
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var street = await conn.ExecuteScalarAsync<string>("SELECT street FROM app.employers GROUP BY street ORDER BY count(*) LIMIT 1");
        // A plan is drawn after its commitment's lead time, on a snapshot frozen before the public value:
        // the plan is scheduled and frozen by an instance whose clock is three days back, then drawn now.
        var plan = await Lingyuan.Jobs.Tests.Inspections.InspectionTestData.AddPlanAsync(fx, street!, [3, 5, 20, 60], cap: 40, name: "县级演示抽查");
        await Lingyuan.Jobs.Tests.Inspections.InspectionTestData.FreezeAsync(fx, plan.Id);
        await fx.RunAsync($"draw run {plan.Id} --public-value {Lingyuan.Jobs.Tests.Inspections.InspectionTestData.TestPublicValue.Replace(' ', ',')}");
        await fx.RunAsync("jobs run outbox-delivery");

        var drawn = (await conn.QueryAsync<string>(
            """
            SELECT DISTINCT i.email FROM app.draw_results r CROSS JOIN unnest(r.team) b JOIN app.inspectors i ON i.badge_no = b
            """)).ToList();
        Assert.NotEmpty(drawn);
        var mails = await Smtp4dev.WaitForAsync("@" + fx.Domain, drawn.Count, TimeSpan.FromSeconds(60));
        var assignments = mails.Where(m => m.Subject.Contains("双随机抽查任务通知", StringComparison.Ordinal)).ToList();
        foreach (var address in drawn)
        {
            var theirs = assignments.Where(m => m.To.Any(t => t.Contains(address, StringComparison.OrdinalIgnoreCase))).ToList();
            Assert.Single(theirs);
            var message = MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(await Smtp4dev.SourceAsync(theirs[0].Id))));
            var ics = message.BodyParts.OfType<MimePart>().Single(a => a.ContentType.MimeType == "text/calendar");
            using var content = new MemoryStream();
            await ics.Content!.DecodeToAsync(content);
            var calendar = Ical.Net.Calendar.Load(System.Text.Encoding.UTF8.GetString(content.ToArray()));
            Assert.NotNull(calendar);
            Assert.NotEmpty(calendar!.Events);
        }
        output.WriteLine($"county draw in street {street}: {drawn.Count} inspectors drawn, {assignments.Count} assignment mails at the SMTP server, one each, each with a valid .ics");
    }

    /// <summary>
    /// Issue 16: the first daily run on the county demo e-mailed 181 notices to employers. The job now only
    /// screens: it finds candidates for people to work on and sends nothing to an employer.
    /// </summary>
    [Fact]
    public async Task The_first_daily_arrears_runs_send_zero_mails_to_employers_and_leave_a_work_queue()
    {
        await fx.RunAsync("jobs run wage-arrears-daily");
        await fx.RunAsync("jobs run wage-arrears-daily");
        await fx.RunAsync("jobs run outbox-delivery");
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var toEmployers = await conn.ExecuteScalarAsync<int>("""
            SELECT count(*) FROM app.outbox o
            WHERE EXISTS (SELECT 1 FROM app.employers e WHERE e.email = ANY (o.recipients))
            """);
        var queue = await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_procedures WHERE state IN ('candidate', 'notice_issued', 'notice_served', 'decision_proposed')");
        var employers = (await conn.QueryAsync<string>("SELECT email FROM app.employers")).ToHashSet(StringComparer.OrdinalIgnoreCase);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var received = (await Smtp4dev.MessagesToAsync("@" + fx.Domain)).Count(m => m.To.Any(t => employers.Contains(t.Trim('<', '>', ' '))));
        output.WriteLine($"county arrears: {toEmployers} mails to employers queued, {received} received; {queue} cases in the work queue");
        Assert.Equal(0, toEmployers);
        Assert.Equal(0, received);
        Assert.True(queue > 0, "the county demo has listable arrears cases; the work queue is empty");
    }
}
