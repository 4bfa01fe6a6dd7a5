namespace Lingyuan.Jobs.Hosting;

/// <summary>Exit codes of the command line (sysexits.h), as INTERFACES.md promises them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 64;
    public const int BadData = 65;
    public const int Unavailable = 69;
}

/// <summary>The command line was used wrongly, or the configuration is invalid (exit 64).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The input data is bad; nothing was changed (exit 65). Each line is one problem.</summary>
public sealed class BadInputException(IReadOnlyList<string> problems)
    : Exception(problems.Count == 1 ? problems[0] : $"{problems.Count} problems")
{
    public IReadOnlyList<string> Problems { get; } = problems;
    public BadInputException(string problem) : this([problem]) { }
}

/// <summary>A service the command needs (database, SMTP) cannot be reached (exit 69).</summary>
public sealed class ServiceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A rule of the domain refuses the request (e.g. four eyes); exit 1 with the reason.</summary>
public sealed class DomainRuleException(string message) : Exception(message);
