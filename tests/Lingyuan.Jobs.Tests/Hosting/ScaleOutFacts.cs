using System.Net;
using System.Net.Sockets;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Hosting;

/// <summary>Two worker processes and one dashboard process on one database (docs/deployment.md).</summary>
public class ScaleOutFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Two_workers_share_the_recurring_jobs_each_firing_runs_once_and_the_dashboard_shows_both()
    {
        var schedule = new Dictionary<string, string?> { ["Jobs:Schedules:outbox-delivery"] = "*/3 * * * * *" };
        await using var w1 = ServiceProcess.Start(db, "serve --role worker", schedule);
        await using var w2 = ServiceProcess.Start(db, "serve --role worker", schedule);
        var port = TestNet.FreePort();
        await using var dash = ServiceProcess.Start(db, $"serve --role dashboard --urls http://127.0.0.1:{port}", schedule);

        await Task.Delay(TimeSpan.FromSeconds(25));
        Assert.False(w1.HasExited, w1.Output);
        Assert.False(w2.HasExited, w2.Output);

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var firings = (await conn.QueryAsync<(string Time, long Runs)>(
            """
            SELECT t.value AS Time, count(*) AS Runs
            FROM hangfire.jobparameter t
            JOIN hangfire.jobparameter r ON r.jobid = t.jobid AND r.name = 'RecurringJobId' AND r.value = '"outbox-delivery"'
            WHERE t.name = 'Time'
            GROUP BY t.value
            """)).ToList();
        Assert.True(firings.Count >= 3, $"only {firings.Count} firings; first worker said:\n{w1.Output}");
        output.WriteLine($"firings of outbox-delivery in 25 s: {firings.Count}; most runs of one firing: {firings.Max(f => f.Runs)}");
        Assert.All(firings, f => Assert.Equal(1, f.Runs));

        var servers = await conn.QueryAsync<string>("SELECT id FROM hangfire.server");
        Assert.Contains(servers, s => s.Contains($":{w1.Id}:", StringComparison.Ordinal) || s.Contains($":{w1.Id}", StringComparison.Ordinal));
        Assert.Contains(servers, s => s.Contains($":{w2.Id}", StringComparison.Ordinal));

        await db.Services.GetRequiredService<UserStore>().AddAsync("scale-admin", Roles.Admin, TestSignIn.Password, "test", CancellationToken.None);
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.Redirect, (await TestServer.PostLoginAsync(http, "scale-admin", TestSignIn.Password, await TestSignIn.CodeAsync(db.Services, "scale-admin"))).StatusCode);
        var page = await http.GetStringAsync("/hangfire/servers");
        Assert.Contains($":{w1.Id}", page);
        Assert.Contains($":{w2.Id}", page);
    }

}
