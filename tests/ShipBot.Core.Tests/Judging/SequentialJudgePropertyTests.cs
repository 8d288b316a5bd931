using CsCheck;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using static ShipBot.Core.Tests.Judging.SequentialJudgeTests;

namespace ShipBot.Core.Tests.Judging;

public sealed class SequentialJudgePropertyTests
{
    private const long Iterations = 300;

    // ------------------------------------------------------------ error rates under continuous monitoring

    /// <summary>
    /// No regression, a look every 30 s for an hour at 5 % of 1,000 requests a minute, simulated
    /// with a fixed seed. The canary spends the whole release budget α = 0.1 here (large, so a few
    /// hundred stages can show the rate); every look counts. The share of stages ever judged
    /// harmed must stay under α, and each metric under its own share.
    /// </summary>
    [Theory]
    [InlineData(0.002, 20_240_601)]
    [InlineData(0.01, 20_240_602)]
    [InlineData(0.05, 20_240_603)]
    public void FalseHarm_NoRegressionFixedSeed_UnderAlphaAcrossAllLooks(double errorRate, int seed)
    {
        const int stages = 200;
        var settings = JudgeSettingsFor() with { Alpha = 0.1 };
        var random = new Random(seed);
        var harmedStages = 0;
        var harmedMetrics = new int[2];
        for (var stage = 0; stage < stages; stage++)
        {
            var state = SequentialJudge.Start(settings, "Canary", 0, 1, Start);
            var (canary, canaryErrors, canarySlow, baseline, baselineErrors, baselineSlow) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for (var look = 1; look <= 120 && state.Verdict != JudgeVerdict.Harm; look++)
            {
                var c = Poisson(random, 25);
                var b = Poisson(random, 475);
                canary += c;
                baseline += b;
                canaryErrors += Binomial(random, c, errorRate);
                baselineErrors += Binomial(random, b, errorRate);
                canarySlow += Binomial(random, c, 0.003);
                baselineSlow += Binomial(random, b, 0.003);
                state = SequentialJudge.Observe(state, Look(TimeSpan.FromSeconds(30 * look), canary, canaryErrors, baseline, baselineErrors, canarySlow, baselineSlow)).State;
            }

            harmedStages += state.Verdict == JudgeVerdict.Harm ? 1 : 0;
            for (var m = 0; m < 2; m++)
            {
                harmedMetrics[m] += state.Metrics[m].Verdict == JudgeVerdict.Harm ? 1 : 0;
            }
        }

        Assert.True(harmedStages <= 0.1 * stages, $"{harmedStages} of {stages} stages harmed");
        Assert.All(harmedMetrics, h => Assert.True(h <= 0.05 * stages, $"{h} of {stages}"));
    }

    /// <summary>The other wrong verdict: a canary exactly at the margin (baseline + 1 pt) must be judged safe in fewer than α of the stages.</summary>
    [Fact]
    public void FalseSafe_CanaryAtTheMarginFixedSeed_UnderAlphaAcrossAllLooks()
    {
        const int stages = 200;
        var settings = JudgeSettingsFor() with { Alpha = 0.1, MinimumTime = TimeSpan.Zero, MinimumSamples = 0 };
        var random = new Random(20_240_604);
        var safeStages = 0;
        for (var stage = 0; stage < stages; stage++)
        {
            var state = SequentialJudge.Start(settings, "Canary", 0, 1, Start);
            var (canary, canaryErrors, baseline, baselineErrors) = (0.0, 0.0, 0.0, 0.0);
            var everSafe = false;
            for (var look = 1; look <= 240 && !everSafe; look++)
            {
                var c = Poisson(random, 25);
                var b = Poisson(random, 475);
                canary += c;
                baseline += b;
                canaryErrors += Binomial(random, c, 0.02);
                baselineErrors += Binomial(random, b, 0.01);

                // Slow requests stay clearly safe so that the error metric decides.
                state = SequentialJudge.Observe(state, Look(TimeSpan.FromSeconds(30 * look), canary, canaryErrors, baseline, baselineErrors, 0, 0)).State;
                everSafe = state.Metrics[0].Verdict == JudgeVerdict.Safe;
            }

            safeStages += everSafe ? 1 : 0;
        }

        Assert.True(safeStages <= 0.1 * stages, $"{safeStages} of {stages} stages judged safe");
    }

    // ------------------------------------------------------------ monotone in the evidence

    private static readonly Gen<(double Minutes, double Canary, double CanaryRate, double Baseline, double BaselineRate, int Extra)> Evidence =
        Gen.Select(Gen.Double[0, 180], Gen.Int[1, 20_000], Gen.Double[0, 0.2], Gen.Int[1, 400_000], Gen.Double[0, 0.2], Gen.Int[1, 60])
            .Select((minutes, canary, canaryRate, baseline, baselineRate, extra) => (minutes, (double)canary, canaryRate, (double)baseline, baselineRate, extra));

    private static int Severity(JudgeVerdict verdict) => verdict switch
    {
        JudgeVerdict.Safe => 0,
        JudgeVerdict.Continue => 1,
        JudgeVerdict.Harm => 2,
        _ => throw new InvalidOperationException($"unexpected {verdict}"),
    };

    private static MetricJudgement JudgeErrors(double minutes, double canary, double canaryErrors, double baseline, double baselineErrors)
    {
        var state = SequentialJudge.Start(JudgeSettingsFor(), "Canary", 0, 3, Start);
        return SequentialJudge.Observe(state, Look(TimeSpan.FromMinutes(minutes), canary, canaryErrors, baseline, baselineErrors)).Result.Metrics[0];
    }

    [Fact]
    public void Observe_MoreCanaryErrors_NeverLessHarmNeverMoreSafe() =>
        Evidence.Sample(e =>
        {
            var errors = Math.Round(e.Canary * e.CanaryRate);
            var baselineErrors = Math.Round(e.Baseline * e.BaselineRate);
            var worse = Math.Min(errors + e.Extra, e.Canary);
            var before = JudgeErrors(e.Minutes, e.Canary, errors, e.Baseline, baselineErrors);
            var after = JudgeErrors(e.Minutes, e.Canary, worse, e.Baseline, baselineErrors);

            Assert.True(Severity(after.Verdict) >= Severity(before.Verdict), $"{before.Verdict} then {after.Verdict}");
            Assert.True(after.RatioLower >= before.RatioLower - 1e-9, $"ratio bound {before.RatioLower} then {after.RatioLower}");
            Assert.True(after.CanaryUpper >= before.CanaryUpper - 1e-9, $"canary bound {before.CanaryUpper} then {after.CanaryUpper}");
        }, iter: Iterations);

    [Fact]
    public void Observe_MoreBaselineErrors_NeverMoreHarm() =>
        Evidence.Sample(e =>
        {
            var errors = Math.Round(e.Canary * e.CanaryRate);
            var baselineErrors = Math.Round(e.Baseline * e.BaselineRate);
            var before = JudgeErrors(e.Minutes, e.Canary, errors, e.Baseline, baselineErrors);
            var after = JudgeErrors(e.Minutes, e.Canary, errors, e.Baseline, Math.Min(baselineErrors + (e.Extra * 20), e.Baseline));

            Assert.True(Severity(after.Verdict) <= Severity(before.Verdict) || after.Verdict == JudgeVerdict.Continue, $"{before.Verdict} then {after.Verdict}");
            Assert.False(before.Verdict != JudgeVerdict.Harm && after.Verdict == JudgeVerdict.Harm);
            Assert.True(after.RatioLower <= before.RatioLower + 1e-9, $"ratio bound {before.RatioLower} then {after.RatioLower}");
        }, iter: Iterations);

    // ------------------------------------------------------------ no data never passes

    private enum Breakage
    {
        SourceError,
        MetricMissing,
        NoCanaryTraffic,
        CanaryStalled,
        NotACount,
    }

    [Fact]
    public void Observe_UnreadableLookAfterAnyHistory_NeverAPass() =>
        Gen.Select(Gen.Int[0, 40], Gen.Double[0, 0.05], Gen.Enum<Breakage>(), Gen.Int[0, 1]).Sample((looks, errorRate, breakage, metric) =>
        {
            var state = SequentialJudge.Start(JudgeSettingsFor(), "Canary", 0, 3, Start);
            for (var look = 1; look <= looks; look++)
            {
                // A clean history, so that before the broken look the stage may well be safe.
                state = SequentialJudge.Observe(state, Look(TimeSpan.FromMinutes(3 * look), 150.0 * look, 150.0 * look * errorRate, 2850.0 * look, 2850.0 * look * errorRate)).State;
            }

            var at = TimeSpan.FromMinutes((3 * looks) + 3);
            var good = Look(at, 150.0 * (looks + 1), 150.0 * (looks + 1) * errorRate, 2850.0 * (looks + 1), 2850.0 * (looks + 1) * errorRate);
            var broken = breakage switch
            {
                Breakage.SourceError => new JudgeObservation(good.At, [], "source down"),
                Breakage.MetricMissing => good with { Counts = [good.Counts[1 - metric]] },
                Breakage.NoCanaryTraffic => Look(at, 0, 0, 2850.0 * (looks + 1), 10),
                Breakage.CanaryStalled => Look(at, 150.0 * looks, 150.0 * looks * errorRate, 2850.0 * (looks + 1), 2850.0 * (looks + 1) * errorRate),
                _ => good with { Counts = [good.Counts[0] with { CanaryEvents = double.PositiveInfinity }, good.Counts[1]] },
            };

            var result = SequentialJudge.Observe(state, broken).Result;

            Assert.Contains(result.Verdict, new[] { JudgeVerdict.NoData, JudgeVerdict.Harm });
            Assert.False(result.MayPromoteEarly);
            Assert.NotEqual(HealthStatus.Healthy, result.ToHealthVerdict().Status);
        }, iter: Iterations);

    // ------------------------------------------------------------ simulation helpers (exact, small means)

    private static int Poisson(Random random, double mean)
    {
        var limit = Math.Exp(-mean);
        var k = 0;
        for (var p = random.NextDouble(); p > limit; p *= random.NextDouble())
        {
            k++;
        }

        return k;
    }

    private static int Binomial(Random random, int n, double p)
    {
        var k = 0;
        for (var i = 0; i < n; i++)
        {
            k += random.NextDouble() < p ? 1 : 0;
        }

        return k;
    }
}
