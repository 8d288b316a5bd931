using ShipBot.Core.Ports;
using ShipBot.Testing;
using StackExchange.Redis;

namespace ShipBot.Redis.Tests;

/// <summary>
/// The shared token store contract against a real redis-server. The two views are two stores on
/// two separate connections with the same key prefix, as two replicas would be.
/// </summary>
public sealed class RedisTokenStoreContractTests(RedisServerFixture redis) : TokenStoreContract, IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private readonly List<ConnectionMultiplexer> _connections = [];

    protected override async Task<(ITokenStore First, ITokenStore Second)> CreatePairAsync()
    {
        var options = new RedisStoreOptions { KeyPrefix = Guid.NewGuid().ToString("N") };
        var other = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        _connections.Add(other);
        return (new RedisTokenStore(redis.Redis, options, TimeProvider.System), new RedisTokenStore(other, options, TimeProvider.System));
    }

    [Fact]
    public async Task TryAddAsync_StoresOnlyTheHash_UnderTheKeyBuildersKeys()
    {
        var options = new RedisStoreOptions { KeyPrefix = Guid.NewGuid().ToString("N") };
        var store = new RedisTokenStore(redis.Redis, options, TimeProvider.System);

        await store.TryAddAsync(Token("ci", "abcdef0123"));

        var keys = new RedisKeys(options.KeyPrefix);
        Assert.Equal(new[] { keys.Token("abcdef0123"), keys.Tokens }.Order(StringComparer.Ordinal), redis.KeysOf(options.KeyPrefix));
        Assert.Contains("abcdef0123", (string?)await redis.Redis.GetDatabase().HashGetAsync(keys.Tokens, "ci"), StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}
