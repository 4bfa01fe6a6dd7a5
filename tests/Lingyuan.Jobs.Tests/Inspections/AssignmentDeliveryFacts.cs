using System.Text.RegularExpressions;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>End to end: a draw's assignment e-mails arrive in the inspectors' mailboxes (smtp4dev) with the .ics.</summary>
public class AssignmentDeliveryFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Each_drawn_inspector_receives_one_chinese_assignment_mail_with_a_calendar_attachment()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        await AddInspectorsAsync(db, domain, ("MB-01", "刘一", true), ("MB-02", "陈二", true), ("MB-03", "杨三", true));
        var street = $"街道{Guid.NewGuid():N}"[..10];
        await AddEmployersAsync(db, street, ("凌源市第一建筑公司", 'D', false), ("凌源市第二建筑公司", 'D', false));
        var plan = await AddPlanAsync(db, street);
        var run = await DrawAsync(db, plan.Id);
        Assert.True(run.Succeeded);

        // The real delivery job sends the mail to the real SMTP server; the test reads the mailbox there.
        Assert.NotNull(db.Services.GetRequiredService<JobCatalog>().Find("outbox-delivery"));
        var (code, text) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery");
        output.WriteLine(text);
        Assert.True(code == 0, text);

        var messages = await Smtp4dev.WaitForAsync("@" + domain, run.MailsQueued, TimeSpan.FromSeconds(30));
        Assert.Equal(run.MailsQueued, messages.Count);
        Assert.Equal(messages.Count, messages.SelectMany(m => m.To).Distinct().Count()); // none twice
        Assert.All(messages, m => Assert.Contains("双随机抽查任务通知", m.Subject));
        var source = await Smtp4dev.SourceAsync(messages[0].Id);
        Assert.Matches(new Regex("Content-Type: text/calendar", RegexOptions.IgnoreCase), source);
        Assert.Contains(".ics", source);
    }
}
