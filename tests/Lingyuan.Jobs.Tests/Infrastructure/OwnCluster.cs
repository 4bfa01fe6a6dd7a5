using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster of one test's own, for tests that stop and start the database
/// (the shared cluster of the run must never be stopped). Runs as the postgres user when we are root.
/// </summary>
public sealed class OwnCluster : IAsyncDisposable
{
    public string DataDir { get; }
    public int Port { get; }
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=5";

    private OwnCluster(string dataDir, int port) { DataDir = dataDir; Port = port; }

    public static async Task<OwnCluster> CreateAsync()
    {
        var dir = Path.Combine("/var/tmp", $"lingyuan-own-{Guid.NewGuid():N}"[..28]);
        Directory.CreateDirectory(dir);
        var cluster = new OwnCluster(dir, TestNet.FreePort());
        await RunAsync("chown", "postgres:postgres", dir);
        await cluster.AsPostgresAsync("initdb", "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8");
        await File.AppendAllTextAsync(Path.Combine(dir, "postgresql.conf"),
            $"\nlisten_addresses = '127.0.0.1'\nport = {cluster.Port}\nunix_socket_directories = '{dir}'\nfsync = off\n");
        await cluster.StartAsync();
        return cluster;
    }

    public Task StartAsync() => AsPostgresAsync("pg_ctl", "-D", DataDir, "-l", Path.Combine(DataDir, "server.log"), "-w", "start");

    public Task StopAsync() => AsPostgresAsync("pg_ctl", "-D", DataDir, "-m", "immediate", "-w", "stop");

    private Task AsPostgresAsync(string tool, params string[] args)
    {
        var exe = Path.Combine(TestEnv.PgBin, tool);
        return Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", exe, .. args])
            : RunAsync(exe, args);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}{await stdout}");
    }


    public async ValueTask DisposeAsync()
    {
        try { await StopAsync(); } catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
