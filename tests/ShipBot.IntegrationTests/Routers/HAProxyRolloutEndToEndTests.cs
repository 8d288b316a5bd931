using ShipBot.IntegrationTests.Health;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Routers;

/// <summary>
/// A whole rollout through a real HAProxy with traffic flowing: every stage is confirmed by
/// HAProxy before ShipBot counts it, and the split measured on real requests follows the stage;
/// a new version answering 5xx is rolled back from canary on the error ratio HAProxy's exporter
/// reports through Prometheus, and the measured traffic goes back to stable.
/// </summary>
public sealed class HAProxyRolloutEndToEndTests(ITestOutputHelper output)
{
    private const string Release = HAProxyScenario.Release;

    [Fact]
    public async Task Rollout_EveryStage_MeasuredSplitWithin3PointsOfTheStage()
    {
        await using var scenario = await HAProxyScenario.StartAsync();
        await using var host = await ShipBotHost.StartAsync(scenario.Settings());

        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary", TimeSpan.FromSeconds(30));
        foreach (var (percent, next) in new[] { (5, "EarlyAdopters"), (25, "GeneralAvailability"), (50, "Full"), (100, "Validating") })
        {
            var deployed = await HAProxyScenario.WaitForDeployedAsync(host, percent);
            var sample = await scenario.Traffic.MeasureSettledAsync("new");
            output.WriteLine($"{percent} %: {sample}");
            Assert.Equal(0, sample.Failed);
            Assert.InRange(sample.PercentOf("new"), percent - 3, percent + 3);

            // The audit says what HAProxy reported: the weights in effect and the servers up.
            Assert.Contains(deployed["audit"]!.AsArray(), a => (string?)a!["action"] == "deployment call"
                && ((string?)a["detail"])!.Contains($"production at {percent} %: haproxy be_demo → ok", StringComparison.Ordinal)
                && ((string?)a["detail"])!.Contains($"new version at {percent} %: stable1 weight {100 - percent} UP, new1 weight {percent} UP", StringComparison.Ordinal));

            await HAProxyScenario.WaitForHealthyAsync(host);
            await host.SayAsync("bob", $"/ship promote {Release}");
            await host.WaitForStateAsync(Release, next, TimeSpan.FromSeconds(30));
        }

        var validating = await host.ReleaseAsync(Release);
        output.WriteLine(HAProxyScenario.Describe(validating));
        Assert.Equal("healthy", (string?)validating["health"]!["status"]);
        Assert.Contains("error rate 0 %", (string?)validating["health"]!["summary"], StringComparison.Ordinal);
        Assert.Contains("average latency", (string?)validating["health"]!["summary"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewVersionAnswers5xx_RolledBackFromCanaryOnTheRealErrorRatioAndTrafficReturnsToStable()
    {
        await using var scenario = await HAProxyScenario.StartAsync(newStatus: 500);
        await using var host = await ShipBotHost.StartAsync(scenario.Settings());

        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary", TimeSpan.FromSeconds(30));
        await HAProxyScenario.WaitForDeployedAsync(host, 5);
        var atCanary = await scenario.Traffic.MeasureSettledAsync("new");
        output.WriteLine($"canary: {atCanary}");
        Assert.InRange(atCanary.PercentOf("new"), 2, 8);

        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack", TimeSpan.FromSeconds(45));
        output.WriteLine(HAProxyScenario.Describe(rolledBack));

        Assert.Equal("Canary 5 %", (string?)rolledBack["rollback"]!["stage"]);
        var evidence = Assert.Single(rolledBack["rollback"]!["evidence"]!.AsArray())!;
        Assert.Equal("error_rate", (string?)evidence["metric"]);
        Assert.InRange((double)evidence["value"]!, 0.5, 1.0);
        Assert.Equal(0.0, (double)evidence["baseline"]!, 3);
        Assert.Contains(rolledBack["audit"]!.AsArray(), a => (string?)a!["action"] == "deployment call"
            && ((string?)a["detail"])!.StartsWith("rollback to the previous version: haproxy be_demo → ok", StringComparison.Ordinal)
            && ((string?)a["detail"])!.Contains("rolled back, traffic back on stable: stable1 weight 100 UP, new1 weight 0 UP", StringComparison.Ordinal));

        var after = await scenario.Traffic.MeasureSettledAsync("new");
        output.WriteLine($"after rollback: {after}");
        Assert.Equal(0, after.Failed);
        Assert.Equal(100.0, after.PercentOf("stable"));
    }
}
