using CsCheck;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Health;

public sealed class HealthPolicyTests
{
    private static readonly DateTimeOffset Now = ReleaseScenario.Start;

    private static readonly IReadOnlyDictionary<string, double> Baseline = Verdicts.Baseline;

    private static HealthVerdict CreateSut(
        HealthSample sample,
        IReadOnlyList<string>? metrics = null,
        HealthThresholds? thresholds = null,
        IReadOnlyDictionary<string, double>? baseline = null) =>
        HealthPolicy.Evaluate(sample, metrics ?? HealthPolicy.MetricsFor(StageKind.Canary), baseline ?? Baseline, thresholds ?? new HealthThresholds(), Now);

    private static HealthSample GreenWith(string metric, double value) =>
        new(Verdicts.GreenSample().Readings.Where(r => r.Metric != metric).Append(new HealthReading(metric, value, "prometheus", Now)).ToList());

    private static CheckResult Check(HealthVerdict verdict, string metric) => verdict.Checks.Single(c => c.Metric == metric);

    [Fact]
    public void Evaluate_AllWithinLimits_Healthy()
    {
        var verdict = CreateSut(Verdicts.GreenSample());

        Assert.Equal(HealthStatus.Healthy, verdict.Status);
        Assert.Equal(HealthPolicy.MetricsFor(StageKind.Canary), verdict.Checks.Select(c => c.Metric));
        Assert.All(verdict.Checks, c => Assert.Equal(CheckStatus.Pass, c.Status));
        Assert.False(verdict.RequiresRollback);
        Assert.Empty(verdict.Breaches);
        Assert.Equal(Now, verdict.At);
    }

    [Theory]
    [InlineData(0.003, 0.013, CheckStatus.Pass)]
    [InlineData(0.003, 0.0131, CheckStatus.Breach)]
    [InlineData(0.02, 0.025, CheckStatus.Pass)]
    [InlineData(0.0, 0.025, CheckStatus.Breach)]
    public void Evaluate_ErrorRate_JudgedRelativeToBaselinePlusX(double baseline, double value, CheckStatus expected)
    {
        var verdict = CreateSut(GreenWith(Metrics.ErrorRate, value), baseline: new Dictionary<string, double> { [Metrics.ErrorRate] = baseline });

        var check = Check(verdict, Metrics.ErrorRate);
        Assert.Equal(expected, check.Status);
        Assert.Equal(baseline, check.Baseline);
        Assert.Equal(BreachAction.Rollback, check.Action);
        Assert.Equal("prometheus", check.Source);
    }

    [Fact]
    public void Evaluate_ErrorRateWithCustomX_UsesTheServiceSetting()
    {
        var thresholds = new HealthThresholds { MaxErrorRateIncrease = 0.05 };

        var verdict = CreateSut(GreenWith(Metrics.ErrorRate, 0.048), thresholds: thresholds);

        Assert.Equal(CheckStatus.Pass, Check(verdict, Metrics.ErrorRate).Status);
        Assert.Equal("limit baseline 0.3 % + 5 pt", Check(verdict, Metrics.ErrorRate).Threshold);
    }

    [Fact]
    public void Evaluate_ErrorRateBreach_RequiresRollbackWithNumbers()
    {
        var verdict = CreateSut(GreenWith(Metrics.ErrorRate, 0.048));

        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.True(verdict.RequiresRollback);
        var breach = Assert.Single(verdict.Breaches);
        Assert.Equal(0.048, breach.Value);
        Assert.Equal(0.003, breach.Baseline);
        Assert.Equal("limit baseline 0.3 % + 1 pt", breach.Threshold);
        Assert.Equal("error rate 4.8 % (limit baseline 0.3 % + 1 pt) ✗", breach.Describe());
    }

    [Theory]
    [InlineData(600, CheckStatus.Pass)]
    [InlineData(600.5, CheckStatus.Breach)]
    [InlineData(1200, CheckStatus.Breach)]
    public void Evaluate_P99Latency_BreachesAboveTwiceTheTarget(double p99, CheckStatus expected)
    {
        var verdict = CreateSut(GreenWith(Metrics.LatencyP99, p99));

        var check = Check(verdict, Metrics.LatencyP99);
        Assert.Equal(expected, check.Status);
        Assert.Equal("limit 2 × target 300 ms", check.Threshold);
    }

    [Fact]
    public void Evaluate_P99LatencyWithCustomTarget_UsesIt()
    {
        var verdict = CreateSut(GreenWith(Metrics.LatencyP99, 450), thresholds: new HealthThresholds { LatencyTargetMs = 200 });

        Assert.Equal(CheckStatus.Breach, Check(verdict, Metrics.LatencyP99).Status);
    }

    [Theory]
    [InlineData(0.9, CheckStatus.Pass)]
    [InlineData(0.95, CheckStatus.Breach)]
    public void Evaluate_Cpu_BreachesAboveLimit(double cpu, CheckStatus expected)
    {
        Assert.Equal(expected, Check(CreateSut(GreenWith(Metrics.Cpu, cpu)), Metrics.Cpu).Status);
    }

    [Theory]
    [InlineData(0.2, CheckStatus.Pass)]
    [InlineData(0.25, CheckStatus.Breach)]
    public void Evaluate_ProbeFailureRatio_BreachesAboveY(double ratio, CheckStatus expected)
    {
        var check = Check(CreateSut(GreenWith(Metrics.ProbeFailures, ratio)), Metrics.ProbeFailures);

        Assert.Equal(expected, check.Status);
        Assert.Equal(BreachAction.Rollback, check.Action);
    }

    [Fact]
    public void Evaluate_ProbeFailureRatioWithCustomY_UsesIt()
    {
        var verdict = CreateSut(GreenWith(Metrics.ProbeFailures, 0.1), thresholds: new HealthThresholds { MaxProbeFailureRatio = 0.05 });

        Assert.True(verdict.RequiresRollback);
    }

    [Fact]
    public void Evaluate_LowUserFeedback_ConsultBreachWithoutRollback()
    {
        var verdict = CreateSut(GreenWith(Metrics.UserFeedback, 2.1), HealthPolicy.MetricsFor(StageKind.EarlyAdopters));

        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.False(verdict.RequiresRollback);
        var breach = Assert.Single(verdict.Breaches);
        Assert.Equal(Metrics.UserFeedback, breach.Metric);
        Assert.Equal(BreachAction.Consult, breach.Action);
    }

    [Theory]
    [InlineData(0.046, CheckStatus.Pass)]
    [InlineData(0.044, CheckStatus.Breach)]
    public void Evaluate_BusinessMetric_ConsultsBelowBaselineMinusDrop(double value, CheckStatus expected)
    {
        var verdict = CreateSut(GreenWith(Metrics.Business, value), HealthPolicy.MetricsFor(StageKind.GeneralAvailability));

        var check = Check(verdict, Metrics.Business);
        Assert.Equal(expected, check.Status);
        Assert.Equal(BreachAction.Consult, check.Action);
        Assert.Equal(0.05, check.Baseline);
    }

    [Fact]
    public void Evaluate_BusinessMetricWithoutBaseline_Passes()
    {
        var verdict = CreateSut(GreenWith(Metrics.Business, 0.0001), HealthPolicy.MetricsFor(StageKind.GeneralAvailability), baseline: new Dictionary<string, double>());

        Assert.Equal(CheckStatus.Pass, Check(verdict, Metrics.Business).Status);
        Assert.Equal("no baseline", Check(verdict, Metrics.Business).Threshold);
    }

    [Fact]
    public void Evaluate_ActionOverride_MakesAMetricConsult()
    {
        var thresholds = new HealthThresholds { Actions = new Dictionary<string, BreachAction> { [Metrics.Cpu] = BreachAction.Consult } };

        var verdict = CreateSut(GreenWith(Metrics.Cpu, 0.99), thresholds: thresholds);

        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.False(verdict.RequiresRollback);
    }

    [Fact]
    public void Evaluate_UnreadableSource_UnknownNeverHealthy()
    {
        var verdict = CreateSut(HealthSample.Failed("prometheus: 503"));

        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Equal("prometheus: 503", verdict.Error);
        Assert.All(verdict.Checks, c =>
        {
            Assert.Equal(CheckStatus.Unknown, c.Status);
            Assert.Null(c.Value);
        });
        Assert.Equal(HealthPolicy.MetricsFor(StageKind.Canary).Count, verdict.Checks.Count);
        Assert.Contains("unreadable", verdict.Checks[0].Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ErrorWithSomeReadings_StillUnknown()
    {
        var sample = Verdicts.GreenSample() with { Error = "2 of 3 targets timed out" };

        Assert.Equal(HealthStatus.Unknown, CreateSut(sample).Status);
    }

    [Theory]
    [InlineData(Metrics.ErrorRate)]
    [InlineData(Metrics.LatencyP99)]
    public void Evaluate_CoreMetricMissing_Unknown(string missing)
    {
        var sample = new HealthSample(Verdicts.GreenSample().Readings.Where(r => r.Metric != missing).ToList());

        var verdict = CreateSut(sample);

        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Equal(CheckStatus.Unknown, Check(verdict, missing).Status);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Evaluate_NonFiniteValue_Unknown(double value)
    {
        var verdict = CreateSut(GreenWith(Metrics.ErrorRate, value));

        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Null(Check(verdict, Metrics.ErrorRate).Value);
    }

    [Fact]
    public void Evaluate_OptionalSignalMissing_NotABreachAndStillHealthy()
    {
        var sample = new HealthSample(Verdicts.GreenSample().Readings.Where(r => r.Metric is not (Metrics.Adoption or Metrics.UserFeedback)).ToList());

        var verdict = CreateSut(sample, HealthPolicy.MetricsFor(StageKind.EarlyAdopters));

        Assert.Equal(HealthStatus.Healthy, verdict.Status);
        Assert.DoesNotContain(verdict.Checks, c => c.Metric is Metrics.Adoption or Metrics.UserFeedback);
    }

    [Fact]
    public void Evaluate_NothingToCheck_UnknownNotHealthy()
    {
        var verdict = CreateSut(new HealthSample([]), metrics: []);

        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.StartsWith("unknown", verdict.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_BreachAndUnknown_BreachWins()
    {
        var sample = new HealthSample(
            Verdicts.GreenSample().Readings.Where(r => r.Metric is not (Metrics.LatencyP99 or Metrics.ErrorRate))
                .Append(new HealthReading(Metrics.ErrorRate, 0.5, "prometheus", Now)).ToList());

        var verdict = CreateSut(sample);

        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.True(verdict.RequiresRollback);
    }

    [Fact]
    public void Evaluate_SourceWithError_NeverHealthyForAnyReadings()
    {
        var reading = Gen.Select(Gen.OneOf(Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.ProbeFailures, Metrics.UserFeedback, Metrics.Business), Gen.Double[0, 1000])
            .Select((m, v) => new HealthReading(m, v, "prometheus", Now));

        Gen.Select(reading.List[0, 8], Gen.String[1, 20]).Sample((readings, error) =>
        {
            var verdict = CreateSut(new HealthSample(readings, error), HealthPolicy.MetricsFor(StageKind.GeneralAvailability));
            Assert.NotEqual(HealthStatus.Healthy, verdict.Status);
        }, iter: 2_000);
    }

    [Fact]
    public void MetricsFor_Stage_GrowsWithTheAudience()
    {
        string[] canary = [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.ProbeFailures];

        Assert.Equal(canary, HealthPolicy.MetricsFor(StageKind.Canary));
        Assert.Equal(canary, HealthPolicy.MetricsFor(null));
        Assert.Equal([.. canary, Metrics.UserFeedback, Metrics.Adoption], HealthPolicy.MetricsFor(StageKind.EarlyAdopters));
        Assert.Equal([.. canary, Metrics.UserFeedback, Metrics.Adoption, Metrics.Business], HealthPolicy.MetricsFor(StageKind.GeneralAvailability));
        Assert.Equal([.. canary, Metrics.UserFeedback, Metrics.Adoption, Metrics.Business], HealthPolicy.MetricsFor(StageKind.Full));
    }

    [Fact]
    public void HealthThresholds_Defaults_AreSensible()
    {
        var t = new HealthThresholds();

        Assert.Equal(0.01, t.MaxErrorRateIncrease);
        Assert.Equal(300, t.LatencyTargetMs);
        Assert.Equal(0.9, t.MaxCpu);
        Assert.Equal(0.2, t.MaxProbeFailureRatio);
        Assert.Equal(3, t.MinUserFeedback);
        Assert.Equal(0.1, t.MaxBusinessDrop);
        Assert.Equal(BreachAction.Consult, t.Actions[Metrics.UserFeedback]);
        Assert.Equal(BreachAction.Consult, t.Actions[Metrics.Business]);
        Assert.False(t.Actions.ContainsKey(Metrics.ErrorRate));
    }

    [Theory]
    [InlineData(Metrics.ErrorRate, 0.048, "4.8 %")]
    [InlineData(Metrics.LatencyP99, 410, "410 ms")]
    [InlineData(Metrics.UserFeedback, 2.1, "2.1/5")]
    [InlineData("queue_depth", 12.5, "12.5")]
    public void Metrics_Format_CarriesUnits(string metric, double value, string expected)
    {
        Assert.Equal(expected, Metrics.Format(metric, value));
    }
}
