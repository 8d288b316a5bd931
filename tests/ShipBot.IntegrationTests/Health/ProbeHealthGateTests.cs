using Xunit.Abstractions;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Health;

/// <summary>HTTP probes across a service's instances: a failure ratio above Y rolls back.</summary>
public sealed class ProbeHealthGateTests(ITestOutputHelper output)
{
    private const string Release = PrometheusScenario.Release;

    [Fact]
    public async Task OneOfTwoInstancesFailsItsProbeAtCanary_RollsBackNamingTheInstance()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0.01, newErrors: 0.01, instances: 2);
        var settings = scenario.Settings();
        settings["ShipBot:Services:demo:Stages:0:Bake"] = "00:00:30";
        settings["ShipBot:Services:demo:Health:Probes:Instances:0"] = scenario.Service.Instances[0].ToString();
        settings["ShipBot:Services:demo:Health:Probes:Instances:1"] = scenario.Service.Instances[1].ToString();
        settings["ShipBot:Services:demo:Health:Probes:Path"] = "/healthz";

        // Generous: a healthy instance is never taken as failed because the machine is busy.
        settings["ShipBot:Services:demo:Health:Probes:Timeout"] = "00:00:30";
        await using var host = await ShipBotHost.StartAsync(settings);

        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary");
        var healthy = await PrometheusHealthGateTests.WaitForHealthAsync(host, "healthy");
        Assert.Contains("failed health probes 0 % (limit 20 % of instances) ✓", healthy["health"]!["summary"]!.GetValue<string>(), StringComparison.Ordinal);

        var sick = scenario.Service.Instances[1];
        scenario.Service.MakeSick(sick);
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        output.WriteLine(PrometheusScenario.Describe(rolledBack));

        var alert = await host.CardMessageAsync($"Rolled back {Release}");
        Assert.NotNull(alert);
        var alertText = ShipBotHost.Text(alert["card"]);
        Assert.Contains("failed health probes 50 % breaches limit 20 % of instances", alertText, StringComparison.Ordinal);
        Assert.Contains($"1 of 2 failed ({sick.Authority} HTTP 503)", alertText, StringComparison.Ordinal);
        Assert.DoesNotContain(scenario.Service.Instances[0].Authority, alertText, StringComparison.Ordinal);
    }

    /// <summary>
    /// A service whose only health source is HTTP probes (start-up accepts Probes alone as a
    /// source). All instances are healthy, so its canary should promote.
    /// </summary>
    [Fact]
    public async Task ProbesOnlyService_AllInstancesHealthy_Promotes()
    {
        await using var service = await DemoMetricsService.StartAsync(instances: 2);
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Services:demo:Health:Probes:Instances:0"] = service.Instances[0].ToString(),
            ["ShipBot:Services:demo:Health:Probes:Instances:1"] = service.Instances[1].ToString(),
            ["ShipBot:Services:demo:Health:MaxInconclusive"] = "3",
            ["ShipBot:Services:demo:Health:Probes:Timeout"] = "00:00:30",
        };
        await using var host = await ShipBotHost.StartAsync(settings);

        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary");
        var release = await PrometheusHealthGateTests.WaitForAnyStateAsync(host, ["EarlyAdopters", "Halted", "RolledBack"], Eventually.Deadline * 3);
        output.WriteLine(PrometheusScenario.Describe(release));

        Assert.True(release["state"]!.GetValue<string>() == "EarlyAdopters", PrometheusScenario.Describe(release));
    }
}
