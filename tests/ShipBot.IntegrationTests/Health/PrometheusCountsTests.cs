using ShipBot.Core.Health;
using ShipBot.Health.Prometheus;

namespace ShipBot.IntegrationTests.Health;

/// <summary>The default count queries of the sequential judge, against a real Prometheus scraping a real service.</summary>
public sealed class PrometheusCountsTests
{
    [Fact]
    public async Task ReadAsync_DefaultCountQueries_CanaryAndBaselineCountsFromRealSeries()
    {
        await using var scenario = await PrometheusScenario.StartAsync(baselineErrors: 0.01, newErrors: 0.2);

        // The new version is also slow: every request takes 400 ms, past the 250 ms bucket.
        scenario.Service.Serve(PrometheusScenario.NewVersion, 0.2, latencySeconds: 0.4);
        using var http = new HttpClient();
        var source = new PrometheusHealthSource(http, new PrometheusOptions { Url = scenario.Prometheus.Url, LatencyBucket = "0.25" }, TimeProvider.System);
        var since = DateTimeOffset.UtcNow;

        // increase() needs two scrapes of the new latency inside the range: wait for counts, with a generous deadline.
        HealthSample sample;
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(500);
            sample = await source.ReadAsync(new HealthQuery("demo", PrometheusScenario.NewVersion, "Canary", 5, [])
            {
                CountsSince = since,
                CountMetrics = [CountMetrics.Errors, CountMetrics.SlowRequests],
            });
        }
        while (DateTimeOffset.UtcNow < deadline && !(sample.Counts.Count == 2 && sample.Counts.All(c => c.CanaryTotal > 100 && c.BaselineTotal > 100 && c.CanaryEvents > 20)));

        Assert.True(sample.Error is null, sample.Error);
        var errors = sample.Counts.Single(c => c.Metric == CountMetrics.Errors);
        var slow = sample.Counts.Single(c => c.Metric == CountMetrics.SlowRequests);
        Assert.True(errors.CanaryTotal > 100 && errors.BaselineTotal > 100, $"{errors}");
        Assert.InRange(errors.CanaryEvents / errors.CanaryTotal, 0.1, 0.3);
        Assert.InRange(errors.BaselineEvents / errors.BaselineTotal, 0, 0.03);
        Assert.InRange(slow.CanaryEvents / slow.CanaryTotal, 0.5, 1.05);
        Assert.InRange(slow.BaselineEvents / slow.BaselineTotal, -0.01, 0.05);
    }
}
