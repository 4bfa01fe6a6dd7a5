using System.Text.Json;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>A part of a run's work that failed and needs a person: its cause (one alert per cause) and Chinese text.</summary>
public sealed record RunProblem(string Cause, string TextZh);

/// <summary>
/// What a job tells about its run: a short Chinese summary, its counters, and the parts of its work that
/// failed. The run-record filter (Hangfire) and <c>jobs run</c> (command line) open one per run; the job
/// calls the static <see cref="Done"/> and <see cref="Problem"/>, which do nothing outside a recorded run
/// (a test calling a service directly). A run with problems is not "succeeded": it ends Failed in Hangfire
/// (without retries: retrying cannot fix what a person must) and raises one alert per cause.
/// </summary>
public sealed class RunReport
{
    private static readonly AsyncLocal<RunReport?> Ambient = new();

    public static RunReport? Current => Ambient.Value;

    private readonly object _gate = new();
    private readonly List<RunProblem> _problems = [];

    public string? Summary { get; private set; }
    public IReadOnlyDictionary<string, long> Counters { get; private set; } = new Dictionary<string, long>();

    public IReadOnlyList<RunProblem> Problems
    {
        get { lock (_gate) return _problems.ToList(); }
    }

    /// <summary>Makes this report the current run's until the scope is disposed.</summary>
    public IDisposable Begin()
    {
        var previous = Ambient.Value;
        Ambient.Value = this;
        return new Restore(previous);
    }

    /// <summary>The job's summary of its run (Chinese, one line) and its business figures, e.g. <c>new { sent = 3 }</c>.</summary>
    public static void Done(string summaryZh, object? counters = null) => Current?.SetDone(summaryZh, counters);

    /// <summary>A part of the run's work failed (a draw that could not be made): the run needs a person.</summary>
    public static void Problem(string cause, string textZh) => Current?.AddProblem(cause, textZh);

    public void SetDone(string summaryZh, object? counters)
    {
        Summary = summaryZh;
        if (counters is null) return;
        var figures = new Dictionary<string, long>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(counters));
        foreach (var p in doc.RootElement.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var n)) figures[p.Name] = n;
        Counters = figures;
    }

    public void AddProblem(string cause, string textZh)
    {
        lock (_gate) _problems.Add(new RunProblem(cause, textZh));
    }

    private sealed class Restore(RunReport? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}

/// <summary>How a run ended, as stored and shown: 成功 / 需处理 / 失败 (运行中 while it runs).</summary>
public static class RunResult
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Attention = "attention";
    public const string Failed = "failed";

    public static string Label(string result) => result switch
    {
        Running => "运行中",
        Succeeded => "成功",
        Attention => "需处理",
        Failed => "失败",
        _ => result,
    };
}

/// <summary>
/// Thrown into Hangfire's Failed state (not by the job: elected by the run-record filter) when a run
/// finished but part of its work failed; its message is the Chinese list of what failed.
/// </summary>
public sealed class RunNeedsAttentionException(string message) : Exception(message);
