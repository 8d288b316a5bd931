using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ShipBot.IntegrationTests.Redis;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Telemetry;

/// <summary>
/// The acceptance test of ShipBot's own metrics: a real Prometheus scrapes a real ShipBot process
/// (on Redis) through its management port while a canary breaches and is rolled back; PromQL then
/// returns the rollback counter and the breach-to-rollback-call histogram.
/// </summary>
[Collection(RedisProcessCollection.Name)]
public sealed class PrometheusScrapeTests(ITestOutputHelper output)
{
    private const string Release = "demo@1.0.0";

    [Fact]
    public async Task RollbackWhileScraped_PromQLReturnsTheRollbackCounterAndTheBreachToRollbackHistogram()
    {
        await using var redis = await RedisServer.StartAsync();
        var management = RedisServer.FreePort();
        await using var host = await ShipBotProcess.StartAsync("M", redis, $"metrics-{Guid.NewGuid():N}", new Dictionary<string, string?>
        {
            ["Management:Urls"] = $"http://127.0.0.1:{management}",
            ["Management:ReleaseGaugeInterval"] = "00:00:01",
        });
        await using var prometheus = await PrometheusServer.StartAsync([$"127.0.0.1:{management}"]);
        await prometheus.WaitForSeriesAsync("shipbot_readiness_status{shipbot_check=\"store\"} == 1", timeout: TimeSpan.FromSeconds(60));

        using (var hidden = await host.Http.GetAsync(new Uri("/metrics", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }

        await RedisScenario.StartAndConfirmAsync(host, host, "1.0.0");
        await RedisScenario.ApproveAsync(host, Release);
        await host.WaitForStateAsync(Release, "Canary");
        await prometheus.WaitForSeriesAsync("shipbot_releases{shipbot_state=\"Canary\"} == 1", timeout: TimeSpan.FromSeconds(60));

        await host.SayAsync("carol", "/ship simulate demo error_rate 0.2");
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack");
        output.WriteLine(ShipBotProcess.Describe(rolledBack));

        var rollbacks = await prometheus.WaitForSeriesAsync("sum by (shipbot_trigger) (shipbot_rollbacks_total) >= 1", timeout: TimeSpan.FromSeconds(60));
        var trigger = Assert.Single(rollbacks);
        Assert.Equal("health", trigger!["metric"]!["shipbot_trigger"]!.GetValue<string>());
        Assert.Equal(1, Value(trigger));

        var count = await prometheus.WaitForSeriesAsync("sum(shipbot_rollback_breach_to_call_duration_seconds_count) >= 1", timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(1, Value(Assert.Single(count)));
        var buckets = await prometheus.WaitForSeriesAsync("sum by (le) (shipbot_rollback_breach_to_call_duration_seconds_bucket)", series: 10);
        Assert.Contains(buckets, b => b!["metric"]!["le"]!.GetValue<string>() == "+Inf" && Value(b) == 1);
        var p99 = Value(Assert.Single(await prometheus.WaitForSeriesAsync("histogram_quantile(0.99, sum by (le) (shipbot_rollback_breach_to_call_duration_seconds_bucket))")));
        output.WriteLine($"breach to rollback call p99 (from the histogram's buckets): {p99:0.###} s");
        Assert.InRange(p99, 0, 300);

        // The rest of the story is there too: the transitions, the rollback's deployment call, the evaluations.
        await prometheus.WaitForSeriesAsync("shipbot_release_transitions_total{shipbot_kind=\"RolledBack\"} >= 1");
        await prometheus.WaitForSeriesAsync("shipbot_deployment_duration_seconds_count{shipbot_operation=\"rollback\",shipbot_outcome=\"success\"} >= 1");
        await prometheus.WaitForSeriesAsync("shipbot_health_evaluations_total{shipbot_verdict=\"breached\"} >= 1");
        await prometheus.WaitForSeriesAsync("shipbot_store_operation_duration_seconds_count{db_system_name=\"redis\",db_operation_name=\"try_save\"} > 0");
        await prometheus.WaitForSeriesAsync("shipbot_scheduler_lag_seconds_count > 0");
    }

    private static double Value(JsonNode? sample) =>
        double.Parse(sample!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
}
