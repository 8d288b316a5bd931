using ShipBot.Core.Health;

namespace ShipBot.Core.Judging;

/// <summary>
/// The sequential canary judge: pure and clock-free (state and observation in, next state and
/// verdict out). For every metric it compares the canary's bad-event rate with the baseline's over
/// the stage so far, with confidence sequences that hold at every look at once, so looking every
/// 30 seconds for hours does not inflate false alarms.
/// <list type="bullet">
/// <item><b>Harm</b> uses the events alone. Given how many bad events happened, each one came from
/// the canary with probability π = wρ / (wρ + 1), where w is the canary's share of requests over the
/// baseline's and ρ the ratio of their rates. A one-sided beta-binomial mixture on π (valid at every
/// look) gives a lower bound on ρ; harm is that bound above the metric's harm ratio. Conditioning
/// on the events removes the unknown baseline rate, which is why this is the sharpest test for a
/// ratio of two counts, and it needs no baseline events at all to see a canary failing alone.</item>
/// <item><b>Safe</b> uses an upper bound of the canary's rate and a lower bound of the baseline's
/// (each a one-sided beta-binomial confidence sequence); safe is their difference below the margin,
/// with the minimum samples and time met.</item>
/// </list>
/// Each kind of wrong verdict is bounded by the metric's α at all looks (Ville's inequality), and
/// the α of a release is split over stages and metrics (<see cref="JudgeSettings"/>).
/// </summary>
public static class SequentialJudge
{
    /// <summary>Chart points kept per metric; older points are thinned evenly.</summary>
    public const int TraceCapacity = 32;

    /// <summary>The harm test is sharpest around this many bad events (canary and baseline).</summary>
    public const double DefaultTuneEvents = 100;

    /// <summary>The canary's upper bound is sharpest around this many canary requests.</summary>
    public const double DefaultTuneCanary = 1500;

    /// <summary>The baseline's lower bound is sharpest around this many baseline requests.</summary>
    public const double DefaultTuneBaseline = 30_000;

    // Of a metric's budget for a false "safe", the canary's bound spends this much and the baseline's the rest:
    // the baseline has far more traffic, so its bound stays tight on a small share.
    private const double CanaryShareOfSafe = 0.8;

    /// <summary>
    /// The part of <paramref name="alpha"/> a judged stage spends: the first gets
    /// <paramref name="firstShare"/>, the others split the rest equally (a plan with one judged
    /// stage spends everything there).
    /// </summary>
    /// <param name="stageIndex">0 for the first judged (partial) stage.</param>
    /// <param name="judgedStages">How many partial stages the plan has (the 100 % stage has no baseline to compare with).</param>
    public static double StageAlpha(double alpha, int stageIndex, int judgedStages, double firstShare = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stageIndex);
        if (judgedStages <= 1)
        {
            return alpha;
        }

        return stageIndex == 0 ? alpha * firstShare : alpha * (1 - firstShare) / (judgedStages - 1);
    }

    /// <summary>A fresh state for a stage whose traffic started at <paramref name="startedAt"/>; the parameters are fixed here for the whole stage.</summary>
    public static JudgeState Start(JudgeSettings settings, string stage, int stageIndex, int judgedStages, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(settings));
        }

        var stageAlpha = StageAlpha(settings.Alpha, stageIndex, judgedStages, settings.FirstStageShare);
        var perMetric = stageAlpha / settings.Metrics.Count;
        return new JudgeState
        {
            Stage = stage,
            StartedAt = startedAt,
            Alpha = stageAlpha,
            EarlyPromotion = settings.EarlyPromotion,
            MinimumSamples = settings.MinimumSamples,
            MinimumTime = settings.MinimumTime,
            Metrics = [.. settings.Metrics.Select(m => new MetricJudgeState
            {
                Metric = m.Metric,
                Margin = m.Margin,
                HarmRatio = m.HarmRatio,
                Critical = m.Critical,
                Action = m.Action,
                Alpha = perMetric,
                TuneEvents = DefaultTuneEvents,
                TuneCanary = DefaultTuneCanary,
                TuneBaseline = DefaultTuneBaseline,
            })],
        };
    }

    /// <summary>Weighs one look. Counts are cumulative since the stage began, so a repeated or late look never counts anything twice.</summary>
    public static JudgeStep Observe(JudgeState state, JudgeObservation observation)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(observation);
        var elapsed = observation.At - state.StartedAt;
        var metrics = new MetricJudgeState[state.Metrics.Count];
        for (var i = 0; i < metrics.Length; i++)
        {
            var metric = state.Metrics[i];
            MetricCounts? counts = null;
            foreach (var c in observation.Counts)
            {
                if (string.Equals(c.Metric, metric.Metric, StringComparison.Ordinal))
                {
                    counts = c;
                }
            }

            metrics[i] = ObserveMetric(state, metric, counts, observation.Error, elapsed);
        }

        var next = state with { Metrics = metrics, Looks = state.Looks + 1, LastLookAt = observation.At };
        var result = Explain(next, observation.At);
        return new JudgeStep(next with { Verdict = result.Verdict }, result);
    }

    /// <summary>The verdict and explanation a state stands for (to render a card again without a new look).</summary>
    public static JudgeResult Explain(JudgeState state, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(state);
        var judgements = state.Metrics.Select(m => new MetricJudgement(
            m.Metric, m.Verdict, m.CanaryTotal, m.CanaryEvents, m.BaselineTotal, m.BaselineEvents,
            m.RatioLower, m.CanaryUpper, m.BaselineLower, m.Margin, m.HarmRatio, m.Alpha, m.Critical, m.Action, m.NoDataReason)).ToList();
        var harmed = state.Metrics.Where(m => m.Verdict == JudgeVerdict.Harm).ToList();
        JudgeVerdict verdict;
        BreachAction? action = null;
        if (harmed.Count > 0)
        {
            verdict = JudgeVerdict.Harm;
            action = harmed.Any(m => m.Critical || m.Action == BreachAction.Rollback) ? BreachAction.Rollback : BreachAction.Consult;
        }
        else if (state.Metrics.Any(m => m.Verdict == JudgeVerdict.NoData))
        {
            verdict = JudgeVerdict.NoData;
        }
        else if (state.Metrics.Where(m => m.Critical).All(m => m.Verdict == JudgeVerdict.Safe)
            && state.Metrics.Any(m => m.Verdict == JudgeVerdict.Safe))
        {
            // A critical metric vetoes: every one must be safe. A non-critical metric only has to be free of harm and readable.
            verdict = JudgeVerdict.Safe;
        }
        else
        {
            verdict = JudgeVerdict.Continue;
        }

        return new JudgeResult(verdict, action, judgements, at, at - state.StartedAt, verdict == JudgeVerdict.Safe && state.EarlyPromotion);
    }

    private static MetricJudgeState ObserveMetric(JudgeState stage, MetricJudgeState metric, MetricCounts? counts, string? error, TimeSpan elapsed)
    {
        if (counts is null || !counts.IsReadable)
        {
            var why = counts is null ? error ?? "no counts were read" : "the source returned unusable counts";
            return metric with { Verdict = metric.Verdict == JudgeVerdict.Harm ? JudgeVerdict.Harm : JudgeVerdict.NoData, NoDataReason = why };
        }

        var canaryTotal = counts.CanaryTotal;
        var canaryEvents = Math.Min(counts.CanaryEvents, canaryTotal);
        var baselineTotal = counts.BaselineTotal;
        var baselineEvents = Math.Min(counts.BaselineEvents, baselineTotal);
        string? noData = null;
        if (canaryTotal < 1)
        {
            noData = "no canary traffic yet";
        }
        else if (stage.Looks > 0 && metric.CanaryTotal >= 1 && canaryTotal < metric.CanaryTotal + 1)
        {
            noData = "no canary traffic since the last look";
        }
        else if (baselineTotal < 1)
        {
            noData = "no baseline traffic to compare with";
        }

        var ratioLower = metric.RatioLower;
        var canaryUpper = metric.CanaryUpper;
        var baselineLower = metric.BaselineLower;
        if (canaryTotal >= 1 && baselineTotal >= 1)
        {
            var events = canaryEvents + baselineEvents;
            if (canaryEvents > 0)
            {
                // The share of bad events that came from the canary, and what it says about the ratio of rates.
                var share = canaryTotal / baselineTotal;
                var guess = ratioLower > 0 ? share * ratioLower / ((share * ratioLower) + 1) : 0;
                var piLower = BetaBinomialMixture.LowerBound(canaryEvents, events, metric.Alpha, metric.TuneEvents, metric.Alpha, MixtureSide.Above, guess);
                var lower = piLower <= 0 ? 0 : piLower >= 1 ? double.MaxValue : piLower / (share * (1 - piLower));
                ratioLower = Math.Max(ratioLower, Math.Min(lower, 1e6));
            }

            var canaryAlpha = metric.Alpha * CanaryShareOfSafe;
            canaryUpper = Math.Min(canaryUpper, BetaBinomialMixture.UpperBound(canaryEvents, canaryTotal, canaryAlpha, metric.TuneCanary, canaryAlpha, MixtureSide.Below, canaryUpper < 1 ? canaryUpper : 0));
            var baselineAlpha = metric.Alpha * (1 - CanaryShareOfSafe);
            baselineLower = Math.Max(baselineLower, BetaBinomialMixture.LowerBound(baselineEvents, baselineTotal, baselineAlpha, metric.TuneBaseline, baselineAlpha, MixtureSide.Above, baselineLower));
        }

        var harm = metric.Verdict == JudgeVerdict.Harm || ratioLower > metric.HarmRatio;
        var safe = canaryUpper - baselineLower < metric.Margin
            && canaryTotal >= stage.MinimumSamples
            && elapsed >= stage.MinimumTime;
        var verdict = harm ? JudgeVerdict.Harm : noData is not null ? JudgeVerdict.NoData : safe ? JudgeVerdict.Safe : JudgeVerdict.Continue;
        var point = new JudgePoint(
            Math.Round(elapsed.TotalMinutes, 2),
            Round(canaryEvents / canaryTotal),
            Round(baselineTotal > 0 ? baselineEvents / baselineTotal : 0),
            Round(ratioLower),
            Round(canaryUpper),
            Round(baselineLower));
        return metric with
        {
            CanaryTotal = canaryTotal,
            CanaryEvents = canaryEvents,
            BaselineTotal = baselineTotal,
            BaselineEvents = baselineEvents,
            RatioLower = ratioLower,
            CanaryUpper = canaryUpper,
            BaselineLower = baselineLower,
            Verdict = verdict,
            NoDataReason = noData,
            HarmAfter = metric.HarmAfter ?? (harm ? elapsed : null),
            Trace = canaryTotal >= 1 ? Append(metric.Trace, point) : metric.Trace,
        };
    }

    private static JudgePoint[] Append(IReadOnlyList<JudgePoint> trace, JudgePoint point)
    {
        if (trace.Count < TraceCapacity)
        {
            return [.. trace, point];
        }

        // Keep every other point: the chart keeps its shape over the whole stage in a bounded state.
        var thinned = new List<JudgePoint>((trace.Count / 2) + 2);
        for (var i = 0; i < trace.Count; i += 2)
        {
            thinned.Add(trace[i]);
        }

        thinned.Add(point);
        return [.. thinned];
    }

    private static double Round(double value)
    {
        if (value == 0 || !double.IsFinite(value))
        {
            return 0;
        }

        var digits = 2 - (int)Math.Floor(Math.Log10(Math.Abs(value)));
        return digits <= 0 ? Math.Round(value) : Math.Round(value, Math.Min(digits, 15));
    }
}
