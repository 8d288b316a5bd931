using ShipBot.Core.Health;

namespace ShipBot.Core.Judging;

/// <summary>How a service's stages are judged.</summary>
public enum JudgeKind
{
    /// <summary>Each evaluation's reading against a fixed limit (<see cref="HealthPolicy"/>). The default.</summary>
    Threshold,

    /// <summary>Canary against baseline counts with a test that stays valid at every look (<see cref="SequentialJudge"/>).</summary>
    Sequential,
}

/// <summary>
/// A service's judge configuration. The budget <see cref="Alpha"/> bounds, across every look of
/// every judged stage and every metric of a release, the chance of a false rollback (harm declared
/// on a canary no worse than its baseline), and separately the chance of a false early promotion
/// (safe declared on a canary worse than baseline + margin). It is spent by stage (the first judged
/// stage gets <see cref="FirstStageShare"/>, the later partial stages split the rest equally) and
/// within a stage equally by metric (Bonferroni). Defaults: Threshold judge, α = 0.01, half of it
/// on the canary, early promotion off, at least 500 canary requests and 10 minutes before "safe",
/// metrics <see cref="DefaultMetrics"/>.
/// </summary>
public sealed record JudgeSettings
{
    /// <summary>Which judge decides. Default <see cref="JudgeKind.Threshold"/> (today's rule), until a service opts in.</summary>
    public JudgeKind Kind { get; init; } = JudgeKind.Threshold;

    /// <summary>The release's error budget, in (0, 0.5]. Default 0.01.</summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>The share of <see cref="Alpha"/> the first judged stage (the canary) spends, in (0, 1]. Default 0.5.</summary>
    public double FirstStageShare { get; init; } = 0.5;

    /// <summary>Whether a stage judged safe may promote before its bake time ends. Default false.</summary>
    public bool EarlyPromotion { get; init; }

    /// <summary>Canary requests a metric needs before it can be judged safe. Default 500.</summary>
    public double MinimumSamples { get; init; } = 500;

    /// <summary>Time in the stage before it can be judged safe. Default 10 minutes.</summary>
    public TimeSpan MinimumTime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The metrics judged, each with its margin. Default <see cref="DefaultMetrics"/>.</summary>
    public IReadOnlyList<JudgeMetricSettings> Metrics { get; init; } = DefaultMetrics;

    /// <summary>
    /// Errors and requests slower than the latency target, both critical, both rolling back: harm
    /// when the canary's rate is confidently above the baseline's; safe when it is confidently at
    /// most 1 point above it.
    /// </summary>
    public static IReadOnlyList<JudgeMetricSettings> DefaultMetrics { get; } =
    [
        new() { Metric = CountMetrics.Errors, Margin = 0.01 },
        new() { Metric = CountMetrics.SlowRequests, Margin = 0.01 },
    ];

    /// <summary>Why these settings cannot be used, or null when they can.</summary>
    public string? Validate()
    {
        if (Alpha is <= 0 or > 0.5 || double.IsNaN(Alpha))
        {
            return $"Alpha must be in (0, 0.5], not {Alpha}.";
        }

        if (FirstStageShare is <= 0 or > 1 || double.IsNaN(FirstStageShare))
        {
            return $"FirstStageShare must be in (0, 1], not {FirstStageShare}.";
        }

        if (MinimumSamples < 0 || double.IsNaN(MinimumSamples))
        {
            return "MinimumSamples must not be negative.";
        }

        if (MinimumTime < TimeSpan.Zero)
        {
            return "MinimumTime must not be negative.";
        }

        if (Metrics.Count == 0)
        {
            return "Metrics must name at least one metric.";
        }

        foreach (var metric in Metrics)
        {
            if (string.IsNullOrWhiteSpace(metric.Metric))
            {
                return "Every metric needs a name.";
            }

            if (metric.Margin is < 0 or >= 1 || double.IsNaN(metric.Margin))
            {
                return $"{metric.Metric}: Margin must be in [0, 1), not {metric.Margin}.";
            }

            if (metric.HarmRatio < 1 || double.IsNaN(metric.HarmRatio) || double.IsInfinity(metric.HarmRatio))
            {
                return $"{metric.Metric}: HarmRatio must be at least 1, not {metric.HarmRatio}.";
            }
        }

        var duplicate = Metrics.GroupBy(m => m.Metric, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? null : $"{duplicate.Key} is listed twice.";
    }
}

/// <summary>
/// One judged metric: a count of bad events (errors, slow requests) out of requests, for the canary
/// and for the baseline. Harm: the canary's rate is confidently above <see cref="HarmRatio"/> × the
/// baseline's. Safe: it is confidently at most the baseline's + <see cref="Margin"/>.
/// </summary>
public sealed record JudgeMetricSettings
{
    /// <summary>The count metric (<see cref="CountMetrics"/>), read by the health sources for canary and baseline.</summary>
    public required string Metric { get; init; }

    /// <summary>"No worse than baseline + margin", as a fraction (0.01 = 1 point): the bound a canary must prove to be safe. Default 0.01.</summary>
    public double Margin { get; init; } = 0.01;

    /// <summary>Harm is a canary rate confidently above this multiple of the baseline's (1 = any confident worsening). Default 1.</summary>
    public double HarmRatio { get; init; } = 1;

    /// <summary>A critical metric's harm always rolls back, and it must be safe for an early promotion. Default true.</summary>
    public bool Critical { get; init; } = true;

    /// <summary>What harm on a non-critical metric does. Default rollback.</summary>
    public BreachAction Action { get; init; } = BreachAction.Rollback;
}
