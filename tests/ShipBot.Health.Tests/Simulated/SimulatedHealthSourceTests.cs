using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Health;
using ShipBot.Health.Simulated;

namespace ShipBot.Health.Tests.Simulated;

public sealed class SimulatedHealthSourceTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly string[] AllMetrics =
        [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.ProbeFailures, Metrics.UserFeedback, Metrics.Adoption, Metrics.Business];

    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public async Task ReadAsync_NothingSet_ReturnsHealthyDefaultsLabelledSimulated()
    {
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query("canary"));

        Assert.Null(sample.Error);
        Assert.Equal(AllMetrics, sample.Readings.Select(r => r.Metric));
        Assert.All(sample.Readings, r =>
        {
            Assert.Equal(SimulatedHealthSource.Defaults[r.Metric], r.Value);
            Assert.Equal("simulated", r.Source);
            Assert.Equal(Start, r.At);
        });
        Assert.Equal(0.003, sample.Readings.Single(r => r.Metric == Metrics.ErrorRate).Value);
        Assert.Equal(180, sample.Readings.Single(r => r.Metric == Metrics.LatencyP99).Value);
    }

    [Fact]
    public async Task ReadAsync_ClockAdvanced_StampsReadingsWithCurrentTime()
    {
        var sut = CreateSut();
        _time.Advance(TimeSpan.FromMinutes(5));

        var sample = await sut.ReadAsync(Query("canary", Metrics.Cpu));

        Assert.Equal(Start.AddMinutes(5), Assert.Single(sample.Readings).At);
    }

    [Fact]
    public async Task ReadAsync_UnknownMetric_IsOmitted()
    {
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query("canary", "queue_depth", Metrics.Cpu));

        Assert.Equal(Metrics.Cpu, Assert.Single(sample.Readings).Metric);
    }

    [Fact]
    public async Task Set_StageQuery_ReturnsTheSetValue()
    {
        var sut = CreateSut();

        sut.Set("demo", Metrics.ErrorRate, 0.048);
        var sample = await sut.ReadAsync(Query("canary", Metrics.ErrorRate, Metrics.Cpu));

        Assert.Equal(0.048, sample.Readings.Single(r => r.Metric == Metrics.ErrorRate).Value);
        Assert.Equal(0.35, sample.Readings.Single(r => r.Metric == Metrics.Cpu).Value);
    }

    [Fact]
    public async Task Set_BaselineQuery_StillReturnsDefaults()
    {
        var sut = CreateSut();

        sut.Set("demo", Metrics.ErrorRate, 0.048);
        var sample = await sut.ReadAsync(Query("baseline", Metrics.ErrorRate));

        Assert.Equal(0.003, Assert.Single(sample.Readings).Value);
    }

    [Fact]
    public async Task Set_OneService_LeavesOtherServicesAtDefaults()
    {
        var sut = CreateSut();

        sut.Set("demo", Metrics.LatencyP99, 900);
        var sample = await sut.ReadAsync(Query("canary", Metrics.LatencyP99) with { Service = "checkout" });

        Assert.Equal(180, Assert.Single(sample.Readings).Value);
    }

    [Fact]
    public async Task Set_SourceDown_ReadReturnsFailedSampleWithoutReadings()
    {
        var sut = CreateSut();

        sut.Set("demo", "source_down", 1);
        var stage = await sut.ReadAsync(Query("canary"));
        var baseline = await sut.ReadAsync(Query("baseline"));

        Assert.Empty(stage.Readings);
        Assert.False(string.IsNullOrEmpty(stage.Error));
        Assert.Empty(baseline.Readings);
        Assert.NotNull(baseline.Error);
    }

    [Fact]
    public async Task Set_SourceDownZero_SourceAnswersAgain()
    {
        var sut = CreateSut();
        sut.Set("demo", "source_down", 1);

        sut.Set("demo", "source_down", 0);
        var sample = await sut.ReadAsync(Query("canary", Metrics.Cpu));

        Assert.Null(sample.Error);
        Assert.Single(sample.Readings);
    }

    [Fact]
    public async Task Set_SourceDown_DoesNotAffectOtherServices()
    {
        var sut = CreateSut();

        sut.Set("demo", "source_down", 1);
        var sample = await sut.ReadAsync(Query("canary", Metrics.Cpu) with { Service = "checkout" });

        Assert.Null(sample.Error);
        Assert.Single(sample.Readings);
    }

    [Fact]
    public async Task Reset_AfterSetAndSourceDown_RestoresDefaultsAndSource()
    {
        var sut = CreateSut();
        sut.Set("demo", Metrics.ErrorRate, 0.2);
        sut.Set("demo", "source_down", 1);

        sut.Reset("demo");
        var sample = await sut.ReadAsync(Query("canary", Metrics.ErrorRate));

        Assert.Null(sample.Error);
        Assert.Equal(0.003, Assert.Single(sample.Readings).Value);
    }

    [Fact]
    public void KnownMetrics_Always_ListsEveryDefaultTrafficAndSourceDown()
    {
        var sut = CreateSut();

        Assert.Equal([.. AllMetrics, SimulatedHealthSource.TrafficMetric, "source_down"], sut.KnownMetrics);
        Assert.Equal("simulated", sut.Name);
    }

    [Fact]
    public async Task ReadAsync_NullQuery_Throws()
    {
        var sut = CreateSut();

        await Assert.ThrowsAsync<ArgumentNullException>(() => sut.ReadAsync(null!));
    }

    private static HealthQuery Query(string stage, params string[] metrics) =>
        new("demo", "1.4.2", stage, stage == "baseline" ? 0 : 5, metrics.Length == 0 ? AllMetrics : metrics);

    private SimulatedHealthSource CreateSut() => new(_time);
}
