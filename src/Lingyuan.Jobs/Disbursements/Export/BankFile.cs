using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Exports;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// The Export slice, the bank file (INTERFACES.md, docs/bank-file.md): <c>H,BATCH_ID,PERIOD,LINE_COUNT,TOTAL_FEN,SHA256</c>,
/// then one <c>D,LINE_REF,BANK_CODE,BANK_ACCOUNT,ACCOUNT_NAME,AMOUNT_YUAN,BENEFIT</c> per payable line
/// (<see cref="BankLines"/>), streamed through an incremental SHA-256, so memory stays flat whatever the batch
/// size; approval (the Review slice) hashes the output of the same code, and export refuses any difference.
/// </summary>
public sealed class BankFile(Work work)
{
    /// <summary>
    /// Writes the bank file of an approved batch. The header comes from the approval record; the hash is
    /// re-computed while writing: a mismatch throws (the caller discards what was written) and the batch
    /// is not marked exported.
    /// </summary>
    public async Task<BatchHeader> ExportAsync(long batchId, Stream output, string actor, CancellationToken ct)
    {
        using var acting = Acting.Begin(Acting.Current with { Actor = actor });
        return await work.RunAsync("batch export", async uow =>
        {
            var b = await BatchLifecycle.FindAsync(uow, batchId) ?? throw BatchLifecycle.Missing(batchId);
            var move = BatchLifecycle.Table.Require(BatchVerb.Export, b.State, BatchLifecycle.Id(batchId));
            // The SHA-256 over every written line is the check: equal hashes mean the very lines that were approved,
            // so also their count and total, which the header takes from the approval record.
            var header = string.Create(CultureInfo.InvariantCulture,
                $"H,{b.Id},{b.Period},{b.ApprovedLineCount},{b.ApprovedTotalFen},{b.ApprovedSha256}\n");
            await output.WriteAsync(Encoding.UTF8.GetBytes(header), ct);

            var sha = await BankLines.WriteAsync(uow, batchId, output);
            if (sha != b.ApprovedSha256)
                throw new DomainRuleException(
                    $"batch {batchId}: the lines hash to {sha}, approval recorded {b.ApprovedSha256}: refused / 银行文件校验值与审批时不一致,拒绝导出");
            // A batch written again (a lost file) keeps its state and first export time.
            var after = b.State == BatchState.Approved ? move.To : b.State;
            await uow.ExecuteAsync(
                $"UPDATE app.disbursement_batches SET state = @to, exported_at = now() WHERE id = @batchId AND {BatchLifecycle.InSql(BatchState.Approved)}",
                new { batchId, to = BatchLifecycle.Table.Db(move.To) });
            await uow.AuditAsync("disbursement.export", "disbursement_batch", BatchLifecycle.Id(batchId),
                before: new { state = BatchLifecycle.Table.Db(b.State) },
                after: new { state = BatchLifecycle.Table.Db(after), line_count = b.ApprovedLineCount, total_fen = b.ApprovedTotalFen, sha256 = sha });
            return b;
        }, ct, new WorkOptions { RecordId = BatchLifecycle.Id(batchId) });
    }

    /// <summary>
    /// Writes the bank file to <paramref name="path"/> through <see cref="SafeFile"/>: a refused target (device,
    /// directory, link, an existing file without <paramref name="force"/>) is refused before anything is read; the
    /// lines go to a temporary file beside it that replaces the target only when the hash matched, so a refused
    /// or killed export leaves no bank file and the target untouched.
    /// </summary>
    public Task<BatchHeader> ExportToFileAsync(long batchId, string path, string actor, bool force, CancellationToken ct) =>
        SafeFile.WriteAsync(path, force, "--out", (stream, token) => ExportAsync(batchId, stream, actor, token), ct);

    /// <summary>Writes a new file (an existing one is refused); see the overload with <c>force</c>.</summary>
    public Task<BatchHeader> ExportToFileAsync(long batchId, string path, string actor, CancellationToken ct) =>
        ExportToFileAsync(batchId, path, actor, force: false, ct);

    /// <summary>
    /// The download. Exporting marks the batch exported and is audited: a POST with the antiforgery token, never
    /// a link a GET could follow.
    /// </summary>
    internal static void Map(RouteGroupBuilder g) => g.MapPost("/{id:long}/bank-file", DownloadAsync);

    private static async Task<IResult> DownloadAsync(HttpContext ctx, long id, BankFile bankFile)
    {
        // Written to a temporary file first: a hash mismatch is found at the end, and the bank must never get half a file.
        var tmp = Path.Combine(Path.GetTempPath(), $"lingyuan-bank-{id}-{Guid.NewGuid():N}.csv");
        var user = BatchesPage.UserName(ctx);
        BatchHeader b;
        try
        {
            using (Acting.Begin(new Acting(user, Acting.Web)))
                b = await bankFile.ExportToFileAsync(id, tmp, user, ctx.RequestAborted);
        }
        catch (DomainRuleException ex)
        {
            return BatchesPage.Refused(ctx, "不能生成银行文件", ex.Message, alert: true);
        }
        var stream = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose);
        return Results.File(stream, "text/csv; charset=utf-8", $"bank-{b.Id}-{b.Period}.csv");
    }
}

public sealed class BatchExportCommand(BankFile bankFile) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch export",
        "write an approved batch's bank file / 生成已审批批次的银行发放文件",
        """
        usage: Lingyuan.Jobs batch export BATCH_ID --out FILE [--force]
        用法:  Lingyuan.Jobs batch export 批次编号 --out 文件 [--force]
        The file's lines are checked against the approval's count, total and SHA-256; on any difference
        nothing is written and the exit code is 1. Format: docs/bank-file.md.
        导出时核对审批记录的笔数、总额与 SHA-256,不一致则不写文件,退出码为 1。
          --force   replace FILE if it exists (without it an existing file is refused, exit 64)
                    文件已存在时覆盖(不加此项则拒绝覆盖,退出码 64)
        FILE must be a regular file path: a device, directory, symbolic link or pipe is refused (exit 64).
        The file appears whole or not at all (written beside it as .FILE.<random>.partial, then renamed).
        目标须为普通文件路径,设备、目录、符号链接、管道一律拒绝;文件先写入同目录临时文件,完成后改名,不会出现半个文件。
        """,
        ValueOptions: ["out"],
        Flags: ["force"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        var path = args.Option("out") ?? throw new UsageException("--out is required / 需要 --out");
        var b = await bankFile.ExportToFileAsync(id, path, Acting.Current.Actor, args.Flag("force"), ct);
        Console.WriteLine($"{path}: {b.ApprovedLineCount} lines, {Money.Yuan(b.ApprovedTotalFen ?? 0)} yuan / 已写入 {b.ApprovedLineCount} 笔");
        return ExitCodes.Ok;
    }
}
