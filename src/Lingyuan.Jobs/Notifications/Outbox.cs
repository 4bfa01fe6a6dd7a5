using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Npgsql;

namespace Lingyuan.Jobs.Notifications;

public sealed record MailAttachment(string FileName, string ContentType, byte[] Content);

/// <summary>
/// One message to send. <paramref name="DedupeKey"/> is unique across the outbox: a job that decides
/// the same thing twice (a retry, a rerun) stores one message. <paramref name="RegardingType"/> and
/// <paramref name="RegardingId"/> point at what it is about (a draw, a case, a batch) for the audit trail.
/// Bodies are Simplified Chinese; the HTML body must be built escaped (see <c>Dashboard.Html</c>).
/// </summary>
public sealed record OutboxMessage(
    string DedupeKey,
    IReadOnlyList<string> Recipients,
    string Subject,
    string TextBody,
    string? HtmlBody,
    string RegardingType,
    string RegardingId,
    IReadOnlyList<MailAttachment>? Attachments = null);

public static class Outbox
{
    /// <summary>
    /// Stores the message inside the caller's transaction. Returns true when stored now, false when a
    /// message with the same dedupe key exists already (then nothing is written).
    /// </summary>
    public static async Task<bool> EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, OutboxMessage m, CancellationToken ct = default)
    {
        if (m.Recipients.Count == 0) throw new ArgumentException("a message needs at least one recipient", nameof(m));
        var id = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            """
            INSERT INTO app.outbox (dedupe_key, recipients, subject, text_body, html_body, regarding_type, regarding_id)
            VALUES (@DedupeKey, @Recipients, @Subject, @TextBody, @HtmlBody, @RegardingType, @RegardingId)
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id
            """,
            new { m.DedupeKey, Recipients = m.Recipients.ToArray(), m.Subject, m.TextBody, m.HtmlBody, m.RegardingType, m.RegardingId },
            tx, cancellationToken: ct));
        if (id is null) return false;
        var position = 0;
        foreach (var a in m.Attachments ?? [])
        {
            await conn.ExecuteAsync(new CommandDefinition(
                "INSERT INTO app.outbox_attachments (message_id, position, file_name, content_type, content) VALUES (@id, @position, @FileName, @ContentType, @Content)",
                new { id, position = position++, a.FileName, a.ContentType, a.Content }, tx, cancellationToken: ct));
        }
        return true;
    }
}

public enum RequeueResult { Requeued, NotFound, NotFailed }

/// <summary>The Requeue slice: an admin puts a failed message back in the queue (audited; delivery is signalled).</summary>
public sealed class OutboxRequeue(Work work, BureauClock clock)
{
    public Task<RequeueResult> RequeueAsync(long id, CancellationToken ct) =>
        work.RunAsync("outbox.requeue", async uow =>
        {
            var table = OutboxLifecycle.Table;
            var now = clock.UtcNow;
            var before = await uow.SingleOrDefaultAsync<(string State, int Attempts, string? LastReply)>(
                "SELECT state, attempts, last_reply FROM app.outbox WHERE id = @id FOR UPDATE", new { id });
            if (before.State is null) return RequeueResult.NotFound;
            if (!table.Allows(OutboxVerb.Requeue, table.Parse(before.State))) return RequeueResult.NotFailed;
            var move = table.MoveOf(OutboxVerb.Requeue);
            // A fresh start: the retry horizon counts from now, the old reason stays visible until the next attempt.
            await uow.ExecuteAsync(
                """
                UPDATE app.outbox SET state = @to, failed_at = NULL, next_attempt_at = @now, retry_from = @now
                WHERE id = @id AND state = ANY(@from)
                """, new { id, now, to = table.Db(move.To), from = move.From.Select(table.Db).ToArray() });
            // As the acting person: the dashboard sets the signed-in admin for the request.
            await uow.AuditAsync("outbox.requeue", "outbox", id.ToString(),
                before: new { state = before.State, attempts = before.Attempts, last_reply = before.LastReply },
                after: new { state = table.Db(move.To) });
            uow.QueuedMail();
            return RequeueResult.Requeued;
        }, ct, new WorkOptions { RecordId = id.ToString() });
}
