using System.Net.Sockets;
using Dapper;
using Hangfire;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;

namespace Lingyuan.Jobs.Notifications;

/// <summary>What one delivery run did.</summary>
public sealed record DeliveryReport(int Sent, int Failed, int Deferred, int SkippedLocked, string? ServerDown)
{
    public override string ToString() =>
        $"sent {Sent}, failed {Failed}, deferred {Deferred}, skipped (held by another worker) {SkippedLocked}"
        + (ServerDown is null ? "" : $", SMTP server unreachable: {ServerDown}");
}

/// <summary>
/// Sends the pending messages of the outbox over one reused SMTP connection.
/// <para>
/// Claiming: each message is sent inside its own short transaction that holds the message's row lock
/// (<c>SELECT … FOR UPDATE SKIP LOCKED</c>) from before the SMTP transaction until the row says
/// <c>sent</c> (or failed / deferred) and commits. A second worker (another process, another machine,
/// the signal-triggered run beside the recurring one) skips a locked row, and re-checks the state
/// under the lock, so two workers never send the same message at the same time. A worker that dies
/// loses its connection and PostgreSQL releases the lock at once: no lease to wait out, and a worker
/// that is merely slow keeps its lock, so nobody takes its message over while it may still send it.
/// </para>
/// <para>
/// The one crash window: the server has accepted the message (250 after DATA) but the process dies
/// before the commit that records it. The row is still pending, so the next run sends it again,
/// with the same Message-Id (<c>&lt;outbox-{id}@{domain of Smtp:From}&gt;</c>) so the receiving side
/// can recognise the copy. That is the only way a message reaches the server twice, and at most one
/// message per crash (the one in flight), because each message commits on its own.
/// </para>
/// </summary>
public sealed class OutboxDelivery(Work work, IOptions<SmtpOptions> options, TimeProvider clock, ILogger<OutboxDelivery> log)
{
    // A class, not a positional record: Npgsql reports text[] columns as System.Array, which Dapper's constructor matching refuses.
    // The states as the database stores them, from the one table (interpolated as literals: the partial index
    // outbox_pending matches the text of the query).
    private static readonly string Pending = OutboxLifecycle.Pending, Sent = OutboxLifecycle.Sent, Failed = OutboxLifecycle.Failed;

    private sealed class PendingMessage
    {
        public long Id { get; init; }
        public string[] Recipients { get; init; } = [];
        public string Subject { get; init; } = "";
        public string TextBody { get; init; } = "";
        public string? HtmlBody { get; init; }
        public DateTime CreatedAt { get; init; }
    }

    private sealed record Attachment(long MessageId, string FileName, string ContentType, byte[] Content);

    /// <summary>
    /// Sends every message that is pending and due at the start of the run, at most one attempt each
    /// (a deferred message waits for a later run). Returns when there is nothing due left, or at once
    /// when the server cannot be reached (then the due messages are deferred with back-off, not lost).
    /// </summary>
    public async Task<DeliveryReport> DeliverDueAsync(CancellationToken ct)
    {
        var o = options.Value;
        // "Due" is judged by the injected clock (tests move it); rows are stamped by the database's clock
        // when queued, so the two are assumed to agree (NTP), as for every job here.
        var runStart = clock.GetUtcNow();
        int sent = 0, failed = 0, deferred = 0, skipped = 0;
        await using var smtp = new SmtpLink(o);
        long after = 0;
        while (true)
        {
            var chunk = await work.RunAsync("outbox.read", uow => ReadChunkAsync(uow, after, runStart, o.BatchSize), ct);
            if (chunk.Count == 0) break;
            after = chunk[^1].Message.Id;
            foreach (var (m, attachments) in chunk)
            {
                ct.ThrowIfCancellationRequested();
                // Once the server has answered, its verdict is recorded even if the job is being stopped:
                // cancelling then would only turn an accepted message into a duplicate. So the unit of work
                // runs uncancelled; the claim is skipped when cancelled before, and the SMTP send takes ct.
                var outcome = await work.RunAsync<Outcome?>("outbox.send", async uow =>
                {
                    var mine = await uow.ScalarAsync<long?>(
                        $"""
                        SELECT id FROM app.outbox
                        WHERE id = @id AND state = '{Pending}' AND next_attempt_at <= @runStart
                        FOR UPDATE SKIP LOCKED
                        """, new { id = m.Id, runStart });
                    // Sent or being sent by another worker since the chunk was read (nothing written: the commit ends it).
                    if (mine is null) return null;

                    var outcome = await smtp.SendAsync(() => Compose(m, attachments, o), ct);
                    var now = clock.GetUtcNow();
                    switch (outcome)
                    {
                        case Outcome.Accepted a:
                            // The crash window described above: accepted by the server, not yet recorded.
                            TestHooks.Point("outbox.after-send");
                            await uow.ExecuteAsync(
                                $"""
                                UPDATE app.outbox SET state = '{Sent}', sent_at = @now, attempts = attempts + 1, last_reply = @reply
                                WHERE id = @id AND state = '{Pending}'
                                """, new { id = m.Id, now, reply = a.Reply });
                            sent++;
                            break;
                        case Outcome.Permanent p:
                            await MarkFailedAsync(uow, m.Id, now, p.Reply);
                            // Replies often quote the address: they go to the outbox row (the page), never to the log.
                            log.LogWarning("outbox message {Id} refused permanently, marked failed (reason on the outbox page)", m.Id);
                            failed++;
                            break;
                        case Outcome.Transient t:
                            var state = await DeferAsync(uow, [m.Id], now, t.Reply, o);
                            log.LogWarning("outbox message {Id} failed transiently, now {State} (reason on the outbox page)", m.Id, state.FirstOrDefault() ?? "?");
                            if (state.Contains(Failed)) failed++; else deferred++;
                            break;
                        case Outcome.ServerDown:
                            // Not this message's fault: nothing is written here; the unit of work ends and releases
                            // its lock, then every due message is deferred alike (below).
                            break;
                    }
                    return outcome;
                }, CancellationToken.None);
                if (outcome is null)
                {
                    skipped++;
                    continue;
                }
                if (outcome is Outcome.ServerDown d)
                {
                    var states = await work.RunAsync("outbox.defer", uow => DeferAllDueAsync(uow, runStart, clock.GetUtcNow(), d.Reason, o), CancellationToken.None);
                    failed += states.Count(s => s == Failed);
                    deferred += states.Count(s => s == Pending);
                    log.LogWarning("SMTP server {Host}:{Port} unreachable, {Count} due message(s) deferred: {Reason}", o.Host, o.Port, states.Count, d.Reason);
                    return new DeliveryReport(sent, failed, deferred, skipped, d.Reason);
                }
            }
        }
        log.LogInformation("outbox delivery: sent {Sent}, failed {Failed}, deferred {Deferred}, skipped {Skipped}", sent, failed, deferred, skipped);
        return new DeliveryReport(sent, failed, deferred, skipped, null);
    }

    private static async Task<List<(PendingMessage Message, List<Attachment> Attachments)>> ReadChunkAsync(
        UnitOfWork uow, long after, DateTimeOffset runStart, int size)
    {
        var messages = await uow.ListAsync<PendingMessage>(
            $"""
            SELECT id, recipients, subject, text_body AS TextBody, html_body AS HtmlBody, created_at AS CreatedAt
            FROM app.outbox
            WHERE state = '{Pending}' AND id > @after AND next_attempt_at <= @runStart
            ORDER BY id
            LIMIT @size
            """, new { after, runStart, size });
        if (messages.Count == 0) return [];
        var attachments = (await uow.ListAsync<Attachment>(
            """
            SELECT message_id AS MessageId, file_name AS FileName, content_type AS ContentType, content
            FROM app.outbox_attachments WHERE message_id = ANY(@ids) ORDER BY message_id, position
            """, new { ids = messages.Select(m => m.Id).ToArray() })).ToLookup(a => a.MessageId);
        return messages.Select(m => (m, attachments[m.Id].ToList())).ToList();
    }

    /// <summary>The MIME message; its Message-Id and Date depend only on the row, so a resend is the same message.</summary>
    public static MimeMessage Compose(long id, IEnumerable<string> recipients, string subject, string textBody, string? htmlBody,
        DateTimeOffset createdAt, IEnumerable<MailAttachment> attachments, SmtpOptions o)
    {
        var message = new MimeMessage();
        message.From.Add(o.FromAddress);
        foreach (var r in recipients)
        {
            if (!MailboxAddress.TryParse(r, out var address) || string.IsNullOrEmpty(address.Domain))
                throw new InvalidRecipientException(r);
            message.To.Add(address);
        }
        message.Subject = subject;
        message.MessageId = MessageIdOf(id, o);
        message.Date = createdAt;
        var body = new BodyBuilder { TextBody = textBody, HtmlBody = htmlBody };
        foreach (var a in attachments)
            body.Attachments.Add(a.FileName, a.Content, ContentType.Parse(a.ContentType));
        message.Body = body.ToMessageBody();
        return message;
    }

    public static string MessageIdOf(long id, SmtpOptions o) => $"outbox-{id}@{o.MessageIdDomain}";

    private static MimeMessage Compose(PendingMessage m, List<Attachment> attachments, SmtpOptions o) =>
        Compose(m.Id, m.Recipients, m.Subject, m.TextBody, m.HtmlBody, new DateTimeOffset(DateTime.SpecifyKind(m.CreatedAt, DateTimeKind.Utc)),
            attachments.Select(a => new MailAttachment(a.FileName, a.ContentType, a.Content)), o);

    private static Task MarkFailedAsync(UnitOfWork uow, long id, DateTimeOffset now, string reply) =>
        uow.ExecuteAsync(
            $"""
            UPDATE app.outbox SET state = '{Failed}', failed_at = @now, attempts = attempts + 1, last_reply = @reply
            WHERE id = @id AND state = '{Pending}'
            """, new { id, now, reply });

    // Exponential back-off with "equal jitter": the wait after the n-th failure is
    // min(max, base·2^(n-1)) scaled by a random factor in [0.5, 1), so workers that failed together
    // (a server restart) do not all come back in the same second. When the next retry would fall past
    // the horizon (counted from retry_from), the message is failed now with the last reply instead of
    // being retried forever.
    private static readonly string DeferSql =
        $"""
        WITH target AS (
            SELECT id, retry_from,
                   @now + make_interval(secs => least(@maxSeconds, @baseSeconds * power(2, least(attempts, 40)))
                                                * (0.5 + random() * 0.5)) AS retry_at
            FROM app.outbox
            WHERE /*FILTER*/
            FOR UPDATE SKIP LOCKED
        )
        UPDATE app.outbox o
        SET attempts = o.attempts + 1,
            state = CASE WHEN t.retry_at > t.retry_from + @horizon THEN '{Failed}' ELSE '{Pending}' END,
            failed_at = CASE WHEN t.retry_at > t.retry_from + @horizon THEN @now END,
            next_attempt_at = CASE WHEN t.retry_at > t.retry_from + @horizon THEN o.next_attempt_at ELSE t.retry_at END,
            last_reply = CASE WHEN t.retry_at > t.retry_from + @horizon
                              THEN '重试期限已过 (Smtp:RetryHorizon ' || @horizonText || '),最后一次错误: ' || @reply
                              ELSE @reply END
        FROM target t
        WHERE o.id = t.id
        RETURNING o.state
        """;

    private static Task<List<string>> DeferAsync(UnitOfWork uow, long[] ids, DateTimeOffset now, string reply, SmtpOptions o) =>
        uow.ListAsync<string>(DeferSql.Replace("/*FILTER*/", $"id = ANY(@ids) AND state = '{Pending}'"), DeferParameters(new { ids }, now, reply, o));

    private static Task<List<string>> DeferAllDueAsync(UnitOfWork uow, DateTimeOffset runStart, DateTimeOffset now, string reason, SmtpOptions o) =>
        uow.ListAsync<string>(DeferSql.Replace("/*FILTER*/", $"state = '{Pending}' AND next_attempt_at <= @runStart"), DeferParameters(new { runStart }, now, reason, o));

    private static DynamicParameters DeferParameters(object filter, DateTimeOffset now, string reply, SmtpOptions o)
    {
        var p = new DynamicParameters(filter);
        p.Add("now", now);
        p.Add("reply", reply);
        p.Add("baseSeconds", o.RetryBaseDelay.TotalSeconds);
        p.Add("maxSeconds", o.RetryMaxDelay.TotalSeconds);
        p.Add("horizon", o.RetryHorizon);
        p.Add("horizonText", o.RetryHorizon.ToString());
        return p;
    }

    private abstract record Outcome
    {
        public sealed record Accepted(string Reply) : Outcome;
        public sealed record Permanent(string Reply) : Outcome;
        public sealed record Transient(string Reply) : Outcome;
        public sealed record ServerDown(string Reason) : Outcome;
    }

    private sealed class InvalidRecipientException(string address) : Exception($"收件人地址无效: {address}");

    /// <summary>One SMTP connection for the whole run, opened on first use and reopened after a drop.</summary>
    private sealed class SmtpLink(SmtpOptions o) : IAsyncDisposable
    {
        private readonly SmtpClient _client = new() { Timeout = (int)o.CommandTimeout.TotalMilliseconds };
        private int _sentOnConnection;

        public async Task<Outcome> SendAsync(Func<MimeMessage> compose, CancellationToken ct)
        {
            MimeMessage message;
            try { message = compose(); }
            catch (Exception ex) when (ex is InvalidRecipientException or FormatException or ParseException)
            {
                return new Outcome.Permanent(ex.Message);
            }

            if (!_client.IsConnected)
            {
                try
                {
                    using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    connectTimeout.CancelAfter(o.ConnectTimeout);
                    _sentOnConnection = 0;
                    await _client.ConnectAsync(o.Host, o.Port, o.SocketOptions, connectTimeout.Token);
                    if (!string.IsNullOrEmpty(o.User))
                        await _client.AuthenticateAsync(o.User, o.Password ?? "", connectTimeout.Token);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested && IsConnectFailure(ex))
                {
                    await DropAsync();
                    return new Outcome.ServerDown($"{o.Host}:{o.Port}: {Describe(ex)}");
                }
            }

            try
            {
                var reply = await _client.SendAsync(message, ct);
                if (++_sentOnConnection == o.MaxMessagesPerConnection)
                    await CloseAsync();
                return new Outcome.Accepted(reply);
            }
            catch (SmtpCommandException ex) when ((int)ex.StatusCode >= 500)
            {
                // 5xx: the server will never take this message (unknown mailbox, policy): fail it now.
                return new Outcome.Permanent($"{(int)ex.StatusCode} {ex.Message}");
            }
            catch (SmtpCommandException ex)
            {
                // 4xx: try again later (greylisting, mailbox busy, server short of resources).
                return new Outcome.Transient($"{(int)ex.StatusCode} {ex.Message}");
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && IsConnectionFailure(ex))
            {
                // Dropped in the middle of this message: the server has not said 250, so it may not
                // have it. Retry later on a fresh connection.
                await DropAsync();
                return new Outcome.Transient($"连接中断 / connection lost: {Describe(ex)}");
            }
        }

        private static bool IsConnectFailure(Exception ex) =>
            IsConnectionFailure(ex) || ex is AuthenticationException or SmtpCommandException or SslHandshakeException or NotSupportedException;

        private static bool IsConnectionFailure(Exception ex) =>
            ex is SocketException or IOException or SmtpProtocolException or TimeoutException or OperationCanceledException or ServiceNotConnectedException;

        private static string Describe(Exception ex) => ex switch
        {
            SmtpCommandException c => $"{(int)c.StatusCode} {c.Message}",
            OperationCanceledException => "timed out / 超时",
            _ => ex.GetBaseException().Message,
        };

        private async Task DropAsync()
        {
            try { await _client.DisconnectAsync(quit: false); }
            catch (Exception ex) when (IsConnectionFailure(ex)) { /* already gone */ }
        }

        private async Task CloseAsync()
        {
            if (!_client.IsConnected) return;
            try { await _client.DisconnectAsync(quit: true); }
            catch (Exception ex) when (IsConnectionFailure(ex) || ex is SmtpCommandException) { /* the message was accepted; QUIT is a courtesy */ }
        }

        public async ValueTask DisposeAsync()
        {
            await CloseAsync();
            _client.Dispose();
        }
    }
}

/// <summary>The recurring job <c>outbox-delivery</c> (发送待发邮件), also enqueued by <see cref="IOutboxSignal"/>.</summary>
// No automatic retry: the next minute's run is the retry, and a run that found the server down stays
// in Hangfire's "failed" list as the operator's signal (the messages themselves stay pending).
[AutomaticRetry(Attempts = 0, LogEvents = false)]
public sealed class OutboxDeliveryJob(OutboxDelivery delivery, OutboxAlerts alerts) : IRecurringJob
{
    public const string Id = "outbox-delivery";

    public async Task RunAsync(CancellationToken ct)
    {
        var report = await delivery.DeliverDueAsync(ct);
        await alerts.ReportAsync(report, ct);
        if (report.ServerDown is not null)
            throw new ServiceUnavailableException(
                $"SMTP server unreachable (Smtp:Host/Port), messages stay pending / 邮件服务器无法连接,邮件保留待发: {report.ServerDown}; {report}");
    }
}

/// <summary>
/// What a feature calls after committing a transaction that queued mail, so it leaves within seconds
/// rather than at the next minute. Safe to call any number of times: it only enqueues a delivery
/// run (no arguments, so no personal data in Hangfire), and runs never send a message twice.
/// </summary>
public interface IOutboxSignal
{
    void MailQueued();
}

/// <remarks>
/// The Hangfire client is resolved on the first signal, not when a unit of work is made: building the
/// Hangfire storage checks its schema in the database (about 0.35 s of CPU and a round of queries), which a
/// command-line verb that queues no mail — most of them — must not pay at every start.
/// </remarks>
public sealed class OutboxTrigger(IServiceProvider services, ILogger<OutboxTrigger> log) : IOutboxSignal
{
    public void MailQueued()
    {
        try
        {
            services.GetRequiredService<IBackgroundJobClient>().Enqueue<OutboxDeliveryJob>(j => j.RunAsync(CancellationToken.None));
        }
        catch (Exception ex) when (ex is BackgroundJobClientException or NpgsqlException or TimeoutException)
        {
            // The mail is committed in the outbox already; the recurring run sends it within a minute.
            // Failing the caller's request after its commit would only mislead its user.
            log.LogWarning(ex, "could not enqueue an immediate outbox delivery; the recurring run will send the mail");
        }
    }
}
