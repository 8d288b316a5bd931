using ShipBot.Core.Ports;
using ShipBot.Testing;

namespace ShipBot.Redis.Tests;

/// <summary>The shared store contract (ShipBot.Testing) against a real redis-server; each test gets its own key prefix.</summary>
public sealed class RedisReleaseStoreContractTests(RedisServerFixture redis) : ReleaseStoreContract, IClassFixture<RedisServerFixture>
{
    protected override Task<(IReleaseStore Store, IIdempotencyStore Idempotency, ILeaseStore Leases)> CreateAsync()
    {
        var store = redis.CreateStore();
        return Task.FromResult<(IReleaseStore, IIdempotencyStore, ILeaseStore)>((store, store, store));
    }

    protected override Task<IReleaseStore> CreateWithAuditCapAsync(int maxAuditEntries) =>
        Task.FromResult<IReleaseStore>(redis.CreateStore(new RedisStoreOptions { MaxAuditEntries = maxAuditEntries }));
}
