using System.Text.RegularExpressions;
using Dapper;
using Hangfire;
using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.BrowserTests.Runs;

/// <summary>
/// The small demo county, the dashboard in this process and a worker of its own (a real `serve --role worker`
/// process: Hangfire keeps its filters and storage in statics, which other browser fixtures of this process
/// share), every recurring job run once through Hangfire.
/// </summary>
public sealed class RunsBrowserFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;
    public Browser Browser { get; } = new();
    private ServiceProcess? _worker;

    public static readonly (string Name, string Role)[] Accounts =
    [
        ("crawl-admin", Roles.Admin), ("crawl-operator", Roles.Operator), ("crawl-finance", Roles.Finance),
        ("crawl-inspection", Roles.Inspection), ("crawl-caseworker", Roles.Caseworker),
    ];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var (code, output) = await ServiceProcess.RunAsync(this, "seed-demo --scale small --seed 7", dll: ServiceProcess.DemoDllPath);
        if (code != 0) throw new InvalidOperationException("seed-demo failed: " + output);
        Server = await TestServer.StartAsync(this, AppRole.Dashboard, new() { ["Jobs:AlertRecipients:0"] = "duty@runs-browser.test" });
        _worker = ServiceProcess.Start(this, "serve --role worker", new() { ["Jobs:AlertRecipients:0"] = "duty@runs-browser.test" });
        await Browser.InitializeAsync();
        var users = Server.App.Services.GetRequiredService<UserStore>();
        foreach (var (name, role) in Accounts)
            await users.AddAsync(name, role, TestSignIn.Password, "test", CancellationToken.None);

        // Each recurring job once, through Hangfire (the run-record filter records it).
        var manager = Server.App.Services.GetRequiredService<IRecurringJobManager>();
        var catalog = Server.App.Services.GetRequiredService<JobCatalog>();
        foreach (var d in catalog.All) manager.Trigger(d.Id);
        var until = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            await using var conn = await DataSource.OpenConnectionAsync();
            var done = (await conn.QueryAsync<string>(
                "SELECT DISTINCT job_id FROM app.job_runs WHERE channel = 'hangfire' AND result <> 'running'")).ToHashSet();
            if (catalog.All.All(d => done.Contains(d.Id))) break;
            if (DateTime.UtcNow > until)
                throw new TimeoutException("not every job ran: missing " + string.Join(", ", catalog.All.Select(d => d.Id).Where(id => !done.Contains(id)))
                    + "; worker output: " + _worker.Output);
            await Task.Delay(500);
        }
    }

    public async Task<IPage> SignedInPageAsync(string name)
    {
        var page = await Browser.NewPageAsync(Server.BaseAddress);
        await Browser.SignInAsync(page, name, TestSignIn.Password, await TestSignIn.CodeAsync(Server.App.Services, name));
        return page;
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        if (_worker is not null) await _worker.DisposeAsync();
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

public partial class RunsBrowserFacts(RunsBrowserFixture fx, ITestOutputHelper output) : IClassFixture<RunsBrowserFixture>
{
    [Fact]
    public async Task An_operator_sees_on_the_runs_page_a_Chinese_summary_of_every_recurring_jobs_run()
    {
        var page = await fx.SignedInPageAsync("crawl-operator");
        await page.GotoAsync("/hangfire/runs");
        Assert.Equal("运行记录", (await page.InnerTextAsync("h1")).Trim());
        foreach (var d in fx.Server.App.Services.GetRequiredService<JobCatalog>().All)
        {
            var section = page.Locator($"#job-{d.Id}");
            var summary = (await section.Locator("tr.run td.summary").First.InnerTextAsync()).Trim();
            output.WriteLine($"{d.Id}: {summary}");
            Assert.Matches(@"\p{IsCJKUnifiedIdeographs}", summary);
            Assert.Matches(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(北京时间\)", await section.Locator("tr.run td").First.InnerTextAsync());
        }
        await Browser.ScreenshotAsync(page, "runs-operator");

        // Hangfire's own overview names the open alerts and who is signed in.
        await page.GotoAsync("/hangfire");
        Assert.Contains("未解除告警", await page.InnerTextAsync("body"));
        Assert.Contains("crawl-operator(值班操作员(只读))", await page.InnerTextAsync("body"));
        await Browser.ScreenshotAsync(page, "hangfire-overview-operator");
        await page.GotoAsync("/hangfire/recurring");
        await Browser.ScreenshotAsync(page, "hangfire-recurring-operator");
    }

    /// <summary>
    /// Latin words a page may show: proper names, identifiers and code values the page explains. Everything
    /// else an operator reads is Chinese.
    /// </summary>
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        // The test's own account names (crawl-admin, …) and job actors (job:inspection-draws, cli:…).
        "crawl", "admin", "operator", "finance", "inspection", "caseworker", "job", "cli", "web", "system",
        // Recurring job ids, shown beside their Chinese names as identifiers.
        "outbox", "delivery", "draws", "deadlines", "disbursement", "build", "zero", "employment", "check", "wage", "arrears", "daily", "overdue", "watch",
        // Products, formats and standards named as such.
        "Hangfire", "PostgreSQL", "CSV", "XLSX", "UTF", "GB", "SHA", "SMTP", "TOTP", "ID", "Cron", "cron", "Lingyuan",
        // Units.
        "ms",
        // Hangfire's server and queue identifiers, and the job parameters it lists by name.
        "default", "vm", "CurrentCulture", "CurrentUICulture", "RecurringJobId", "RetryCount", "Time",
        // Case numbers (LYQX-2026-0001), the zone id Asia/Shanghai, configuration keys and file formats the pages explain.
        "LYQX", "Asia", "Shanghai", "WageArrears", "PartnerRecipients", "Excel", "YYYY", "MM", "DD",
        // Column names of the inspection-results file (docs: INTERFACES.md) and its finding codes.
        "uscc", "completed_on", "finding", "compliant", "violation", "rectification_ordered", "summary",
        // Account names of the demo and the tests (demo-inspector, test), case-number prefixes (LYJC-…), and the
        // holidays file's column names and kind codes, which the holidays page explains beside their Chinese.
        "demo", "test", "LYJC", "date", "kind", "holiday", "workday",
    };

    [Fact]
    public async Task A_crawl_of_every_page_as_each_role_finds_Chinese_text_and_one_time_format()
    {
        var problems = new List<string>();
        foreach (var (name, _) in RunsBrowserFixture.Accounts)
        {
            var page = await fx.SignedInPageAsync(name);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var queue = new Queue<string>(["/hangfire", "/hangfire/runs", "/hangfire/no-such-page"]);
            var jobDetails = 0;
            while (queue.Count > 0 && seen.Count < 45)
            {
                var path = queue.Dequeue();
                if (!seen.Add(path)) continue;
                IResponse? response;
                // A link that answers with a file (a template, an export) is a download, not a page to read.
                try { response = await page.GotoAsync(path); }
                catch (PlaywrightException e) when (e.Message.Contains("Download is starting", StringComparison.Ordinal)) { continue; }
                if (response is null || !(response.Headers.TryGetValue("content-type", out var type) && type.StartsWith("text/html", StringComparison.Ordinal)))
                    continue;
                await page.WaitForTimeoutAsync(300);
                var text = await page.EvaluateAsync<string>("""
                    () => { const c = document.body.cloneNode(true);
                            c.querySelectorAll('code,pre,script,style,samp,kbd,textarea,input,select').forEach(e => e.remove());
                            return c.innerText; }
                    """);
                foreach (Match m in LatinWord().Matches(text))
                    if (!Allowed.Contains(m.Value)) problems.Add($"{name} {path}: English word '{m.Value}' in “{Around(text, m.Index)}”");
                foreach (Match m in DateTimeText().Matches(text))
                    if (!m.Value.EndsWith("(北京时间)", StringComparison.Ordinal)) problems.Add($"{name} {path}: time '{m.Value}' not as 2026-12-02 10:38 (北京时间)");
                foreach (Match m in OtherTimeFormats().Matches(text))
                    problems.Add($"{name} {path}: time format '{m.Value}'");

                var hrefs = await page.EvalOnSelectorAllAsync<string[]>("a[href]", "els => els.map(e => e.getAttribute('href'))");
                foreach (var href in hrefs)
                {
                    if (href is null || !href.StartsWith('/') || href.StartsWith("//", StringComparison.Ordinal)) continue;
                    var link = href.Split('#')[0];
                    if (link.Length == 0 || link.StartsWith("/logout", StringComparison.Ordinal) || link.StartsWith("/public", StringComparison.Ordinal)
                        || Download().IsMatch(link) || seen.Contains(link)) continue;
                    if (link.Contains("/jobs/details/", StringComparison.Ordinal) && ++jobDetails > 4) continue;
                    queue.Enqueue(link);
                }
            }
            output.WriteLine($"{name}: {seen.Count} pages");
            await page.Context.CloseAsync();
        }
        foreach (var p in problems.Distinct()) output.WriteLine(p);
        Assert.Empty(problems.Distinct());
    }

    private static string Around(string text, int at) =>
        text.Substring(Math.Max(0, at - 20), Math.Min(60, text.Length - Math.Max(0, at - 20))).ReplaceLineEndings(" ");

    // A word of two or more Latin letters standing alone (not part of an identifier with digits, e.g. a USCC).
    [GeneratedRegex(@"(?<![A-Za-z0-9_\-:@./])[A-Za-z]{2,}(?![A-Za-z0-9_@])")]
    private static partial Regex LatinWord();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( \(北京时间\))?")]
    private static partial Regex DateTimeText();

    [GeneratedRegex(@"\d{1,2}/\d{1,2}/\d{4}|\d{4}/\d{1,2}/\d{1,2}|\b(AM|PM|UTC)\b|\d{4}年\d{1,2}月\d{1,2}日\S* ?\d{1,2}:\d{2}")]
    private static partial Regex OtherTimeFormats();

    [GeneratedRegex(@"\.(csv|txt|xlsx|pdf|zip)(\?|$)|/documents/|/bank-file|/download|/snapshot|/export|/public\.")]
    private static partial Regex Download();
}
