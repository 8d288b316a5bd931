using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Health;
using ShipBot.Health.Simulated;

namespace ShipBot.Health.Tests.Simulated;

public sealed class SimulatedTrafficTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private SimulatedHealthSource CreateSut() => new(_time, seed: 17);

    private static HealthQuery Query(int percent = 5, DateTimeOffset? since = null) =>
        new HealthQuery("checkout", "1.4.2", "Canary", percent, []) { CountsSince = since ?? Start, CountMetrics = [CountMetrics.Errors, CountMetrics.SlowRequests] };

    [Fact]
    public async Task ReadAsync_TenMinutesAtDefaults_CountsMatchTheTrafficLevel()
    {
        var sut = CreateSut();
        _time.Advance(TimeSpan.FromMinutes(10));

        var sample = await sut.ReadAsync(Query());

        var errors = sample.Counts.Single(c => c.Metric == CountMetrics.Errors);
        Assert.Equal("simulated", errors.Source);
        Assert.Equal(Start, errors.Since);

        // 1,000 requests a minute, 5 % to the canary: about 500 and 9,500 in 10 minutes (Poisson: a few standard deviations of slack).
        Assert.InRange(errors.CanaryTotal, 400, 600);
        Assert.InRange(errors.BaselineTotal, 9_200, 9_800);
        Assert.InRange(errors.BaselineEvents / errors.BaselineTotal, 0.0015, 0.0045);
        var slow = sample.Counts.Single(c => c.Metric == CountMetrics.SlowRequests);
        Assert.Equal(errors.CanaryTotal, slow.CanaryTotal);
    }

    [Fact]
    public async Task ReadAsync_LaterRead_CountsAccumulateFromTheStageStart()
    {
        var sut = CreateSut();
        _time.Advance(TimeSpan.FromMinutes(5));
        var first = (await sut.ReadAsync(Query())).Counts[0];
        _time.Advance(TimeSpan.FromMinutes(5));

        var second = (await sut.ReadAsync(Query())).Counts[0];

        Assert.True(second.CanaryTotal > first.CanaryTotal);
        Assert.True(second.BaselineTotal > first.BaselineTotal);
        Assert.True(second.CanaryEvents >= first.CanaryEvents);
    }

    [Fact]
    public async Task ReadAsync_SameInstantTwice_SameCounts()
    {
        var sut = CreateSut();
        _time.Advance(TimeSpan.FromMinutes(3));

        var first = (await sut.ReadAsync(Query())).Counts;
        var again = (await sut.ReadAsync(Query())).Counts;

        Assert.Equal(first.Select(c => (c.CanaryTotal, c.CanaryEvents, c.BaselineTotal, c.BaselineEvents)), again.Select(c => (c.CanaryTotal, c.CanaryEvents, c.BaselineTotal, c.BaselineEvents)));
    }

    [Fact]
    public async Task ReadAsync_NewStage_StartsFromZero()
    {
        var sut = CreateSut();
        _time.Advance(TimeSpan.FromMinutes(30));
        await sut.ReadAsync(Query());
        var stageTwo = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(1));

        var counts = (await sut.ReadAsync(Query(25, stageTwo))).Counts[0];

        // One minute at 25 %: about 250 canary requests, not the 30 minutes before.
        Assert.InRange(counts.CanaryTotal, 180, 320);
    }

    [Fact]
    public async Task ReadAsync_SimulatedRegression_CanaryErrorsFollowTheSimulatedRate()
    {
        var sut = CreateSut();
        sut.Set("checkout", Metrics.ErrorRate, 0.2);
        sut.Set("checkout", SimulatedHealthSource.TrafficMetric, 2000);
        _time.Advance(TimeSpan.FromMinutes(10));

        var errors = (await sut.ReadAsync(Query())).Counts.Single(c => c.Metric == CountMetrics.Errors);

        Assert.InRange(errors.CanaryTotal, 850, 1150);
        Assert.InRange(errors.CanaryEvents / errors.CanaryTotal, 0.15, 0.25);
        Assert.InRange(errors.BaselineEvents / errors.BaselineTotal, 0.0015, 0.0045);
    }

    [Fact]
    public async Task ReadAsync_SlowerP99_MoreSlowCanaryRequests()
    {
        var sut = CreateSut();
        sut.Set("checkout", Metrics.LatencyP99, 600);
        _time.Advance(TimeSpan.FromMinutes(10));

        var slow = (await sut.ReadAsync(Query())).Counts.Single(c => c.Metric == CountMetrics.SlowRequests);

        // p99 600 ms is a median of 240 ms (p99 = 2.5 × median): about 29 % of requests are over the 300 ms target.
        Assert.InRange(slow.CanaryEvents / slow.CanaryTotal, 0.2, 0.38);
        Assert.True(slow.BaselineEvents / slow.BaselineTotal < 0.005);
    }

    [Fact]
    public async Task ReadAsync_NoCountsAsked_NoCounts()
    {
        var sample = await CreateSut().ReadAsync(new HealthQuery("checkout", "1.4.2", "Canary", 5, [Metrics.ErrorRate]));

        Assert.Empty(sample.Counts);
    }

    [Fact]
    public async Task ReadAsync_SourceDown_NoCounts()
    {
        var sut = CreateSut();
        sut.Set("checkout", "source_down", 1);

        var sample = await sut.ReadAsync(Query());

        Assert.Empty(sample.Counts);
        Assert.NotNull(sample.Error);
    }
}
