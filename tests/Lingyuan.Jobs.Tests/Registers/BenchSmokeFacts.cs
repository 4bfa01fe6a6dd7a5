using System.Diagnostics;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>ops/bench/run at a tiny scale, so the harness and every workload of QUALITY.md cannot rot unnoticed.</summary>
public sealed class BenchSmokeFacts
{
    [Fact]
    public async Task The_bench_runs_every_workload_at_a_tiny_scale_and_writes_one_table_with_a_row_for_each()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ops", "bench", "run"))) root = root.Parent;
        Assert.NotNull(root);
        var results = Directory.CreateTempSubdirectory("lingyuan-bench-smoke");
        // In a process group of its own (setsid execs it, same pid), so a timeout can stop the bench and what it
        // runs with SIGTERM and let its exit trap stop its PostgreSQL.
        var psi = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root.FullName,
        };
        psi.ArgumentList.Add(Path.Combine(root.FullName, "ops", "bench", "run"));
        foreach (var a in new[] { "--scale", "0.001", "--repeat", "1" }) psi.ArgumentList.Add(a);
        psi.Environment["LINGYUAN_BENCH_DLL"] = Path.Combine(AppContext.BaseDirectory, "Lingyuan.Jobs.dll");
        psi.Environment["LINGYUAN_BENCH_TOOL"] = Path.Combine(AppContext.BaseDirectory, "Lingyuan.Jobs.Bench.dll");
        psi.Environment["LINGYUAN_BENCH_RESULTS"] = results.FullName;
        psi.Environment["PG_FSYNC"] = "off";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // About 70 s alone; the limit leaves room for the rest of the suite running beside it on two cores. If it
        // is reached, the bench's own log (a line per timing) says which workload was still running.
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            using (var kill = Process.Start("kill", ["-TERM", "--", $"-{p.Id}"])) await kill.WaitForExitAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try { await p.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { p.Kill(entireProcessTree: true); }
            var (output, errors) = (await stdout.WaitAsync(TimeSpan.FromSeconds(30)), await stderr.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Fail($"the bench did not finish within 10 minutes.\n--- stdout\n{output}\n--- stderr\n{errors}");
        }

        Assert.True(p.ExitCode == 0, await stderr);
        var table = await File.ReadAllTextAsync(Path.Combine(results.FullName, "latest.md"));
        Assert.Contains("| workload | rows | our time | bound time | ratio | rows/s | peak RSS |", table);
        const string Time = @"[0-9.]+ s", Ratio = @"[0-9.]+", Speed = "[0-9,]+", Rss = "[0-9]+ MB";
        // Measured against a bound (a ratio), or alone (ratio "—").
        string Bound(string name, string rows) => $@"\| {name} \| {rows} \| {Time} \| {Time} \| {Ratio} \| {Speed} \| {Rss} \|";
        string Alone(string name, string rows) => $@"\| {name} \| {rows} \| {Time} \| 0.00 s \| — \| ({Speed}|—) \| {Rss} \|";
        Assert.Matches(Bound("import persons", "1,000"), table);
        Assert.Matches(Bound("re-import persons, unchanged", "1,000"), table);
        Assert.Matches(Alone(@"refuse a 1 MiB line \(exit 65\)", "1"), table);
        Assert.Matches(Bound(@"build a disbursement batch \(with last month's lines\)", "1,000"), table);
        Assert.Matches(Bound(@"build growth: full size vs 1/10 \(ratio = growth, target ≤ 12\)", "1,000"), table);
        Assert.Matches(Bound(@"export the bank file \(bound: COPY of the file's columns, amount in yuan\)", "980"), table);
        Assert.Matches(Bound(@"export the bank file \(earlier bound: the amount in fen, not the file's bytes\)", "980"), table);
        Assert.Matches(Bound(@"reconcile a bank return file \(bound: COPY into a table keyed by line_ref\)", "980"), table);
        Assert.Matches(Alone(@"worker memory: serve --role worker running disbursement-build \(trigger → succeeded\)", "1,000"), table);
        Assert.Matches(Alone(@"double-random draw \(100 employers, 20 inspectors, 2 conflicts, teams of 2; [0-9]+ drawn\)", "100"), table);
        Assert.Matches(Alone(@"double-random verify \(100 employers, 20 inspectors, 2 conflicts, teams of 2; [0-9]+ drawn\)", "100"), table);
        Assert.Matches(Bound(@"zero-employment scan \(400 households; scan_ms vs GROUP BY count\)", "[0-9]{3}"), table);
        Assert.Matches(Bound(@"zero-employment scan growth: full size vs 1/10 \(ratio = growth, target ≤ 12\)", "[0-9]{3}"), table);
        Assert.Matches(Bound(@"mail delivery, one connection vs reconnect per message \(msg/s\)", "10"), table);
        Assert.Matches(Bound(@"Hangfire round trip, PostgreSQL storage vs Hangfire.InMemory \(8 workers; jobs/s\)", "10"), table);
        Assert.Contains(table.Trim(), (await stdout).Trim());
        results.Delete(recursive: true);
    }
}
