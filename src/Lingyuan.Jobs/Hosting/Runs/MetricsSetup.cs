using System.Diagnostics.Metrics;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OpenTelemetry.Metrics;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// Settings of the metrics endpoint (section <c>Metrics</c>). Off unless one is set: <c>Metrics:Token</c>
/// (the scraper sends <c>Authorization: Bearer TOKEN</c>) and/or <c>Metrics:Urls</c> (extra addresses the
/// process listens on, e.g. <c>http://10.0.0.5:9464</c>; a scrape arriving there needs no token).
/// </summary>
public sealed class MetricsOptions
{
    public string? Token { get; set; }
    public string? Urls { get; set; }
    public string Path { get; set; } = "/metrics";

    public bool Enabled => !string.IsNullOrWhiteSpace(Token) || !string.IsNullOrWhiteSpace(Urls);

    public IEnumerable<Uri> MetricsUris() =>
        (Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u));
}

/// <summary>
/// Gauges read from the database at scrape time (cached briefly): the outbox backlog and the age of its
/// oldest pending message, and the latest batch's totals.
/// </summary>
public sealed class StateGauges : IDisposable
{
    private readonly Meter _meter;
    private readonly Work _work;
    private readonly OutboxAlerts _outbox;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private (DateTimeOffset At, OutboxHealth Outbox, BatchTotals? Batch)? _cached;

    private sealed record BatchTotals(string Period, long PayableCount, long PayableTotalFen, long HeldCount);

    public StateGauges(IMeterFactory meters, Work work, OutboxAlerts outbox, TimeProvider time)
    {
        _work = work;
        _outbox = outbox;
        _time = time;
        _meter = meters.Create(JobMetrics.MeterName + ".State");
        _meter.CreateObservableGauge("lingyuan_outbox_pending", () => Read().Outbox.Pending, "{message}", "Messages waiting in the outbox");
        _meter.CreateObservableGauge("lingyuan_outbox_oldest_pending_age", () =>
            Read().Outbox.OldestPendingSince is { } t ? (_time.GetUtcNow() - new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc))).TotalSeconds : 0d,
            "s", "Age of the oldest pending message");
        _meter.CreateObservableGauge("lingyuan_outbox_failed_recent", () => Read().Outbox.FailedRecently, "{message}", "Messages failed permanently in the last day");
        _meter.CreateObservableGauge("lingyuan_batch_payable_lines", () => Batch(b => b.PayableCount), "{line}", "Payable lines of the latest batch");
        _meter.CreateObservableGauge("lingyuan_batch_payable_total_fen", () => Batch(b => b.PayableTotalFen), "fen", "Payable total of the latest batch");
        _meter.CreateObservableGauge("lingyuan_batch_held_lines", () => Batch(b => b.HeldCount), "{line}", "Held lines of the latest batch");
    }

    private IEnumerable<Measurement<long>> Batch(Func<BatchTotals, long> pick) =>
        Read().Batch is { } b ? [new Measurement<long>(pick(b), new KeyValuePair<string, object?>("period", b.Period))] : [];

    private (DateTimeOffset At, OutboxHealth Outbox, BatchTotals? Batch) Read()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_cached is { } c && now - c.At < TimeSpan.FromSeconds(10)) return c;
            var outbox = _outbox.HealthAsync(CancellationToken.None).GetAwaiter().GetResult();
            var batch = _work.RunAsync("metrics.batch", uow => uow.SingleOrDefaultAsync<BatchTotals>(
                """
                SELECT to_char(period, 'YYYY-MM') AS Period, payable_count AS PayableCount, payable_total_fen AS PayableTotalFen, held_count AS HeldCount
                FROM app.disbursement_batches WHERE state <> 'rejected' ORDER BY period DESC, id DESC LIMIT 1
                """), CancellationToken.None).GetAwaiter().GetResult();
            _cached = (now, outbox, batch);
            return _cached.Value;
        }
    }

    public void Dispose() => _meter.Dispose();
}

public static class MetricsSetup
{
    public static WebApplicationBuilder AddMetricsExport(this WebApplicationBuilder builder, AppRole role)
    {
        var o = builder.Configuration.GetSection("Metrics").Get<MetricsOptions>() ?? new MetricsOptions();
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration("Metrics")
            .Validate(m => string.IsNullOrEmpty(m.Token) || m.Token.Length >= 16, "Metrics:Token must be at least 16 characters / 指标令牌至少 16 个字符")
            .Validate(m => m.MetricsUris().All(u => u.IsAbsoluteUri), "Metrics:Urls must be absolute URLs / 指标监听地址无效")
            .ValidateOnStart();
        if (!o.Enabled || !role.IsServer()) return builder;
        builder.Services.AddSingleton<StateGauges>();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(JobMetrics.MeterName, JobMetrics.MeterName + ".State")
            .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(o.Urls))
        {
            var current = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
            builder.WebHost.UseUrls($"{current};{o.Urls}".Split(';', StringSplitOptions.RemoveEmptyEntries));
        }
        return builder;
    }

    /// <summary>The Prometheus endpoint: answered only with the token, or on a <c>Metrics:Urls</c> address; otherwise 401.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var o = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MetricsOptions>>().Value;
        if (!o.Enabled || app.Services.GetService<MeterProvider>() is null) return app;
        _ = app.Services.GetRequiredService<StateGauges>();
        var ports = o.MetricsUris().Select(u => u.Port).ToHashSet();
        app.Use(async (ctx, next) =>
        {
            // A Metrics:Urls address is the scraper's door only: nothing else (the dashboard, health) answers there.
            if (ports.Contains(ctx.Connection.LocalPort) && !ctx.Request.Path.Equals(o.Path, StringComparison.OrdinalIgnoreCase))
            {
                ctx.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            if (ctx.Request.Path.Equals(o.Path, StringComparison.OrdinalIgnoreCase) && !Allowed(ctx, o, ports))
            {
                ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.Response.WriteAsync("需要指标令牌(Authorization: Bearer …)/ metrics token required\n");
                return;
            }
            await next(ctx);
        });
        app.MapPrometheusScrapingEndpoint(o.Path).AllowAnonymous();
        return app;
    }

    private static bool Allowed(HttpContext ctx, MetricsOptions o, HashSet<int> ports)
    {
        if (ports.Contains(ctx.Connection.LocalPort)) return true;
        if (string.IsNullOrEmpty(o.Token)) return false;
        var header = ctx.Request.Headers.Authorization.ToString();
        var expected = "Bearer " + o.Token;
        return header.Length == expected.Length
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(header), System.Text.Encoding.UTF8.GetBytes(expected));
    }
}
