using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Registers.RegisterFiles;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>
/// Issue 19: a large persons file through the upload page (the service as its own process: <c>serve --role all</c>)
/// completes with progress shown, within the worker's peak memory bound (QUALITY.md: 300 MB), beside the command-line
/// import of the same file. The row count is <c>LINGYUAN_TEST_UPLOAD_ROWS</c> (default 100,000, so CI stays quick;
/// the issue's 1,000,000 is run by setting it).
/// </summary>
public sealed class LargeUploadFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    private const long PeakBoundBytes = 300L * 1024 * 1024;

    private static int Rows => int.TryParse(Environment.GetEnvironmentVariable("LINGYUAN_TEST_UPLOAD_ROWS"), out var n) && n > 0 ? n : 100_000;

    /// <summary>Unique persons: a birth day per thousand, a sequence number within it.</summary>
    private static string WritePersons(string dir, int rows)
    {
        var path = Path.Combine(dir, "persons-large.csv");
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        w.Write(string.Join(',', PersonsHeader) + "\n");
        var born = new DateOnly(1950, 1, 1);
        for (var i = 0; i < rows; i++)
        {
            var p = Person(i);
            p[0] = IdNumber(i, born.AddDays(i / 1000));
            w.Write(string.Join(',', p) + "\n");
        }
        return path;
    }

    /// <summary>The largest resident set the process has had (Linux VmHWM).</summary>
    private static long PeakRss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    [Fact]
    public async Task A_large_persons_upload_through_the_page_completes_with_progress_shown_within_the_workers_memory_bound()
    {
        var rows = Rows;
        var dir = TempDir();
        try
        {
            var file = WritePersons(dir, rows);

            // The command line's check of the same file (a dry run: read, checked, staged, compared), its peak measured while it runs.
            var cli = Stopwatch.StartNew();
            long cliPeak = 0;
            await using (var p = ServiceProcess.Start(db, $"import persons {file} --dry-run"))
            {
                while (!p.HasExited)
                {
                    try { cliPeak = Math.Max(cliPeak, PeakRss(p.Id)); } catch (Exception e) when (e is IOException or InvalidOperationException) { }
                    await Task.Delay(100);
                }
                Assert.True(p.ExitCode == 0, p.Output);
            }
            cli.Stop();

            var port = TestNet.FreePort();
            await using var server = ServiceProcess.Start(db, $"serve --role all --urls http://127.0.0.1:{port}");
            var baseAddress = new Uri($"http://127.0.0.1:{port}");
            using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
            { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(10) };
            for (var i = 0; ; i++)
            {
                try { if ((await http.GetAsync("/healthz")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) when (i < 600) { }
                Assert.False(server.HasExited, server.Output);
                await Task.Delay(200);
            }
            var users = db.Services.GetRequiredService<UserStore>();
            try { await users.AddAsync("admin.large", Roles.Admin, TestSignIn.Password, "test", CancellationToken.None); }
            catch (Lingyuan.Jobs.Hosting.DomainRuleException) { }
            var login = await TestServer.PostLoginAsync(http, "admin.large", TestSignIn.Password, await TestSignIn.CodeAsync(db.Services, "admin.large"));
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
            var idle = PeakRss(server.Id);

            var page = Stopwatch.StartNew();
            var uploaded = await RegisterUploadFacts.UploadAsync(http, "persons", file);
            Assert.True(uploaded.StatusCode == HttpStatusCode.Redirect, await uploaded.Content.ReadAsStringAsync());
            var at = uploaded.Headers.Location!.OriginalString;
            var (html, checkProgress) = await RegisterUploadFacts.FollowAsync(http, at, TimeSpan.FromMinutes(30), "checked", "failed");
            Assert.True(RegisterUploadFacts.Count(html, "inserted") == rows, html);
            var checkedAfter = page.Elapsed;

            var token = await TestServer.AntiforgeryTokenAsync(http, at);
            var import = await http.PostAsync(at + "/import", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["mode"] = "all" }));
            Assert.Equal(HttpStatusCode.Redirect, import.StatusCode);
            var (done, importProgress) = await RegisterUploadFacts.FollowAsync(http, at, TimeSpan.FromMinutes(30), "imported", "failed");
            page.Stop();
            var serverPeak = PeakRss(server.Id);

            Assert.True(RegisterUploadFacts.Count(done, "inserted") == rows, done);
            Assert.Equal(rows, await CountAsync(db, "SELECT count(*) FROM app.persons"));
            // The page showed the rows read while the jobs ran (it reloads every 2 s; the test reads it every 250 ms).
            Assert.Contains(checkProgress.Concat(importProgress), r => r > 0);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rows:N0} persons: page check {checkedAfter.TotalSeconds:0.0} s, check + import {page.Elapsed.TotalSeconds:0.0} s; CLI dry run {cli.Elapsed.TotalSeconds:0.0} s; " +
                $"peak RSS: service {serverPeak / 1048576} MB (idle {idle / 1048576} MB), CLI {cliPeak / 1048576} MB; progress seen {string.Join(", ", checkProgress.Concat(importProgress).Distinct())}"));
            Assert.True(serverPeak <= PeakBoundBytes, $"service peak RSS {serverPeak / 1048576} MB > {PeakBoundBytes / 1048576} MB");
            Assert.True(cliPeak <= PeakBoundBytes, $"CLI peak RSS {cliPeak / 1048576} MB > {PeakBoundBytes / 1048576} MB");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
