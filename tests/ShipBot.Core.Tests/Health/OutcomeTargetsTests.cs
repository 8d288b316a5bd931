using ShipBot.Core.Health;

namespace ShipBot.Core.Tests.Health;

public sealed class OutcomeTargetsTests
{
    private static readonly Dictionary<string, double> Baseline = new() { [Metrics.ErrorRate] = 0.003, [Metrics.Business] = 1.0 };

    private static HealthSample Sample(double error, double p99, double business) => new(
    [
        new(Metrics.ErrorRate, error, "simulated", DateTimeOffset.UnixEpoch),
        new(Metrics.LatencyP99, p99, "simulated", DateTimeOffset.UnixEpoch),
        new(Metrics.Business, business, "simulated", DateTimeOffset.UnixEpoch),
    ]);

    [Fact]
    public void Judge_P99AboveTheTargetButBelowTheRollbackLimit_IsAMiss()
    {
        var lines = OutcomeTargets.Judge(Sample(0.004, 450, 1.0), Baseline, new HealthThresholds());

        var p99 = Assert.Single(lines, l => l.StartsWith("p99 latency", StringComparison.Ordinal));
        Assert.Equal("p99 latency: actual 450 ms vs target p99 latency ≤ 300 ms ✗ missed", p99);
        Assert.EndsWith("✓", lines.Single(l => l.StartsWith("error rate", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.EndsWith("✓", lines.Single(l => l.StartsWith("business", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_TargetsAreTheContractsOwnWords()
    {
        var thresholds = new HealthThresholds { LatencyTargetMs = 200, MaxErrorRateIncrease = 0.005, MaxBusinessDrop = 0.05 };

        var targets = OutcomeTargets.For(thresholds).Select(t => t.Text);

        Assert.Equal(["error rate ≤ baseline + 0.5 pt", "p99 latency ≤ 200 ms", "business metric ≥ baseline − 5 %"], targets);
    }

    [Fact]
    public void Judge_UnreadableOrWithoutBaseline_IsNeverATick()
    {
        var lines = OutcomeTargets.Judge(new HealthSample([new(Metrics.Business, 2.0, "simulated", DateTimeOffset.UnixEpoch)]), new Dictionary<string, double>(), new HealthThresholds());

        Assert.All(lines, l => Assert.DoesNotContain("✓", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("unreadable", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("no baseline", StringComparison.Ordinal));
    }
}
