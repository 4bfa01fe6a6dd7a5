namespace Lingyuan.Jobs.Hosting;

/// <summary>What a verb declares it accepts, and its help text in English and Chinese.</summary>
public sealed record CommandSpec(
    string Name,
    string Summary,
    string Usage,
    string[]? ValueOptions = null,
    string[]? Flags = null);

/// <summary>Parsed arguments of one verb: positionals in order, --options with values, --flags.</summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public static CommandArgs Parse(CommandSpec spec, IReadOnlyList<string> args)
    {
        var result = new CommandArgs();
        var valueOptions = new HashSet<string>(spec.ValueOptions ?? []);
        var flags = new HashSet<string>(spec.Flags ?? []);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--") { result.Positionals.AddRange(args.Skip(i + 1)); break; }
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
            {
                result.Positionals.Add(a);
                continue;
            }
            var name = a[2..];
            string? inline = null;
            var eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (flags.Contains(name) && inline is null)
            {
                result._flags.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                var value = inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"--{name} needs a value / --{name} 需要一个值"));
                result._values[name] = value;
            }
            else
            {
                throw new UsageException($"unknown option --{name} for '{spec.Name}' / 未知选项 --{name}");
            }
        }
        return result;
    }

    public string? Option(string name) => _values.GetValueOrDefault(name);

    public bool Flag(string name) => _flags.Contains(name);

    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new UsageException($"missing {what} / 缺少参数 {what}");

    public long PositionalId(int index, string what) =>
        long.TryParse(Positional(index, what), out var id) && id > 0
            ? id
            : throw new UsageException($"{what} must be a positive number, got '{Positionals[index]}' / {what} 应为正整数");

    public void ExpectPositionals(int max)
    {
        if (Positionals.Count > max)
            throw new UsageException($"unexpected argument '{Positionals[max]}' / 多余的参数 '{Positionals[max]}'");
    }
}

/// <summary>
/// A command-line verb. Only the verb that runs is resolved from DI (so a verb's dependencies, such as
/// Hangfire's storage, are not built for another verb); its spec is static for the same reason.
/// </summary>
public interface ICliCommand
{
    static abstract CommandSpec Spec { get; }
    Task<int> RunAsync(CommandArgs args, CancellationToken ct);
}

public sealed record CommandRegistration(CommandSpec Spec, Type Type);

public static class CommandRegistrationExtensions
{
    public static IServiceCollection AddCommand<T>(this IServiceCollection services) where T : class, ICliCommand
    {
        services.AddTransient<T>();
        services.AddSingleton(new CommandRegistration(T.Spec, typeof(T)));
        return services;
    }
}
