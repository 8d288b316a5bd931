using ShipBot.Core.Health;
using ShipBot.Core.Judging;

namespace ShipBot.Bench.Judge;

/// <summary>A judge the benchmark drives look by look; true from the look it would roll back.</summary>
public interface IBenchJudge
{
    /// <summary>Feeds one look; returns true when the judge declares harm (rollback) at this look.</summary>
    bool Look(in LookCounts counts, int look);
}

/// <summary>
/// Today's rule, emulated on the same data as <see cref="HealthPolicy.Evaluate"/> sees it with the
/// default Prometheus queries: the canary's error rate over the last minute (<c>rate(...[1m])</c>)
/// above the baseline captured before the rollout (one minute of production) + 1 point, or the
/// canary's p99 over the last minute above 2 × the 300 ms target (more than 1 % of the minute's
/// requests slower than 600 ms). Any breach rolls back (both checks' action). A minute without
/// canary requests is unknown, not a breach.
/// </summary>
public sealed class ThresholdRuleJudge(double preRolloutErrorRate, HealthThresholds thresholds) : IBenchJudge
{
    private LookCounts _previous;

    public bool Look(in LookCounts counts, int look)
    {
        var requests = counts.CanaryRequests + _previous.CanaryRequests;
        var errors = counts.CanaryErrors + _previous.CanaryErrors;
        var verySlow = counts.CanaryVerySlow + _previous.CanaryVerySlow;
        _previous = counts;
        if (requests == 0)
        {
            return false;
        }

        // The very HealthPolicy, fed the readings the default queries would return.
        var now = DateTimeOffset.UnixEpoch;
        var p99 = (double)verySlow / requests > 0.01 ? (2 * thresholds.LatencyTargetMs) + 1 : thresholds.LatencyTargetMs;
        var sample = new HealthSample(
        [
            new HealthReading(Metrics.ErrorRate, (double)errors / requests, "bench", now),
            new HealthReading(Metrics.LatencyP99, p99, "bench", now),
        ], Provided: [Metrics.ErrorRate, Metrics.LatencyP99]);
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ErrorRate, Metrics.LatencyP99], new Dictionary<string, double> { [Metrics.ErrorRate] = preRolloutErrorRate }, thresholds, now);
        return verdict.RequiresRollback;
    }
}

/// <summary>
/// A Kayenta-style judge: at every look, for each metric, a Mann–Whitney test of the canary's
/// per-interval values (one per 30 s look since the stage began) against an equal-size baseline's,
/// as Kayenta's documentation recommends; a metric fails when the 98 % interval of the shift lies
/// above zero (one-sided z above 2.326, normal approximation with the tie correction), and a failed
/// metric fails the canary (two metrics: one failure scores 50, below any usual pass mark).
/// Repeated at every look, each one a fixed-sample test.
/// </summary>
public sealed class KayentaStyleJudge : IBenchJudge
{
    private const double Critical = 2.3263478740; // two-sided 98 %

    private readonly RankSums _errors = new();
    private readonly RankSums _slow = new();

    public bool Look(in LookCounts counts, int look)
    {
        if (counts.CanaryRequests > 0 && counts.SliceRequests > 0)
        {
            _errors.Add((double)counts.CanaryErrors / counts.CanaryRequests, (double)counts.SliceErrors / counts.SliceRequests);
            _slow.Add((double)counts.CanarySlow / counts.CanaryRequests, (double)counts.SliceSlow / counts.SliceRequests);
        }

        return _errors.Z() > Critical || _slow.Z() > Critical;
    }

    /// <summary>Mann–Whitney U of canary over baseline, kept incrementally (sorted samples and tie counts).</summary>
    private sealed class RankSums
    {
        private readonly List<double> _canary = [];
        private readonly List<double> _baseline = [];
        private readonly Dictionary<double, int> _ties = [];
        private double _u;
        private double _tieSum;

        public void Add(double canary, double baseline)
        {
            _u += Below(_baseline, canary) + (0.5 * Equal(_baseline, canary));
            Insert(_canary, canary);
            Tie(canary);
            _u += Above(_canary, baseline) + (0.5 * Equal(_canary, baseline));
            Insert(_baseline, baseline);
            Tie(baseline);
        }

        public double Z()
        {
            double n1 = _canary.Count, n2 = _baseline.Count, n = n1 + n2;
            if (n1 < 3 || n2 < 3)
            {
                return 0;
            }

            var variance = n1 * n2 / 12 * ((n + 1) - (_tieSum / (n * (n - 1))));
            return variance <= 0 ? 0 : (_u - (n1 * n2 / 2)) / Math.Sqrt(variance);
        }

        private void Tie(double value)
        {
            var t = _ties.GetValueOrDefault(value);
            _tieSum += (3.0 * t * t) + (3.0 * t);
            _ties[value] = t + 1;
        }

        private static void Insert(List<double> list, double value)
        {
            var i = LowerIndex(list, value);
            list.Insert(i, value);
        }

        private static int LowerIndex(List<double> list, double value)
        {
            int lo = 0, hi = list.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >> 1;
                if (list[mid] < value)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        private static int UpperIndex(List<double> list, double value)
        {
            int lo = 0, hi = list.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >> 1;
                if (list[mid] <= value)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        private static int Below(List<double> list, double value) => LowerIndex(list, value);

        private static int Equal(List<double> list, double value) => UpperIndex(list, value) - LowerIndex(list, value);

        private static int Above(List<double> list, double value) => list.Count - UpperIndex(list, value);
    }
}

/// <summary>The sequential judge as ShipBot runs it, fed cumulative counts since the stage began.</summary>
public sealed class SequentialBenchJudge(JudgeState start, double lookSeconds) : IBenchJudge
{
    private JudgeState _state = start;
    private double _canary, _canaryErrors, _canarySlow, _baseline, _baselineErrors, _baselineSlow;

    /// <summary>The first look judged safe, or −1.</summary>
    public int SafeLook { get; private set; } = -1;

    public JudgeState State => _state;

    public bool Look(in LookCounts counts, int look)
    {
        _canary += counts.CanaryRequests;
        _canaryErrors += counts.CanaryErrors;
        _canarySlow += counts.CanarySlow;
        _baseline += counts.BaselineRequests;
        _baselineErrors += counts.BaselineErrors;
        _baselineSlow += counts.BaselineSlow;
        var at = _state.StartedAt.AddSeconds((look + 1) * lookSeconds);
        var step = SequentialJudge.Observe(_state, new JudgeObservation(at,
        [
            new MetricCounts(CountMetrics.Errors, _canary, _canaryErrors, _baseline, _baselineErrors, _state.StartedAt, at, "bench"),
            new MetricCounts(CountMetrics.SlowRequests, _canary, _canarySlow, _baseline, _baselineSlow, _state.StartedAt, at, "bench"),
        ]));
        _state = step.State;
        if (step.Result.Verdict == JudgeVerdict.Safe && SafeLook < 0)
        {
            SafeLook = look;
        }

        return step.Result.Verdict == JudgeVerdict.Harm;
    }
}
