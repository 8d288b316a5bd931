using ShipBot.Core.Health;
using ShipBot.Core.Judging;

namespace ShipBot.Host;

/// <summary>
/// A service's canary judge (<c>ShipBot:Services:&lt;name&gt;:Judge</c>). Example:
/// <code>
/// "Judge": { "Kind": "Sequential", "Alpha": 0.01, "EarlyPromotion": true,
///            "Metrics": { "error_rate": { "Margin": 0.005 }, "slow_requests": { "Critical": false, "Action": "Consult" } } }
/// </code>
/// Unset values take the defaults of <see cref="JudgeSettings"/>; a metric not listed keeps its
/// default settings, one listed replaces them (and may be a new count metric the service's
/// Prometheus <c>CountQueries</c> define), and <c>"Enabled": false</c> removes one.
/// </summary>
public sealed class JudgeOptions
{
    /// <summary>Threshold (default: today's rule) or Sequential.</summary>
    public JudgeKind Kind { get; set; } = JudgeKind.Threshold;

    /// <summary>The release's error budget. Default 0.01.</summary>
    public double? Alpha { get; set; }

    /// <summary>The canary's share of <see cref="Alpha"/>. Default 0.5.</summary>
    public double? FirstStageShare { get; set; }

    /// <summary>Promote a stage judged safe before its bake ends. Default false.</summary>
    public bool EarlyPromotion { get; set; }

    /// <summary>Canary requests before "safe". Default 500.</summary>
    public double? MinimumSamples { get; set; }

    /// <summary>Time in the stage before "safe". Default 10 minutes.</summary>
    public TimeSpan? MinimumTime { get; set; }

    /// <summary>Metric name → its settings (see <see cref="JudgeSettings.DefaultMetrics"/>).</summary>
    public Dictionary<string, JudgeMetricOptions> Metrics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The settings the core judges with.</summary>
    public JudgeSettings ToSettings()
    {
        var defaults = new JudgeSettings();
        var metrics = defaults.Metrics.ToDictionary(m => m.Metric, StringComparer.Ordinal);
        foreach (var (name, metric) in Metrics)
        {
            if (!metric.Enabled)
            {
                metrics.Remove(name);
                continue;
            }

            var basis = metrics.TryGetValue(name, out var known) ? known : new JudgeMetricSettings { Metric = name };
            metrics[name] = basis with
            {
                Margin = metric.Margin ?? basis.Margin,
                HarmRatio = metric.HarmRatio ?? basis.HarmRatio,
                Critical = metric.Critical ?? basis.Critical,
                Action = metric.Action ?? basis.Action,
            };
        }

        return defaults with
        {
            Kind = Kind,
            Alpha = Alpha ?? defaults.Alpha,
            FirstStageShare = FirstStageShare ?? defaults.FirstStageShare,
            EarlyPromotion = EarlyPromotion,
            MinimumSamples = MinimumSamples ?? defaults.MinimumSamples,
            MinimumTime = MinimumTime ?? defaults.MinimumTime,
            Metrics = [.. metrics.Values],
        };
    }

    /// <summary>Adds to <paramref name="errors"/> what is wrong, naming the key (e.g. <c>ShipBot:Services:checkout:Judge</c>).</summary>
    public void Validate(string key, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!Enum.IsDefined(Kind))
        {
            errors.Add($"{key}:Kind must be Threshold or Sequential.");
            return;
        }

        if (ToSettings().Validate() is { } problem)
        {
            errors.Add($"{key}: {problem}");
        }
    }
}

/// <summary>One judged metric (<c>…:Judge:Metrics:&lt;metric&gt;</c>); unset values keep the metric's defaults.</summary>
public sealed class JudgeMetricOptions
{
    /// <summary>False removes the metric from the judge. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>"No worse than baseline + margin" as a fraction (0.01 = 1 point). Default 0.01.</summary>
    public double? Margin { get; set; }

    /// <summary>Harm is the canary confidently above this multiple of the baseline. Default 1.</summary>
    public double? HarmRatio { get; set; }

    /// <summary>Critical: harm always rolls back; must be safe for an early promotion. Default true.</summary>
    public bool? Critical { get; set; }

    /// <summary>Rollback or Consult, for a non-critical metric's harm. Default Rollback.</summary>
    public BreachAction? Action { get; set; }
}
