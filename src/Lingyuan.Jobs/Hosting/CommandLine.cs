using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Hosting;

/// <summary>
/// A console under <c>tools/</c> (the demo seeder, the benchmarks) that runs its own verbs through this
/// frame, on the service's configuration and services: <paramref name="AddCommands"/> registers its verbs
/// (<c>AddCommand&lt;T&gt;</c>) and what they need. A tool lists and runs only its own verbs and never serves.
/// </summary>
public sealed record CliTool(string Name, string Title, Action<IServiceCollection> AddCommands);

/// <summary>
/// The command-line frame: picks the verb, builds the host for the right role, runs the verb and
/// turns every failure into one line on stderr and an exit code from <see cref="ExitCodes"/>.
/// </summary>
public static class CommandLine
{
    public static Task<int> RunAsync(string[] args) => RunAsync(args, tool: null);

    public static async Task<int> RunAsync(string[] args, CliTool? tool)
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        var verbless = args.Length == 0 || args[0].StartsWith('-');
        if (verbless && (args is ["--help"] or ["-h"] or ["help"] || (tool is not null && args.Length == 0)))
            return PrintGeneralHelp(tool);
        if (!verbless && args[0] == "help")
            return PrintGeneralHelp(tool);

        var verbArgs = verbless ? ["serve", .. args] : args;
        try
        {
            if (tool is not null && verbless)
                throw new UsageException($"{tool.Name} needs a verb (try --help) / 缺少命令");
            if (verbArgs[0] == "serve" && tool is null)
                return await ServeCommand.RunAsync(verbArgs[1..]);

            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
            await using var app = BuildCli(tool);
            var commands = Commands(app, tool);
            var (command, rest) = Match(commands, verbArgs);
            if (command is null)
                throw new UsageException($"unknown command '{string.Join(' ', verbArgs.Take(2))}' (try --help) / 未知命令");
            if (rest.Contains("--help") || rest.Contains("-h"))
            {
                Console.WriteLine(command.Spec.Usage);
                return ExitCodes.Ok;
            }
            var parsed = CommandArgs.Parse(command.Spec, rest);
            app.Services.GetService<IStartupValidator>()?.Validate();
            var instance = (ICliCommand)app.Services.GetRequiredService(command.Type);
            using var acting = Database.Acting.Begin(new Database.Acting($"cli:{Environment.UserName}", Database.Acting.Cli));
            return await instance.RunAsync(parsed, cts.Token);
        }
        catch (Exception ex)
        {
            return Report(ex);
        }
    }

    private static (CommandRegistration?, string[]) Match(List<CommandRegistration> commands, string[] args)
    {
        // Two-word verbs ("users add", "batch build") win over one-word ones.
        if (args.Length >= 2)
        {
            var two = commands.FirstOrDefault(c => c.Spec.Name == $"{args[0]} {args[1]}");
            if (two is not null) return (two, args[2..]);
        }
        var one = commands.FirstOrDefault(c => c.Spec.Name == args[0]);
        if (one is not null) return (one, args[1..]);
        var group = commands.Where(c => c.Spec.Name.StartsWith(args[0] + " ", StringComparison.Ordinal)).ToList();
        if (group.Count > 0)
        {
            var names = string.Join(", ", group.Select(c => c.Spec.Name));
            throw new UsageException($"'{args[0]}' needs a sub-command: {names} / 需要子命令: {names}");
        }
        return (null, args);
    }

    // A tool's services go in after the features registered theirs (the hook tests use to replace the clock).
    private static WebApplication BuildCli(CliTool? tool) => App.Build(AppRole.Cli, null, tool?.AddCommands);

    /// <summary>The service's verbs, or only the tool's own (those not declared in the service assembly).</summary>
    private static List<CommandRegistration> Commands(WebApplication app, CliTool? tool) =>
        app.Services.GetServices<CommandRegistration>()
            .Where(c => tool is null || c.Type.Assembly != typeof(CommandLine).Assembly)
            .ToList();

    private static int PrintGeneralHelp(CliTool? tool)
    {
        try { return WriteGeneralHelp(tool); }
        catch (Exception ex) { return Report(ex); }
    }

    private static int WriteGeneralHelp(CliTool? tool)
    {
        using var app = BuildCli(tool);
        var sb = new StringBuilder();
        sb.AppendLine(tool?.Title ?? "Lingyuan.Jobs — scheduled jobs of the Lingyuan HRSS bureau / 凌源市人社局定时任务服务");
        sb.AppendLine();
        sb.AppendLine($"usage / 用法: {tool?.Name ?? "Lingyuan.Jobs"} VERB [ARGS] [--help]");
        sb.AppendLine();
        if (tool is null) sb.AppendLine($"  {"serve",-18} {ServeCommand.Spec.Summary}");
        foreach (var c in Commands(app, tool).OrderBy(c => c.Spec.Name, StringComparer.Ordinal))
            sb.AppendLine($"  {c.Spec.Name,-18} {c.Spec.Summary}");
        sb.AppendLine();
        sb.AppendLine("exit codes / 退出码: 0 ok, 64 usage or configuration, 65 bad input data, 69 service unreachable, 1 other");
        Console.Write(sb.ToString());
        return ExitCodes.Ok;
    }

    /// <summary>One line per problem on stderr; never a stack trace (set LINGYUAN_DEBUG=1 for one).</summary>
    public static int Report(Exception ex)
    {
        if (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerException!;
        if (Environment.GetEnvironmentVariable("LINGYUAN_DEBUG") == "1") Console.Error.WriteLine(ex);
        switch (ex)
        {
            case UsageException u:
                Console.Error.WriteLine($"error: {u.Message}");
                return ExitCodes.Usage;
            case OptionsValidationException o:
                foreach (var f in o.Failures) Console.Error.WriteLine($"configuration error / 配置错误: {f}");
                return ExitCodes.Usage;
            case BadInputException b:
                foreach (var p in b.Problems) Console.Error.WriteLine(p);
                return ExitCodes.BadData;
            case ServiceUnavailableException s:
                Console.Error.WriteLine($"service unavailable / 服务不可达: {s.Message}");
                return ExitCodes.Unavailable;
            case DomainRuleException d:
                Console.Error.WriteLine($"refused / 拒绝: {d.Message}");
                return ExitCodes.Failure;
            case OperationCanceledException:
                Console.Error.WriteLine("cancelled / 已取消");
                return ExitCodes.Failure;
        }
        // A setting that does not parse (an unknown enum name, "abc" for a number) is a configuration error.
        if (ex is InvalidOperationException && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"configuration error / 配置错误: {OneLine(ex.Message)}");
            return ExitCodes.Usage;
        }
        if (IsDatabaseUnreachable(ex))
        {
            Console.Error.WriteLine($"service unavailable / 服务不可达: database (ConnectionStrings:Jobs) / 数据库无法连接: {Innermost(ex).Message}");
            return ExitCodes.Unavailable;
        }
        Console.Error.WriteLine($"error / 错误: {ex.GetType().Name}: {OneLine(ex.Message)}");
        return ExitCodes.Failure;
    }

    public static bool IsDatabaseUnreachable(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException) return true;
            // A command timeout also wraps a TimeoutException; only a failed connection means "unreachable".
            if (e is NpgsqlException { InnerException: SocketException }) return true;
            if (e is NpgsqlException { InnerException: TimeoutException or IOException } n && n.Message.StartsWith("Failed to connect", StringComparison.Ordinal)) return true;
            if (e is Npgsql.PostgresException { SqlState: "57P01" or "57P03" or "3D000" or "28P01" or "28000" }) return true;
        }
        return false;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
