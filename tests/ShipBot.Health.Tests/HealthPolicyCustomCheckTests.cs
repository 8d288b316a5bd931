using ShipBot.Core.Health;
using ShipBot.Core.Plans;

namespace ShipBot.Health.Tests;

/// <summary>
/// The checks a service configures on top of the built-in triggers (<c>Health:Checks</c>), judged
/// by <see cref="HealthPolicy"/> on what the health sources read.
/// </summary>
public sealed class HealthPolicyCustomCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static HealthVerdict CreateSut(
        CustomCheck check,
        double? value,
        IReadOnlyDictionary<string, double>? baseline = null,
        string? sampleError = null) =>
        HealthPolicy.Evaluate(
            new HealthSample(value is { } v ? [new HealthReading(check.Metric, v, "Prometheus", Now)] : [], sampleError),
            [check.Metric],
            baseline ?? new Dictionary<string, double>(),
            new HealthThresholds { Checks = [check] },
            Now);

    [Theory]
    [InlineData(4999, CheckStatus.Pass)]
    [InlineData(5000, CheckStatus.Pass)]
    [InlineData(5001, CheckStatus.Breach)]
    public void Evaluate_Max_BreachesAbove(double value, CheckStatus expected)
    {
        var verdict = CreateSut(new CustomCheck { Metric = "queue_depth", Max = 5000 }, value);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(expected, check.Status);
        Assert.Equal("max 5000", check.Threshold);
        Assert.Equal(value, check.Value);
        Assert.Null(check.Baseline);
        Assert.Equal(expected == CheckStatus.Breach, verdict.RequiresRollback);
    }

    [Theory]
    [InlineData(0.9, CheckStatus.Breach)]
    [InlineData(1.0, CheckStatus.Pass)]
    [InlineData(7.5, CheckStatus.Pass)]
    public void Evaluate_Min_BreachesBelow(double value, CheckStatus expected)
    {
        var verdict = CreateSut(new CustomCheck { Metric = "orders_per_s", Min = 1 }, value);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(expected, check.Status);
        Assert.Equal("min 1", check.Threshold);
    }

    [Theory]
    [InlineData(1, CheckStatus.Breach)]
    [InlineData(5, CheckStatus.Pass)]
    [InlineData(10, CheckStatus.Pass)]
    [InlineData(11, CheckStatus.Breach)]
    public void Evaluate_MaxAndMin_BothApply(double value, CheckStatus expected)
    {
        var verdict = CreateSut(new CustomCheck { Metric = "replicas", Max = 10, Min = 2 }, value);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(expected, check.Status);
        Assert.Equal("max 10, min 2", check.Threshold);
    }

    [Theory]
    [InlineData(14.9, CheckStatus.Pass)]
    [InlineData(15, CheckStatus.Pass)]
    [InlineData(15.1, CheckStatus.Breach)]
    public void Evaluate_MaxAboveBaseline_IsBaselinePlusX(double value, CheckStatus expected)
    {
        var verdict = CreateSut(new CustomCheck { Metric = "p95_db_ms", MaxAboveBaseline = 5 }, value, new Dictionary<string, double> { ["p95_db_ms"] = 10 });

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(expected, check.Status);
        Assert.Equal("limit baseline 10 + 5", check.Threshold);
        Assert.Equal(10, check.Baseline);
    }

    [Theory]
    [InlineData(150, CheckStatus.Pass)]
    [InlineData(151, CheckStatus.Breach)]
    public void Evaluate_MaxRatioToBaseline_IsBaselineTimesX(double value, CheckStatus expected)
    {
        var verdict = CreateSut(new CustomCheck { Metric = "p95_db_ms", MaxRatioToBaseline = 1.5 }, value, new Dictionary<string, double> { ["p95_db_ms"] = 100 });

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(expected, check.Status);
        Assert.Equal("limit 1.5 × baseline 100", check.Threshold);
        Assert.Equal(100, check.Baseline);
        if (expected == CheckStatus.Breach)
        {
            Assert.Equal("p95_db_ms 151 breaches limit 1.5 × baseline 100", check.DescribeBreach());
        }
    }

    [Fact]
    public void Evaluate_RelativeCheckWithoutBaseline_IsJudgedAgainstZeroNeverLooser()
    {
        var verdict = CreateSut(new CustomCheck { Metric = "p95_db_ms", MaxRatioToBaseline = 1.5 }, 20);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(CheckStatus.Breach, check.Status);
        Assert.Equal("limit 1.5 × baseline 0", check.Threshold);
        Assert.Null(check.Baseline);
    }

    [Fact]
    public void Evaluate_CheckOnABuiltInMetric_ReplacesItsLimit()
    {
        var thresholds = new HealthThresholds { Checks = [new CustomCheck { Metric = Metrics.Cpu, Max = 0.5 }] };
        var sample = new HealthSample([new HealthReading(Metrics.Cpu, 0.6, "Prometheus", Now)]);

        var verdict = HealthPolicy.Evaluate(sample, [Metrics.Cpu], new Dictionary<string, double>(), thresholds, Now);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(CheckStatus.Breach, check.Status);
        Assert.Equal("max 50 %", check.Threshold);
        Assert.Equal("CPU 60 % breaches max 50 %", check.DescribeBreach());
    }

    [Fact]
    public void Evaluate_ConsultAction_BreachAsksOnCallInsteadOfRollingBack()
    {
        var verdict = CreateSut(new CustomCheck { Metric = "queue_depth", Max = 5000, Action = BreachAction.Consult }, 9000);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(CheckStatus.Breach, check.Status);
        Assert.Equal(BreachAction.Consult, check.Action);
        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.False(verdict.RequiresRollback);
    }

    [Fact]
    public void Evaluate_MissingReading_UnknownNeverHealthyEvenWithoutASourceError()
    {
        var verdict = CreateSut(new CustomCheck { Metric = "queue_depth", Max = 5000 }, value: null);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(CheckStatus.Unknown, check.Status);
        Assert.Null(check.Value);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Equal("queue_depth unreadable (max 5000) ?", check.Describe());
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Evaluate_NonFiniteReading_Unknown(double value)
    {
        var verdict = CreateSut(new CustomCheck { Metric = "queue_depth", Max = 5000 }, value);

        Assert.Equal(CheckStatus.Unknown, Assert.Single(verdict.Checks).Status);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
    }

    [Fact]
    public void Evaluate_PassingReadingButSourceError_Unknown()
    {
        var verdict = CreateSut(new CustomCheck { Metric = "queue_depth", Max = 5000 }, 10, sampleError: "Prometheus: cpu: timeout");

        Assert.Equal(CheckStatus.Pass, Assert.Single(verdict.Checks).Status);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Equal("Prometheus: cpu: timeout", verdict.Error);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData(StageKind.Canary, false)]
    [InlineData(StageKind.EarlyAdopters, true)]
    [InlineData(StageKind.GeneralAvailability, true)]
    [InlineData(StageKind.Full, true)]
    public void MetricsFor_CheckFromAStage_IsCheckedFromThatStageOn(StageKind? stage, bool included)
    {
        var thresholds = new HealthThresholds { Checks = [new CustomCheck { Metric = "p95_db_ms", MaxRatioToBaseline = 1.5, FromStage = StageKind.EarlyAdopters }] };

        var metrics = HealthPolicy.MetricsFor(stage, thresholds);

        Assert.Equal(included, metrics.Contains("p95_db_ms"));
        if (stage is not null)
        {
            Assert.Contains(Metrics.ErrorRate, metrics);
        }
    }

    [Fact]
    public void MetricsFor_CheckOnABuiltInMetric_IsNotListedTwice()
    {
        var thresholds = new HealthThresholds { Checks = [new CustomCheck { Metric = Metrics.Cpu, Max = 0.5 }] };

        var metrics = HealthPolicy.MetricsFor(StageKind.Canary, thresholds);

        Assert.Single(metrics, m => m == Metrics.Cpu);
    }

    [Fact]
    public void BaselineMetricsFor_AddsRelativeChecksOnly()
    {
        var thresholds = new HealthThresholds
        {
            Checks =
            [
                new CustomCheck { Metric = "queue_depth", Max = 5000 },
                new CustomCheck { Metric = "p95_db_ms", MaxRatioToBaseline = 1.5 },
                new CustomCheck { Metric = "p99_cache_ms", MaxAboveBaseline = 3 },
                new CustomCheck { Metric = Metrics.Business, MaxAboveBaseline = 3 },
            ],
        };

        var metrics = HealthPolicy.BaselineMetricsFor(thresholds);

        Assert.Equal(HealthPolicy.BaselineMetrics.Concat(["p95_db_ms", "p99_cache_ms"]), metrics);
    }

    [Fact]
    public void CustomCheck_Defaults_CanaryOnAndRollback()
    {
        var check = new CustomCheck { Metric = "queue_depth", Max = 1 };

        Assert.Equal(StageKind.Canary, check.FromStage);
        Assert.Equal(BreachAction.Rollback, check.Action);
        Assert.False(check.IsRelative);
        Assert.True((check with { MaxAboveBaseline = 1 }).IsRelative);
        Assert.True((check with { MaxRatioToBaseline = 1 }).IsRelative);
    }
}
