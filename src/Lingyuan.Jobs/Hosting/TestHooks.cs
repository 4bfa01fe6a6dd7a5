using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Lingyuan.Jobs.Hosting;

/// <summary>
/// Named points where the crash tests kill the process (QUALITY.md, Reliability). Inert unless the
/// environment variable <c>LINGYUAN_TEST_KILL_AT</c> is set to <c>point-name:N</c>: then the process
/// kills itself with SIGKILL (no cleanup, no flush, like a power cut) the Nth time it reaches that point.
/// The variable is read once, when the class is initialised; after that a point costs the test of a
/// <c>static readonly bool</c>, which the optimising JIT folds into a constant, so in production the call
/// disappears from the compiled code. Nothing else (counting, comparing names) runs unless armed.
/// </summary>
public static class TestHooks
{
    private static readonly KillPoint? KillAt = KillPoint.Parse(Environment.GetEnvironmentVariable("LINGYUAN_TEST_KILL_AT"));
    private static readonly bool Armed = KillAt is not null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Point(string name)
    {
        if (Armed) Hit(name);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Hit(string name) => KillAt!.Hit(name);

    private sealed class KillPoint(string point, int hit)
    {
        private int _hits;

        public void Hit(string name)
        {
            if (name != point) return;
            if (Interlocked.Increment(ref _hits) == hit)
                Process.GetCurrentProcess().Kill(); // SIGKILL on Linux
        }

        public static KillPoint? Parse(string? value)
        {
            if (string.IsNullOrEmpty(value)) return null;
            var colon = value.LastIndexOf(':');
            return colon > 0 && int.TryParse(value[(colon + 1)..], out var n) ? new(value[..colon], n) : new(value, 1);
        }
    }
}
