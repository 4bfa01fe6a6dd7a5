using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Disbursements;

// The `batch` verbs (INTERFACES.md). Each is a thin shell over the services the dashboard uses too.

public sealed class BatchBuildCommand(BatchBuilder builder) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch build",
        "build a period's disbursement batch if it has none / 生成某月待遇发放批次(若尚未生成)",
        """
        usage: Lingyuan.Jobs batch build PERIOD        (PERIOD = YYYY-MM)
        用法:  Lingyuan.Jobs batch build 期别           (期别格式 YYYY-MM)
        Prints the batch id. A period that has a batch (not rejected) is not built again.
        输出批次编号。已有批次(未被退回)的期别不会重复生成。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var text = args.Positional(0, "PERIOD");
        args.ExpectPositionals(1);
        if (!Period.TryParse(text, out var period))
            throw new UsageException($"PERIOD must be YYYY-MM, got '{text}' / 期别格式应为 YYYY-MM");
        var r = await builder.BuildAsync(period, $"cli:{Environment.UserName}", ct);
        Console.WriteLine(r.BatchId);
        if (!r.Built) Console.Error.WriteLine($"period {period} already has batch {r.BatchId} / {period} 已有批次 {r.BatchId}");
        return ExitCodes.Ok;
    }
}

public sealed class BatchSubmitCommand(BatchReview review, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch submit",
        "submit a draft batch for approval / 提交发放批次待审批",
        """
        usage: Lingyuan.Jobs batch submit BATCH_ID --user NAME
        用法:  Lingyuan.Jobs batch submit 批次编号 --user 用户名
        NAME is a finance (or admin) account; it becomes the batch's preparer, who cannot approve it.
        用户须为财务审核(或管理员)账号,提交人即制单人,不能审批本批次。
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        await review.SubmitAsync(id, await identity.ProveAsync(args, ct), ct);
        Console.WriteLine($"batch {id} submitted / 批次 {id} 已提交");
        return ExitCodes.Ok;
    }
}

public sealed class BatchApproveCommand(BatchReview review, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch approve",
        "approve a submitted batch (four eyes) / 审批发放批次(双人复核)",
        """
        usage: Lingyuan.Jobs batch approve BATCH_ID --user NAME
        用法:  Lingyuan.Jobs batch approve 批次编号 --user 用户名
        NAME is a finance (or admin) account other than the submitter. Approval freezes the batch:
        line count, total and SHA-256 are recorded. Exit 1 if refused.
        审批人须为提交人以外的财务审核(或管理员)账号。审批后批次冻结,记录笔数、总额与 SHA-256。被拒绝时退出码为 1。
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        var b = await review.ApproveAsync(id, await identity.ProveAsync(args, ct), ct);
        Console.WriteLine($"batch {id} approved: {b.ApprovedLineCount} lines, {Money.Yuan(b.ApprovedTotalFen ?? 0)} yuan, sha256 {b.ApprovedSha256} / 批次 {id} 已审批");
        return ExitCodes.Ok;
    }
}

public sealed class BatchRejectCommand(BatchReview review, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch reject",
        "reject a batch with a reason; the period is built again / 退回发放批次(需填写原因),该期别将重新生成",
        """
        usage: Lingyuan.Jobs batch reject BATCH_ID --user NAME --reason TEXT
        用法:  Lingyuan.Jobs batch reject 批次编号 --user 用户名 --reason 原因
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["user", "reason", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        var reason = args.Option("reason") ?? throw new UsageException("--reason is required / 需要 --reason");
        var user = await identity.ProveAsync(args, ct);
        await review.RejectAsync(id, user, reason, ct);
        Console.WriteLine($"batch {id} rejected / 批次 {id} 已退回");
        return ExitCodes.Ok;
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
        var b = await bankFile.ExportToFileAsync(id, path, $"cli:{Environment.UserName}", args.Flag("force"), ct);
        Console.WriteLine($"{path}: {b.ApprovedLineCount} lines, {Money.Yuan(b.ApprovedTotalFen ?? 0)} yuan / 已写入 {b.ApprovedLineCount} 笔");
        return ExitCodes.Ok;
    }
}

public sealed class BatchReconcileCommand(Reconciler reconciler) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch reconcile",
        "apply a bank return file to a batch / 导入银行回盘文件进行对账",
        """
        usage: Lingyuan.Jobs batch reconcile BATCH_ID FILE
        用法:  Lingyuan.Jobs batch reconcile 批次编号 文件
        FILE: CSV (UTF-8) with columns line_ref, status (paid/failed), amount, bank_txn_ref, failure_code, failure_reason.
        All or nothing: unknown references, duplicates, amount mismatches → exit 65, one line per problem, nothing applied.
        全部或全不:未知引用、重复、金额不符时退出码 65,逐行列出问题,不应用任何记录。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        var path = args.Positional(1, "FILE");
        args.ExpectPositionals(2);
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file / 文件不存在");
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var r = await reconciler.ReconcileAsync(id, file, path, $"cli:{Environment.UserName}", ct);
        Console.WriteLine($"batch {id}: {r.Rows} rows, {r.Applied} applied ({r.Paid} paid, {r.Failed} failed), {r.NewRecoveries} to recover, state {r.State} / 对账完成,状态:{Zh.State(r.State)}");
        return ExitCodes.Ok;
    }
}
