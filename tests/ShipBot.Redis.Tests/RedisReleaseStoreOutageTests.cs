using System.Diagnostics;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Redis.Tests.RedisReleaseStoreTests;

namespace ShipBot.Redis.Tests;

/// <summary>
/// The store when redis-server goes away: a bounded retry, then <see cref="StoreUnavailableException"/>
/// with nothing written; or success when the server is back within the retry budget. These tests
/// stop their fixture's server, so they have a server of their own, and each leaves it running.
/// </summary>
public sealed class RedisReleaseStoreOutageTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly RedisStoreOptions FailFast = new() { MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(10) };

    [Fact]
    public async Task TrySaveAsync_ServerStopped_StoreUnavailableMentioningRedisAndNothingWritten()
    {
        var store = redis.CreateStore(FailFast);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        await redis.Server.StopAsync();
        try
        {
            var halt = new ServiceHalt("checkout", "rollback", "shipbot", release.CreatedAt);

            var error = await Assert.ThrowsAsync<StoreUnavailableException>(() =>
                store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Version, [Entry("RollbackStarted", 1)], halt));

            Assert.Contains("Redis", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await RestartAsync();
        }

        // Give anything the client might still have queued a moment to arrive, then look.
        await Task.Delay(200);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(release.Version, stored!.Version);
        Assert.Equal(ReleaseState.Draft, stored.State);
        Assert.Equal(["Created"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
        Assert.Empty(await store.GetHaltsAsync());
        Assert.Equal(CreateOutcome.ServiceBusy, (await store.TryCreateAsync(NewRelease("checkout", "2.0.0"), [])).Outcome);
    }

    [Fact]
    public async Task TryCreateAsync_ServerStopped_StoreUnavailableAndNothingWritten()
    {
        var store = redis.CreateStore(FailFast);
        var release = NewRelease("checkout", "1.0.0");
        await redis.Server.StopAsync();
        try
        {
            var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.TryCreateAsync(release, [Entry("Created")]));

            Assert.Contains("Redis", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await RestartAsync();
        }

        await Task.Delay(200);
        Assert.Null(await store.GetAsync(release.Id));
        Assert.Empty(await store.GetAuditAsync(release.Id));
        Assert.Empty(await store.ListActiveIdsAsync());
    }

    [Fact]
    public async Task TrySaveAsync_ServerBackWithinTheRetryBudget_Succeeds()
    {
        var store = redis.CreateStore(new RedisStoreOptions { MaxRetries = 6, BaseDelay = TimeSpan.FromMilliseconds(100) });
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        var next = Next(release, ReleaseState.AwaitingApproval);
        await redis.Server.StopAsync();
        var restart = Task.Run(async () =>
        {
            await Task.Delay(300);
            await redis.Server.StartAgainAsync();
        });
        try
        {
            var saved = await store.TrySaveAsync(next, release.Version, [Entry("ReadyForApproval", 1)]);

            Assert.True(saved);
        }
        finally
        {
            await restart;
            await RestartAsync();
        }

        var stored = await store.GetAsync(release.Id);
        Assert.Equal(next.Version, stored!.Version);
        Assert.Equal(["Created", "ReadyForApproval"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
    }

    [Fact]
    public async Task GetAsync_ServerStoppedWithDefaultOptions_GivesUpWithinTheDocumentedBudget()
    {
        // RedisStoreOptions: "Defaults give up after about 1.5 s" (4 retries from 100 ms, doubling).
        var store = redis.CreateStore();
        await redis.Server.StopAsync();
        try
        {
            var clock = Stopwatch.StartNew();

            await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetAsync(new ReleaseId("checkout", "1.0.0")));

            Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        }
        finally
        {
            await RestartAsync();
        }
    }

    /// <summary>Starts the server if it is down and waits for the multiplexer to reconnect.</summary>
    private async Task RestartAsync()
    {
        if (!redis.Server.IsRunning)
        {
            await redis.Server.StartAgainAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!redis.Redis.IsConnected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(redis.Redis.IsConnected, "the multiplexer did not reconnect within 10 s");
    }
}
