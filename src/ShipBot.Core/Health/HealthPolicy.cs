using ShipBot.Core.Plans;

namespace ShipBot.Core.Health;

/// <summary>
/// Per-service thresholds (the seed's rollback triggers). Defaults: error rate at most 1 point
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
}

/// <summary>Judges readings against thresholds and the baseline; pure.</summary>
public static class HealthPolicy
{
    /// <summary>The metrics checked at a stage: canary — error rate, latency, resources; early adopters — plus feedback and adoption; GA onwards — plus business.</summary>
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
            var action = thresholds.Actions.TryGetValue(metric, out var a) ? a : BreachAction.Rollback;
            var (threshold, limitOk) = metric switch
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
                var core = metric is Metrics.ErrorRate or Metrics.LatencyP99;
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

    private static (string Threshold, Func<double, bool> Ok) Limit(string threshold, Func<double, bool> ok) => (threshold, ok);
}
