using System.Text.Json.Serialization;
using ShipBot.Core.Plans;

namespace ShipBot.Core.Health;

/// <summary>Metric names the built-in checks understand. Sources may report more.</summary>
public static class Metrics
{
    /// <summary>Fraction of failed requests, 0–1.</summary>
    public const string ErrorRate = "error_rate";

    /// <summary>p99 latency in milliseconds.</summary>
    public const string LatencyP99 = "latency_p99_ms";

    /// <summary>Average latency in milliseconds (for sources without a latency histogram, such as HAProxy's exporter).</summary>
    public const string LatencyAverage = "latency_avg_ms";

    /// <summary>CPU (or other resource) usage, 0–1.</summary>
    public const string Cpu = "cpu";

    /// <summary>Fraction of instances whose health probe failed, 0–1.</summary>
    public const string ProbeFailures = "probe_failure_ratio";

    /// <summary>User feedback score, 0–5 (early adopters onwards).</summary>
    public const string UserFeedback = "user_feedback";

    /// <summary>Fraction of eligible users who used the feature (early adopters onwards).</summary>
    public const string Adoption = "adoption";

    /// <summary>Business metric (for example conversion), compared with its baseline (GA onwards).</summary>
    public const string Business = "business";

    public static string Label(string metric) => metric switch
    {
        ErrorRate => "error rate",
        LatencyP99 => "p99 latency",
        LatencyAverage => "average latency",
        Cpu => "CPU",
        ProbeFailures => "failed health probes",
        UserFeedback => "user feedback",
        Adoption => "feature adoption",
        Business => "business metric",
        CountMetrics.SlowRequests => "slow requests",
        _ => metric,
    };

    public static string Format(string metric, double value) => metric switch
    {
        ErrorRate or Cpu or ProbeFailures or Adoption or CountMetrics.SlowRequests => $"{value * 100:0.##} %",
        LatencyP99 or LatencyAverage => $"{value:0.#} ms",
        UserFeedback => $"{value:0.##}/5",
        _ => value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>One measured value, with where and when it was read.</summary>
public sealed record HealthReading(string Metric, double Value, string Source, DateTimeOffset At);

/// <summary>What a health source was asked for.</summary>
public sealed record HealthQuery(string Service, string Version, string Stage, int Percent, IReadOnlyList<string> Metrics)
{
    /// <summary>Count metrics (<see cref="CountMetrics"/>) to read for the canary and the baseline since <see cref="CountsSince"/>. Default none.</summary>
    public IReadOnlyList<string> CountMetrics { get; init; } = [];

    /// <summary>Where counts start (the stage's start); counts are read only when this is set.</summary>
    public DateTimeOffset? CountsSince { get; init; }
}

/// <summary>A health source's answer: readings, or why it could not read (never taken as healthy).</summary>
/// <param name="Provided">
/// The metrics the sources were configured to read (null: unknown, every core metric is expected).
/// A core metric no configured source measures (error rate of a probes-only service) is not
/// required; one a source should have read and did not makes the verdict inconclusive.
/// </param>
public sealed record HealthSample(IReadOnlyList<HealthReading> Readings, string? Error = null, IReadOnlyCollection<string>? Provided = null)
{
    /// <summary>Canary and baseline counts, for the count metrics the query asked for and the source measures. Default none.</summary>
    public IReadOnlyList<MetricCounts> Counts { get; init; } = [];

    public static HealthSample Failed(string error) => new([], error);
}

/// <summary>What a breach of a check leads to.</summary>
public enum BreachAction
{
    Rollback,
    Consult,
}

public enum CheckStatus
{
    Pass,
    Breach,
    Unknown,
}

/// <summary>One check's result, carrying the numbers an on-call engineer needs.</summary>
public sealed record CheckResult(
    string Metric,
    CheckStatus Status,
    double? Value,
    string Threshold,
    double? Baseline,
    BreachAction Action,
    string Source)
{
    /// <summary>"error rate 4.8 % breaches limit baseline 0.3 % + 1 pt": a breach in words, for reasons and alerts.</summary>
    public string DescribeBreach() => Value is { } v
        ? $"{Metrics.Label(Metric)} {Metrics.Format(Metric, v)} breaches {Threshold}"
        : Status == CheckStatus.Breach
            ? $"{Metrics.Label(Metric)} {Threshold}"
            : $"{Metrics.Label(Metric)} unreadable breaches {Threshold}";

    /// <summary>"error rate 4.8 % (limit baseline 0.3 % + 1 pt) ✗" style summary.</summary>
    public string Describe()
    {
        var value = Value is { } v ? Metrics.Format(Metric, v) : "unreadable";
        var mark = Status switch { CheckStatus.Pass => "✓", CheckStatus.Breach => "✗", _ => "?" };
        return $"{Metrics.Label(Metric)} {value} ({Threshold}) {mark}";
    }
}

public enum HealthStatus
{
    Healthy,
    Breached,
    Unknown,
}

/// <summary>A health evaluation of one release at one stage.</summary>
public sealed record HealthVerdict(HealthStatus Status, IReadOnlyList<CheckResult> Checks, DateTimeOffset At, string? Error = null)
{
    [JsonIgnore]
    public IEnumerable<CheckResult> Breaches => Checks.Where(c => c.Status == CheckStatus.Breach);

    [JsonIgnore]
    public bool RequiresRollback => Breaches.Any(b => b.Action == BreachAction.Rollback);

    public string Summary => Status switch
    {
        HealthStatus.Unknown when Checks.Count == 0 => $"unknown — {Error ?? "no readings"}",
        _ => string.Join(" · ", Checks.Select(c => c.Describe())),
    };
}
