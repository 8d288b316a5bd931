using ShipBot.Core.Health;

namespace ShipBot.Core.Judging;

/// <summary>
/// Everything the sequential judge keeps about one stage between looks: the test's parameters,
/// fixed when the stage starts (a sequential test is valid only if they do not move with the
/// data), the counts so far, the running confidence bounds and a short trace for the chart. Small
/// (about 3–4 KB of JSON per metric at most) and free of cycles: it is stored with the release.
/// </summary>
public sealed record JudgeState
{
    /// <summary>The stage judged, e.g. "Canary".</summary>
    public required string Stage { get; init; }

    /// <summary>When the stage's traffic started; counts are read from here.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The part of the release's budget this stage spends (all metrics together).</summary>
    public required double Alpha { get; init; }

    public bool EarlyPromotion { get; init; }

    public double MinimumSamples { get; init; }

    public TimeSpan MinimumTime { get; init; }

    /// <summary>Looks taken, including inconclusive ones.</summary>
    public int Looks { get; init; }

    public DateTimeOffset? LastLookAt { get; init; }

    /// <summary>The stage's verdict at the last look.</summary>
    public JudgeVerdict Verdict { get; init; } = JudgeVerdict.Continue;

    public required IReadOnlyList<MetricJudgeState> Metrics { get; init; }
}

/// <summary>One metric's test: its parameters, the counts so far and the running bounds (each the best of every look, which stays valid because the bounds hold at all looks at once).</summary>
public sealed record MetricJudgeState
{
    public required string Metric { get; init; }

    public double Margin { get; init; }

    public double HarmRatio { get; init; } = 1;

    public bool Critical { get; init; } = true;

    public BreachAction Action { get; init; } = BreachAction.Rollback;

    /// <summary>This metric's share of the stage's budget, spent on each kind of wrong verdict.</summary>
    public double Alpha { get; init; }

    /// <summary>Tuning: the number of bad events (canary and baseline together) at which the harm test is sharpest.</summary>
    public double TuneEvents { get; init; }

    /// <summary>Tuning: canary requests at which the canary's upper bound is sharpest.</summary>
    public double TuneCanary { get; init; }

    /// <summary>Tuning: baseline requests at which the baseline's lower bound is sharpest.</summary>
    public double TuneBaseline { get; init; }

    public double CanaryTotal { get; init; }

    public double CanaryEvents { get; init; }

    public double BaselineTotal { get; init; }

    public double BaselineEvents { get; init; }

    /// <summary>Lower confidence bound of canary rate ÷ baseline rate (0 until there is evidence).</summary>
    public double RatioLower { get; init; }

    /// <summary>Upper confidence bound of the canary's rate (1 until there is evidence).</summary>
    public double CanaryUpper { get; init; } = 1;

    /// <summary>Lower confidence bound of the baseline's rate.</summary>
    public double BaselineLower { get; init; }

    public JudgeVerdict Verdict { get; init; } = JudgeVerdict.Continue;

    /// <summary>Why the metric has no data at the last look, when it has none.</summary>
    public string? NoDataReason { get; init; }

    /// <summary>When harm was first found, as time into the stage.</summary>
    public TimeSpan? HarmAfter { get; init; }

    /// <summary>At most <see cref="SequentialJudge.TraceCapacity"/> points, thinned evenly as the stage goes on.</summary>
    public IReadOnlyList<JudgePoint> Trace { get; init; } = [];
}

/// <summary>One look on the chart: minutes into the stage, both rates and the bounds then (rounded to 3 significant digits).</summary>
public sealed record JudgePoint(double Minutes, double CanaryRate, double BaselineRate, double RatioLower, double CanaryUpper, double BaselineLower);

/// <summary>What the judge is asked to weigh at one look: counts since the stage began, or why none could be read.</summary>
public sealed record JudgeObservation(DateTimeOffset At, IReadOnlyList<MetricCounts> Counts, string? Error = null)
{
    /// <summary>The counts of a health sample (its error, if any, explains the metrics it lacks).</summary>
    public static JudgeObservation From(HealthSample sample, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return new JudgeObservation(at, sample.Counts, sample.Error);
    }
}
