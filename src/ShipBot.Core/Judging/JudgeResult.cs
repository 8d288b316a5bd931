using System.Globalization;
using System.Text.Json.Serialization;
using ShipBot.Core.Health;

namespace ShipBot.Core.Judging;

/// <summary>A sequential verdict, for one metric or for the stage.</summary>
public enum JudgeVerdict
{
    /// <summary>No conclusion yet: keep watching; the stage promotes at the end of its bake as usual.</summary>
    Continue,

    /// <summary>The canary is confidently no worse than baseline + margin, with enough samples and time: it may promote early.</summary>
    Safe,

    /// <summary>The canary is confidently worse than its baseline: the metric's action (rollback or consult).</summary>
    Harm,

    /// <summary>Too little traffic or an unreadable source: inconclusive, never a pass.</summary>
    NoData,
}

/// <summary>One metric's verdict with the numbers behind it.</summary>
public sealed record MetricJudgement(
    string Metric,
    JudgeVerdict Verdict,
    double CanaryTotal,
    double CanaryEvents,
    double BaselineTotal,
    double BaselineEvents,
    double RatioLower,
    double CanaryUpper,
    double BaselineLower,
    double Margin,
    double HarmRatio,
    double Alpha,
    bool Critical,
    BreachAction Action,
    string? NoDataReason = null)
{
    public double CanaryRate => CanaryTotal > 0 ? CanaryEvents / CanaryTotal : 0;

    public double BaselineRate => BaselineTotal > 0 ? BaselineEvents / BaselineTotal : 0;

    /// <summary>Estimated effect: canary rate − baseline rate.</summary>
    public double Difference => CanaryRate - BaselineRate;

    /// <summary>Estimated effect as a ratio; null while the baseline has no events.</summary>
    public double? Ratio => BaselineRate > 0 ? CanaryRate / BaselineRate : null;

    /// <summary>Upper confidence bound of canary rate − baseline rate: what "safe" compares with the margin.</summary>
    public double DifferenceUpper => CanaryUpper - BaselineLower;

    /// <summary>The confidence each bound is held at, e.g. 0.9975.</summary>
    public double Confidence => 1 - Alpha;

    /// <summary>"errors: canary 2.1 % (12 of 571) vs baseline 1.02 % (110 of 10,812) · ≥ 1.31× baseline (harm above 1×) · ≤ baseline + 2.4 pt (safe within 1 pt) · harm".</summary>
    public string Describe()
    {
        var text = $"{CountMetrics.Label(Metric)}: canary {Percent(CanaryRate)} ({Count(CanaryEvents)} of {Count(CanaryTotal)}) vs baseline {Percent(BaselineRate)} ({Count(BaselineEvents)} of {Count(BaselineTotal)})";
        if (Verdict == JudgeVerdict.NoData && CanaryTotal <= 0)
        {
            return $"{CountMetrics.Label(Metric)}: no data ({NoDataReason ?? "no canary traffic"})";
        }

        text += $" · ≥ {Times(RatioLower)} baseline (harm above {Times(HarmRatio)}) · ≤ baseline {Points(DifferenceUpper)} (safe within {Points(Margin)})";
        return $"{text} · {Word(Verdict)}{(Verdict == JudgeVerdict.NoData && NoDataReason is { } why ? $" ({why})" : string.Empty)}";
    }

    /// <summary>Harm in words, for the rollback reason and the alert: "errors 2.1 % vs baseline 1.02 %: at least 1.31× baseline at 99.75 % confidence (harm above 1×)".</summary>
    public string DescribeHarm() =>
        $"{CountMetrics.Label(Metric)} {Percent(CanaryRate)} vs baseline {Percent(BaselineRate)}: at least {Times(RatioLower)} baseline at {Confidence * 100:0.##} % confidence (harm above {Times(HarmRatio)})";

    internal static string Word(JudgeVerdict verdict) => verdict switch
    {
        JudgeVerdict.Harm => "harm",
        JudgeVerdict.Safe => "safe",
        JudgeVerdict.NoData => "no data",
        _ => "continue",
    };

    internal static string Percent(double rate) => $"{(rate * 100).ToString(rate * 100 < 1 ? "0.###" : "0.##", CultureInfo.InvariantCulture)} %";

    private static string Points(double difference) =>
        $"{(difference >= 0 ? "+" : "−")} {Math.Abs(difference * 100).ToString("0.##", CultureInfo.InvariantCulture)} pt";

    private static string Times(double ratio) => $"{ratio.ToString(ratio < 10 ? "0.##" : "0", CultureInfo.InvariantCulture)}×";

    private static string Count(double count) => Math.Round(count).ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>The stage's verdict at one look, with every metric's numbers.</summary>
/// <param name="Action">What harm leads to (rollback when a critical or rollback metric is harmed); null without harm.</param>
/// <param name="MayPromoteEarly">Safe, and the service allows early promotion.</param>
public sealed record JudgeResult(
    JudgeVerdict Verdict,
    BreachAction? Action,
    IReadOnlyList<MetricJudgement> Metrics,
    DateTimeOffset At,
    TimeSpan Elapsed,
    bool MayPromoteEarly)
{
    [JsonIgnore]
    public IEnumerable<MetricJudgement> Harmed => Metrics.Where(m => m.Verdict == JudgeVerdict.Harm);

    /// <summary>Every metric's explanation, one per line.</summary>
    public string Summary => string.Join("\n", Metrics.Select(m => m.Describe()));

    /// <summary>
    /// The verdict in the health gate's terms, so the coordinator's existing rules apply: harm is a
    /// breach with the metric's action (a critical metric always rolls back), no data is unknown
    /// (never green), continue and safe pass. The value is the canary's rate and the baseline the
    /// baseline's, over the stage so far.
    /// </summary>
    public HealthVerdict ToHealthVerdict()
    {
        var checks = Metrics.Select(m => new CheckResult(
            m.Metric,
            m.Verdict switch
            {
                JudgeVerdict.Harm => CheckStatus.Breach,
                JudgeVerdict.NoData => CheckStatus.Unknown,
                _ => CheckStatus.Pass,
            },
            m.Verdict == JudgeVerdict.NoData && m.CanaryTotal <= 0 ? null : m.CanaryRate,
            m.Verdict == JudgeVerdict.Harm
                ? $"harm line {m.HarmRatio.ToString("0.##", CultureInfo.InvariantCulture)}× baseline {MetricJudgement.Percent(m.BaselineRate)}: canary at least {m.RatioLower.ToString("0.##", CultureInfo.InvariantCulture)}× at {(m.Confidence * 100).ToString("0.##", CultureInfo.InvariantCulture)} % confidence"
                : $"sequential judge: {MetricJudgement.Word(m.Verdict)}, ≥ {m.RatioLower.ToString("0.##", CultureInfo.InvariantCulture)}× and ≤ baseline + {(Math.Max(m.DifferenceUpper, 0) * 100).ToString("0.##", CultureInfo.InvariantCulture)} pt",
            m.BaselineTotal > 0 ? m.BaselineRate : null,
            m.Critical ? BreachAction.Rollback : m.Action,
            "sequential judge")).ToList();
        var status = Verdict switch
        {
            JudgeVerdict.Harm => HealthStatus.Breached,
            JudgeVerdict.NoData => HealthStatus.Unknown,
            _ => HealthStatus.Healthy,
        };
        var error = Verdict == JudgeVerdict.NoData
            ? string.Join("; ", Metrics.Where(m => m.Verdict == JudgeVerdict.NoData).Select(m => $"{CountMetrics.Label(m.Metric)}: {m.NoDataReason ?? "no data"}"))
            : null;
        return new HealthVerdict(status, checks, At, error);
    }
}

/// <summary>The judge's answer to one look: the next state to store and the verdict to act on.</summary>
public sealed record JudgeStep(JudgeState State, JudgeResult Result);
