using System.Diagnostics;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Disbursements.Periods;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>
/// Issue 14, findings 9 and 10 for the bank files: <c>batch export --out</c> writes only a regular file, never
/// through a device, directory, link or pipe, never over an existing file without --force, and never deletes a
/// file it did not create; the return file's amounts are strict and its format problems are <c>FILE:LINE</c>.
/// Run through the real CLI (the refusals' exit codes and messages are what the operator sees).
/// </summary>
public sealed class FileSafetyTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly RegisterRows _r = new(fixture.DataSource);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"lingyuan-files-{Guid.NewGuid():N}");
    private BatchBuilder Builder => fixture.Services.GetRequiredService<BatchBuilder>();
    private BatchReview Review => fixture.Services.GetRequiredService<BatchReview>();
    private Reconciler Reconciler => fixture.Services.GetRequiredService<Reconciler>();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        await _r.ResetAsync();
        var users = fixture.Services.GetRequiredService<UserStore>();
        await _r.AddUserAsync(users, "preparer", "finance", $"preparer@{Guid.NewGuid():N}.test");
        await _r.AddUserAsync(users, "approver", "finance", $"approver@{Guid.NewGuid():N}.test");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<long> ApprovedBatchAsync()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        await _r.RecipientAsync(2, amountFen: 200_000);
        var b = await Builder.BuildAsync(P("2026-03"), "test", default);
        await Review.SubmitAsync(b.BatchId, "preparer", default);
        await Review.ApproveAsync(b.BatchId, "approver", default);
        return b.BatchId;
    }

    private Task<(int ExitCode, string Output)> ExportAsync(long id, string target, string extra = "") =>
        ServiceProcess.RunAsync(fixture, $"batch export {id} --out {target} {extra}");

    private async Task<BatchState> StateAsync(long id) => (await Batches.FindAsync(fixture.Services, id))!.State;

    /// <summary>The file type as stat(1) names it, a link not followed ("character special file", "fifo", …).</summary>
    private static string FileType(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%F", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>Files in the test directory, hidden ones included: no temporary file may be left behind.</summary>
    private string[] Entries() => Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public async Task Finding9_export_to_a_device_is_refused()
    {
        var id = await ApprovedBatchAsync();
        foreach (var device in new[] { "/dev/null", "/dev/stdout" })
        {
            var typeBefore = FileType(device);
            var (code, output) = await ExportAsync(id, device);
            Assert.Equal(ExitCodes.Usage, code);
            Assert.Contains($"--out {device}: is a", output);
            Assert.Equal(typeBefore, FileType(device)); // /dev/null stays a device, /dev/stdout a link
            Assert.Equal(BatchState.Approved, await StateAsync(id)); // refused before anything was exported
        }
        Assert.Equal("character special file", FileType("/dev/null"));
        // A device node of our own (the same major/minor as /dev/null), so the refusal is seen for a device path too.
        var node = Path.Combine(_dir, "null");
        Run("mknod", node, "c", "1", "3");
        var (c2, o2) = await ExportAsync(id, node);
        Assert.Equal(ExitCodes.Usage, c2);
        Assert.Contains($"--out {node}: is a device, expected a regular file path / 目标是设备文件", o2);
        Assert.Equal("character special file", FileType(node));
        Assert.Equal(["null"], Entries());
    }

    [Fact]
    public async Task Finding9_export_to_a_directory_a_symlink_or_a_fifo_is_refused()
    {
        var id = await ApprovedBatchAsync();
        var sub = Directory.CreateDirectory(Path.Combine(_dir, "sub")).FullName;
        var victim = Path.Combine(_dir, "victim.txt");
        await File.WriteAllTextAsync(victim, "not a bank file");
        var link = Path.Combine(_dir, "link.csv");
        File.CreateSymbolicLink(link, victim);
        var dangling = Path.Combine(_dir, "dangling.csv");
        File.CreateSymbolicLink(dangling, Path.Combine(_dir, "nowhere.csv"));
        var fifo = Path.Combine(_dir, "fifo.csv");
        Run("mkfifo", fifo);

        foreach (var (target, says) in new[]
                 {
                     (sub, "is a directory"), (sub + "/", "is a directory"), (link, "is a symbolic link"), (dangling, "is a symbolic link"),
                     (fifo, "is a named pipe or socket"),
                 })
        {
            foreach (var force in new[] { "", "--force" })
            {
                var (code, output) = await ExportAsync(id, target, force);
                Assert.True(code == ExitCodes.Usage, $"{target} {force}: {code} {output}");
                Assert.Contains(says, output);
                Assert.DoesNotContain("Exception", output);
            }
        }
        Assert.Equal("not a bank file", await File.ReadAllTextAsync(victim));
        Assert.Equal("symbolic link", FileType(link));
        Assert.Equal("symbolic link", FileType(dangling));
        Assert.Equal("fifo", FileType(fifo));
        Assert.Empty(Directory.GetFileSystemEntries(sub));
        Assert.False(File.Exists(Path.Combine(_dir, "nowhere.csv")));
        Assert.Equal(["dangling.csv", "fifo.csv", "link.csv", "sub", "victim.txt"], Entries());
        Assert.Equal(BatchState.Approved, await StateAsync(id));
    }

    [Fact]
    public async Task Finding9_an_existing_file_is_kept_without_force_and_replaced_with_it()
    {
        var id = await ApprovedBatchAsync();
        var target = Path.Combine(_dir, "bank.csv");
        await File.WriteAllTextAsync(target, "yesterday's file");

        var (code, output) = await ExportAsync(id, target);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"--out {target}: the file exists; add --force to replace it / 文件已存在,如需覆盖请加 --force", output);
        Assert.Equal("yesterday's file", await File.ReadAllTextAsync(target));
        Assert.Equal(BatchState.Approved, await StateAsync(id));

        (code, output) = await ExportAsync(id, target, "--force");
        Assert.True(code == 0, output);
        Assert.StartsWith($"H,{id},2026-03,2,300000,", await File.ReadAllTextAsync(target));
        Assert.Equal(BatchState.Exported, await StateAsync(id));
        Assert.Equal(["bank.csv"], Entries()); // no temporary file left

        var (help, text) = await ServiceProcess.RunAsync(fixture, "batch export --help");
        Assert.Equal(0, help);
        Assert.Contains("--force", text);
    }

    [Fact]
    public async Task Finding9_an_unrelated_partial_file_is_left_untouched()
    {
        var id = await ApprovedBatchAsync();
        var target = Path.Combine(_dir, "bank.csv");
        var partial = target + ".partial";
        await File.WriteAllTextAsync(partial, "someone else's download");

        var (code, output) = await ExportAsync(id, target);
        Assert.True(code == 0, output);
        Assert.Equal("someone else's download", await File.ReadAllTextAsync(partial));
        Assert.StartsWith($"H,{id},", await File.ReadAllTextAsync(target));

        // A refused export (the lines were changed behind the approval) deletes only its own temporary file.
        await File.WriteAllTextAsync(target, "kept");
        await using (var conn = await fixture.DataSource.OpenConnectionAsync())
        {
            await using var cmd = new Npgsql.NpgsqlCommand(
                """
                SET session_replication_role = replica;
                UPDATE app.disbursement_lines SET bank_account = '6217999999999999' WHERE id = (SELECT min(id) FROM app.disbursement_lines WHERE batch_id = $1);
                """.Replace("$1", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), conn);
            await cmd.ExecuteNonQueryAsync();
        }
        (code, output) = await ExportAsync(id, target, "--force");
        Assert.Equal(1, code);
        Assert.Contains("校验值与审批时不一致", output);
        Assert.Equal("kept", await File.ReadAllTextAsync(target));
        Assert.Equal("someone else's download", await File.ReadAllTextAsync(partial));
        Assert.Equal(["bank.csv", "bank.csv.partial"], Entries());
    }

    [Theory]
    [InlineData(",,1,,2,3.45")]
    [InlineData("1,2,3.45")]
    [InlineData("1,,000.00")]
    [InlineData("12,34.00")]
    [InlineData(",1000.00")]
    [InlineData("1000.00,")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("1 000.00")]
    [InlineData("+1000.00")]
    [InlineData("１０００.００")]
    [InlineData("1000.00.00")]
    public void Finding10_loose_return_file_amounts_are_refused(string amount) => Assert.False(Money.TryParseYuan(amount, out _), amount);

    [Theory]
    [InlineData("1,234.56", 123_456L)]
    [InlineData("1,234,567.8", 123_456_780L)]
    [InlineData("1234567.89", 123_456_789L)]
    [InlineData("0.05", 5L)]
    [InlineData(" 7 ", 700L)]
    public void Finding10_strict_return_file_amounts_still_parse(string amount, long fen)
    {
        Assert.True(Money.TryParseYuan(amount, out var parsed), amount);
        Assert.Equal(fen, parsed);
    }

    [Fact]
    public async Task Finding10_a_return_file_refuses_loose_amounts_and_names_an_unclosed_quote_by_file_and_line()
    {
        var id = await ApprovedBatchAsync();
        var (code, output) = await ExportAsync(id, Path.Combine(_dir, "bank.csv"));
        Assert.True(code == 0, output);
        var l = await _r.LinesAsync(id);
        const string header = "line_ref,status,amount,bank_txn_ref,failure_code,failure_reason";

        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(
            $"{header}\n{l[0].Id},paid,\",,1,,0,00.00\",T1,,\n{l[1].Id},paid,\"2,000.00\",T2,,\n"), "r.csv", "test", default));
        Assert.Equal(["r.csv:2: amount: ',,1,,0,00.00' is not yuan with at most two decimals / 金额“,,1,,0,00.00”格式错误,应为元,最多两位小数", "r.csv: nothing applied / 未应用任何记录"], ex.Problems);

        ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(
            $"{header}\n{l[0].Id},paid,1000.00,T1,,\n{l[1].Id},failed,2000.00,,E1,\"account closed\n"), "r.csv", "test", default));
        Assert.Equal(["r.csv:3: a quoted field is not closed before the end of the file / 引号未闭合"], ex.Problems);

        // CR-only line ends are lines too.
        var r = await Reconciler.ReconcileAsync(id, Csv($"{header}\r{l[0].Id},paid,1000.00,T1,,\r{l[1].Id},paid,2000.00,T2,,\r"), "r.csv", "test", default);
        Assert.Equal((BatchState.Reconciled, 2L, 2L), (r.State, r.Rows, r.Paid));
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes WHERE amount_fen NOT IN (100000, 200000)"));
    }

    private static MemoryStream Csv(string text) => new(Encoding.UTF8.GetBytes(text));
}
