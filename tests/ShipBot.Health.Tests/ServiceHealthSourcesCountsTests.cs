using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Health.Tests;

public sealed class ServiceHealthSourcesCountsTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static IHealthSource Source(string name, HealthSample sample) => new FixedSource(name, sample);

    private static MetricCounts Counts(string metric) => new(metric, 500, 5, 9500, 95, Now.AddMinutes(-10), Now, "test");

    [Fact]
    public async Task ReadAsync_TwoSources_MergesTheirCounts()
    {
        var prometheus = Source("Prometheus", new HealthSample([]) { Counts = [Counts(CountMetrics.Errors)] });
        var other = Source("other", new HealthSample([]) { Counts = [Counts(CountMetrics.SlowRequests)] });
        var sut = new ServiceHealthSources(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [prometheus, other] }, fallback: null);

        var sample = await sut.ReadAsync(new HealthQuery("checkout", "1.4.2", "Canary", 5, []) { CountsSince = Now.AddMinutes(-10), CountMetrics = [CountMetrics.Errors, CountMetrics.SlowRequests] });

        Assert.Equal([CountMetrics.Errors, CountMetrics.SlowRequests], sample.Counts.Select(c => c.Metric));
    }

    [Fact]
    public async Task ReadAsync_OneSourceFails_KeepsTheOthersCountsAndSaysWhy()
    {
        var prometheus = Source("Prometheus", new HealthSample([], "Prometheus: slow_requests counts: query timed out") { Counts = [Counts(CountMetrics.Errors)] });
        var sut = new ServiceHealthSources(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [prometheus] }, fallback: null);

        var sample = await sut.ReadAsync(new HealthQuery("checkout", "1.4.2", "Canary", 5, []) { CountsSince = Now.AddMinutes(-10), CountMetrics = [CountMetrics.Errors, CountMetrics.SlowRequests] });

        Assert.Single(sample.Counts);
        Assert.Equal("Prometheus: slow_requests counts: query timed out", sample.Error);
    }

    [Theory]
    [InlineData(500, 5, 9500, 95, true)]
    [InlineData(500, 505, 9500, 95, true)]
    [InlineData(500, 600, 9500, 95, false)]
    [InlineData(-1, 0, 9500, 95, false)]
    [InlineData(500, double.NaN, 9500, 95, false)]
    public void IsReadable_Counts_FiniteNonNegativeEventsWithinTotals(double canary, double canaryEvents, double baseline, double baselineEvents, bool readable) =>
        Assert.Equal(readable, new MetricCounts(CountMetrics.Errors, canary, canaryEvents, baseline, baselineEvents, Now, Now, "test").IsReadable);

    private sealed class FixedSource(string name, HealthSample sample) : IHealthSource
    {
        public string Name => name;

        public Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default) => Task.FromResult(sample);
    }
}
