using System.Globalization;

namespace ShipBot.Core.Health;

/// <summary>One outcome target as the contract states it, and how a measured value is judged against it.</summary>
/// <param name="Text">"p99 latency ≤ 300 ms": exactly what the contract says.</param>
public sealed record OutcomeTarget(string Metric, string Text);

/// <summary>
/// The release contract's outcome targets and their judgement at each checkpoint. A report judges
/// against the targets the contract states, never against the (looser) rollback limits: a p99 of
/// 450 ms misses a 300 ms target even though only 600 ms would roll back.
/// </summary>
public static class OutcomeTargets
{
    public static IReadOnlyList<OutcomeTarget> For(HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        return
        [
            new(Metrics.ErrorRate, string.Create(CultureInfo.InvariantCulture, $"error rate ≤ baseline + {thresholds.MaxErrorRateIncrease * 100:0.##} pt")),
            new(Metrics.LatencyP99, string.Create(CultureInfo.InvariantCulture, $"p99 latency ≤ {thresholds.LatencyTargetMs:0} ms")),
            new(Metrics.Business, string.Create(CultureInfo.InvariantCulture, $"business metric ≥ baseline − {thresholds.MaxBusinessDrop * 100:0} %")),
        ];
    }

    /// <summary>The metrics a checkpoint reads.</summary>
    public static IReadOnlyList<string> MeasuredMetrics { get; } = [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Business];

    /// <summary>
    /// One line per target: "p99 latency: actual 450 ms vs target ≤ 300 ms ✗ missed". A value that
    /// cannot be read, or a relative target without its baseline, is "?" — never ✓.
    /// </summary>
    public static IReadOnlyList<string> Judge(HealthSample sample, IReadOnlyDictionary<string, double> baseline, HealthThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(thresholds);
        var lines = new List<string>();
        foreach (var target in For(thresholds))
        {
            var reading = sample.Readings.LastOrDefault(r => r.Metric == target.Metric && double.IsFinite(r.Value));
            var hasBaseline = baseline.TryGetValue(target.Metric, out var b);
            bool? met = reading is null ? null : target.Metric switch
            {
                // Without a baseline the error rate is judged against zero: stricter, never looser.
                Metrics.ErrorRate => reading.Value <= (hasBaseline ? b : 0) + thresholds.MaxErrorRateIncrease,
                Metrics.LatencyP99 => reading.Value <= thresholds.LatencyTargetMs,
                Metrics.Business => hasBaseline ? reading.Value >= b * (1 - thresholds.MaxBusinessDrop) : null,
                _ => null,
            };
            var actual = reading is null ? "unreadable" : Metrics.Format(target.Metric, reading.Value);
            var against = target.Metric is Metrics.ErrorRate or Metrics.Business
                ? (hasBaseline ? $" (baseline {Metrics.Format(target.Metric, b)})" : " (no baseline)")
                : string.Empty;
            var mark = met switch { true => "✓", false => "✗ missed", null => "? not judged" };
            lines.Add($"{Metrics.Label(target.Metric)}: actual {actual} vs target {target.Text}{against} {mark}");
        }

        return lines;
    }
}
