using System.Text.Json.Nodes;
using ShipBot.Core.Outcomes;
using ShipBot.Health.Prometheus;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Health;

/// <summary>
/// Measured outcome targets read from a real Prometheus (Debian's prometheus scraping a test service
/// every second): the baseline before the rollout, the reports at the checkpoints (1, 2 and 3 s in
/// the test settings), a miss that opens a signal, and a target whose query has no series.
/// </summary>
public sealed class PrometheusOutcomeTargetTests(ITestOutputHelper output)
{
    private const string Release = PrometheusScenario.Release;

    /// <summary>The share of the service's requests that did not fail, in %, over both versions.</summary>
    private const string SuccessQuery =
        "100 * (1 - (sum(rate(http_requests_total{service=\"{{service}}\",code=~\"5..\"}[5s])) or vector(0)) / sum(rate(http_requests_total{service=\"{{service}}\"}[5s])))";

    [Fact]
    public async Task ReadAsync_InstantQuery_TheServicesValueOrNoSeries()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0.01, newErrors: 0.03);
        using var http = new HttpClient();
        var source = new PrometheusHealthSource(http, new PrometheusOptions { Url = scenario.Prometheus.Url, Timeout = TimeSpan.FromSeconds(30) }, TimeProvider.System);

        var success = await source.ReadAsync("demo", new OutcomeTarget("success rate", SuccessQuery, TargetComparison.AtLeast, 99));
        var missing = await source.ReadAsync("demo", new OutcomeTarget("nps", "sum(nps_score{service=\"{{service}}\"})", TargetComparison.AtLeast, 40));
        var broken = await source.ReadAsync("demo", new OutcomeTarget("broken", "sum(rate(", TargetComparison.AtLeast, 1));

        Assert.True(success.Error is null, success.Error);
        Assert.InRange(success.Value!.Value, 96.5, 99.5);
        Assert.Null(missing.Value);
        Assert.Equal("no series", missing.Error);
        Assert.Null(broken.Value);
        Assert.False(string.IsNullOrEmpty(broken.Error));
    }

    [Fact]
    public async Task Checkpoints_TargetsOnARealPrometheus_ReportedKeptAndTheMissOpensASignal()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0.01, newErrors: 0.015);
        var settings = scenario.Settings();
        // Healthy by the rollback limits, yet short of a 99.5 % success target: the outcome misses, the rollout goes on.
        settings["ShipBot:Services:demo:Outcomes:success rate:Query"] = SuccessQuery;
        settings["ShipBot:Services:demo:Outcomes:success rate:Comparison"] = ">=";
        settings["ShipBot:Services:demo:Outcomes:success rate:Value"] = "99.5";
        settings["ShipBot:Services:demo:Outcomes:success rate:Unit"] = "%";
        settings["ShipBot:Services:demo:Outcomes:success floor:Query"] = SuccessQuery;
        settings["ShipBot:Services:demo:Outcomes:success floor:Value"] = "90";
        settings["ShipBot:Services:demo:Outcomes:nps:Query"] = "sum(nps_score{service=\"{{service}}\"})";
        settings["ShipBot:Services:demo:Outcomes:nps:Value"] = "40";
        settings["ShipBot:Services:demo:Outcomes:nps:Always"] = "false";
        await using var host = await ShipBotHost.StartAsync(settings);

        await host.SayAsync("alice", $"/ship start demo {PrometheusScenario.NewVersion} faster checkout --outcome nps");
        await host.SayAsync("alice", $"/ship check {Release} {string.Join(' ', PrometheusScenario.BlockingItems)}");
        await host.SayAsync("bob", $"/ship approve {Release}");
        var canary = await host.WaitForStateAsync(Release, "Canary");
        var baseline = canary["baseline"]!.AsObject();
        Assert.InRange(baseline["outcome:success rate"]!.GetValue<double>(), 97, 99.9);
        Assert.False(baseline.ContainsKey("outcome:nps"), "a target without series has no baseline");

        await host.WaitForStateAsync(Release, "Validating");
        await host.SayAsync("alice", $"/ship check {Release} ufv");
        JsonObject release = await host.WaitForStateAsync(Release, "Operating");
        Assert.True(await Eventually.TrueAsync(async () => (release = await host.ReleaseAsync(Release))["outcomes"]!.AsArray().Count >= 1, Eventually.Deadline * 2),
            $"no outcome report.\n{PrometheusScenario.Describe(release)}");
        output.WriteLine(PrometheusScenario.Describe(release));

        var lines = release["outcomes"]![0]!["lines"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.Contains(lines, l => l.StartsWith("success rate: ", StringComparison.Ordinal) && l.Contains("vs target ≥ 99.5 % — miss (Δ ", StringComparison.Ordinal) && l.Contains("since baseline", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("success floor: ", StringComparison.Ordinal) && l.Contains("vs target ≥ 90 — pass", StringComparison.Ordinal));
        Assert.Contains("nps: not measured (no series) — target ≥ 40", lines);
        Assert.Contains("1 of 3 target(s) met; missed: success rate; 1 not measured.", lines);

        var shown = await host.SayAsync("alice", $"/ship outcome {Release}");
        Assert.Contains("success rate: ", shown["text"]?.GetValue<string>() ?? shown.ToJsonString(), StringComparison.Ordinal);
        // The signal is audited just after the report is stored: wait for it.
        Assert.True(
            await Eventually.TrueAsync(async () => PrometheusScenario.Audit(release = await host.ReleaseAsync(Release))
                .Any(e => e["action"]!.GetValue<string>() == "signal" && e["detail"]!.GetValue<string>().Contains("missed success rate", StringComparison.Ordinal))),
            PrometheusScenario.Describe(release));
        var listed = await host.SayAsync("alice", "/ship signals");
        var signals = listed["text"]?.GetValue<string>() ?? listed.ToJsonString();
        Assert.Contains($"unexpected for {Release}", signals, StringComparison.Ordinal);
    }
}
