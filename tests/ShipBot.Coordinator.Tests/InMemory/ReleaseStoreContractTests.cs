using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Ports;
using ShipBot.InMemory;
using ShipBot.Testing;

namespace ShipBot.Coordinator.Tests.InMemory;

/// <summary>The shared store contract (ShipBot.Testing) for the embedded in-memory store, plus its clock-driven expiry.</summary>
public sealed class InMemoryReleaseStoreContractTests : ReleaseStoreContract
{
    private readonly FakeTimeProvider _time = new(T0);

    protected override Task<(IReleaseStore Store, IIdempotencyStore Idempotency, ILeaseStore Leases)> CreateAsync()
    {
        var store = new InMemoryReleaseStore(_time);
        return Task.FromResult<(IReleaseStore, IIdempotencyStore, ILeaseStore)>((store, store, store));
    }

    protected override Task<IReleaseStore> CreateWithAuditCapAsync(int maxAuditEntries) =>
        Task.FromResult<IReleaseStore>(new InMemoryReleaseStore(_time, maxAuditEntries));

    [Fact]
    public async Task IdempotencyGetAsync_AfterTheWindow_ForgottenAndANewAnswerCanBeKept()
    {
        IIdempotencyStore store = new InMemoryReleaseStore(_time);
        await store.SetAsync("req-1", "first", TimeSpan.FromMinutes(5));

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("first", await store.GetAsync("req-1"));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await store.GetAsync("req-1"));

        await store.SetAsync("req-1", "second", TimeSpan.FromMinutes(5));
        Assert.Equal("second", await store.GetAsync("req-1"));
    }

    [Fact]
    public async Task TryClaimAsync_ClaimExpiredWithoutAnAnswer_ClaimableAgain()
    {
        IIdempotencyStore store = new InMemoryReleaseStore(_time);
        Assert.True(await store.TryClaimAsync("req-1", TimeSpan.FromSeconds(30)));

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(await store.TryClaimAsync("req-1", TimeSpan.FromSeconds(30)));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(await store.TryClaimAsync("req-1", TimeSpan.FromSeconds(30)));
        Assert.Null(await store.GetAsync("req-1"));
    }

    [Fact]
    public async Task TryAcquireAsync_LeaseExpired_AnotherOwnerAcquiresAndReacquiringExtends()
    {
        ILeaseStore store = new InMemoryReleaseStore(_time);
        Assert.True(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.True(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromSeconds(10)));

        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.False(await store.TryAcquireAsync("tick", "replica-b", TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(await store.TryAcquireAsync("tick", "replica-b", TimeSpan.FromSeconds(10)));
        Assert.False(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromSeconds(10)));
    }
}
