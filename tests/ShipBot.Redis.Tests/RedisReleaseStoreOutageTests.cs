using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using static ShipBot.Redis.Tests.RedisReleaseStoreTests;

namespace ShipBot.Redis.Tests;

/// <summary>
/// The store when redis-server goes away: a bounded retry, then <see cref="StoreUnavailableException"/>
/// with nothing written; or success when the server is back within the retry budget. These tests
/// stop their fixture's server, so they have a server of their own, and each leaves it running.
/// The retry budget is measured on a fake clock that moves only while the store waits to retry.
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
                store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Revision, [Entry("RollbackStarted", 1)], halt));

            Assert.Contains("Redis", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await RestartAsync();
        }

        // A round trip on the same connection: anything the client still had queued has arrived before it.
        await redis.Redis.GetDatabase().PingAsync();
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(release.Revision, stored!.Revision);
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

        await redis.Redis.GetDatabase().PingAsync();
        Assert.Null(await store.GetAsync(release.Id));
        Assert.Empty(await store.GetAuditAsync(release.Id));
        Assert.Empty(await store.ListActiveIdsAsync());
    }

    [Fact]
    public async Task TrySaveAsync_ServerBackWithinTheRetryBudget_Succeeds()
    {
        var time = new WatchedTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new RedisStoreOptions { MaxRetries = 6, BaseDelay = TimeSpan.FromMilliseconds(100), KeyPrefix = Guid.NewGuid().ToString("N") };
        var store = new RedisReleaseStore(redis.Redis, options, time);

        // Everything but the save under test goes through the real clock: a connection error left over from the
        // previous test's restart is then retried in real time, instead of waiting on a fake clock nobody drives.
        var setup = new RedisReleaseStore(redis.Redis, options, TimeProvider.System);
        var release = NewRelease("checkout", "1.0.0");
        await setup.TryCreateAsync(release, [Entry("Created")]);
        var next = Next(release, ReleaseState.AwaitingApproval);
        await redis.Server.StopAsync();
        try
        {
            // The first attempt fails and the store waits to retry; the server comes back during that wait (however long it takes to start).
            var save = store.TrySaveAsync(next, release.Revision, [Entry("ReadyForApproval", 1)]);
            await Eventually.UntilAsync(() => time.ActiveTimers == 1, "the store to wait for its first retry");
            await RestartAsync();
            await time.DriveAsync(save, () => time.ActiveTimers > 0, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(6.3));

            Assert.True(await save);
        }
        finally
        {
            await RestartAsync();
        }

        var stored = await setup.GetAsync(release.Id);
        Assert.Equal(next.Revision, stored!.Revision);
        Assert.Equal(["Created", "ReadyForApproval"], (await setup.GetAuditAsync(release.Id)).Select(a => a.Action));
    }

    [Fact]
    public async Task GetAsync_ServerStoppedWithDefaultOptions_GivesUpWithinTheDocumentedBudget()
    {
        // RedisStoreOptions: "Defaults give up after about 1.5 s" (4 retries from 100 ms, doubling), on the store's clock.
        var time = new WatchedTimeProvider(DateTimeOffset.UnixEpoch);
        var store = redis.CreateStore(time: time);
        await redis.Server.StopAsync();
        try
        {
            var get = store.GetAsync(new ReleaseId("checkout", "1.0.0"));
            await Assert.ThrowsAsync<StoreUnavailableException>(() => time.DriveAsync(get, () => time.ActiveTimers > 0, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10)));

            Assert.InRange(time.GetUtcNow() - DateTimeOffset.UnixEpoch, TimeSpan.Zero, TimeSpan.FromSeconds(3));
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

        Assert.True(await Eventually.TrueAsync(() => redis.Redis.IsConnected), "the multiplexer did not reconnect");
    }
}
