using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.Notifications;

/// <summary>One message as the outbox page lists it.</summary>
// A class, not a positional record: Npgsql reports text[] columns as System.Array, which Dapper's constructor matching refuses.
public sealed class OutboxRow
{
    public long Id { get; init; }
    public string[] Recipients { get; init; } = [];
    public string Subject { get; init; } = "";
    public string RegardingType { get; init; } = "";
    public string RegardingId { get; init; } = "";
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime NextAttemptAt { get; init; }
    public DateTime? SentAt { get; init; }
    public DateTime? FailedAt { get; init; }
    public string? LastReply { get; init; }
}

/// <summary>A filter of the outbox page: state, part of a recipient's address, what a message is about (all optional).</summary>
public sealed record OutboxFilter(string? State, string? Recipient, string? Regarding);

/// <summary>One page of the outbox: the counts per state, how many match the filter, and the matching rows.</summary>
public sealed record OutboxListing(IReadOnlyDictionary<string, long> Counts, long Total, IReadOnlyList<OutboxRow> Rows);

/// <summary>The View slice of the outbox: what the outbox page reads.</summary>
public sealed class OutboxView(Work work)
{
    private const string Filter =
        """
        WHERE (@state::text IS NULL OR state = @state)
          AND (@recipient::text IS NULL OR EXISTS (SELECT 1 FROM unnest(recipients) r WHERE r ILIKE '%' || @recipientLike || '%' ESCAPE '\'))
          AND (@regarding::text IS NULL OR regarding_type = @regarding OR regarding_id = @regarding
               OR regarding_type || ':' || regarding_id = @regarding)
        """;

    /// <summary>The home page's count: messages that failed and wait for a person (requeue or fix the address).</summary>
    public Task<long> FailedCountAsync(CancellationToken ct) =>
        work.RunAsync("outbox.failed-count", uow => uow.SingleAsync<long>("SELECT count(*) FROM app.outbox WHERE state = 'failed'"), ct);

    public Task<OutboxListing> ListAsync(OutboxFilter filter, int pageNo, int pageSize, CancellationToken ct) =>
        work.RunAsync("outbox.view", async uow =>
        {
            var counts = (await uow.ListAsync<(string State, long Count)>("SELECT state, count(*) FROM app.outbox GROUP BY state"))
                .ToDictionary(c => c.State, c => c.Count);
            var args = new
            {
                state = filter.State,
                recipient = filter.Recipient,
                regarding = filter.Regarding,
                recipientLike = filter.Recipient?.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_"),
                limit = pageSize,
                offset = (pageNo - 1) * pageSize,
            };
            var total = await uow.ScalarAsync<long>($"SELECT count(*) FROM app.outbox {Filter}", args);
            var rows = await uow.ListAsync<OutboxRow>(
                $"""
                SELECT id, recipients, subject, regarding_type AS RegardingType, regarding_id AS RegardingId, state, attempts,
                       created_at AS CreatedAt, next_attempt_at AS NextAttemptAt, sent_at AS SentAt, failed_at AS FailedAt, last_reply AS LastReply
                FROM app.outbox {Filter}
                ORDER BY id DESC LIMIT @limit OFFSET @offset
                """, args);
            return new OutboxListing(counts, total, rows);
        }, ct);
}
