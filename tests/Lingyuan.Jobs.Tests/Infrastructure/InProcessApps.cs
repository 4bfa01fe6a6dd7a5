using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>
/// What every app a test builds in this process shares. Hangfire keeps its log provider in process-wide
/// static state, set from the logger factory of whichever app resolved Hangfire last; when that app is
/// disposed (its fixture ended) while another still runs, Hangfire code in the running one logged through
/// a disposed factory and answered 500 (seen on /hangfire/outbox/1/requeue). Production runs one app per
/// process. Tests give every app one logger factory that lives as long as the process, so Hangfire's static
/// provider always points at a live one.
/// </summary>
internal static class InProcessApps
{
    private static readonly ILoggerFactory SharedLoggerFactory = LoggerFactory.Create(b => b
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        })
        .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
        .AddFilter("Hangfire", LogLevel.Information)
        .AddFilter("Npgsql", LogLevel.Warning));

    /// <summary>The test's own service replacements, after the shared logger factory.</summary>
    public static Action<IServiceCollection> Services(Action<IServiceCollection>? testServices) => services =>
    {
        // Registered as an instance: the app's container does not dispose what it did not create.
        services.AddSingleton(SharedLoggerFactory);
        testServices?.Invoke(services);
    };
}
