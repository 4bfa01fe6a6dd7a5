using System.Collections.Concurrent;
using System.Diagnostics;

namespace Lingyuan.Jobs.Hosting;

/// <summary>
/// Named points where the crash tests kill the process (QUALITY.md, Reliability). Inert unless the
/// environment variable <c>LINGYUAN_TEST_KILL_AT</c> is set to <c>point-name:N</c>: then the process
/// kills itself with SIGKILL (no cleanup, no flush, like a power cut) the Nth time it reaches that point.
/// </summary>
public static class TestHooks
{
    private static readonly (string Point, int Hit)? KillAt = Parse(Environment.GetEnvironmentVariable("LINGYUAN_TEST_KILL_AT"));
    private static readonly ConcurrentDictionary<string, int> Hits = new();

    public static void Point(string name)
    {
        if (KillAt is not { } k || k.Point != name) return;
        if (Hits.AddOrUpdate(name, 1, (_, n) => n + 1) == k.Hit)
            Process.GetCurrentProcess().Kill(); // SIGKILL on Linux
    }

    private static (string, int)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value[(colon + 1)..], out var n) ? (value[..colon], n) : (value, 1);
    }
}
