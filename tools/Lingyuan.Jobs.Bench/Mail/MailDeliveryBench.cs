using System.Diagnostics;
using System.Net;
using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Bench.Mail;

/// <summary>
/// The "mail delivery" workload of QUALITY.md: N messages through the real delivery path (outbox rows,
/// row locks, MailKit, status updates) to the local SMTP server over one reused connection, against the
/// same path reconnecting for every message (Smtp:MaxMessagesPerConnection = 1), in the same run.
/// Prints one Markdown table as ops/bench expects. Refuses a non-loopback server: it sends real mail.
/// </summary>
public sealed class MailBenchCommand(NpgsqlDataSource db, IOptions<SmtpOptions> options, TimeProvider clock, ILoggerFactory logs) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "mail",
        "measure mail delivery throughput against a local SMTP server / 测量邮件发送吞吐量(仅限本机邮件服务器)",
        """
        usage: Lingyuan.Jobs.Bench mail [--count N]
        用法:  Lingyuan.Jobs.Bench mail [--count 数量]
          --count  messages per pass (default 1000) / 每轮邮件数(默认 1000)
        Queues N messages and delivers them over one reused connection, then N more reconnecting for
        each message; prints a Markdown table. Smtp:Host must be a loopback address. The bench rows
        are deleted from the outbox afterwards.
        """,
        ValueOptions: ["count"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        var count = int.TryParse(args.Option("count") ?? "1000", out var n) && n > 0
            ? n : throw new UsageException("--count must be a positive number / --count 必须为正整数");
        var o = options.Value;
        if (!IsLoopback(o.Host))
            throw new UsageException($"Smtp:Host is '{o.Host}': the bench sends real mail and runs only against a server on this machine / 只能对本机邮件服务器测试");

        // Warm-up (JIT, connection pools), not measured.
        await PassAsync(o, Math.Min(50, count), "warmup", ct);
        var reuse = await PassAsync(o, count, "reuse", ct);
        var reconnect = await PassAsync(Copy(o, maxPerConnection: 1), count, "reconnect", ct);
        var rss = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
        Console.WriteLine("| workload | rows | our time | bound time | ratio | rows/s | peak RSS |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        Console.WriteLine(FormattableString.Invariant(
            $"| mail delivery (one connection vs reconnect per message) | {count} | {reuse.TotalSeconds:0.000} s | {reconnect.TotalSeconds:0.000} s | {reuse / reconnect:0.00} | {count / reuse.TotalSeconds:0} (bound {count / reconnect.TotalSeconds:0}) | {rss:0} MB |"));
        return ExitCodes.Ok;
    }

    private async Task<TimeSpan> PassAsync(SmtpOptions o, int count, string label, CancellationToken ct)
    {
        var prefix = $"bench:{label}:{Guid.NewGuid():N}:";
        var mail = MailTemplates.Render("smtp-test", new { Title = "吞吐量测试", RecipientName = "测试", IdNumber = "11010519491231002X", AmountFen = 100L });
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO app.outbox (dedupe_key, recipients, subject, text_body, html_body, regarding_type, regarding_id, next_attempt_at)
            SELECT @prefix || g, ARRAY['p' || g || '@bench-' || @label || '.test'], @Subject, @TextBody, @HtmlBody, 'bench', @prefix || g, now() - interval '1 second'
            FROM generate_series(1, @count) g
            """, new { prefix, label, count, mail.Subject, mail.TextBody, mail.HtmlBody }, cancellationToken: ct));
        try
        {
            // Delivery queues no mail, so the unit of work never signals the outbox: no signal is wired here.
            var work = new Lingyuan.Jobs.Database.Work(db, new NoSignal(), logs.CreateLogger<Lingyuan.Jobs.Database.Work>());
            var delivery = new OutboxDelivery(work, Options.Create(o), clock, logs.CreateLogger<OutboxDelivery>());
            var started = Stopwatch.GetTimestamp();
            var report = await delivery.DeliverDueAsync(ct);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (report.ServerDown is not null)
                throw new ServiceUnavailableException($"SMTP server {o.Host}:{o.Port} (Smtp:Host/Port) unreachable: {report.ServerDown}");
            if (report.Sent < count)
                throw new InvalidOperationException($"bench pass '{label}' sent {report.Sent} of {count}: {report}");
            return elapsed;
        }
        finally
        {
            await conn.ExecuteAsync(new CommandDefinition(
                "DELETE FROM app.outbox WHERE dedupe_key LIKE @like", new { like = prefix + "%" }, cancellationToken: CancellationToken.None));
        }
    }

    private static SmtpOptions Copy(SmtpOptions o, int maxPerConnection) => new()
    {
        Host = o.Host,
        Port = o.Port,
        Security = o.Security,
        User = o.User,
        Password = o.Password,
        From = o.From,
        ConnectTimeout = o.ConnectTimeout,
        CommandTimeout = o.CommandTimeout,
        RetryBaseDelay = o.RetryBaseDelay,
        RetryMaxDelay = o.RetryMaxDelay,
        RetryHorizon = o.RetryHorizon,
        BatchSize = o.BatchSize,
        MaxMessagesPerConnection = maxPerConnection,
    };

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    private sealed class NoSignal : IOutboxSignal
    {
        public void MailQueued() => throw new InvalidOperationException("the delivery bench queues no mail");
    }
}
