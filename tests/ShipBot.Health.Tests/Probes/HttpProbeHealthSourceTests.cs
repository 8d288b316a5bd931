using ShipBot.Core.Health;
using ShipBot.Health.Probes;
using ShipBot.Testing;

namespace ShipBot.Health.Tests.Probes;

/// <summary>
/// Probes against real instances on loopback. The probe timeout is on a fake clock that only the
/// test moves, so a healthy instance never misses it on a busy machine and a slow one always does.
/// </summary>
public sealed class HttpProbeHealthSourceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WatchedTimeProvider _time = new(Now);
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    private HttpProbeHealthSource CreateSut(IEnumerable<Uri> instances, string path = "/healthz", TimeSpan? timeout = null) =>
        new(_http, new ProbeOptions { Instances = [.. instances], Path = path, Timeout = timeout ?? TimeSpan.FromSeconds(3) }, _time);

    private static HealthQuery Query(params string[] metrics) =>
        new("checkout", "1.4.2", "Canary", 5, metrics.Length > 0 ? metrics : HealthPolicy.MetricsFor(Core.Plans.StageKind.Canary));

    [Fact]
    public void Defaults_AreStated()
    {
        var options = new ProbeOptions();

        Assert.Equal("/healthz", options.Path);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Timeout);
        Assert.Empty(options.Instances);
    }

    [Fact]
    public async Task ReadAsync_ProbeMetricNotAskedFor_ProbesNothing()
    {
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Healthy);
        var sut = CreateSut(instances.Urls);

        var sample = await sut.ReadAsync(Query(Metrics.ErrorRate, Metrics.LatencyP99));

        Assert.Empty(sample.Readings);
        Assert.Null(sample.Error);
        Assert.Empty(instances.Requests);
    }

    [Fact]
    public async Task ReadAsync_NoInstances_NoReading()
    {
        var sut = CreateSut([]);

        var sample = await sut.ReadAsync(Query());

        Assert.Empty(sample.Readings);
        Assert.Null(sample.Error);
    }

    [Fact]
    public async Task ReadAsync_AllInstancesHealthy_ZeroFailedAndSaysHowMany()
    {
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Healthy, InstanceBehaviour.Healthy, InstanceBehaviour.Healthy);
        var sut = CreateSut(instances.Urls);

        var sample = await sut.ReadAsync(Query());

        Assert.Null(sample.Error);
        var reading = Assert.Single(sample.Readings);
        Assert.Equal(Metrics.ProbeFailures, reading.Metric);
        Assert.Equal(0, reading.Value);
        Assert.Equal("HTTP probes: 3 of 3 healthy", reading.Source);
        Assert.Equal(Now, reading.At);
        Assert.Equal(3, instances.Requests.Count);
        Assert.All(instances.Requests, r => Assert.Equal("/healthz", r.Path));
    }

    [Fact]
    public async Task ReadAsync_OneOfFourAnswers503_QuarterFailedNamingTheInstance()
    {
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Healthy, InstanceBehaviour.Answers503, InstanceBehaviour.Healthy, InstanceBehaviour.Healthy);
        var sut = CreateSut(instances.Urls);

        var reading = Assert.Single((await sut.ReadAsync(Query())).Readings);

        Assert.Equal(0.25, reading.Value);
        Assert.Equal($"HTTP probes: 1 of 4 failed ({instances.Urls[1].Authority} HTTP 503)", reading.Source);
    }

    [Fact]
    public async Task ReadAsync_Non2xxTimeoutAndRefused_EachFailsWithItsReason()
    {
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Healthy, InstanceBehaviour.Answers500, InstanceBehaviour.Slow);
        var refused = new Uri($"http://127.0.0.1:{Loopback.ClosedPort()}/");
        var sut = CreateSut([.. instances.Urls, refused], timeout: TimeSpan.FromMilliseconds(300));

        // Every probe has finished but the slow instance's (its deadline is the one timer left), however long that took: now 300 ms pass.
        var read = sut.ReadAsync(Query());
        await Eventually.UntilAsync(() => _time.ActiveTimers == 1 && instances.Requests.Count == 3, "every probe but the slow one to finish");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        var reading = Assert.Single((await read).Readings);

        Assert.Equal(0.75, reading.Value);
        Assert.StartsWith("HTTP probes: 3 of 4 failed (", reading.Source, StringComparison.Ordinal);
        Assert.Contains($"{instances.Urls[1].Authority} HTTP 500", reading.Source, StringComparison.Ordinal);
        Assert.Contains($"{instances.Urls[2].Authority} no answer in 300 ms", reading.Source, StringComparison.Ordinal);
        Assert.Contains($"{refused.Authority} ConnectionError", reading.Source, StringComparison.Ordinal);
        Assert.DoesNotContain(instances.Urls[0].Authority, reading.Source, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_SlowInstances_AreProbedInParallel()
    {
        // With a long timeout, probing one after the other would leave three instances unasked for 20 s:
        // all four requests arriving while the first is still waiting shows they run together.
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Slow, InstanceBehaviour.Slow, InstanceBehaviour.Slow, InstanceBehaviour.Slow);
        var sut = CreateSut(instances.Urls, timeout: TimeSpan.FromSeconds(20));
        using var stop = new CancellationTokenSource();

        var read = sut.ReadAsync(Query(), stop.Token);
        await Eventually.TrueAsync(() => instances.Requests.Count >= 4);

        Assert.Equal(4, instances.Requests.Count);
        Assert.False(read.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    [Fact]
    public async Task ReadAsync_ConfiguredPath_IsTheOneProbed()
    {
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Healthy);
        var sut = CreateSut(instances.Urls, path: "/ready");

        await sut.ReadAsync(Query());

        Assert.Equal("/ready", Assert.Single(instances.Requests).Path);
    }

    [Fact]
    public async Task ReadAsync_ManyFailures_NamesFiveAndCountsAll()
    {
        var ports = new HashSet<int>();
        while (ports.Count < 7)
        {
            ports.Add(Loopback.ClosedPort());
        }

        var refused = ports.Select(p => new Uri($"http://127.0.0.1:{p}/")).ToList();
        var sut = CreateSut(refused);

        var reading = Assert.Single((await sut.ReadAsync(Query())).Readings);

        Assert.Equal(1, reading.Value);
        Assert.StartsWith("HTTP probes: 7 of 7 failed (", reading.Source, StringComparison.Ordinal);
        Assert.Equal(5, refused.Count(u => reading.Source.Contains(u.Authority, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(1, 4, CheckStatus.Breach)]
    [InlineData(1, 5, CheckStatus.Pass)]
    public async Task ReadAsync_FailureRatioAboveY_TripsTheRollbackTrigger(int failing, int total, CheckStatus expected)
    {
        var behaviours = Enumerable.Range(0, total).Select(i => i < failing ? InstanceBehaviour.Answers503 : InstanceBehaviour.Healthy).ToArray();
        await using var instances = await LoopbackInstances.StartAsync(behaviours);
        var sut = CreateSut(instances.Urls);

        var sample = await sut.ReadAsync(Query(Metrics.ProbeFailures));
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ProbeFailures], new Dictionary<string, double>(), new HealthThresholds { MaxProbeFailureRatio = 0.2 }, Now);

        var check = Assert.Single(verdict.Checks);
        Assert.Equal(expected, check.Status);
        Assert.Equal(expected == CheckStatus.Breach, verdict.RequiresRollback);
        if (expected == CheckStatus.Breach)
        {
            Assert.Equal("failed health probes 25 % breaches limit 20 % of instances", check.DescribeBreach());
            Assert.Contains(instances.Urls[0].Authority, check.Source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReadAsync_CallerCancels_Throws()
    {
        await using var instances = await LoopbackInstances.StartAsync(InstanceBehaviour.Slow);
        var sut = CreateSut(instances.Urls, timeout: TimeSpan.FromSeconds(10));
        using var cts = new CancellationTokenSource();

        var read = sut.ReadAsync(Query(), cts.Token);
        await Eventually.UntilAsync(() => instances.Requests.Count == 1, "the probe to reach the instance");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }
}
