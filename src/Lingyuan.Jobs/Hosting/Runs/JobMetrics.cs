using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// The job runner's own instruments (meter <c>Lingyuan.Jobs</c>): runs by job and result, and their
/// duration. Exported in Prometheus format when metrics are configured (see <c>MetricsSetup</c>).
/// </summary>
public sealed class JobMetrics : IDisposable
{
    public const string MeterName = "Lingyuan.Jobs";

    private readonly Meter _meter;
    private readonly Counter<long> _runs;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _signInFailures;

    public JobMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _runs = _meter.CreateCounter<long>("lingyuan_job_runs", unit: "{run}", description: "Runs of recurring jobs by job and result");
        _duration = _meter.CreateHistogram<double>("lingyuan_job_run_duration", unit: "s", description: "Duration of job runs");
        _signInFailures = _meter.CreateCounter<long>("lingyuan_sign_in_failures", unit: "{attempt}", description: "Refused dashboard sign-ins");
    }

    public Meter Meter => _meter;

    public void Record(string jobId, string result, TimeSpan duration)
    {
        var tags = new TagList { { "job", jobId }, { "result", result } };
        _runs.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    public void SignInRefused(string reason) => _signInFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
