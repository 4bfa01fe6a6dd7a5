using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Disbursements.Periods;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>
/// Build, export and reconcile against the bounds of QUALITY.md, measured in the same run. CI runs it small
/// (checks the workflow end to end); set LINGYUAN_BENCH_ROWS=1000000 for the real figures, which are then
/// also held to the targets. Prints one Markdown table.
/// </summary>
public sealed class DisbursementBench(DatabaseFixture fixture, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    private static int Rows => int.TryParse(Environment.GetEnvironmentVariable("LINGYUAN_BENCH_ROWS"), out var n) ? n : 20_000;

    [Fact]
    public async Task Build_export_and_reconcile_keep_to_their_bounds()
    {
        var rows = Rows;
        var r = new RegisterRows(fixture.DataSource);
        await r.ResetAsync();
        await using var conn = await fixture.DataSource.OpenConnectionAsync();
        // ~2 % held: 1 % inactive cards, 1 % lapsed eligibility (pensions drawn since 2025-01: past the first 12 months,
        // in which the award stands for the verification).
        await conn.ExecuteAsync("""
            INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
            SELECT '211382' || lpad(n::text, 12, '0'), '测试' || n, 'H' || n, '城关街道', '南街社区', 'urban', false, false, 'retired' FROM generate_series(1, @rows) n;
            INSERT INTO app.cards (id_number, card_no, bank_code, bank_account, financial_status)
            SELECT '211382' || lpad(n::text, 12, '0'), 'C' || n, '102', '6217' || lpad(n::text, 12, '0'), CASE WHEN n % 100 = 0 THEN 'inactive' ELSE 'active' END
            FROM generate_series(1, @rows) n;
            INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period)
            SELECT '211382' || lpad(n::text, 12, '0'), 'enterprise_pension', 150000 + n % 100000, '2025-01-01' FROM generate_series(1, @rows) n;
            INSERT INTO app.life_events (id_number, event, date)
            SELECT '211382' || lpad(n::text, 12, '0'), 'eligibility_verified', CASE WHEN n % 100 = 50 THEN date '2024-01-10' ELSE date '2026-01-10' END
            FROM generate_series(1, @rows) n;
            ANALYZE app.persons; ANALYZE app.cards; ANALYZE app.entitlements; ANALYZE app.life_events;
            """, new { rows }, commandTimeout: 0);

        var builder = fixture.Services.GetRequiredService<BatchBuilder>();
        var table = new List<string> { "| workload | rows | ours (s) | bound (s) | ratio | rows/s | peak RSS |", "|---|---|---|---|---|---|---|" };
        void Row(string name, long n, double ours, double bound, string rss = "") =>
            table.Add(string.Create(CultureInfo.InvariantCulture, $"| {name} | {n:N0} | {ours:F2} | {bound:F2} | {ours / bound:F2} | {n / ours:N0} | {rss} |"));

        // Bound: a bare INSERT … SELECT of the same lines (same columns, joined to persons and cards), into an unindexed copy.
        await conn.ExecuteAsync("DROP TABLE IF EXISTS bench_bound; CREATE TABLE bench_bound (LIKE app.disbursement_lines INCLUDING DEFAULTS INCLUDING IDENTITY)");
        var boundBuild = await TimeAsync(() => conn.ExecuteAsync("""
            INSERT INTO bench_bound (batch_id, kind, id_number, benefit, period, amount_fen, status, bank_code, bank_account, account_name)
            SELECT 0, 'regular', e.id_number, e.benefit, date '2026-03-01', e.monthly_amount_fen, 'payable', c.bank_code, c.bank_account, p.name
            FROM app.entitlements e JOIN app.persons p ON p.id_number = e.id_number JOIN app.cards c ON c.id_number = e.id_number
            """, commandTimeout: 0));
        await conn.ExecuteAsync("DROP TABLE bench_bound");
        // Second bound: the same bare INSERT … SELECT into a copy of the lines table with all its indexes and
        // checks (what storing a batch costs at all, without any rule).
        await conn.ExecuteAsync("DROP TABLE IF EXISTS bench_bound2; CREATE TABLE bench_bound2 (LIKE app.disbursement_lines INCLUDING ALL)");
        var boundIndexed = await TimeAsync(() => conn.ExecuteAsync("""
            INSERT INTO bench_bound2 (batch_id, kind, id_number, benefit, period, amount_fen, status, bank_code, bank_account, account_name)
            SELECT 0, 'regular', e.id_number, e.benefit, date '2026-03-01', e.monthly_amount_fen, 'payable', c.bank_code, c.bank_account, p.name
            FROM app.entitlements e JOIN app.persons p ON p.id_number = e.id_number JOIN app.cards c ON c.id_number = e.id_number
            """, commandTimeout: 0));
        await conn.ExecuteAsync("DROP TABLE bench_bound2");
        var first = await TimeAsync(() => builder.BuildAsync(P("2026-02"), "bench", default));
        await conn.ExecuteAsync("VACUUM ANALYZE app.disbursement_lines");
        BuildResult mar = null!;
        var build = await TimeAsync(async () => mar = await builder.BuildAsync(P("2026-03"), "bench", default));
        Row("build batch (first month, no previous)", rows, first, boundBuild);
        Row("build batch (with last month's lines)", rows, build, boundBuild);
        Row("build batch (with last month's lines) vs bound into the indexed lines table", rows, build, boundIndexed);

        var header = (await Batches.FindAsync(fixture.Services, mar.BatchId))!;
        Assert.Equal(rows, header.PayableCount + header.HeldCount);
        Assert.InRange(header.HeldCount, rows / 100, rows / 25);

        var users = fixture.Services.GetRequiredService<UserStore>();
        await r.AddUserAsync(users, "bench-a", "finance");
        await r.AddUserAsync(users, "bench-b", "finance");
        var review = fixture.Services.GetRequiredService<BatchReview>();
        await review.SubmitAsync(mar.BatchId, "bench-a", default);
        var approve = await TimeAsync(() => review.ApproveAsync(mar.BatchId, "bench-b", default));
        table.Add(string.Create(CultureInfo.InvariantCulture, $"| approve (count, total, SHA-256 of the lines) | {header.PayableCount:N0} | {approve:F2} | | | | |"));

        // Export bound: COPY … TO STDOUT of the same columns and order, read and discarded.
        var boundExport = await TimeAsync(async () =>
        {
            using var reader = await conn.BeginTextExportAsync($"""
                COPY (SELECT 'D', id, bank_code, bank_account, account_name, amount_fen, benefit FROM app.disbursement_lines
                      WHERE batch_id = {mar.BatchId} AND status = 'payable' ORDER BY id) TO STDOUT (FORMAT csv)
                """);
            var buffer = new char[1 << 15];
            while (await reader.ReadAsync(buffer) > 0) { }
        });
        var file = Path.Combine(Path.GetTempPath(), $"bench-bank-{Guid.NewGuid():N}.csv");
        var export = await TimeAsync(() => fixture.Services.GetRequiredService<BankFile>().ExportToFileAsync(mar.BatchId, file, "bench", default));
        // Peak RSS of the real command in its own process (the export is idempotent: an exported batch can be written again).
        var file2 = file + ".cli";
        var (cliSeconds, peakKb, code, text) = await RunMeasuredAsync($"batch export {mar.BatchId} --out {file2}");
        Assert.True(code == 0, text);
        Row("export bank file (in process)", header.PayableCount, export, boundExport);
        table.Add(string.Create(CultureInfo.InvariantCulture, $"| export bank file (CLI process, incl. start-up) | {header.PayableCount:N0} | {cliSeconds:F2} | | | | {peakKb / 1024.0:F0} MB |"));
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(file2));

        // Return file: every line paid.
        var returns = file + ".returns.csv";
        await using (var w = new StreamWriter(returns, false, new UTF8Encoding(false), 1 << 16))
        {
            await w.WriteAsync("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n");
            using var reader = new StreamReader(file);
            await reader.ReadLineAsync();
            while (await reader.ReadLineAsync() is { } line)
            {
                var f = line.Split(',');
                await w.WriteAsync($"{f[1]},paid,{f[5]},T{f[1]},,\n");
            }
        }
        var boundReconcile = await TimeAsync(async () =>
        {
            await conn.ExecuteAsync("DROP TABLE IF EXISTS bench_returns; CREATE UNLOGGED TABLE bench_returns (line_ref text, status text, amount text, bank_txn_ref text, failure_code text, failure_reason text)");
            await using var writer = await conn.BeginTextImportAsync("COPY bench_returns FROM STDIN (FORMAT csv, HEADER true)");
            using var reader = new StreamReader(returns);
            var buffer = new char[1 << 15];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0) await writer.WriteAsync(buffer.AsMemory(0, n));
        });
        await conn.ExecuteAsync("DROP TABLE bench_returns");
        // Informational floor (not a target): the same COPY into a logged table keyed by the line reference, i.e. what
        // storing the outcomes durably with their primary key costs before any check.
        var floorReconcile = await TimeAsync(async () =>
        {
            await conn.ExecuteAsync("DROP TABLE IF EXISTS bench_returns2; CREATE TABLE bench_returns2 (line_ref bigint PRIMARY KEY, status text, amount numeric, bank_txn_ref text, failure_code text, failure_reason text)");
            await using var writer = await conn.BeginTextImportAsync("COPY bench_returns2 FROM STDIN (FORMAT csv, HEADER true)");
            using var reader = new StreamReader(returns);
            var buffer = new char[1 << 15];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0) await writer.WriteAsync(buffer.AsMemory(0, n));
        });
        await conn.ExecuteAsync("DROP TABLE bench_returns2");
        ReconcileResult rec = null!;
        var reconcile = await TimeAsync(async () =>
        {
            await using var s = File.OpenRead(returns);
            rec = await fixture.Services.GetRequiredService<Reconciler>().ReconcileAsync(mar.BatchId, s, "returns.csv", "bench", default);
        });
        Assert.Equal((BatchState.Reconciled, header.PayableCount), (rec.State, rec.Paid));
        Row("reconcile return file", header.PayableCount, reconcile, boundReconcile);
        Row("reconcile return file vs COPY into a logged table keyed by line_ref (floor, information only)", header.PayableCount, reconcile, floorReconcile);

        output.WriteLine(string.Join('\n', table));
        File.Delete(file); File.Delete(file2); File.Delete(returns);
        if (rows >= 1_000_000)
        {
            Assert.True(build <= 1.5 * boundBuild && build <= 20, $"build {build:F2} s vs bound {boundBuild:F2} s");
            Assert.True(export <= 1.5 * boundExport, $"export {export:F2} s vs bound {boundExport:F2} s");
            Assert.True(peakKb <= 200 * 1024, $"export peak RSS {peakKb} kB");
            Assert.True(reconcile <= 2 * boundReconcile, $"reconcile {reconcile:F2} s vs bound {boundReconcile:F2} s");
        }
    }

    private static async Task<double> TimeAsync(Func<Task> work)
    {
        var sw = Stopwatch.StartNew();
        await work();
        return sw.Elapsed.TotalSeconds;
    }

    private async Task<(double Seconds, long PeakKb, int Code, string Output)> RunMeasuredAsync(string args)
    {
        var sw = Stopwatch.StartNew();
        await using var p = ServiceProcess.Start(fixture, args);
        long peak = 0;
        while (!p.HasExited)
        {
            try
            {
                var line = File.ReadLines($"/proc/{p.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                if (line is not null) peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture));
            }
            catch (IOException) { }
            await Task.Delay(20);
        }
        var code = await p.WaitForExitAsync(TimeSpan.FromMinutes(10));
        return (sw.Elapsed.TotalSeconds, peak, code, p.Output);
    }
}
