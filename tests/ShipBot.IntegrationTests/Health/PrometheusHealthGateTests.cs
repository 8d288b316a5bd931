using System.Text.Json.Nodes;
using Xunit.Abstractions;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Health;

/// <summary>
/// Health gates read from a real Prometheus (Debian's prometheus, scraping a test service every
/// second) with ShipBot's default PromQL over a 5 s window: a healthy canary promotes, a raised
/// error rate rolls back with the numbers on the alert.
/// </summary>
public sealed class PrometheusHealthGateTests(ITestOutputHelper output)
{
    private const string Release = PrometheusScenario.Release;

    [Fact]
    public async Task HealthyCanary_ErrorRateWithinBaselinePlusX_PromotesThroughEveryStage()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0.01, newErrors: 0.015);
        await using var host = await ShipBotHost.StartAsync(scenario.Settings());

        await PrometheusScenario.ApproveAsync(host);
        var canary = await host.WaitForStateAsync(Release, "Canary");

        // The baseline is the production version's (version!="1.0.0"), captured before the canary started.
        var baseline = canary["baseline"]!.AsObject();
        Assert.Equal(0.01, baseline["error_rate"]!.GetValue<double>(), 6);
        Assert.Equal(49.5, baseline["latency_p99_ms"]!.GetValue<double>(), 1);
        // CPU is the test service's own measured rate: only its presence and sanity are certain on a shared machine.
        Assert.InRange(baseline["cpu"]!.GetValue<double>(), 0.0, 1.0);

        var validating = await host.WaitForStateAsync(Release, "Validating");
        output.WriteLine(PrometheusScenario.Describe(validating));
        var audit = PrometheusScenario.Audit(validating);
        Assert.DoesNotContain(audit, e => e["action"]!.GetValue<string>() is "BreachDetected" or "RollbackStarted" or "Halted" or "HealthInconclusive");

        // The evaluation that turned the canary green is audited with its values, before the promotion.
        var green = audit.FindIndex(e => e["action"]!.GetValue<string>() == "HealthChanged"
            && e["detail"]!.GetValue<string>().Contains("health healthy at Canary 5 %", StringComparison.Ordinal));
        Assert.True(green >= 0, PrometheusScenario.Describe(validating));
        var detail = audit[green]["detail"]!.GetValue<string>();
        Assert.Contains("error rate 1.5 % (limit baseline 1 % + 1 pt) ✓", detail, StringComparison.Ordinal);
        Assert.Contains("p99 latency 49.5 ms (limit 2 × target 300 ms) ✓", detail, StringComparison.Ordinal);
        Assert.Matches(@"CPU \d+(\.\d+)? % \(limit 90 %\) ✓", detail);
        var promoted = audit.FindIndex(e => e["detail"]!.GetValue<string>().Contains("promoted to Early adopters 25 %", StringComparison.Ordinal));
        Assert.True(promoted > green, PrometheusScenario.Describe(validating));

        // A stage promotes only after its bake time (2 s).
        var canaryStarted = audit.First(e => e["detail"]!.GetValue<string>().Contains("starts Canary 5 %", StringComparison.Ordinal))["at"]!.GetValue<DateTimeOffset>();
        var earlyAdopters = audit[promoted]["at"]!.GetValue<DateTimeOffset>();
        Assert.True(earlyAdopters - canaryStarted >= TimeSpan.FromSeconds(2), $"promoted after {(earlyAdopters - canaryStarted).TotalSeconds} s");
        Assert.Equal("healthy", validating["health"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task RaisedErrorRateAtCanary_RollsBackWithTheNumbersOnTheAlertAndInTheAudit()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0.02, newErrors: 0.03);
        var settings = scenario.Settings();
        settings["ShipBot:Services:demo:Stages:0:Bake"] = "00:00:30";
        settings["ShipBot:Services:demo:Thresholds:MaxErrorRateIncrease"] = "0.05";

        // A query of the service's own (the 500s alone), and the CPU default turned off with an empty string.
        settings["ShipBot:Services:demo:Health:Prometheus:Queries:error_rate"] =
            "sum(rate(http_requests_total{service=\"{{service}}\",{{selector}},code=\"500\"}[{{window}}])) / sum(rate(http_requests_total{service=\"{{service}}\",{{selector}}}[{{window}}]))";
        settings["ShipBot:Services:demo:Health:Prometheus:Queries:cpu"] = string.Empty;
        await using var host = await ShipBotHost.StartAsync(settings);

        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary");
        await WaitForHealthAsync(host, "healthy");

        scenario.Service.Serve(PrometheusScenario.NewVersion, errorRatio: 0.30);
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        output.WriteLine(PrometheusScenario.Describe(rolledBack));

        Assert.Equal("Canary 5 %", rolledBack["rollback"]!["stage"]!.GetValue<string>());
        var evidence = Assert.Single(rolledBack["rollback"]!["evidence"]!.AsArray())!;
        Assert.Equal("error_rate", evidence["metric"]!.GetValue<string>());
        Assert.Equal(0.02, evidence["baseline"]!.GetValue<double>(), 6);
        Assert.InRange(evidence["value"]!.GetValue<double>(), 0.0700001, 0.30);

        // The alert to on-call: metric, value, threshold (baseline + X, X = 5 points for this service) and baseline.
        var alert = await host.CardMessageAsync($"Rolled back {Release}");
        Assert.NotNull(alert);
        var alertText = ShipBotHost.Text(alert["card"]);
        Assert.Contains("carol", alert["card"]!["mentions"]!.AsArray().Select(m => m!.GetValue<string>()));
        var trigger = PrometheusScenario.ErrorRateBreach().Match(alertText);
        Assert.True(trigger.Success, alertText);
        // The alert shows the ratio as a percentage with two decimals: equal to what was measured within that rounding.
        Assert.Equal(evidence["value"]!.GetValue<double>(), PrometheusScenario.Percent(trigger, "value"), tolerance: 0.00005 + 1e-9);
        Assert.Equal(0.02, PrometheusScenario.Percent(trigger, "baseline"), 6);
        Assert.Equal("5", trigger.Groups["x"].Value);
        Assert.Contains(", baseline 2 % (Prometheus", alertText, StringComparison.Ordinal);
        Assert.Contains("halted", alertText, StringComparison.Ordinal);

        // The audit trail: the green evaluation and the breach, each with its values.
        var audit = PrometheusScenario.Audit(rolledBack);
        Assert.Contains(audit, e => e["action"]!.GetValue<string>() == "HealthChanged"
            && e["detail"]!.GetValue<string>().Contains("error rate 3 % (limit baseline 2 % + 5 pt) ✓", StringComparison.Ordinal));
        var breach = Assert.Single(audit, e => e["action"]!.GetValue<string>() == "BreachDetected");
        Assert.Matches(PrometheusScenario.ErrorRateBreach(), breach["detail"]!.GetValue<string>());
        Assert.StartsWith("breach at Canary 5 %", breach["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(audit, e => e["detail"]!.GetValue<string>().Contains("promoted to Early adopters", StringComparison.Ordinal));
        Assert.DoesNotContain(audit, e => e["detail"]!.GetValue<string>().Contains("CPU", StringComparison.Ordinal));
        Assert.False(rolledBack["baseline"]!.AsObject().ContainsKey("cpu"));
    }

    /// <summary>
    /// A healthy service that has never answered a 5xx exposes no <c>code="500"</c> series (most
    /// client libraries create a labelled series at its first observation). Its error rate is 0,
    /// so its canary must promote.
    /// </summary>
    [Fact]
    public async Task ServiceWithoutAny5xxSeries_DefaultErrorRateQuery_StillPromotes()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0, newErrors: 0, emitIdleErrorSeries: false);
        await using var host = await ShipBotHost.StartAsync(scenario.Settings(maxInconclusive: 3));

        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary");
        var release = await WaitForAnyStateAsync(host, ["EarlyAdopters", "Halted", "RolledBack"], Eventually.Deadline * 3);
        output.WriteLine(PrometheusScenario.Describe(release));

        Assert.True(release["state"]!.GetValue<string>() == "EarlyAdopters", PrometheusScenario.Describe(release));
    }

    internal static async Task<JsonObject> WaitForHealthAsync(ShipBotHost host, string status)
    {
        var deadline = DateTime.UtcNow + (Eventually.Deadline * 3);
        JsonObject release;
        do
        {
            release = await host.ReleaseAsync(Release);
            if (release["health"]?["status"]?.GetValue<string>() == status)
            {
                return release;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"health never became {status}. {PrometheusScenario.Describe(release)}");
    }

    internal static async Task<JsonObject> WaitForAnyStateAsync(ShipBotHost host, string[] states, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject release;
        do
        {
            release = await host.ReleaseAsync(Release);
            if (states.Contains(release["state"]!.GetValue<string>()))
            {
                return release;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        return release;
    }
}
