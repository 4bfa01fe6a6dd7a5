using System.Net;
using System.Net.Sockets;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Faults;

/// <summary>QUALITY.md, Reliability: the database restarts under a running worker; it recovers by itself.</summary>
public class DatabaseRestartFacts(ITestOutputHelper output)
{
    [Fact]
    public async Task A_worker_survives_a_database_restart_healthz_follows_and_the_mail_queued_after_it_is_delivered_once()
    {
        await using var cluster = await OwnCluster.CreateAsync();
        var db = await OwnClusterDatabase.CreateAsync(cluster);
        var domain = $"{Guid.NewGuid():N}.test";
        var port = TestNet.FreePort();
        await using var worker = ServiceProcess.Start(db, "serve --role worker", new()
        {
            ["Worker:Urls"] = $"http://127.0.0.1:{port}",
            ["Jobs:Schedules:outbox-delivery"] = "*/2 * * * * *",
        });
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(HttpStatusCode.OK, await PollAsync(http, HttpStatusCode.OK, worker));

        await QueueAsync(db, domain, "before", 10);
        Assert.Equal(10, (await Smtp4dev.WaitForAsync("@" + domain, 10, TimeSpan.FromSeconds(60))).Count);

        await cluster.StopAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PollAsync(http, HttpStatusCode.ServiceUnavailable, worker));
        await Task.Delay(TimeSpan.FromSeconds(6)); // several schedule ticks fail against the stopped database
        await cluster.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await PollAsync(http, HttpStatusCode.OK, worker));

        db.DataSource.Clear(); // the test's own pooled connections died with the server
        await QueueAsync(db, domain, "after", 10);
        var all = await Smtp4dev.WaitForAsync("@" + domain, 20, TimeSpan.FromSeconds(90));
        Assert.False(worker.HasExited, worker.Output);
        var perRecipient = all.SelectMany(m => m.To).GroupBy(r => r).ToList();
        output.WriteLine($"database restart: {all.Count} messages received for 20 queued, {perRecipient.Count(g => g.Count() > 1)} duplicated, worker pid {worker.Id} still running");
        Assert.Equal(20, all.Count);
        Assert.All(perRecipient, g => Assert.Single(g));
        await db.DisposeAsync();
    }

    private static async Task QueueAsync(DatabaseFixture db, string domain, string tag, int count)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        for (var i = 0; i < count; i++)
            await Outbox.EnqueueAsync(conn, tx, new OutboxMessage($"restart:{tag}:{i}", [$"{tag}-{i}@{domain}"],
                $"数据库重启测试 {tag} {i}", "正文", null, "test", tag));
        await tx.CommitAsync();
    }

    private static async Task<HttpStatusCode> PollAsync(HttpClient http, HttpStatusCode wanted, ServiceProcess worker)
    {
        var status = HttpStatusCode.InternalServerError;
        for (var i = 0; i < 120 && status != wanted; i++)
        {
            Assert.False(worker.HasExited, worker.Output);
            try { status = (await http.GetAsync("/healthz")).StatusCode; }
            catch (HttpRequestException) { status = HttpStatusCode.InternalServerError; } // not listening yet
            if (status != wanted) await Task.Delay(500);
        }
        return status;
    }

}
