using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Simulated;

namespace ShipBot.Deploy.Tests.Simulated;

public sealed class SimulatedDeploymentTargetTests
{
    private static readonly ReleaseId Demo = new("demo", "1.4.2");
    private static readonly DateTimeOffset Start = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public void Name_Always_IsSimulated()
    {
        var sut = CreateSut();

        Assert.Equal("simulated", sut.Name);
    }

    [Fact]
    public async Task ApplyAsync_ProductionPercent_RecordsTrafficAndCall()
    {
        var sut = CreateSut();
        var request = Request(new DeploymentIntent(DeploymentEnvironment.Production, 10));

        var result = await sut.ApplyAsync(request);

        Assert.True(result.Succeeded);
        Assert.Equal("1.4.2 at 10 % in production", result.Detail);
        Assert.Equal(10, sut.TrafficOf("demo"));
        Assert.Equal([request], sut.Calls);
    }

    [Fact]
    public async Task ApplyAsync_Staging_RecordsStagingTrafficApartFromProduction()
    {
        var sut = CreateSut();

        await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Staging, 100)));

        Assert.Equal(100, sut.TrafficOf("demo/staging"));
        Assert.Equal(0, sut.TrafficOf("demo"));
    }

    [Fact]
    public async Task ApplyAsync_SuccessiveStages_KeepsCallsInOrderAndLatestTraffic()
    {
        var sut = CreateSut();
        var first = Request(new DeploymentIntent(DeploymentEnvironment.Production, 5));
        var second = Request(new DeploymentIntent(DeploymentEnvironment.Production, 25));

        await sut.ApplyAsync(first);
        await sut.ApplyAsync(second);

        Assert.Equal([first, second], sut.Calls);
        Assert.Equal(25, sut.TrafficOf("demo"));
    }

    [Fact]
    public async Task ApplyAsync_RepeatedIdempotencyKey_ReturnsFirstResultWithoutSecondCall()
    {
        var sut = CreateSut();
        var first = new DeploymentRequest(Demo, new DeploymentIntent(DeploymentEnvironment.Production, 10), "key-1");
        var repeat = new DeploymentRequest(Demo, new DeploymentIntent(DeploymentEnvironment.Production, 50), "key-1");

        var firstResult = await sut.ApplyAsync(first);
        var repeatResult = await sut.ApplyAsync(repeat);

        Assert.Same(firstResult, repeatResult);
        Assert.Equal([first], sut.Calls);
        Assert.Equal(10, sut.TrafficOf("demo"));
    }

    [Fact]
    public async Task ApplyAsync_RepeatedKeyAfterFailure_ReturnsFirstFailureEvenWhenNoLongerFailing()
    {
        var sut = CreateSut();
        var request = Request(new DeploymentIntent(DeploymentEnvironment.Production, 10));
        sut.FailDeployments("demo", true);
        var failed = await sut.ApplyAsync(request);
        sut.FailDeployments("demo", false);

        var repeat = await sut.ApplyAsync(request);

        Assert.Same(failed, repeat);
        Assert.False(repeat.Succeeded);
        Assert.Single(sut.Calls);
    }

    [Fact]
    public async Task ApplyAsync_ConcurrentCallsWithOneKey_AppliesOnce()
    {
        var sut = CreateSut(TimeSpan.FromSeconds(1));
        var request = Request(new DeploymentIntent(DeploymentEnvironment.Production, 10));

        var first = sut.ApplyAsync(request);
        var second = sut.ApplyAsync(request);
        _time.Advance(TimeSpan.FromSeconds(1));
        var results = await Task.WhenAll(first, second);

        Assert.Same(results[0], results[1]);
        Assert.Single(sut.Calls);
    }

    [Fact]
    public async Task ApplyAsync_FailDeployments_ReturnsFailureAndKeepsTraffic()
    {
        var sut = CreateSut();
        await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));
        sut.FailDeployments("demo", true);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 25)));

        Assert.False(result.Succeeded);
        Assert.Equal("simulated deployment failure", result.Detail);
        Assert.Equal(5, sut.TrafficOf("demo"));
        Assert.Equal(2, sut.Calls.Count);
    }

    [Fact]
    public async Task ApplyAsync_FailDeploymentsOfAnotherService_Succeeds()
    {
        var sut = CreateSut();
        sut.FailDeployments("checkout", true);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));

        Assert.True(result.Succeeded);
    }

    [Fact]
    public async Task ApplyAsync_RollbackWhileDeploymentsFail_SucceedsAndSetsTrafficToZero()
    {
        var sut = CreateSut();
        await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 50)));
        sut.FailDeployments("demo", true);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true)));

        Assert.True(result.Succeeded);
        Assert.Equal("traffic back on the previous version", result.Detail);
        Assert.Equal(0, sut.TrafficOf("demo"));
    }

    [Fact]
    public async Task Reset_AfterFailDeploymentsAndSmokeChecks_ClearsBoth()
    {
        var sut = CreateSut();
        sut.FailDeployments("demo", true);
        sut.FailSmokeChecks("demo", true);

        sut.Reset("demo");

        Assert.True((await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)))).Succeeded);
        Assert.True((await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging)).Succeeded);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_Default_Passes()
    {
        var sut = CreateSut();

        var result = await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging);

        Assert.True(result.Succeeded);
        Assert.Equal("5 of 5 simulated smoke checks passed", result.Detail);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_FailSmokeChecks_FailsForThatServiceOnly()
    {
        var sut = CreateSut();
        sut.FailSmokeChecks("demo", true);

        var failed = await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging);
        var other = await sut.RunSmokeChecksAsync(new ReleaseId("checkout", "2.0.0"), DeploymentEnvironment.Staging);

        Assert.False(failed.Succeeded);
        Assert.Contains("smoke checks failed", failed.Detail, StringComparison.Ordinal);
        Assert.True(other.Succeeded);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_FailSmokeChecks_DoesNotFailDeployments()
    {
        var sut = CreateSut();
        sut.FailSmokeChecks("demo", true);

        var result = await sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Staging, 100)));

        Assert.True(result.Succeeded);
    }

    [Fact]
    public async Task ApplyAsync_WithLatency_CompletesWhenTheClockAdvancesAndReportsDuration()
    {
        var sut = CreateSut(TimeSpan.FromSeconds(2));

        var pending = sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)));
        Assert.False(pending.IsCompleted);
        Assert.Empty(sut.Calls);
        _time.Advance(TimeSpan.FromSeconds(2));
        var result = await pending;

        Assert.True(result.Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(2), result.Duration);
        Assert.Single(sut.Calls);
    }

    [Fact]
    public async Task ApplyAsync_CancelledDuringLatency_ThrowsAndRecordsNothing()
    {
        var sut = CreateSut(TimeSpan.FromSeconds(2));
        using var cts = new CancellationTokenSource();

        var pending = sut.ApplyAsync(Request(new DeploymentIntent(DeploymentEnvironment.Production, 5)), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.Empty(sut.Calls);
        Assert.Equal(0, sut.TrafficOf("demo"));
    }

    [Fact]
    public async Task ApplyAsync_NullRequest_Throws()
    {
        var sut = CreateSut();

        await Assert.ThrowsAsync<ArgumentNullException>(() => sut.ApplyAsync(null!));
    }

    [Fact]
    public async Task ApplyAsync_ManyDistinctCalls_RemembersOnlyTheLastKeysAndCalls()
    {
        var sut = CreateSut();
        var intent = new DeploymentIntent(DeploymentEnvironment.Production, 5, false);
        for (var i = 0; i < SimulatedDeploymentTarget.Remembered + 50; i++)
        {
            await sut.ApplyAsync(new DeploymentRequest(Demo, intent, $"key-{i}"));
        }

        Assert.Equal(SimulatedDeploymentTarget.Remembered, sut.Calls.Count);
        Assert.Equal("key-50", sut.Calls.First().IdempotencyKey);

        // A recent key is still recognised; a forgotten one is applied again.
        await sut.ApplyAsync(new DeploymentRequest(Demo, intent, $"key-{SimulatedDeploymentTarget.Remembered + 49}"));
        Assert.Equal(SimulatedDeploymentTarget.Remembered, sut.Calls.Count);
        Assert.Equal($"key-{SimulatedDeploymentTarget.Remembered + 49}", sut.Calls.Last().IdempotencyKey);
        await sut.ApplyAsync(new DeploymentRequest(Demo, intent, "key-0"));
        Assert.Equal("key-0", sut.Calls.Last().IdempotencyKey);
    }

    private static DeploymentRequest Request(DeploymentIntent intent) =>
        new(Demo, intent, $"{Demo}:{intent.Environment.Name()}:{intent.Percent}:{intent.IsRollback}");

    private SimulatedDeploymentTarget CreateSut(TimeSpan? latency = null) => new(_time, latency ?? TimeSpan.Zero);
}
