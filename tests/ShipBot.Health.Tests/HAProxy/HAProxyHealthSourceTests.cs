using ShipBot.Core.Health;
using ShipBot.Health.HAProxy;
using ShipBot.Testing;
using ShipBot.Testing.HAProxy;

namespace ShipBot.Health.Tests.HAProxy;

/// <summary>
/// The HAProxy health source end to end: real traffic through a real HAProxy, its built-in
/// exporter scraped by a real Prometheus every second, read with the source's default PromQL.
/// </summary>
public sealed class HAProxyHealthSourceTests
{
    private const string Backend = "be_checkout";

    [Fact]
    public async Task ReadAsync_NewServerAnswers5xx_ErrorRateOfTheNewServersAndBaselineOfTheStableOnes()
    {
        await using var stable = await VersionedHttpService.StartAsync("stable");
        await using var canary = await VersionedHttpService.StartAsync("new");
        canary.StatusCode = 503;
        await using var haproxy = await HAProxyServer.StartAsync(Backend, [new("stable1", stable.Address, 50), new("new1", canary.Address, 50)]);
        await haproxy.WaitForServersAsync(["stable1", "new1"]);
        await using var traffic = new TrafficMeter(haproxy.Frontend);
        traffic.StartBackground(perSecond: 100);
        await using var prometheus = await PrometheusServer.StartAsync([haproxy.MetricsTarget]);
        await prometheus.WaitForSeriesAsync($"rate(haproxy_server_http_responses_total{{proxy=\"{Backend}\",server=\"new1\",code=\"5xx\"}}[5s]) > 0");
        var source = CreateSut(prometheus.Url);

        var sample = await ReadUntilAsync(source, "canary", s => s.Readings.Any(r => r.Metric == Metrics.ErrorRate));
        var baseline = await ReadUntilAsync(source, "baseline", s => s.Readings.Any(r => r.Metric == Metrics.ErrorRate));

        Assert.Null(sample.Error);
        Assert.Equal(1.0, sample.Readings.Single(r => r.Metric == Metrics.ErrorRate).Value, 3);
        Assert.Equal(0.0, baseline.Readings.Single(r => r.Metric == Metrics.ErrorRate).Value, 3);
        Assert.InRange(sample.Readings.Single(r => r.Metric == Metrics.LatencyAverage).Value, 0, 1000);
        Assert.Equal([Metrics.ErrorRate, Metrics.LatencyAverage], sample.Provided!.Order());
    }

    [Fact]
    public async Task ReadAsync_PrometheusDown_IsInconclusiveNeverHealthy()
    {
        var source = CreateSut(new Uri($"http://127.0.0.1:{RedisServer.FreePort()}/"));

        var sample = await source.ReadAsync(Query("canary"));

        Assert.NotNull(sample.Error);
        Assert.Empty(sample.Readings);
        Assert.Equal(HealthStatus.Unknown, HealthPolicy.Evaluate(sample, [Metrics.ErrorRate], new Dictionary<string, double>(), new HealthThresholds(), DateTimeOffset.UnixEpoch).Status);
    }

    [Fact]
    public void Render_ServerNamesWithRegexCharacters_AreEscapedForPromQl()
    {
        var promql = HAProxyHealthSource.Render(HAProxyHealthOptions.DefaultQueries[Metrics.ErrorRate], "be.checkout", ["new.1", "new-2"]);

        Assert.Contains("proxy=\"be.checkout\",server=~\"new\\\\.1|new-2\"", promql, StringComparison.Ordinal);
        Assert.DoesNotContain("{{servers}}", promql, StringComparison.Ordinal);
        Assert.Contains("[{{window}}]", promql, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingPrometheusAndServers_NamesEveryKey()
    {
        var errors = new HAProxyHealthOptions { Queries = { ["error_rate"] = "rate(x{proxy=\"{{proxy}}\"}[1m])" } }.Validate("ShipBot:Services:checkout:Health:HAProxy").ToList();

        Assert.Contains(errors, e => e.StartsWith("ShipBot:Services:checkout:Health:HAProxy:Url", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ShipBot:Services:checkout:Health:HAProxy:Backend", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("CanaryServers and StableServers", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ShipBot:Services:checkout:Health:HAProxy:Queries:error_rate: unknown placeholder", StringComparison.Ordinal));
    }

    private static HAProxyHealthSource CreateSut(Uri prometheus) => new(
        new HttpClient(),
        new HAProxyHealthOptions { Url = prometheus, Backend = Backend, CanaryServers = ["new1"], StableServers = ["stable1"], Window = "5s", Timeout = TimeSpan.FromSeconds(2) },
        TimeProvider.System);

    private static HealthQuery Query(string stage) => new("checkout", "1.4.2", stage, 5, [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.LatencyAverage]);

    /// <summary>Reads until the rates have enough samples (a generous deadline; not a timing).</summary>
    private static async Task<HealthSample> ReadUntilAsync(HAProxyHealthSource source, string stage, Func<HealthSample, bool> ready)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HealthSample sample;
        do
        {
            sample = await source.ReadAsync(Query(stage));
            if (ready(sample))
            {
                return sample;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        return sample;
    }
}
