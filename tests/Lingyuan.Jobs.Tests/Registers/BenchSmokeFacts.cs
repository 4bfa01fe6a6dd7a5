using System.Diagnostics;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>ops/bench/run at a tiny scale, so the harness and the import-persons workload cannot rot unnoticed.</summary>
public sealed class BenchSmokeFacts
{
    [Fact]
    public async Task The_bench_runs_import_persons_at_a_tiny_scale_and_writes_its_table()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ops", "bench", "run"))) root = root.Parent;
        Assert.NotNull(root);
        var results = Directory.CreateTempSubdirectory("lingyuan-bench-smoke");
        var psi = new ProcessStartInfo(Path.Combine(root.FullName, "ops", "bench", "run"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root.FullName,
        };
        foreach (var a in new[] { "--only", "import-persons", "--scale", "0.001", "--repeat", "1" }) psi.ArgumentList.Add(a);
        psi.Environment["LINGYUAN_BENCH_DLL"] = Path.Combine(AppContext.BaseDirectory, "Lingyuan.Jobs.dll");
        psi.Environment["LINGYUAN_BENCH_RESULTS"] = results.FullName;
        psi.Environment["PG_FSYNC"] = "off";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await p.WaitForExitAsync(cts.Token);

        Assert.True(p.ExitCode == 0, await stderr);
        var table = await File.ReadAllTextAsync(Path.Combine(results.FullName, "latest.md"));
        Assert.Contains("| workload | rows | our time | bound time | ratio | rows/s | peak RSS |", table);
        Assert.Matches(@"\| import persons \| 1,000 \| [0-9.]+ s \| [0-9.]+ s \| [0-9.]+ \| [0-9,]+ \| [0-9]+ MB \|", table);
        Assert.Matches(@"\| re-import persons, unchanged \| 1,000 \|", table);
        Assert.Contains(table.Trim(), (await stdout).Trim());
        results.Delete(recursive: true);
    }
}
