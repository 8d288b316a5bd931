using ShipBot.Testing;
using StackExchange.Redis;

namespace ShipBot.Redis.Tests;

/// <summary>
/// One real redis-server per test class, and one multiplexer connected to it. Tests isolate
/// themselves with a fresh key prefix each (<see cref="CreateStore"/>), never by flushing.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _redis;

    public RedisServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    public ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        // As the host connects: fail fast while disconnected, so the store's retry budget is what bounds an outage.
        var options = ConfigurationOptions.Parse(_server.ConnectionString);
        options.BacklogPolicy = BacklogPolicy.FailFast;
        _redis = await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A store on its own, never used key prefix; its retries wait on <paramref name="time"/> (default: the system clock).</summary>
    public RedisReleaseStore CreateStore(RedisStoreOptions? options = null, TimeProvider? time = null) =>
        new(Redis, (options ?? new RedisStoreOptions()) with { KeyPrefix = Guid.NewGuid().ToString("N") }, time ?? TimeProvider.System);

    /// <summary>The keys under <paramref name="prefix"/>'s hash tag, as the server lists them.</summary>
    public IReadOnlyList<string> KeysOf(string prefix) =>
        [.. Redis.GetServer(Redis.GetEndPoints()[0]).Keys(pattern: $"{{{prefix}}}:*").Select(k => k.ToString()).Order(StringComparer.Ordinal)];
}
