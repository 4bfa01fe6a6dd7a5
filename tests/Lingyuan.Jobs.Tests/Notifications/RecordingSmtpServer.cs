using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Lingyuan.Jobs.Tests.Notifications;

/// <summary>
/// A real SMTP server in the test process (the SmtpServer package) that records every message it
/// accepts with its Message-Id and the connection (session) it came on, and answers what the test
/// tells it to: 250, a 4xx or a 5xx. Used where a test must inject faults or count exactly.
/// </summary>
public sealed class RecordingSmtpServer : IAsyncDisposable
{
    public sealed record Received(string MessageId, Guid Session, MimeMessage Message);

    private readonly ConcurrentQueue<Received> _received = new();
    private CancellationTokenSource? _cts;
    private Task? _running;

    public int Port { get; } = FreePort();

    /// <summary>What the server answers to DATA; null (the default) = 250 accept and record.</summary>
    public Func<MimeMessage, SmtpResponse?> Answer { get; set; } = _ => null;

    /// <summary>Time the server takes per message, to make concurrent workers overlap.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    public IReadOnlyList<Received> Messages => _received.ToList();

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public RecordingSmtpServer Start()
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        _cts = new CancellationTokenSource();
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_cts.Token);
        return this;
    }

    public async Task StopAsync()
    {
        if (_cts is null) return;
        await _cts.CancelAsync();
        try { await _running!; } catch (OperationCanceledException) { }
        _cts.Dispose();
        _cts = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private sealed class Store(RecordingSmtpServer server) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(
            SmtpServer.ISessionContext context, SmtpServer.IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct)
        {
            var message = await MimeMessage.LoadAsync(new MemoryStream(buffer.ToArray()), ct);
            if (server.Delay > TimeSpan.Zero) await Task.Delay(server.Delay, ct);
            if (server.Answer(message) is { } refusal) return refusal;
            server._received.Enqueue(new Received(message.MessageId ?? "(none)", context.SessionId, message));
            return SmtpResponse.Ok;
        }
    }
}
