using System.Globalization;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Inspections;

internal static class CliActor
{
    /// <summary>Who the records name for a command-line action: <c>--user</c>, else the OS account.</summary>
    public static string Of(CommandArgs args) => args.Option("user") is { Length: > 0 } u ? u : $"cli:{Environment.UserName}";

    /// <summary>Acts as <see cref="Of"/> until disposed: the dispatcher sets the OS account; <c>--user</c> names the person.</summary>
    public static IDisposable Begin(CommandArgs args) => Acting.Begin(new Acting(Of(args), Acting.Cli));

    public static DateOnly Date(string? text, string option) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d : throw new UsageException($"--{option} must be a date YYYY-MM-DD, got '{text}' / --{option} 应为日期 YYYY-MM-DD");

    public static int Int(CommandArgs args, string option, int? fallback = null) =>
        args.Option(option) is not { } v ? fallback ?? throw new UsageException($"--{option} is required / 需要 --{option}")
        : int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"--{option} must be a whole number, got '{v}' / --{option} 应为整数");

    public static string[]? List(CommandArgs args, string option) =>
        args.Option(option)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
