using System.Diagnostics;
using System.Text;

namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>
/// The real executable as a child process (e.g. <c>serve --role worker</c> or <c>jobs run outbox-delivery</c>)
/// against a test database, for crash and race tests: kill it with SIGKILL, restart it, run two at once.
/// <c>killAt</c> = "point-name:N" makes it SIGKILL itself at the Nth pass of a <c>TestHooks.Point</c>.
/// <c>dll</c> runs a console of tools/ instead (e.g. <see cref="DemoDllPath"/> for <c>seed-demo</c>).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "Lingyuan.Jobs.dll");

    /// <summary>tools/Lingyuan.Jobs.Demo: <c>seed-demo</c>.</summary>
    public static string DemoDllPath => Path.Combine(AppContext.BaseDirectory, "Lingyuan.Jobs.Demo.dll");

    private ServiceProcess(Process process) => _process = process;

    public string Output { get { lock (_output) return _output.ToString(); } }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public int Id => _process.Id;

    public static ServiceProcess Start(DatabaseFixture db, string arguments, Dictionary<string, string?>? settings = null, string? killAt = null, string? stdin = null, string? dll = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(dll ?? DllPath);
        foreach (var a in SplitArgs(arguments)) psi.ArgumentList.Add(a);
        var all = db.Settings();
        all["Worker:Urls"] = "http://127.0.0.1:0";
        all["Dashboard:Urls"] = "http://127.0.0.1:0";
        foreach (var (k, v) in settings ?? []) all[k] = v;
        foreach (var (k, v) in all) psi.Environment[k.Replace(":", "__")] = v;
        psi.Environment["LINGYUAN_CONTENT_ROOT"] = AppContext.BaseDirectory;
        if (killAt is not null) psi.Environment["LINGYUAN_TEST_KILL_AT"] = killAt;
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var sp = new ServiceProcess(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sp._output) sp._output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sp._output) sp._output.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        return sp;
    }

    /// <summary>Runs a verb to its end and returns (exit code, output).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(DatabaseFixture db, string arguments, Dictionary<string, string?>? settings = null, string? killAt = null, string? stdin = null, TimeSpan? timeout = null, string? dll = null)
    {
        await using var p = Start(db, arguments, settings, killAt, stdin, dll);
        var code = await p.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(3));
        return (code, p.Output);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Kill(); throw new TimeoutException($"process did not exit within {timeout}: {Output}"); }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no cleanup.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    /// <summary>True when the process was ended by SIGKILL (exit status 137 as the shell reports it).</summary>
    public bool WasKilled => _process.HasExited && _process.ExitCode is 137 or -1 or 9;

    private static IEnumerable<string> SplitArgs(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public async ValueTask DisposeAsync()
    {
        Kill();
        try { await _process.WaitForExitAsync(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
