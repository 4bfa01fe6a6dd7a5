using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>
/// The daily job over three years of a small docket, run through <c>jobs run</c>'s job class, with reruns.
/// Mail is counted in the outbox (the delivery job is not on main yet): each notice exactly once.
/// </summary>
public class ArrearsEndToEndFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    private static readonly string Domain = $"{Guid.NewGuid():N}.test";

    private async Task<List<(string Key, string[] Recipients, string Subject, string Text, string? Html)>> OutboxAsync()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, string[], string, string, string?)>(
            "SELECT dedupe_key, recipients, subject, text_body, html_body FROM app.outbox WHERE dedupe_key LIKE 'wage-arrears:%' ORDER BY id")).ToList();
    }

    [Fact]
    public async Task The_daily_job_sends_each_notice_once_and_a_rerun_sends_nothing_new()
    {
        var settings = new Dictionary<string, string?>
        {
            ["WageArrears:PartnerRecipients:0"] = $"credit-platform@{Domain}",
            ["WageArrears:PartnerRecipients:1"] = $"fgw@{Domain}",
            ["WageArrears:StaffRecipients:0"] = $"jiancha@{Domain}",
        };
        var (app, clock) = App(db, Day("2026-03-03"), settings);
        await using var _app = app;
        var job = app.Services.GetRequiredService<JobCatalog>().Find("wage-arrears-daily")!;
        Assert.Equal(("欠薪失信名单每日处理", "0 7 * * *"), (job.NameZh, job.Cron));

        async Task<int> RunTwice(DateTimeOffset at)
        {
            clock.SetUtcNow(at);
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
        var ub = await EmployerAsync(db.DataSource, "凌源市乙劳务有限公司", $"b@{Domain}");
        var ud = await EmployerAsync(db.DataSource, "凌源市丁工程有限公司", $"d@{Domain}");
        var a = await CaseAsync(db.DataSource, ua, 12, 86_000m, 4, Day("2026-03-02"), responsible: "王五(项目经理)");
        var b = await CaseAsync(db.DataSource, ub, 1, 12_000m, 3, Day("2026-03-02"));
        var c = await CaseAsync(db.DataSource, ub, 2, 3_000m, 1, Day("2026-03-02"));
        var d = await CaseAsync(db.DataSource, ud, 30, 400_000m, 2, Day("2026-03-02"), incident: "group");

        // Day 1: three pre-listing notices, one screened out.
        Assert.Equal(3, await RunTwice(At(Day("2026-03-03"), 7)));
        var notice = (await OutboxAsync()).Single(m => m.Key == $"wage-arrears:{a}:notice");
        Assert.Equal([$"a@{Domain}"], notice.Recipients);
        Assert.Contains("告知书", notice.Subject);
        Assert.Contains("人力资源社会保障部令第45号)第五条", notice.Text);
        Assert.Contains("《保障农民工工资支付条例》第四十八条", notice.Text);
        Assert.Contains("5个工作日内,即2026年3月10日前", notice.Text);
        Assert.Contains("李四", notice.Text);
        Assert.Contains("王五(项目经理)", notice.Text);
        // The register name is markup-free in the HTML (Html.Of encodes it; CJK comes out as character references).
        Assert.Contains("&lt;b&gt;", notice.Html);
        Assert.DoesNotContain("<b>", notice.Html);
        Assert.Equal("screened_out", (await ViewAsync(db.DataSource, c)).State);

        // B corrects and promises in writing; D states its case.
        await PaidAsync(db.DataSource, b, Day("2026-03-05"), Day("2026-03-06"));
        clock.SetUtcNow(At(Day("2026-03-09"), 10));
        await app.Services.GetRequiredService<ArrearsProcedure>().RecordStatementAsync(d, Day("2026-03-09"), "user:inspector", default);

        // Day after the statement period: A listed, B not listed, D waits for a person; one digest to the partners.
        Assert.Equal(6, await RunTwice(At(Day("2026-03-11"), 7)));
        var decision = (await OutboxAsync()).Single(m => m.Key == $"wage-arrears:{a}:decision");
        foreach (var expected in new[]
                 {
                     "列入拖欠农民工工资失信联合惩戒对象名单决定书", ua, "李四", IdNumber(legalRepId), "王五(项目经理)", a,
                     "拖欠 12 名农民工工资共计 86,000.00 元", "第五条", "第四十八条", "期限为3年,自2026年3月11日起至2029年3月10日止",
                     "惩戒措施", "政府采购", "信用修复", "满6个月", "书面信用承诺", "六十日内向凌源市人民政府申请行政复议", "六个月内向凌源市人民法院提起行政诉讼",
                 })
            Assert.Contains(expected, decision.Text);
        Assert.DoesNotContain(legalRepId, decision.Text);
        Assert.DoesNotContain(legalRepId, decision.Html);
        Assert.Equal("not_listed", (await ViewAsync(db.DataSource, b)).State);
        var digest = (await OutboxAsync()).Single(m => m.Key == "wage-arrears:digest:2026-03-11");
        Assert.Equal([$"credit-platform@{Domain}", $"fgw@{Domain}"], digest.Recipients);
        Assert.Contains(ua, digest.Text);
        Assert.DoesNotContain(ub, digest.Text);
        Assert.Contains("王五(项目经理)", digest.Text);
        Assert.Contains(IdNumber(legalRepId), digest.Text);
        Assert.DoesNotContain(legalRepId, digest.Text);

        // D's decision is due 2026-03-30: staff are reminded two working days before, once.
        Assert.Equal(6, await RunTwice(At(Day("2026-03-25"), 7)));
        Assert.Equal(7, await RunTwice(At(Day("2026-03-26"), 7)));
        var reminder = (await OutboxAsync()).Single(m => m.Key == $"wage-arrears:{d}:decision-reminder");
        Assert.Equal([$"jiancha@{Domain}"], reminder.Recipients);
        Assert.Contains("2026年3月30日", reminder.Text);
        Assert.Equal(7, await RunTwice(At(Day("2026-03-27"), 7)));

        // A person lists D after that day's run: the change goes into a second digest of the same day only if none went out; here none had.
        clock.SetUtcNow(At(Day("2026-03-27"), 10));
        await app.Services.GetRequiredService<ArrearsProcedure>().DecideAsync(d, DecisionKind.Listed, null, "user:inspector", default);
        Assert.Equal(9, await RunTwice(At(Day("2026-03-27"), 11)));
        Assert.Contains(ud, (await OutboxAsync()).Single(m => m.Key == "wage-arrears:digest:2026-03-27").Text);

        // Three years on: A expires on the day, with a removal notice and a digest line.
        Assert.Equal(9, await RunTwice(At(Day("2029-03-10"), 7)));
        Assert.Equal(11, await RunTwice(At(Day("2029-03-11"), 7)));
        var digest2029 = (await OutboxAsync()).Single(m => m.Key == "wage-arrears:digest:2029-03-11");
        Assert.Contains("移出名单", digest2029.Text);
        Assert.Contains(ua, digest2029.Text);

        var keys = (await OutboxAsync()).Select(m => m.Key).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);
        Assert.Equal(
            new[]
            {
                $"wage-arrears:{a}:notice", $"wage-arrears:{a}:decision", $"wage-arrears:{a}:removal",
                $"wage-arrears:{b}:notice", $"wage-arrears:{b}:decision",
                $"wage-arrears:{d}:notice", $"wage-arrears:{d}:decision-reminder", $"wage-arrears:{d}:decision",
                "wage-arrears:digest:2026-03-11", "wage-arrears:digest:2026-03-27", "wage-arrears:digest:2029-03-11",
            }.Order(), keys.Order());

        // Every message is also kept as a printable document.
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(11, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.arrears_documents d JOIN app.outbox o ON o.dedupe_key = d.dedupe_key AND o.html_body = d.html"));
    }

    private static string IdNumber(string id) => Lingyuan.Jobs.Registers.IdNumber.Mask(id);
}
