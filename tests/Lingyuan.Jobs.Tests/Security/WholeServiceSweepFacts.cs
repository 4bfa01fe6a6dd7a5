using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Security;

/// <summary>
/// The demo registers with a script payload in every name field, every recurring job run through the
/// real executable (CLI and a worker with Hangfire storage), then: what the jobs and the worker wrote
/// is scanned for personal data, and every page reachable from the project's pages is crawled for the
/// unescaped payload.
/// </summary>
public sealed class WholeServiceFixture : DatabaseFixture
{
    public const string Payload = "<script>alert('xss')</script>";
    public List<string> ProcessOutputs { get; } = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var (seed, seedOut) = await ServiceProcess.RunAsync(this, "seed-demo --scale small --seed 7", timeout: TimeSpan.FromMinutes(5), dll: ServiceProcess.DemoDllPath);
        if (seed != 0) throw new InvalidOperationException(seedOut);
        await using (var conn = await DataSource.OpenConnectionAsync())
        {
            // Markup in every register name field that a page or a mail shows.
            await conn.ExecuteAsync("""
                UPDATE app.employers SET name = @p || name, legal_rep_name = @p || legal_rep_name;
                UPDATE app.inspectors SET name = @p || name, unit = @p || unit;
                UPDATE app.persons SET name = @p || name;
                UPDATE app.communities SET caseworker_name = @p || caseworker_name;
                UPDATE app.arrears_cases SET responsible_persons = @p || responsible_persons;
                """, new { p = Payload });
        }
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
        await RunAsync($"plan add --name {Payload.Replace(" ", "")} --period {today:yyyy-MM} --draw-date {today:yyyy-MM-dd}");
        // The daily job no longer draws (the draw needs the public value a person enters): the demo's plan of
        // today, published a week ago and frozen yesterday, is drawn here so that draw pages exist to crawl.
        long duePlan;
        await using (var conn = await DataSource.OpenConnectionAsync())
            duePlan = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.inspection_plans WHERE draw_date = @today ORDER BY id LIMIT 1", new { today });
        await RunAsync($"draw run {duePlan} --public-value 03,07,11,15,19,22,28,31,36,40,44,47,52,55,61,64,68,72,75,80");
        foreach (var job in Services.GetRequiredService<JobCatalog>().All)
            await RunAsync($"jobs run {job.Id}", mayFail: job.Id == "outbox-delivery");

        // The same jobs through Hangfire, so its storage holds their arguments, states and any exceptions.
        var fast = Services.GetRequiredService<JobCatalog>().All.ToDictionary(j => $"Jobs:Schedules:{j.Id}", _ => (string?)"*/4 * * * * *");
        await using var worker = ServiceProcess.Start(this, "serve --role worker", fast);
        await Task.Delay(TimeSpan.FromSeconds(15));
        worker.Kill();
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        ProcessOutputs.Add(worker.Output);
    }

    private async Task RunAsync(string args, bool mayFail = false)
    {
        var (code, output) = await ServiceProcess.RunAsync(this, args, timeout: TimeSpan.FromMinutes(5));
        ProcessOutputs.Add(output);
        if (code != 0 && !mayFail) throw new InvalidOperationException($"{args} exited {code}: {output}");
    }
}

public partial class WholeServiceSweepFacts(WholeServiceFixture fx, ITestOutputHelper output) : IClassFixture<WholeServiceFixture>
{
    [Fact]
    public async Task No_id_number_bank_account_or_phone_number_reaches_hangfire_storage_logs_or_exceptions()
    {
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var ids = (await conn.QueryAsync<string>("SELECT id_number FROM app.persons UNION SELECT legal_rep_id_number FROM app.employers")).ToHashSet();
        var accounts = (await conn.QueryAsync<string>("SELECT bank_account FROM app.cards")).ToHashSet();
        var hangfire = (await conn.QueryAsync<string?>(
            """
            SELECT invocationdata::text || ' ' || coalesce(arguments::text, '') FROM hangfire.job
            UNION ALL SELECT coalesce(reason, '') || ' ' || coalesce(data::text, '') FROM hangfire.state
            UNION ALL SELECT coalesce(value::text, '') FROM hangfire.jobparameter
            UNION ALL SELECT coalesce(value::text, '') FROM hangfire.hash
            UNION ALL SELECT coalesce(value::text, '') FROM hangfire.set
            """)).Select(s => s ?? "").ToList();
        Assert.NotEmpty(hangfire);
        var texts = hangfire.Concat(fx.ProcessOutputs).ToList();

        var findings = new List<string>();
        foreach (var text in texts)
        {
            foreach (Match m in IdLike().Matches(text))
                if (ids.Contains(m.Value.ToUpperInvariant()) || IdNumber.IsValid(m.Value)) findings.Add($"ID number {IdNumber.Mask(m.Value)}");
            foreach (Match m in AccountLike().Matches(text))
                if (accounts.Contains(m.Value) || (BankAccount.IsValid(m.Value) && m.Value.StartsWith('6'))) findings.Add($"bank account {BankAccount.Mask(m.Value)}");
            // GUIDs (Hangfire's server and worker ids, lock tokens) are hex: eleven decimal digits in a row inside one
            // are no phone number, and found one in a clean run (198****0564). Everything else is scanned as before.
            foreach (Match m in PhoneLike().Matches(GuidLike().Replace(text, " ")))
                findings.Add($"phone number {m.Value[..3]}****{m.Value[^4..]}");
        }
        output.WriteLine($"personal-data scan: {texts.Count} texts ({texts.Sum(t => t.Length):N0} characters) from Hangfire storage and {fx.ProcessOutputs.Count} process outputs; {ids.Count:N0} ID numbers and {accounts.Count:N0} accounts known; findings: {findings.Count}");
        Assert.Empty(findings.Distinct());
    }

    [Fact]
    public async Task Register_markup_is_escaped_on_every_page_and_in_every_mail()
    {
        await using var server = await TestServer.StartAsync(fx, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        var admin = await server.SignedInClientAsync("sweep-admin", Roles.Admin);
        var pages = server.App.Services.GetServices<DashboardPage>().Select(p => $"/hangfire/{p.Path}").ToList();
        var queue = new Queue<string>(pages);
        var seen = new HashSet<string>(pages);
        var crawled = 0;
        var payloadShown = 0;
        while (queue.Count > 0 && crawled < 150)
        {
            var path = queue.Dequeue();
            var before = await DatabaseDigest.TakeAsync(fx.DataSource);
            var response = await admin.GetAsync(path);
            crawled++;
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"{path} answered {(int)response.StatusCode}");
            // Every page and download: the security headers, and a GET writes nothing.
            Assert.True(DatabaseDigest.MissingSecurityHeaders(response) is [], $"{path}: {string.Join("; ", DatabaseDigest.MissingSecurityHeaders(response))}");
            var changed = DatabaseDigest.Changed(before, await DatabaseDigest.TakeAsync(fx.DataSource));
            Assert.True(changed is [], $"GET {path} changed {string.Join(", ", changed)}");
            // Downloads (CSV, XLSX) carry names verbatim by design; a browser renders only HTML.
            var isHtml = response.Content.Headers.ContentType?.MediaType == "text/html";
            var raw = isHtml ? body.IndexOf(WholeServiceFixture.Payload, StringComparison.Ordinal) : -1;
            Assert.True(raw < 0, $"{path} shows the payload unescaped: …{(raw < 0 ? "" : body[Math.Max(0, raw - 200)..Math.Min(body.Length, raw + 60)])}…");
            if (body.Contains("&lt;script&gt;alert(", StringComparison.Ordinal)) payloadShown++;
            if (response.Content.Headers.ContentType?.MediaType != "text/html") continue;
            foreach (Match m in Link().Matches(body))
            {
                var href = WebUtility.HtmlDecode(m.Groups[1].Value);
                if (pages.Any(p => href.StartsWith(p, StringComparison.Ordinal)) && seen.Add(href)) queue.Enqueue(href);
            }
        }
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var mails = (await conn.QueryAsync<string>("SELECT html_body FROM app.outbox WHERE html_body IS NOT NULL")).ToList();
        Assert.All(mails, html => Assert.DoesNotContain(WholeServiceFixture.Payload, html));
        var mailsShowing = mails.Count(h => h.Contains("&lt;script&gt;alert(", StringComparison.Ordinal));
        output.WriteLine($"escaping sweep: {crawled} pages crawled (each with the security headers, none writing to the database), {payloadShown} showed the payload escaped; {mails.Count} HTML mails, {mailsShowing} showed it escaped; raw payload found: 0");
        Assert.True(payloadShown > 0, "no crawled page showed a register name: the sweep proves nothing");
        Assert.True(mailsShowing > 0, "no mail showed a register name: the sweep proves nothing");
    }

    [GeneratedRegex(@"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")]
    private static partial Regex IdLike();

    [GeneratedRegex(@"(?<!\d)\d{16,19}(?!\d)")]
    private static partial Regex AccountLike();

    [GeneratedRegex(@"(?<![\d.])1[3-9]\d{9}(?![\d.])")]
    private static partial Regex PhoneLike();

    [GeneratedRegex(@"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}(?![0-9A-Fa-f])")]
    private static partial Regex GuidLike();

    [GeneratedRegex("href=\"([^\"]+)\"")]
    private static partial Regex Link();
}
