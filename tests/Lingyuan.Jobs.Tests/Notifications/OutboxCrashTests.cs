using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Notifications;

/// <summary>The real executable, killed and raced (QUALITY.md, Reliability: crash, two workers).</summary>
public sealed class OutboxCrashTests(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => OutboxTestData.ClearAsync(db.DataSource);
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Killing_the_delivery_process_mid_batch_ten_times_loses_nothing_and_duplicates_at_most_the_message_in_flight()
    {
        await using var server = new RecordingSmtpServer().Start();
        var settings = new Dictionary<string, string?> { ["Smtp:Port"] = server.Port.ToString(), ["Smtp:BatchSize"] = "7" };
        var ids = await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 120);
        var random = new Random(20261128);

        var kills = 0;
        for (var trial = 0; trial < 10; trial++)
        {
            var k = random.Next(1, 9);
            var (code, log) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings, killAt: $"outbox.after-send:{k}");
            Assert.True(code is 137 or -1 or 9, $"trial {trial}: expected SIGKILL at send {k}, exit {code}: {log}");
            kills++;
        }
        for (var restart = 0; ; restart++)
        {
            Assert.True(restart < 5, "delivery did not finish after 5 clean restarts");
            var (code, log) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
            Assert.True(code == 0, $"clean run exited {code}: {log}");
            if ((await OutboxTestData.StatesAsync(db.DataSource, ids)).GetValueOrDefault("sent") == ids.Length) break;
        }

        var received = server.Messages;
        var byId = received.GroupBy(m => m.MessageId).ToDictionary(g => g.Key, g => g.ToList());
        var expected = ids.Select(id => $"outbox-{id}@lingyuan-hrss.local").ToList();
        var lost = expected.Count(e => !byId.ContainsKey(e));
        var duplicates = received.Count - byId.Count;
        output.WriteLine($"mail crash test: {ids.Length} messages, {kills} SIGKILLs, {received.Count} received, {byId.Count} distinct, {duplicates} duplicate(s), {lost} lost");

        Assert.Equal(0, lost);
        Assert.Empty(byId.Keys.Except(expected));
        Assert.InRange(duplicates, 0, kills);
        // A duplicate is the same message again: same Message-Id (grouped by it), same subject and body.
        foreach (var copies in byId.Values.Where(c => c.Count > 1))
        {
            // (Three copies happen when two kills in a row hit the same first message: still one per kill.)
            Assert.All(copies, c => Assert.Equal(copies[0].Message.Subject, c.Message.Subject));
            Assert.All(copies, c => Assert.Equal(copies[0].Message.TextBody, c.Message.TextBody));
            Assert.All(copies, c => Assert.Equal(copies[0].Message.Date, c.Message.Date));
        }
        Assert.Equal(new Dictionary<string, int> { ["sent"] = ids.Length }, await OutboxTestData.StatesAsync(db.DataSource, ids));
    }

    [Fact]
    public async Task Jobs_run_outbox_delivery_exits_69_naming_the_smtp_server_when_it_is_unreachable_and_keeps_the_mail()
    {
        var port = RecordingSmtpServer.FreePort(); // nothing listens there
        var ids = await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 3);

        var (code, log) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery", new() { ["Smtp:Port"] = port.ToString() });

        Assert.Equal(69, code);
        Assert.Contains($"127.0.0.1:{port}", log);
        Assert.Contains("Smtp:Host/Port", log);
        Assert.Equal(new Dictionary<string, int> { ["pending"] = 3 }, await OutboxTestData.StatesAsync(db.DataSource, ids));
    }

    [Fact]
    public async Task Two_delivery_workers_on_one_database_never_send_the_same_message()
    {
        // A slow server keeps both workers busy at the same time.
        await using var server = new RecordingSmtpServer { Delay = TimeSpan.FromMilliseconds(20) }.Start();
        var settings = new Dictionary<string, string?> { ["Smtp:Port"] = server.Port.ToString(), ["Smtp:BatchSize"] = "20" };
        var ids = await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 300);

        var one = ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
        var two = ServiceProcess.RunAsync(db, "jobs run outbox-delivery", settings);
        var results = await Task.WhenAll(one, two);

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Output));
        var received = server.Messages;
        var perConnection = received.GroupBy(m => m.Session).Select(g => g.Count()).ToList();
        output.WriteLine($"two workers: {received.Count} received, {received.Select(m => m.MessageId).Distinct().Count()} distinct, per connection: {string.Join(" + ", perConnection)}");
        Assert.Equal(ids.Length, received.Count);
        Assert.Equal(ids.Length, received.Select(m => m.MessageId).Distinct().Count());
        // Both workers really sent (each over its one connection), so they did overlap.
        Assert.Equal(2, perConnection.Count);
        Assert.All(perConnection, n => Assert.True(n > 0));
        Assert.Equal(new Dictionary<string, int> { ["sent"] = ids.Length }, await OutboxTestData.StatesAsync(db.DataSource, ids));
    }
}
