using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Health.Tests;

public sealed class ServiceHealthSourcesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static ServiceHealthSources CreateSut(IReadOnlyDictionary<string, IReadOnlyList<IHealthSource>> byService, IHealthSource? fallback = null) =>
        new(byService, fallback);

    private static HealthQuery Query(string service = "checkout") =>
        new(service, "1.4.2", "Canary", 5, [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.ProbeFailures]);

    private static HealthReading Reading(string metric, double value, string source) => new(metric, value, source, Now);

    [Fact]
    public async Task ReadAsync_ServiceWithSources_AsksOnlyItsOwnWithTheSameQuery()
    {
        var own = new StubSource("Prometheus", new HealthSample([Reading(Metrics.ErrorRate, 0.01, "Prometheus")]));
        var other = new StubSource("other", new HealthSample([]));
        var fallback = new StubSource("Simulated", new HealthSample([]));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [own], ["billing"] = [other] }, fallback);
        var query = Query();

        var sample = await sut.ReadAsync(query);

        Assert.Same(query, Assert.Single(own.Queries));
        Assert.Empty(other.Queries);
        Assert.Empty(fallback.Queries);
        Assert.Equal(0.01, Assert.Single(sample.Readings).Value);
        Assert.Null(sample.Error);
    }

    [Fact]
    public async Task ReadAsync_TwoSources_MergesTheirReadings()
    {
        var prometheus = new StubSource("Prometheus", new HealthSample([Reading(Metrics.ErrorRate, 0.01, "Prometheus"), Reading(Metrics.LatencyP99, 120, "Prometheus")]));
        var probes = new StubSource("HTTP probes", new HealthSample([Reading(Metrics.ProbeFailures, 0.5, "HTTP probes: 1 of 2 failed")]));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [prometheus, probes] });

        var sample = await sut.ReadAsync(Query());

        Assert.Null(sample.Error);
        Assert.Equal(new[] { Metrics.ErrorRate, Metrics.LatencyP99, Metrics.ProbeFailures }, sample.Readings.Select(r => r.Metric));
        Assert.Single(prometheus.Queries);
        Assert.Single(probes.Queries);
    }

    [Fact]
    public async Task ReadAsync_OneSourceFailed_SampleFailedButTheOthersReadingsKept()
    {
        var prometheus = new StubSource("Prometheus", HealthSample.Failed("Prometheus: error_rate: connection refused"));
        var probes = new StubSource("HTTP probes", new HealthSample([Reading(Metrics.ProbeFailures, 0.5, "HTTP probes: 1 of 2 failed")]));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [prometheus, probes] });

        var sample = await sut.ReadAsync(Query());

        Assert.Equal("Prometheus: error_rate: connection refused", sample.Error);
        var reading = Assert.Single(sample.Readings);
        Assert.Equal(Metrics.ProbeFailures, reading.Metric);

        // The breach read by the probes still rolls back although Prometheus is unreadable.
        var verdict = HealthPolicy.Evaluate(sample, Query().Metrics, new Dictionary<string, double>(), new HealthThresholds(), Now);
        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.True(verdict.RequiresRollback);
    }

    [Fact]
    public async Task ReadAsync_TwoSourcesFailed_BothErrorsAreKept()
    {
        var prometheus = new StubSource("Prometheus", HealthSample.Failed("Prometheus: down"));
        var probes = new StubSource("HTTP probes", HealthSample.Failed("HTTP probes: broken"));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [prometheus, probes] });

        var sample = await sut.ReadAsync(Query());

        Assert.Equal("Prometheus: down; HTTP probes: broken", sample.Error);
    }

    public static TheoryData<Exception> SourceFailures() => new()
    {
        new HttpRequestException("connection refused"),
        new TimeoutException("took too long"),
        new IOException("broken pipe"),
        new InvalidOperationException("bad state"),
        new TaskCanceledException("timed out"),
    };

    [Theory]
    [MemberData(nameof(SourceFailures))]
    public async Task ReadAsync_SourceThrows_FailedNamingTheSourceAndTheOthersKept(Exception failure)
    {
        var throwing = new StubSource("Prometheus", failure);
        var probes = new StubSource("HTTP probes", new HealthSample([Reading(Metrics.ProbeFailures, 0, "HTTP probes: 2 of 2 healthy")]));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [throwing, probes] });

        var sample = await sut.ReadAsync(Query());

        Assert.Equal($"Prometheus: {failure.Message}", sample.Error);
        Assert.Equal(Metrics.ProbeFailures, Assert.Single(sample.Readings).Metric);
        var verdict = HealthPolicy.Evaluate(sample, Query().Metrics, new Dictionary<string, double>(), new HealthThresholds(), Now);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
    }

    [Fact]
    public async Task ReadAsync_CallerCancels_CancellationIsNotTurnedIntoAFailedSample()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var source = new StubSource("Prometheus", new TaskCanceledException("cancelled"));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [source] });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sut.ReadAsync(Query(), cts.Token));
    }

    [Fact]
    public async Task ReadAsync_ServiceWithoutSources_UsesTheFallback()
    {
        var fallback = new StubSource("Simulated", new HealthSample([Reading(Metrics.ErrorRate, 0.003, "simulated")]));
        var own = new StubSource("Prometheus", new HealthSample([]));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [own] }, fallback);

        var sample = await sut.ReadAsync(Query("demo"));

        Assert.Equal(0.003, Assert.Single(sample.Readings).Value);
        Assert.Single(fallback.Queries);
        Assert.Empty(own.Queries);
    }

    [Fact]
    public async Task ReadAsync_ServiceWithAnEmptySourceList_UsesTheFallback()
    {
        var fallback = new StubSource("Simulated", new HealthSample([Reading(Metrics.ErrorRate, 0.003, "simulated")]));
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [] }, fallback);

        await sut.ReadAsync(Query());

        Assert.Single(fallback.Queries);
    }

    [Fact]
    public async Task ReadAsync_NoSourceAndNoFallback_FailedSoNeverHealthy()
    {
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>>());

        var sample = await sut.ReadAsync(Query());

        Assert.Empty(sample.Readings);
        Assert.Equal("no health source is configured for checkout", sample.Error);
        var verdict = HealthPolicy.Evaluate(sample, Query().Metrics, new Dictionary<string, double>(), new HealthThresholds(), Now);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
    }

    [Fact]
    public async Task ReadAsync_Sources_AreReadInParallel()
    {
        // Each source waits until both have started: read one after the other, they would never finish.
        var started = new CountdownEvent(2);
        var first = new StubSource("Prometheus", new HealthSample([Reading(Metrics.ErrorRate, 0.01, "Prometheus")])) { Gate = started };
        var second = new StubSource("HTTP probes", new HealthSample([Reading(Metrics.ProbeFailures, 0, "HTTP probes")])) { Gate = started };
        var sut = CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>> { ["checkout"] = [first, second] });

        var sample = await sut.ReadAsync(Query()).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, sample.Readings.Count);
    }

    [Fact]
    public void Name_IsStable() => Assert.Equal("health sources", CreateSut(new Dictionary<string, IReadOnlyList<IHealthSource>>()).Name);

    /// <summary>A health source port stand-in that records its queries and answers (or throws) as told.</summary>
    private sealed class StubSource : IHealthSource
    {
        private readonly HealthSample? _sample;
        private readonly Exception? _failure;

        public StubSource(string name, HealthSample sample)
        {
            Name = name;
            _sample = sample;
        }

        public StubSource(string name, Exception failure)
        {
            Name = name;
            _failure = failure;
        }

        public string Name { get; }

        public TimeSpan Delay { get; init; }

        public CountdownEvent? Gate { get; init; }

        public List<HealthQuery> Queries { get; } = [];

        public async Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
        {
            lock (Queries)
            {
                Queries.Add(query);
            }

            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            if (Gate is { } gate)
            {
                gate.Signal();
                await Task.Run(() => gate.Wait(TimeSpan.FromSeconds(20), cancellationToken), cancellationToken);
                Assert.True(gate.IsSet, "the other source was not read at the same time");
            }

            return _failure is null ? _sample! : throw _failure;
        }
    }
}
