using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using StackExchange.Redis;
using static ShipBot.Redis.Tests.RedisReleaseStoreTests;

namespace ShipBot.Redis.Tests;

/// <summary>
/// A write that ran on the server but whose reply was lost to a timeout, then retried by the
/// store's Polly pipeline. The retry must not turn the caller's own success into "someone else won".
/// </summary>
public sealed class RedisReleaseStoreTimeoutTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly RedisStoreOptions Retrying = new() { MaxRetries = 4, BaseDelay = TimeSpan.FromMilliseconds(50) };

    [Fact]
    public async Task TrySaveAsync_ReplyLostAfterTheScriptRanThenRetried_ReportsTheSaveAsDone()
    {
        await using var proxy = ReplyHoldingProxy.Start(redis.Server.Port);
        await using var viaProxy = await ConnectionMultiplexer.ConnectAsync(proxy.ConnectionString);
        var store = new RedisReleaseStore(viaProxy, Retrying with { KeyPrefix = Guid.NewGuid().ToString("N") }, TimeProvider.System);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        var next = Next(release, ReleaseState.AwaitingApproval);

        var saved = await WithRepliesHeldAsync(proxy, () => store.TrySaveAsync(next, release.Revision, [Entry("ReadyForApproval", 1)]), async () =>
            (long?)await redis.Redis.GetDatabase().HashGetAsync(store.Keys.Release(release.Id), "version") == next.Revision);

        Assert.Equal(["Created", "ReadyForApproval"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
        Assert.True(saved, "the save was stored, yet the caller was told that someone else wrote first");
    }

    [Fact]
    public async Task TryCreateAsync_ReplyLostAfterTheScriptRanThenRetried_ReportsCreated()
    {
        await using var proxy = ReplyHoldingProxy.Start(redis.Server.Port);
        await using var viaProxy = await ConnectionMultiplexer.ConnectAsync(proxy.ConnectionString);
        var store = new RedisReleaseStore(viaProxy, Retrying with { KeyPrefix = Guid.NewGuid().ToString("N") }, TimeProvider.System);
        var release = NewRelease("checkout", "1.0.0");

        var result = await WithRepliesHeldAsync(proxy, () => store.TryCreateAsync(release, [Entry("Created")]), async () =>
            await redis.Redis.GetDatabase().KeyExistsAsync(store.Keys.Release(release.Id)));

        Assert.NotNull(await store.GetAsync(release.Id));
        Assert.Equal(CreateOutcome.Created, result.Outcome);
    }

    [Fact]
    public async Task AppendAuditAsync_ReplyLostAfterTheScriptRanThenRetried_AppendedOnce()
    {
        await using var proxy = ReplyHoldingProxy.Start(redis.Server.Port);
        await using var viaProxy = await ConnectionMultiplexer.ConnectAsync(proxy.ConnectionString);
        var store = new RedisReleaseStore(viaProxy, Retrying with { KeyPrefix = Guid.NewGuid().ToString("N") }, TimeProvider.System);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);

        await WithRepliesHeldAsync(proxy, async () =>
        {
            await store.AppendAuditAsync(release.Id, Entry("refused approve", 1));
            return true;
        }, async () => await redis.Redis.GetDatabase().StreamLengthAsync(store.Keys.Audit(release.Id)) == 2);

        Assert.Equal(["Created", "refused approve"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
    }

    [Fact]
    public async Task TryClaimAsync_ReplyLostAfterTheClaimWasSetThenRetried_ReportsTheClaimAsWon()
    {
        await using var proxy = ReplyHoldingProxy.Start(redis.Server.Port);
        await using var viaProxy = await ConnectionMultiplexer.ConnectAsync(proxy.ConnectionString);
        var store = new RedisReleaseStore(viaProxy, Retrying with { KeyPrefix = Guid.NewGuid().ToString("N") }, TimeProvider.System);
        IIdempotencyStore idempotency = store;

        var claimed = await WithRepliesHeldAsync(proxy, () => idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)), async () =>
            await redis.Redis.GetDatabase().KeyExistsAsync(store.Keys.Request("req-1")));

        Assert.True(claimed, "the claim was set by this caller, yet it was told the request is a duplicate");
    }

    [Fact]
    public async Task TryClaimAndReadAsync_ReplyLostAfterTheClaimWasSetThenRetried_ClaimedWithTheRelease()
    {
        await using var proxy = ReplyHoldingProxy.Start(redis.Server.Port);
        await using var viaProxy = await ConnectionMultiplexer.ConnectAsync(proxy.ConnectionString);
        var store = new RedisReleaseStore(viaProxy, Retrying with { KeyPrefix = Guid.NewGuid().ToString("N") }, TimeProvider.System);
        IIdempotencyStore idempotency = store;
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);

        var opening = await WithRepliesHeldAsync(proxy, () => idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), release.Id), async () =>
            await redis.Redis.GetDatabase().KeyExistsAsync(store.Keys.Request("req-1")));

        Assert.True(opening.Claimed, "the claim was set by this caller, yet it was told the request is a duplicate");
        Assert.Equal(release.Revision, opening.Release?.Revision);
    }

    /// <summary>
    /// Holds the replies until <paramref name="ran"/> sees the write on the server and the client,
    /// having timed out waiting (asyncTimeout 1 s), has sent the script again; then lets them through.
    /// </summary>
    private static async Task<T> WithRepliesHeldAsync<T>(ReplyHoldingProxy proxy, Func<Task<T>> call, Func<Task<bool>> ran)
    {
        proxy.HoldReplies();
        var before = proxy.ScriptsSent;
        var pending = call();
        Assert.True(await Eventually.TrueAsync(ran), "the write never reached the server");
        Assert.True(await Eventually.TrueAsync(() => proxy.ScriptsSent >= before + 2), "the store never retried the script after the lost reply");
        proxy.ReleaseReplies();
        return await pending;
    }
}
