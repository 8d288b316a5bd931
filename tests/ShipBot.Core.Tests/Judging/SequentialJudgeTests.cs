using System.Text.Json;
using System.Text.Json.Serialization;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;

namespace ShipBot.Core.Tests.Judging;

public sealed class SequentialJudgeTests
{
    internal static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    internal static JudgeSettings JudgeSettingsFor(bool earlyPromotion = true) => new() { Kind = JudgeKind.Sequential, EarlyPromotion = earlyPromotion };

    private static JudgeState CreateSut(JudgeSettings? settings = null) => SequentialJudge.Start(settings ?? JudgeSettingsFor(), "Canary", 0, 3, Start);

    internal static JudgeObservation Look(TimeSpan at, double canary, double canaryErrors, double baseline, double baselineErrors, double? canarySlow = null, double? baselineSlow = null) =>
        new(Start + at,
        [
            new MetricCounts(CountMetrics.Errors, canary, canaryErrors, baseline, baselineErrors, Start, Start + at, "test"),
            new MetricCounts(CountMetrics.SlowRequests, canary, canarySlow ?? canary * 0.003, baseline, baselineSlow ?? baseline * 0.003, Start, Start + at, "test"),
        ]);

    // ------------------------------------------------------------ alpha spending and settings

    [Theory]
    [InlineData(0, 3, 0.005)]
    [InlineData(1, 3, 0.0025)]
    [InlineData(2, 3, 0.0025)]
    [InlineData(0, 1, 0.01)]
    [InlineData(1, 2, 0.005)]
    public void StageAlpha_DefaultShare_SpendsHalfOnTheCanaryAndSplitsTheRest(int stage, int stages, double expected) =>
        Assert.Equal(expected, SequentialJudge.StageAlpha(0.01, stage, stages), 12);

    [Fact]
    public void StageAlpha_WholePlan_AddsUpToAlpha() =>
        Assert.Equal(0.01, Enumerable.Range(0, 4).Sum(i => SequentialJudge.StageAlpha(0.01, i, 4)), 12);

    [Fact]
    public void Start_TwoMetrics_SplitsTheStageBudgetEqually()
    {
        var state = CreateSut();

        Assert.Equal(0.005, state.Alpha, 12);
        Assert.All(state.Metrics, m => Assert.Equal(0.0025, m.Alpha, 12));
        Assert.Equal([CountMetrics.Errors, CountMetrics.SlowRequests], state.Metrics.Select(m => m.Metric));
    }

    [Theory]
    [InlineData(0, "Alpha must be in (0, 0.5], not 0.")]
    [InlineData(0.7, "Alpha must be in (0, 0.5], not 0.7.")]
    public void Validate_BadAlpha_NamesIt(double alpha, string expected) =>
        Assert.Equal(expected, (JudgeSettingsFor() with { Alpha = alpha }).Validate());

    [Fact]
    public void Validate_HarmRatioBelowOne_NamesTheMetric() =>
        Assert.Equal("error_rate: HarmRatio must be at least 1, not 0.5.", (JudgeSettingsFor() with { Metrics = [new JudgeMetricSettings { Metric = CountMetrics.Errors, HarmRatio = 0.5 }] }).Validate());

    [Fact]
    public void Validate_DuplicateMetric_NamesIt() =>
        Assert.Equal("error_rate is listed twice.", (JudgeSettingsFor() with { Metrics = [new() { Metric = CountMetrics.Errors }, new() { Metric = CountMetrics.Errors }] }).Validate());

    [Fact]
    public void Validate_Defaults_Valid() => Assert.Null(new JudgeSettings().Validate());

    [Fact]
    public void Start_InvalidSettings_Throws() =>
        Assert.Throws<ArgumentException>(() => SequentialJudge.Start(JudgeSettingsFor() with { Metrics = [] }, "Canary", 0, 3, Start));

    // ------------------------------------------------------------ verdicts

    [Fact]
    public void Observe_FiveTimesTheErrors_HarmWithTheNumbers()
    {
        // A worked example: ten minutes at 5 % of 1,000 requests a minute; the canary fails 5 % of
        // its requests, the baseline 1 %. Of 120 errors 25 came from a canary that served 5 % of the
        // traffic (about 6 expected): far beyond chance at every look.
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(10), 500, 25, 9500, 95));

        Assert.Equal(JudgeVerdict.Harm, step.Result.Verdict);
        Assert.Equal(BreachAction.Rollback, step.Result.Action);
        var errors = step.Result.Metrics[0];
        Assert.Equal(JudgeVerdict.Harm, errors.Verdict);
        Assert.Equal(0.05, errors.CanaryRate, 12);
        Assert.Equal(0.01, errors.BaselineRate, 12);
        Assert.Equal(5, errors.Ratio!.Value, 9);
        Assert.InRange(errors.RatioLower, 1.5, 5);
        Assert.Equal(TimeSpan.FromMinutes(10), step.State.Metrics[0].HarmAfter);
        Assert.StartsWith("errors: canary 5 % (25 of 500) vs baseline 1 % (95 of 9,500) · ≥ ", errors.Describe(), StringComparison.Ordinal);
        Assert.EndsWith("(harm above 1×) · ≤ baseline + " + errors.Describe().Split("≤ baseline + ")[1].Split(" pt")[0] + " pt (safe within + 1 pt) · harm", errors.Describe(), StringComparison.Ordinal);
        Assert.StartsWith("errors 5 % vs baseline 1 %: at least ", errors.DescribeHarm(), StringComparison.Ordinal);
        Assert.Contains("baseline at 99.75 % confidence (harm above 1×)", errors.DescribeHarm(), StringComparison.Ordinal);
        var breach = step.Result.ToHealthVerdict().Breaches.Single();
        Assert.StartsWith("error rate 5 % breaches harm line 1× baseline 1 %: canary at least ", breach.DescribeBreach(), StringComparison.Ordinal);
        Assert.EndsWith("× at 99.75 % confidence", breach.DescribeBreach(), StringComparison.Ordinal);
        Assert.True(step.Result.ToHealthVerdict().RequiresRollback);
    }

    [Fact]
    public void ToHealthVerdict_Continue_PassesWithTheBounds()
    {
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(2), 100, 1, 1900, 19));

        var health = step.Result.ToHealthVerdict();

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.StartsWith("slow requests 0.3 % (sequential judge: continue, ≥ ", health.Checks[1].Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Observe_SameRatesEarly_Continue()
    {
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(2), 100, 1, 1900, 19));

        Assert.Equal(JudgeVerdict.Continue, step.Result.Verdict);
        Assert.False(step.Result.MayPromoteEarly);
        Assert.Null(step.Result.Action);
    }

    [Fact]
    public void Observe_CleanCanaryWithEnoughTrafficAndTime_SafeAndMayPromoteEarly()
    {
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570));

        Assert.Equal(JudgeVerdict.Safe, step.Result.Verdict);
        Assert.True(step.Result.MayPromoteEarly);
        Assert.All(step.Result.Metrics, m => Assert.True(m.DifferenceUpper < m.Margin));
        Assert.Equal(HealthStatus.Healthy, step.Result.ToHealthVerdict().Status);
    }

    [Fact]
    public void Observe_SafeButEarlyPromotionOff_MayNotPromoteEarly()
    {
        var step = SequentialJudge.Observe(CreateSut(JudgeSettingsFor(earlyPromotion: false)), Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570));

        Assert.Equal(JudgeVerdict.Safe, step.Result.Verdict);
        Assert.False(step.Result.MayPromoteEarly);
    }

    [Fact]
    public void Observe_CleanButBeforeTheMinimumTime_Continue()
    {
        var step = SequentialJudge.Observe(CreateSut(JudgeSettingsFor() with { MinimumTime = TimeSpan.FromMinutes(90) }), Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570));

        Assert.Equal(JudgeVerdict.Continue, step.Result.Verdict);
    }

    [Fact]
    public void Observe_CleanButTooFewCanaryRequests_Continue()
    {
        var step = SequentialJudge.Observe(CreateSut(JudgeSettingsFor() with { MinimumSamples = 5000 }), Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570));

        Assert.Equal(JudgeVerdict.Continue, step.Result.Verdict);
    }

    [Fact]
    public void Observe_CanaryFailsAloneWithNoBaselineErrors_Harm()
    {
        // No baseline errors at all, yet 8 canary errors on 5 % of the traffic: the event split alone convicts it.
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(5), 250, 8, 4750, 0));

        Assert.Equal(JudgeVerdict.Harm, step.Result.Verdict);
        Assert.Null(step.Result.Metrics[0].Ratio);
    }

    [Fact]
    public void Observe_NonCriticalMetricConsultHarm_ConsultAction()
    {
        var settings = JudgeSettingsFor() with
        {
            Metrics = [new() { Metric = CountMetrics.Errors }, new() { Metric = CountMetrics.SlowRequests, Critical = false, Action = BreachAction.Consult }],
        };

        var step = SequentialJudge.Observe(CreateSut(settings), Look(TimeSpan.FromMinutes(10), 500, 5, 9500, 95, canarySlow: 60, baselineSlow: 25));

        Assert.Equal(JudgeVerdict.Harm, step.Result.Verdict);
        Assert.Equal(BreachAction.Consult, step.Result.Action);
        var check = step.Result.ToHealthVerdict().Checks.Single(c => c.Metric == CountMetrics.SlowRequests);
        Assert.Equal(CheckStatus.Breach, check.Status);
        Assert.Equal(BreachAction.Consult, check.Action);
    }

    [Fact]
    public void Observe_CriticalMetricNotYetSafe_VetoesEarlyPromotion()
    {
        // Errors are clearly safe; slow requests are still uncertain (canary 2 % vs 1 % baseline, margin 1 pt).
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570, canarySlow: 45, baselineSlow: 570));

        Assert.Equal(JudgeVerdict.Safe, step.Result.Metrics[0].Verdict);
        Assert.NotEqual(JudgeVerdict.Safe, step.Result.Metrics[1].Verdict);
        Assert.NotEqual(JudgeVerdict.Safe, step.Result.Verdict);
        Assert.False(step.Result.MayPromoteEarly);
    }

    [Fact]
    public void Observe_HarmFound_StaysHarmAtLaterLooks()
    {
        var harmed = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(10), 500, 25, 9500, 95)).State;

        // Later counts that on their own would look fine cannot undo what the canary already showed.
        var later = SequentialJudge.Observe(harmed, Look(TimeSpan.FromMinutes(60), 3000, 30, 57000, 570));

        Assert.Equal(JudgeVerdict.Harm, later.Result.Verdict);
        Assert.Equal(TimeSpan.FromMinutes(10), later.State.Metrics[0].HarmAfter);
    }

    [Fact]
    public void Observe_SameLookTwice_SameVerdictAndBounds()
    {
        var once = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(10), 500, 9, 9500, 95));
        var twice = SequentialJudge.Observe(once.State, Look(TimeSpan.FromMinutes(10), 500, 9, 9500, 95));

        Assert.Equal(once.State.Metrics[0].RatioLower, twice.State.Metrics[0].RatioLower);
        Assert.Equal(once.State.Metrics[0].CanaryEvents, twice.State.Metrics[0].CanaryEvents);
    }

    // ------------------------------------------------------------ no data

    [Fact]
    public void Observe_SourceUnreadable_NoDataNeverAPass()
    {
        var step = SequentialJudge.Observe(CreateSut(), new JudgeObservation(Start.AddMinutes(30), [], "Prometheus: no answer within 5 s"));

        Assert.Equal(JudgeVerdict.NoData, step.Result.Verdict);
        Assert.False(step.Result.MayPromoteEarly);
        var health = step.Result.ToHealthVerdict();
        Assert.Equal(HealthStatus.Unknown, health.Status);
        Assert.Equal("errors: Prometheus: no answer within 5 s; slow requests: Prometheus: no answer within 5 s", health.Error);
        Assert.All(health.Checks, c => Assert.Equal(CheckStatus.Unknown, c.Status));
    }

    [Fact]
    public void Observe_NoCanaryTraffic_NoData()
    {
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(30), 0, 0, 28500, 285));

        Assert.Equal(JudgeVerdict.NoData, step.Result.Verdict);
        Assert.Equal("errors: no data (no canary traffic yet)", step.Result.Metrics[0].Describe());
    }

    [Fact]
    public void Observe_CanaryTrafficStops_NoDataAfterSafe()
    {
        var safe = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570));
        Assert.Equal(JudgeVerdict.Safe, safe.Result.Verdict);

        var stalled = SequentialJudge.Observe(safe.State, Look(TimeSpan.FromMinutes(61), 3000, 27, 57950, 580));

        Assert.Equal(JudgeVerdict.NoData, stalled.Result.Verdict);
        Assert.False(stalled.Result.MayPromoteEarly);
        Assert.Equal("no canary traffic since the last look", stalled.Result.Metrics[0].NoDataReason);
    }

    [Fact]
    public void Observe_NoBaselineTraffic_NoData()
    {
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(30), 1500, 3, 0, 0));

        Assert.Equal(JudgeVerdict.NoData, step.Result.Verdict);
        Assert.Equal("no baseline traffic to compare with", step.Result.Metrics[0].NoDataReason);
    }

    [Fact]
    public void Observe_OneMetricMissing_NoDataEvenIfTheOtherIsSafe()
    {
        var look = Look(TimeSpan.FromMinutes(60), 3000, 27, 57000, 570);
        var step = SequentialJudge.Observe(CreateSut(), look with { Counts = [look.Counts[0]], Error = "Prometheus: slow_requests counts: query timed out" });

        Assert.Equal(JudgeVerdict.Safe, step.Result.Metrics[0].Verdict);
        Assert.Equal(JudgeVerdict.NoData, step.Result.Verdict);
    }

    [Fact]
    public void Observe_CountsThatCannotBeCounts_NoData()
    {
        var step = SequentialJudge.Observe(CreateSut(), Look(TimeSpan.FromMinutes(30), 1500, double.NaN, 28500, 285));

        Assert.Equal(JudgeVerdict.NoData, step.Result.Metrics[0].Verdict);
        Assert.Equal("the source returned unusable counts", step.Result.Metrics[0].NoDataReason);
    }

    // ------------------------------------------------------------ state

    [Fact]
    public void State_AfterTwoHoursOfLooks_StaysSmallAndRoundTripsThroughJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
        var state = CreateSut();
        for (var look = 1; look <= 240; look++)
        {
            state = SequentialJudge.Observe(state, Look(TimeSpan.FromSeconds(30 * look), 25.0 * look, 0.25 * look, 475.0 * look, 4.75 * look)).State;
        }

        var json = JsonSerializer.Serialize(state, options);
        var back = JsonSerializer.Deserialize<JudgeState>(json, options)!;

        Assert.True(json.Length < 12_000, $"{json.Length} characters");
        Assert.All(state.Metrics, m => Assert.True(m.Trace.Count <= SequentialJudge.TraceCapacity));
        Assert.Equal(json, JsonSerializer.Serialize(back, options));
        Assert.Equal(240, back.Looks);
        Assert.Equal(SequentialJudge.Explain(state, state.LastLookAt!.Value).Summary, SequentialJudge.Explain(back, back.LastLookAt!.Value).Summary);
    }

    [Fact]
    public void Trace_LongStage_KeepsTheFirstAndTheLatestLook()
    {
        var state = CreateSut();
        for (var look = 1; look <= 240; look++)
        {
            state = SequentialJudge.Observe(state, Look(TimeSpan.FromSeconds(30 * look), 25.0 * look, 0.25 * look, 475.0 * look, 4.75 * look)).State;
        }

        var trace = state.Metrics[0].Trace;
        Assert.Equal(0.5, trace[0].Minutes);
        Assert.Equal(120, trace[^1].Minutes);
        Assert.True(trace.Zip(trace.Skip(1)).All(p => p.First.Minutes < p.Second.Minutes));
    }
}
