using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary><c>import KIND FILE [--encoding utf-8|gb18030] [--dry-run] [--accept-valid --rejects OUT.csv]</c>.</summary>
public sealed class ImportCommand(RegisterImporter importer, ImportKinds kinds) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "import",
        "load a register file (CSV or XLSX) / 导入名录文件(CSV 或 XLSX)",
        """
        usage: Lingyuan.Jobs import KIND FILE [--encoding utf-8|gb18030] [--dry-run] [--accept-valid --rejects OUT.csv [--force]]
        用法:  Lingyuan.Jobs import 类型 文件 [--encoding utf-8|gb18030] [--dry-run] [--accept-valid --rejects 输出.csv [--force]]

          KIND            employers, inspectors, conflicts, communities, persons, cards, entitlements,
                          life-events, arrears-cases, holidays (and kinds added by features)
          --encoding      the file's encoding; by default UTF-8 (with or without BOM) or GB18030 is detected
                          文件编码;默认自动识别 UTF-8(含或不含 BOM)或 GB18030
          --dry-run       check the file and show what would change; change nothing / 只检查,不修改
          --accept-valid  import the good rows; write the bad ones with a reason to --rejects
                          导入正确的行,错误行连同原因写入 --rejects 指定的文件
          --force         replace OUT.csv if it exists (without it an existing file is refused, exit 64); a device,
                          directory, symbolic link or pipe is always refused / 输出文件已存在时覆盖(不加则拒绝)
        FILE is CSV (UTF-8 or GB18030) or an Excel workbook (.xlsx, its first sheet). Column names may be the English ones
        or the Chinese headers of the templates (身份证号码, 待遇类别, …); the dashboard's 名录导入 page offers the templates.
        文件可为 CSV 或 Excel(.xlsx,读取第一个工作表);列名可用英文或模板中的中文表头。
        Every field is checked (ID and USCC check characters, Luhn, dates, periods, amounts, enums). One line per
        problem on stderr, FILE:ROW: column: problem; with any problem nothing is imported (exit 65).
        Re-importing a file changes nothing; a changed row is updated and recorded in the audit log.
        逐项校验;每个问题一行输出到标准错误;有任何错误则不导入任何记录(退出码 65)。重复导入同一文件不作修改。
        """,
        ValueOptions: ["encoding", "rejects"],
        Flags: ["dry-run", "accept-valid", "force"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var kind = args.Positional(0, "KIND");
        var path = args.Positional(1, "FILE");
        args.ExpectPositionals(2);
        if (kinds.Find(kind) is null)
            throw new UsageException($"unknown register kind '{kind}', expected one of {string.Join(", ", kinds.Names)} / 未知的名录类型");
        var rejects = args.Option("rejects");
        if (args.Flag("accept-valid") != (rejects is not null))
            throw new UsageException("--accept-valid and --rejects OUT.csv go together / --accept-valid 与 --rejects 须同时使用");
        if (rejects is not null && Path.GetFullPath(rejects) == Path.GetFullPath(path))
            throw new UsageException("--rejects must not be the input file / --rejects 不能是输入文件");
        if (args.Flag("force") && rejects is null)
            throw new UsageException("--force applies to --rejects OUT.csv / --force 仅用于 --rejects 输出文件");

        var result = await importer.ImportAsync(
            new ImportRequest(kind, path, args.Option("encoding"), args.Flag("dry-run"), rejects, $"cli:{Environment.UserName}", args.Flag("force")),
            Console.Error, ct);
        foreach (var problem in result.Problems) Console.Error.WriteLine(problem);
        Console.WriteLine(result);
        if (rejects is not null && result.Rejected > 0)
            Console.WriteLine($"{result.Rejected:N0} rejected rows written to {rejects} / 错误行已写入该文件");
        return ExitCodes.Ok;
    }
}
