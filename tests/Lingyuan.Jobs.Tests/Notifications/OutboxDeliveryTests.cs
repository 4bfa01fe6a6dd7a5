using Dapper;
using Lingyuan.Jobs.Bench.Mail;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using SmtpServer.Protocol;

namespace Lingyuan.Jobs.Tests.Notifications;

public sealed class OutboxDeliveryTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => OutboxTestData.ClearAsync(db.DataSource);
    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly HttpClient Smtp4devApi = new() { BaseAddress = TestEnv.SmtpApi };

    // smtp4dev 3.x: /source is the HTML body, /raw is the message as received (Smtp4dev.SourceAsync reads the former).
    private static Task<byte[]> RawAsync(Guid id) => Smtp4devApi.GetByteArrayAsync($"/api/messages/{id}/raw");

    // Messages are stamped by the database clock when queued; the fake clock starts a little ahead so they are due.
    private static FakeTimeProvider Clock() => new(DateTimeOffset.UtcNow.AddSeconds(5));

    private WebApplication App(FakeTimeProvider clock, int? smtpPort = null, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(extra ?? []);
        if (smtpPort is not null) settings["Smtp:Port"] = smtpPort.ToString();
        return db.BuildApp(AppRole.Cli, settings, s => s.AddSingleton<TimeProvider>(clock));
    }

    [Fact]
    public async Task Two_hundred_queued_messages_arrive_at_smtp4dev_with_chinese_subject_body_attachment_and_stable_message_id()
    {
        // The shared smtp4dev keeps only its newest 100 messages (its default MessagesToKeep), so the
        // 200 go in four rounds of 50, each read back before the next is sent.
        var delivery = db.Services.GetRequiredService<OutboxDelivery>();
        for (var round = 0; round < 4; round++)
        {
            var domain = OutboxTestData.Domain();
            var ids = await OutboxTestData.QueueAsync(db.DataSource, domain, 50, attachment: true);

            var report = await delivery.DeliverDueAsync(CancellationToken.None);

            Assert.Equal(50, report.Sent);
            Assert.Equal(new Dictionary<string, int> { ["sent"] = 50 }, await OutboxTestData.StatesAsync(db.DataSource, ids));
            var arrived = await Smtp4dev.WaitForAsync("@" + domain, 50, TimeSpan.FromSeconds(30));
            Assert.Equal(50, arrived.Count);
            var byMessageId = new Dictionary<string, MimeMessage>();
            foreach (var summary in arrived)
            {
                var m = await MimeMessage.LoadAsync(new MemoryStream(await RawAsync(summary.Id)));
                byMessageId.Add(m.MessageId ?? "(none)", m);
            }
            for (var i = 0; i < ids.Length; i++)
            {
                var m = byMessageId[$"outbox-{ids[i]}@lingyuan-hrss.local"];
                Assert.Equal($"【凌源市人社局】邮件发送测试:第{i}号通知", m.Subject);
                Assert.Equal($"p{i}@{domain}", m.To.Mailboxes.Single().Address);
                Assert.Equal("凌源市人力资源和社会保障局", m.From.Mailboxes.Single().Name);
                Assert.Contains($"张三{i},您好", m.TextBody);
                Assert.Contains("110105********002X", m.TextBody);
                Assert.DoesNotContain("11010519491231002X", m.TextBody + m.HtmlBody);
                Assert.Contains("1,234.56 元", m.HtmlBody);
                var ics = Assert.IsAssignableFrom<MimePart>(Assert.Single(m.Attachments));
                Assert.Equal("检查安排.ics", ics.FileName);
                Assert.Equal("text/calendar", ics.ContentType.MimeType);
                using var content = new MemoryStream();
                await ics.Content!.DecodeToAsync(content);
                Assert.Equal(OutboxTestData.Ics, content.ToArray());
            }
        }
    }

    [Fact]
    public async Task Messages_stay_pending_while_smtp_is_down_and_all_arrive_once_it_is_up()
    {
        var clock = Clock();
        await using var server = new RecordingSmtpServer(); // not started: nothing listens on its port
        await using var app = App(clock, server.Port);
        var delivery = app.Services.GetRequiredService<OutboxDelivery>();
        var ids = await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 30);

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var down = await delivery.DeliverDueAsync(CancellationToken.None);
            Assert.NotNull(down.ServerDown);
            Assert.Equal(0, down.Sent);
            Assert.Equal(new Dictionary<string, int> { ["pending"] = 30 }, await OutboxTestData.StatesAsync(db.DataSource, ids));
            clock.Advance(TimeSpan.FromHours(1));
        }
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            var replies = (await conn.QueryAsync<string>("SELECT last_reply FROM app.outbox WHERE id = ANY(@ids)", new { ids })).ToList();
            Assert.All(replies, r => Assert.Contains($"127.0.0.1:{server.Port}", r));
        }
        // The recurring job turns the outage into a failed Hangfire run (the operator's signal) and keeps the mail.
        var job = new OutboxDeliveryJob(delivery, app.Services.GetRequiredService<OutboxAlerts>());
        await Assert.ThrowsAsync<ServiceUnavailableException>(() => job.RunAsync(CancellationToken.None));
        Assert.Equal(new Dictionary<string, int> { ["pending"] = 30 }, await OutboxTestData.StatesAsync(db.DataSource, ids));

        server.Start();
        clock.Advance(TimeSpan.FromHours(1)); // past the longest back-off (Smtp:RetryMaxDelay)
        var up = await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.Null(up.ServerDown);
        Assert.Equal(30, up.Sent);
        Assert.Equal(new Dictionary<string, int> { ["sent"] = 30 }, await OutboxTestData.StatesAsync(db.DataSource, ids));
        Assert.Equal(ids.Select(id => $"outbox-{id}@lingyuan-hrss.local").Order(), server.Messages.Select(m => m.MessageId).Order());
        Assert.Single(server.Messages.Select(m => m.Session).Distinct()); // one reused connection
    }

    [Fact]
    public async Task A_connection_dropped_after_the_message_data_defers_it_and_a_later_run_sends_it_once()
    {
        var clock = Clock();
        await using var server = new RecordingSmtpServer();
        var ids = await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 2);
        await using var app = App(clock, server.Port);
        var delivery = app.Services.GetRequiredService<OutboxDelivery>();

        // A server that takes the whole message and hangs up before answering it.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, server.Port);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var dropper = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                var stream = client.GetStream();
                var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
                async Task Say(string line) => await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(line + "\r\n"), stop.Token);
                await Say("220 dropper ESMTP");
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    if (line.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase)) await Say("250 dropper");
                    else if (line.StartsWith("DATA", StringComparison.OrdinalIgnoreCase))
                    {
                        await Say("354 go ahead");
                        while (await reader.ReadLineAsync(stop.Token) is { } data && data != ".") { }
                        break; // hang up instead of "250"
                    }
                    else await Say("250 ok");
                }
            }
        });

        var dropped = await delivery.DeliverDueAsync(CancellationToken.None);
        await stop.CancelAsync();
        listener.Stop();
        try { await dropper; }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException) { /* stopped */ }

        Assert.Equal(0, dropped.Sent);
        Assert.Equal(new Dictionary<string, int> { ["pending"] = 2 }, await OutboxTestData.StatesAsync(db.DataSource, ids));
        await using (var conn = await db.DataSource.OpenConnectionAsync())
            Assert.All(await conn.QueryAsync<string>("SELECT last_reply FROM app.outbox WHERE id = ANY(@ids)", new { ids }),
                r => Assert.StartsWith("连接中断", r));

        server.Start();
        clock.Advance(TimeSpan.FromMinutes(5));
        var again = await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.Equal(2, again.Sent);
        Assert.Equal(ids.Select(id => $"outbox-{id}@lingyuan-hrss.local").Order(), server.Messages.Select(m => m.MessageId).Order());
    }

    [Fact]
    public async Task A_550_reply_fails_the_message_at_once_with_the_reply_shown_and_the_others_still_go()
    {
        var clock = Clock();
        await using var server = new RecordingSmtpServer
        {
            Answer = m => m.To.Mailboxes.Single().LocalPart == "p1" ? new SmtpResponse((SmtpReplyCode)550, "5.1.1 mailbox does not exist") : null,
        }.Start();
        await using var app = App(clock, server.Port);
        var ids = await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 3);

        var report = await app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);

        Assert.Equal((2, 1, 0), (report.Sent, report.Failed, report.Deferred));
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var failed = await conn.QuerySingleAsync<(string State, string LastReply, int Attempts)>(
            "SELECT state, last_reply, attempts FROM app.outbox WHERE id = @id", new { id = ids[1] });
        Assert.Equal(("failed", "550 5.1.1 mailbox does not exist", 1), failed);
        Assert.Equal(2, server.Messages.Count);

        // Never retried: a later run, however much later, leaves it alone.
        clock.Advance(TimeSpan.FromDays(2));
        var again = await app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);
        Assert.Equal((0, 0), (again.Sent, again.Failed));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT attempts FROM app.outbox WHERE id = @id", new { id = ids[1] }));
    }

    [Fact]
    public async Task A_451_reply_defers_the_message_with_back_off_and_a_later_run_sends_it()
    {
        var clock = Clock();
        var refuse = true;
        await using var server = new RecordingSmtpServer
        {
            Answer = _ => refuse ? new SmtpResponse((SmtpReplyCode)451, "4.3.0 try again later") : null,
        }.Start();
        await using var app = App(clock, server.Port);
        var delivery = app.Services.GetRequiredService<OutboxDelivery>();
        var id = (await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 1)).Single();
        await using var conn = await db.DataSource.OpenConnectionAsync();

        var first = await delivery.DeliverDueAsync(CancellationToken.None);
        Assert.Equal(1, first.Deferred);
        var row = await conn.QuerySingleAsync<(string State, DateTime Next, string Reply)>(
            "SELECT state, next_attempt_at, last_reply FROM app.outbox WHERE id = @id", new { id });
        Assert.Equal("pending", row.State);
        Assert.Equal("451 4.3.0 try again later", row.Reply);
        // First back-off is Smtp:RetryBaseDelay (1 min) with jitter in [0.5, 1).
        var wait = new DateTimeOffset(row.Next, TimeSpan.Zero) - clock.GetUtcNow();
        Assert.InRange(wait, TimeSpan.FromSeconds(29.9), TimeSpan.FromSeconds(60));

        // Not due yet: a run now does not touch it.
        Assert.Equal(0, (await delivery.DeliverDueAsync(CancellationToken.None)).Deferred);

        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await delivery.DeliverDueAsync(CancellationToken.None);
        Assert.Equal(1, second.Deferred);
        var next2 = await conn.ExecuteScalarAsync<DateTime>("SELECT next_attempt_at FROM app.outbox WHERE id = @id", new { id });
        Assert.InRange(new DateTimeOffset(next2, TimeSpan.Zero) - clock.GetUtcNow(), TimeSpan.FromSeconds(59.9), TimeSpan.FromSeconds(120));

        refuse = false;
        clock.Advance(TimeSpan.FromMinutes(2));
        var third = await delivery.DeliverDueAsync(CancellationToken.None);
        Assert.Equal(1, third.Sent);
        Assert.Equal(("sent", 3), await conn.QuerySingleAsync<(string, int)>("SELECT state, attempts FROM app.outbox WHERE id = @id", new { id }));
        Assert.Single(server.Messages);
    }

    [Fact]
    public async Task A_message_refused_with_4xx_beyond_the_retry_horizon_is_failed_not_retried_forever()
    {
        var clock = Clock();
        await using var server = new RecordingSmtpServer { Answer = _ => new SmtpResponse((SmtpReplyCode)452, "4.2.2 mailbox full") }.Start();
        await using var app = App(clock, server.Port, new() { ["Smtp:RetryHorizon"] = "00:10:00", ["Smtp:RetryMaxDelay"] = "00:04:00" });
        var delivery = app.Services.GetRequiredService<OutboxDelivery>();
        var id = (await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 1)).Single();
        await using var conn = await db.DataSource.OpenConnectionAsync();

        var runs = 0;
        while (await conn.ExecuteScalarAsync<string>("SELECT state FROM app.outbox WHERE id = @id", new { id }) == "pending")
        {
            Assert.True(++runs < 50, "still pending after 50 runs: retried forever");
            await delivery.DeliverDueAsync(CancellationToken.None);
            clock.Advance(TimeSpan.FromMinutes(1));
        }
        var (state, reply) = await conn.QuerySingleAsync<(string, string)>("SELECT state, last_reply FROM app.outbox WHERE id = @id", new { id });
        Assert.Equal("failed", state);
        Assert.Contains("重试期限已过", reply);
        Assert.Contains("452 4.2.2 mailbox full", reply);
        Assert.InRange(runs, 3, 13);
    }

    [Fact]
    public void Delivery_is_the_recurring_job_outbox_delivery_every_minute()
    {
        var job = db.Services.GetRequiredService<JobCatalog>().Find("outbox-delivery");

        Assert.NotNull(job);
        Assert.Equal(("发送待发邮件", "* * * * *", typeof(OutboxDeliveryJob)), (job.NameZh, job.Cron, job.JobType));
    }

    [Fact]
    public async Task A_signal_after_the_commit_gets_the_mail_sent_by_a_worker_within_seconds()
    {
        await using var smtp = new RecordingSmtpServer().Start();
        // The worker is its own process: Hangfire keeps its storage in a static (JobStorage.Current),
        // so two in-process apps on two databases (parallel test classes) could swap storages.
        await using var worker = ServiceProcess.Start(db, "serve --role worker", new() { ["Smtp:Port"] = smtp.Port.ToString() });
        var id = (await OutboxTestData.QueueAsync(db.DataSource, OutboxTestData.Domain(), 1)).Single();
        var storage = new Hangfire.PostgreSql.PostgreSqlStorage(
            new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(db.ConnectionString, new() { SchemaName = "hangfire" }),
            new Hangfire.PostgreSql.PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = false });
        var services = new ServiceCollection()
            .AddSingleton<Hangfire.IBackgroundJobClient>(new Hangfire.BackgroundJobClient(storage))
            .BuildServiceProvider();
        var signal = new OutboxTrigger(services,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<OutboxTrigger>.Instance);

        signal.MailQueued();

        var until = DateTime.UtcNow.AddSeconds(60);
        while (smtp.Messages.Count == 0 && DateTime.UtcNow < until && !worker.HasExited) await Task.Delay(200);
        Assert.True(smtp.Messages.Count == 1, $"no mail within 60 s; worker output: {worker.Output}");
        Assert.Equal($"outbox-{id}@lingyuan-hrss.local", smtp.Messages.Single().MessageId);
    }

    [Fact]
    public async Task The_same_dedupe_key_queued_from_two_concurrent_transactions_stores_one_message()
    {
        var message = MailTemplates.Message("smtp-test", new { Title = "同一事项", RecipientName = "李四", IdNumber = "", AmountFen = 0L },
            dedupeKey: $"dup:{Guid.NewGuid()}", recipients: ["x@dup.test"], regardingType: "test", regardingId: "dup");
        await using var c1 = await db.DataSource.OpenConnectionAsync();
        await using var c2 = await db.DataSource.OpenConnectionAsync();
        await using var t1 = await c1.BeginTransactionAsync();
        await using var t2 = await c2.BeginTransactionAsync();

        Assert.True(await Outbox.EnqueueAsync(c1, t1, message));
        // The second insert waits on the first transaction's unique-index entry...
        var second = Outbox.EnqueueAsync(c2, t2, message);
        await Task.Delay(300);
        Assert.False(second.IsCompleted);
        await t1.CommitAsync();
        // ...and once it commits, finds the key taken and writes nothing.
        Assert.False(await second);
        await t2.CommitAsync();

        Assert.Equal(1, await c1.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE dedupe_key = @k", new { k = message.DedupeKey }));
    }

    [Fact]
    public void Mail_templates_html_escape_register_data_and_mask_id_numbers()
    {
        var mail = MailTemplates.Render("smtp-test", new
        {
            Title = "<script>alert(1)</script>",
            RecipientName = "王五 & \"公司\"",
            IdNumber = "21138219800101123X",
            AmountFen = 100L,
        });

        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", mail.HtmlBody);
        Assert.DoesNotContain("<script>", mail.HtmlBody);
        Assert.Contains("王五 &amp; &quot;公司&quot;", mail.HtmlBody);
        Assert.Contains("211382********123X", mail.HtmlBody);
        Assert.Contains("211382********123X", mail.TextBody);
        Assert.DoesNotContain("21138219800101123X", mail.TextBody + mail.HtmlBody + mail.Subject);
        Assert.Contains("王五 & \"公司\",您好", mail.TextBody); // plain text is not HTML-encoded
        Assert.Equal("【凌源市人社局】邮件发送测试:<script>alert(1)</script>", mail.Subject);
        Assert.Contains("1.00 元", mail.TextBody);
    }

    [Theory]
    [InlineData("Smtp:Port", "0", "Smtp:Port")]
    [InlineData("Smtp:From", "not an address", "Smtp:From")]
    [InlineData("Smtp:User", "someone", "Smtp:User")]
    [InlineData("Smtp:RetryHorizon", "-00:01:00", "Smtp:RetryHorizon")]
    public async Task Bad_smtp_settings_stop_the_start_with_a_message_naming_the_key(string key, string value, string named)
    {
        await using var app = db.BuildApp(AppRole.Cli, new() { [key] = value });
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());
        Assert.Contains(ex.Failures, f => f.Contains(named));
    }
}
