using ShipBot.Core.Plans;

namespace ShipBot.Core.Health;

/// <summary>
/// Per-service thresholds (the automatic rollback triggers of docs/release-process.md). Defaults: error rate at most 1 point
/// above baseline, p99 latency at most 2 × a 300 ms target, CPU at most 90 %, at most 20 % of
/// instances failing their probe, user feedback at least 3/5, business metric at most 10 % below
/// its baseline.
/// </summary>
public sealed record HealthThresholds
{
    /// <summary>X: how far above baseline the error rate may go, as a fraction (0.01 = 1 point). Default 0.01.</summary>
    public double MaxErrorRateIncrease { get; init; } = 0.01;

    /// <summary>The p99 latency target in ms; a breach is above 2 × this. Default 300.</summary>
    public double LatencyTargetMs { get; init; } = 300;

    /// <summary>Resource usage limit, 0–1. Default 0.9.</summary>
    public double MaxCpu { get; init; } = 0.9;

    /// <summary>Y: the fraction of instances whose probe may fail. Default 0.2.</summary>
    public double MaxProbeFailureRatio { get; init; } = 0.2;

    /// <summary>Lowest acceptable user feedback score (early adopters onwards). Default 3.</summary>
    public double MinUserFeedback { get; init; } = 3;

    /// <summary>How far the business metric may fall below baseline, as a fraction of it (GA onwards). Default 0.1.</summary>
    public double MaxBusinessDrop { get; init; } = 0.1;

    /// <summary>
    /// What a breach of each metric does; metrics not listed roll back. Default: user feedback and
    /// the business metric consult on-call, everything else rolls back.
    /// </summary>
    public IReadOnlyDictionary<string, BreachAction> Actions { get; init; } = new Dictionary<string, BreachAction>
    {
        [Metrics.UserFeedback] = BreachAction.Consult,
        [Metrics.Business] = BreachAction.Consult,
    };

    /// <summary>Checks configured for the service on top of the built-in ones (or replacing a built-in metric's limit).</summary>
    public IReadOnlyList<CustomCheck> Checks { get; init; } = [];
}

/// <summary>
/// A check configured for a service: a metric its health sources read, judged against an absolute
/// limit (<see cref="Max"/>, <see cref="Min"/>) or one relative to the baseline captured before the
/// rollout (<see cref="MaxAboveBaseline"/>: baseline + x; <see cref="MaxRatioToBaseline"/>:
/// baseline × x), from <see cref="FromStage"/> on. A configured metric that cannot be read is
/// inconclusive, never healthy.
/// </summary>
public sealed record CustomCheck
{
    public required string Metric { get; init; }

    public double? Max { get; init; }

    public double? Min { get; init; }

    public double? MaxAboveBaseline { get; init; }

    public double? MaxRatioToBaseline { get; init; }

    public StageKind FromStage { get; init; } = StageKind.Canary;

    public BreachAction Action { get; init; } = BreachAction.Rollback;

    public bool IsRelative => MaxAboveBaseline is not null || MaxRatioToBaseline is not null;
}

/// <summary>Judges readings against thresholds and the baseline; pure.</summary>
public static class HealthPolicy
{
    /// <summary>The metrics checked at a stage: canary — error rate, latency, resources; early adopters — plus feedback and adoption; GA onwards — plus business.</summary>
    public static IReadOnlyList<string> MetricsFor(StageKind? stage, HealthThresholds? thresholds)
    {
        var metrics = MetricsFor(stage).ToList();
        foreach (var check in thresholds?.Checks ?? [])
        {
            if (stage is { } s && s >= check.FromStage && !metrics.Contains(check.Metric))
            {
                metrics.Add(check.Metric);
            }
        }

        return metrics;
    }

    /// <summary>The baseline metrics, plus every custom check judged relative to its baseline.</summary>
    public static IReadOnlyList<string> BaselineMetricsFor(HealthThresholds? thresholds) =>
        [.. BaselineMetrics, .. (thresholds?.Checks ?? []).Where(c => c.IsRelative).Select(c => c.Metric).Where(m => !BaselineMetrics.Contains(m)).Distinct()];

    public static IReadOnlyList<string> MetricsFor(StageKind? stage)
    {
        var metrics = new List<string> { Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.ProbeFailures };
        if (stage is >= StageKind.EarlyAdopters)
        {
            metrics.Add(Metrics.UserFeedback);
            metrics.Add(Metrics.Adoption);
        }

        if (stage is >= StageKind.GeneralAvailability)
        {
            metrics.Add(Metrics.Business);
        }

        return metrics;
    }

    /// <summary>The baseline metrics captured before the rollout starts.</summary>
    public static IReadOnlyList<string> BaselineMetrics { get; } = [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.Business];

    public static HealthVerdict Evaluate(
        HealthSample sample,
        IReadOnlyList<string> metrics,
        IReadOnlyDictionary<string, double> baseline,
        HealthThresholds thresholds,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(thresholds);
        var checks = new List<CheckResult>();
        foreach (var metric in metrics)
        {
            var reading = sample.Readings.LastOrDefault(r => r.Metric == metric);
            baseline.TryGetValue(metric, out var baseValue);
            var hasBaseline = baseline.ContainsKey(metric);
            var custom = thresholds.Checks.LastOrDefault(c => c.Metric == metric);
            var action = custom?.Action ?? (thresholds.Actions.TryGetValue(metric, out var a) ? a : BreachAction.Rollback);
            var (threshold, limitOk) = custom is not null ? CustomLimit(custom, metric, hasBaseline, baseValue) : metric switch
            {
                Metrics.ErrorRate => Limit(
                    $"limit baseline {Metrics.Format(metric, baseValue)} + {thresholds.MaxErrorRateIncrease * 100:0.##} pt",
                    v => v <= baseValue + thresholds.MaxErrorRateIncrease),
                Metrics.LatencyP99 => Limit(
                    $"limit 2 × target {thresholds.LatencyTargetMs:0} ms", v => v <= 2 * thresholds.LatencyTargetMs),
                Metrics.Cpu => Limit($"limit {thresholds.MaxCpu * 100:0} %", v => v <= thresholds.MaxCpu),
                Metrics.ProbeFailures => Limit(
                    $"limit {thresholds.MaxProbeFailureRatio * 100:0} % of instances", v => v <= thresholds.MaxProbeFailureRatio),
                Metrics.UserFeedback => Limit($"minimum {thresholds.MinUserFeedback:0.#}/5", v => v >= thresholds.MinUserFeedback),
                Metrics.Business => hasBaseline
                    ? Limit(
                        $"baseline {Metrics.Format(metric, baseValue)} − {thresholds.MaxBusinessDrop * 100:0} %",
                        v => v >= baseValue * (1 - thresholds.MaxBusinessDrop))
                    : Limit("no baseline", _ => true),
                _ => Limit("recorded", _ => true),
            };

            if (reading is null)
            {
                // An optional signal (adoption, feedback, business) the source does not provide is not a
                // breach; a core metric that cannot be read makes the verdict unknown.
                var core = (metric is Metrics.ErrorRate or Metrics.LatencyP99 && (sample.Provided is null || sample.Provided.Contains(metric)))
                    || custom is not null || sample.Provided?.Contains(metric) == true;
                if (core || sample.Error is not null)
                {
                    checks.Add(new CheckResult(metric, CheckStatus.Unknown, null, threshold, hasBaseline ? baseValue : null, action, "—"));
                }

                continue;
            }

            var ok = double.IsFinite(reading.Value) && limitOk(reading.Value);
            checks.Add(new CheckResult(
                metric,
                double.IsFinite(reading.Value) ? (ok ? CheckStatus.Pass : CheckStatus.Breach) : CheckStatus.Unknown,
                double.IsFinite(reading.Value) ? reading.Value : null,
                threshold,
                hasBaseline ? baseValue : null,
                action,
                reading.Source));
        }

        var status = checks.Any(c => c.Status == CheckStatus.Breach)
            ? HealthStatus.Breached
            : sample.Error is not null || checks.Count == 0 || checks.Any(c => c.Status == CheckStatus.Unknown)
                ? HealthStatus.Unknown
                : HealthStatus.Healthy;
        return new HealthVerdict(status, checks, now, sample.Error);
    }

    private static (string Threshold, Func<double, bool> Ok) CustomLimit(CustomCheck check, string metric, bool hasBaseline, double baseValue)
    {
        var parts = new List<string>();
        var limits = new List<Func<double, bool>>();
        if (check.Max is { } max)
        {
            parts.Add($"max {Metrics.Format(metric, max)}");
            limits.Add(v => v <= max);
        }

        if (check.Min is { } min)
        {
            parts.Add($"min {Metrics.Format(metric, min)}");
            limits.Add(v => v >= min);
        }

        // Without a baseline a relative limit judges against zero: stricter, never looser.
        var b = hasBaseline ? baseValue : 0;
        if (check.MaxAboveBaseline is { } above)
        {
            parts.Add($"limit baseline {Metrics.Format(metric, b)} + {Metrics.Format(metric, above)}");
            limits.Add(v => v <= b + above);
        }

        if (check.MaxRatioToBaseline is { } ratio)
        {
            parts.Add($"limit {ratio:0.##} × baseline {Metrics.Format(metric, b)}");
            limits.Add(v => v <= b * ratio);
        }

        return parts.Count == 0 ? ("recorded", _ => true) : (string.Join(", ", parts), v => limits.All(l => l(v)));
    }

    private static (string Threshold, Func<double, bool> Ok) Limit(string threshold, Func<double, bool> ok) => (threshold, ok);
}
