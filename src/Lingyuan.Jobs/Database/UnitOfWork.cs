using System.Data;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Notifications;
using Npgsql;

namespace Lingyuan.Jobs.Database;

/// <summary>
/// Who is acting, and through which door: set once per Hangfire job (a server filter), per request (an
/// endpoint filter) and per command-line verb, and read by <see cref="Work"/> for the audit log and the log
/// scope. A legal act names a person; a job acts as <c>job:ID</c>.
/// </summary>
public sealed record Acting(string Actor, string Channel, string? JobId = null)
{
    public const string Web = "web";
    public const string Cli = "cli";
    public const string Job = "job";

    private static readonly AsyncLocal<Acting?> Ambient = new();

    /// <summary>What runs outside any job, request or verb (start-up, tests that call a service directly): background work.</summary>
    public static Acting System { get; } = new("system", Job);

    public static Acting Current => Ambient.Value ?? System;

    /// <summary>Sets who acts until the returned scope is disposed (then the previous one is back).</summary>
    public static IDisposable Begin(Acting acting)
    {
        var previous = Ambient.Value;
        Ambient.Value = acting;
        return new Restore(previous);
    }

    private sealed class Restore(Acting? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}

/// <summary>How one use of <see cref="Work"/> runs: its record, per-use settings and its advisory lock.</summary>
public sealed record WorkOptions
{
    public static WorkOptions Default { get; } = new();

    /// <summary>The record the work is about, for the log scope (a batch id, a plan id).</summary>
    public string? RecordId { get; init; }

    /// <summary>
    /// <c>SET LOCAL</c> settings for this transaction only, e.g. <c>jit = off</c> for a page whose plans
    /// are cheap but whose JIT compilation is not.
    /// </summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>A transaction-scoped advisory lock taken before the work (waits for it).</summary>
    public string? Lock { get; init; }

    /// <summary>
    /// A session-level advisory lock taken on the connection <em>before</em> the transaction begins and
    /// released after it ends (commit, rollback or error; a killed process releases it with its session).
    /// For a repeatable-read work whose snapshot must be taken after the wait: PostgreSQL takes the snapshot
    /// at the first statement, and a transaction-scoped <see cref="Lock"/> is itself a statement, so a work
    /// waiting there would read what was true before the holder committed (the inspection draw needs this).
    /// </summary>
    public string? SessionLock { get; init; }

    public IsolationLevel Isolation { get; init; } = IsolationLevel.ReadCommitted;

    /// <summary>Statement timeout in seconds for the commands of this work (0 = none; null = Npgsql's default).</summary>
    public int? CommandTimeout { get; init; }

    /// <summary>
    /// A dry run: the body runs in full (every statement, every queued message), then the transaction is
    /// rolled back instead of committed and the outbox is not signalled. For verbs such as
    /// <c>zero-employment check --dry-run</c>, which print what a run would do and change nothing.
    /// </summary>
    public bool RollBack { get; init; }
}

/// <summary>
/// One transaction on one connection, as a feature's code sees it: the Dapper calls carry the
/// transaction, the cancellation token and the timeout, and the audit record names the acting person.
/// </summary>
public sealed class UnitOfWork
{
    internal UnitOfWork(NpgsqlConnection connection, NpgsqlTransaction transaction, Acting acting, int? timeout, CancellationToken ct)
    {
        Connection = connection;
        Transaction = transaction;
        Acting = acting;
        _timeout = timeout;
        Cancellation = ct;
    }

    private readonly int? _timeout;

    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }
    public Acting Acting { get; }
    public CancellationToken Cancellation { get; }

    /// <summary>Set when the work queued mail, so the outbox is signalled after the commit.</summary>
    public bool MailQueued { get; private set; }

    public void QueuedMail() => MailQueued = true;

    public CommandDefinition Command(string sql, object? args = null, int? timeout = null) =>
        new(sql, args, Transaction, timeout ?? _timeout, cancellationToken: Cancellation);

    public Task<int> ExecuteAsync(string sql, object? args = null, int? timeout = null) =>
        Connection.ExecuteAsync(Command(sql, args, timeout));

    public Task<T?> ScalarAsync<T>(string sql, object? args = null) =>
        Connection.ExecuteScalarAsync<T>(Command(sql, args));

    public Task<T> SingleAsync<T>(string sql, object? args = null) =>
        Connection.QuerySingleAsync<T>(Command(sql, args));

    public Task<T?> SingleOrDefaultAsync<T>(string sql, object? args = null) =>
        Connection.QuerySingleOrDefaultAsync<T>(Command(sql, args));

    public async Task<List<T>> ListAsync<T>(string sql, object? args = null) =>
        (await Connection.QueryAsync<T>(Command(sql, args))).AsList();

    /// <summary>Records the act in the audit log in this transaction, as the acting person.</summary>
    public Task AuditAsync(string action, string subjectType, string subjectId, object? before = null, object? after = null, string? details = null) =>
        AuditLog.WriteAsync(Connection, Transaction, Acting.Actor, action, subjectType, subjectId, before, after, details);

    /// <summary>Queues a message in the outbox in this transaction; delivery is signalled after the commit.</summary>
    public async Task<bool> EnqueueAsync(OutboxMessage message)
    {
        var stored = await Outbox.EnqueueAsync(Connection, Transaction, message, Cancellation);
        if (stored) MailQueued = true;
        return stored;
    }
}

/// <summary>
/// The one unit of work (ARCHITECTURE.md): opens the connection, begins the transaction, applies the use's
/// settings, takes its advisory lock, opens a log scope (use, actor, channel, job, record), runs the body,
/// commits, and signals the outbox when mail was queued. An exception rolls everything back and escapes,
/// so Hangfire retries and the page or verb reports it. Feature code never begins a transaction itself.
/// </summary>
public sealed class Work(NpgsqlDataSource db, IOutboxSignal outbox, ILogger<Work> log)
{
    public async Task<T> RunAsync<T>(string use, Func<UnitOfWork, Task<T>> body, CancellationToken ct, WorkOptions? options = null)
    {
        options ??= WorkOptions.Default;
        var acting = Acting.Current;
        using var scope = log.BeginScope(new Dictionary<string, object?>
        {
            ["Use"] = use,
            ["Actor"] = acting.Actor,
            ["Channel"] = acting.Channel,
            ["JobId"] = acting.JobId,
            ["RecordId"] = options.RecordId,
        });
        await using var conn = await db.OpenConnectionAsync(ct);
        if (options.SessionLock is not { } sessionKey)
            return await InTransactionAsync(conn, acting, body, options, ct);
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(hashtextextended(@sessionKey, 0))", new { sessionKey }, commandTimeout: 0, cancellationToken: ct));
        try
        {
            return await InTransactionAsync(conn, acting, body, options, ct);
        }
        finally
        {
            // A pooled connection keeps its session locks until it is reset: release it now.
            if (conn.State == ConnectionState.Open)
                await conn.ExecuteAsync("SELECT pg_advisory_unlock(hashtextextended(@sessionKey, 0))", new { sessionKey });
        }
    }

    private async Task<T> InTransactionAsync<T>(NpgsqlConnection conn, Acting acting, Func<UnitOfWork, Task<T>> body, WorkOptions options, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(options.Isolation, ct);
        var uow = new UnitOfWork(conn, tx, acting, options.CommandTimeout, ct);
        foreach (var setting in options.Settings)
            await uow.ExecuteAsync("SET LOCAL " + setting);
        if (options.Lock is { } key)
            await uow.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key }, timeout: 0);
        var result = await body(uow);
        if (options.RollBack)
        {
            await tx.RollbackAsync(ct);
            return result;
        }
        await tx.CommitAsync(ct);
        if (uow.MailQueued) outbox.MailQueued();
        return result;
    }

    public Task RunAsync(string use, Func<UnitOfWork, Task> body, CancellationToken ct, WorkOptions? options = null) =>
        RunAsync<bool>(use, async uow => { await body(uow); return true; }, ct, options);
}
