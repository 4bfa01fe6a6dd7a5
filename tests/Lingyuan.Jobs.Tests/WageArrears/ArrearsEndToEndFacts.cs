using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>
/// One case served electronically, from the daily job through the real outbox delivery (smtp4dev) to the
/// decision and the partner digest, with reruns. Rewritten for issue 16: the job used to send the notice
/// and decide by itself; now the job sends nothing to the employer, a person issues the notice, its
/// service is the mail's delivery, and the decision is proposed and approved by two people.
/// </summary>
public class ArrearsEndToEndFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly string Domain = $"{Guid.NewGuid():N}.test";

    private async Task<List<(string Key, string[] Recipients, string Subject, string Text, string? Html, string State)>> OutboxAsync()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, string[], string, string, string?, string)>(
            "SELECT dedupe_key, recipients, subject, text_body, html_body, state FROM app.outbox WHERE recipients::text LIKE '%' || @d || '%' ORDER BY id",
            new { d = Domain })).ToList();
    }

    [Fact]
    public async Task A_notice_served_by_e_mail_is_decided_by_two_people_and_reported_once_to_the_partners()
    {
        var settings = new Dictionary<string, string?>
        {
            ["WageArrears:PartnerRecipients:0"] = $"credit-platform@{Domain}",
            ["WageArrears:PartnerRecipients:1"] = $"fgw@{Domain}",
            ["WageArrears:StaffRecipients:0"] = $"jiancha@{Domain}",
        };
        // The outbox stamps a message with the database's clock and sends what is due by the injected one, so this
        // test runs from the real now forward (the Spring Festival test pins the day counting to fixed dates).
        var (app, clock) = App(db, Day("2026-03-03"), settings);
        clock.SetUtcNow(DateTimeOffset.UtcNow);
        await using var _app = app;
        var today = app.Services.GetRequiredService<BureauClock>().Today;
        var inspector = await UserAsync(db.DataSource, "e2e-insp");
        var head = await UserAsync(db.DataSource, "e2e-head", decider: true);
        var acts = app.Services.GetRequiredService<ArrearsActs>();
        var delivery = app.Services.GetRequiredService<OutboxDelivery>();
        var job = app.Services.GetRequiredService<JobCatalog>().Find("wage-arrears-daily")!;
        Assert.Equal(("欠薪失信名单每日处理", "0 7 * * *"), (job.NameZh, job.Cron));
        void MoveTo(DateOnly day, int hour) => clock.SetUtcNow(At(day, hour).ToUniversalTime());

        async Task<int> RunTwice()
        {
            await using var scope = app.Services.CreateAsyncScope();
            var daily = (IRecurringJob)scope.ServiceProvider.GetRequiredService(job.JobType);
            await daily.RunAsync(default);
            var after = (await OutboxAsync()).Count;
            await daily.RunAsync(default);
            Assert.Equal(after, (await OutboxAsync()).Count); // the rerun added nothing
            return after;
        }

        var legalRepId = NewIdNumber();
        var ua = await EmployerAsync(db.DataSource, "凌源市<b>甲</b>建筑有限公司", $"a@{Domain}", legalRepId, "李四");
        var a = await CaseAsync(db.DataSource, ua, 12, 86_000m, 4, today.AddDays(-1), responsible: "王五(项目经理)");

        // The job finds the candidate and sends nothing.
        Assert.Equal(0, await RunTwice());
        Assert.Equal("candidate", (await ViewAsync(db.DataSource, a)).State);

        // A person issues the notice by e-mail (the employer agreed to electronic service); it is delivered.
        await acts.IssueNoticeAsync(a, inspector, ServiceMethods.Email, electronicServiceAgreed: true, default);
        Assert.Contains("尚未投递", (await Assert.ThrowsAsync<DomainRuleException>(() => acts.RecordServiceAsync(a, inspector, ServiceMethods.Email, null, null, default))).Message);
        clock.Advance(TimeSpan.FromMinutes(5));
        await delivery.DeliverDueAsync(default);
        var delivered = app.Services.GetRequiredService<BureauClock>().Today;
        var notice = (await OutboxAsync()).Single(m => m.Key == $"wage-arrears:{a}:notice");
        Assert.Equal([$"a@{Domain}"], notice.Recipients);
        Assert.Equal("sent", notice.State);
        Assert.Contains("告知书", notice.Subject);
        Assert.Contains("人力资源社会保障部令第45号)第五条", notice.Text);
        Assert.Contains("《保障农民工工资支付条例》第四十八条", notice.Text);
        Assert.Contains("自本告知书送达之日起5个工作日内", notice.Text);
        Assert.Contains("李四", notice.Text);
        Assert.Contains("王五(项目经理)", notice.Text);
        Assert.Contains("&lt;b&gt;", notice.Html);
        Assert.DoesNotContain("<b>", notice.Html);

        // Served the day the mail was delivered, whenever the service is recorded.
        MoveTo(delivered.AddDays(1), 10);
        var statementDue = await acts.RecordServiceAsync(a, inspector, ServiceMethods.Email, null, null, default);
        var v = await ViewAsync(db.DataSource, a);
        Assert.Equal((delivered, "email"), (v.ServedOn!.Value, v.ServiceMethod!));
        Assert.True(statementDue >= delivered.AddDays(5)); // five working days after the day of service

        var decided = statementDue.AddDays(1);
        MoveTo(decided, 9);
        await acts.ProposeAsync(a, inspector, DecisionKind.Listed, null, default);
        await acts.ApproveAsync(a, head, default);
        clock.Advance(TimeSpan.FromMinutes(5));
        await delivery.DeliverDueAsync(default);
        var decision = (await OutboxAsync()).Single(m => m.Key == $"wage-arrears:{a}:decision");
        Assert.Equal("sent", decision.State);
        var period = $"期限为3年,自{DocRender.DateZh(decided)}起至{DocRender.DateZh(decided.AddYears(3).AddDays(-1))}止";
        foreach (var expected in new[]
                 {
                     "列入拖欠农民工工资失信联合惩戒对象名单决定书", ua, "李四", IdNumber(legalRepId), "王五(项目经理)", a,
                     "拖欠 12 名农民工工资共计 86,000.00 元", "第五条", "第四十八条", period,
                     $"于{DocRender.DateZh(delivered)}以电子方式送达你单位",
                     "惩戒措施", ArrearsNotices.Article48Measures, "税收优惠", "信用修复", "满6个月", "书面信用承诺",
                     "六十日内向凌源市人民政府申请行政复议", "六个月内向凌源市人民法院提起行政诉讼",
                 })
            Assert.Contains(expected, decision.Text);
        foreach (var notInArticle48 in new[] { "生产许可", "履约担保", "资质审核" })
            Assert.DoesNotContain(notInArticle48, decision.Text);
        Assert.DoesNotContain(legalRepId, decision.Text);
        Assert.DoesNotContain(legalRepId, decision.Html);

        // The day's digest to the partners, once.
        MoveTo(decided, 23);
        var count = await RunTwice();
        var digest = (await OutboxAsync()).Single(m => m.Key == $"wage-arrears:digest:{decided:yyyy-MM-dd}");
        Assert.Equal([$"credit-platform@{Domain}", $"fgw@{Domain}"], digest.Recipients);
        Assert.Contains(ua, digest.Text);
        Assert.Contains("王五(项目经理)", digest.Text);
        Assert.Contains(IdNumber(legalRepId), digest.Text);
        Assert.DoesNotContain(legalRepId, digest.Text);
        MoveTo(decided.AddDays(1), 7);
        Assert.Equal(count, await RunTwice());

        var keys = (await OutboxAsync()).Select(m => m.Key).Where(k => !k.EndsWith("-reminder", StringComparison.Ordinal)).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);
        Assert.Equal(new[] { $"wage-arrears:{a}:notice", $"wage-arrears:{a}:decision", $"wage-arrears:digest:{decided:yyyy-MM-dd}" }.Order(), keys.Order());
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(3, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_documents d JOIN app.outbox o ON o.dedupe_key = d.dedupe_key AND o.html_body = d.html WHERE d.dedupe_key = ANY(@keys)",
            new { keys = keys.ToArray() }));
    }

    private static string IdNumber(string id) => Lingyuan.Jobs.Registers.IdNumber.Mask(id);
}
