using System.Text.Json;
using System.Text.Json.Serialization;
using Polly;
using Polly.Retry;
using ShipBot.Core.Ports;
using StackExchange.Redis;

namespace ShipBot.Redis;

/// <summary>
/// API tokens in Redis, shared by every replica: a hash of name → token (<see cref="RedisKeys.Tokens"/>)
/// for listing and revoking, and one key per token hash (<see cref="RedisKeys.Token"/>) for the
/// lookup every authenticated request makes. Both change together in a script. Nothing is cached
/// in the process, so a revocation is seen by the next request on any replica.
/// </summary>
public sealed class RedisTokenStore : ITokenStore
{
    private const string AddScript = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
          if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 1 end
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """;

    private const string RemoveScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[2])
        return 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly ResiliencePipeline _retry;

    public RedisTokenStore(IConnectionMultiplexer redis, RedisStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _keys = new RedisKeys(options.KeyPrefix);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.BaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = new PredicateBuilder().Handle<RedisConnectionException>().Handle<RedisTimeoutException>(),
            });
        }

        _retry = pipeline.Build();
    }

    public Task<bool> TryAddAsync(StoredToken token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        var json = StoredDocument.Versioned(JsonSerializer.Serialize(token, TokenJsonContext.Default.StoredToken));
        return RunAsync(async db => (int)await db.ScriptEvaluateAsync(AddScript, [_keys.Tokens, _keys.Token(token.Hash)], [token.Name, json]).ConfigureAwait(false) == 1, cancellationToken);
    }

    public Task<StoredToken?> FindByHashAsync(string hash, CancellationToken cancellationToken = default) =>
        RunAsync(async db => Parse(await db.StringGetAsync(_keys.Token(hash)).ConfigureAwait(false)), cancellationToken);

    public Task<StoredToken?> RemoveAsync(string name, CancellationToken cancellationToken = default) =>
        RunAsync(async db =>
        {
            // Read, then remove only what was read: a token re-created under the name in between stays.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var json = await db.HashGetAsync(_keys.Tokens, name).ConfigureAwait(false);
                if (Parse(json) is not { } token)
                {
                    return null;
                }

                if ((int)await db.ScriptEvaluateAsync(RemoveScript, [_keys.Tokens, _keys.Token(token.Hash)], [name, json]).ConfigureAwait(false) == 1)
                {
                    return token;
                }
            }

            return null;
        }, cancellationToken);

    public Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StoredToken>>(async db =>
            [.. (await db.HashGetAllAsync(_keys.Tokens).ConfigureAwait(false)).Select(e => Parse(e.Value)).OfType<StoredToken>().OrderBy(t => t.Name, StringComparer.Ordinal)],
            cancellationToken);

    private static StoredToken? Parse(RedisValue value) =>
        value.IsNullOrEmpty ? null : JsonSerializer.Deserialize((string)value!, TokenJsonContext.Default.StoredToken);

    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await _retry.ExecuteAsync(async _ => await operation(_redis.GetDatabase()).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new StoreUnavailableException($"Redis is unavailable: {ex.GetType().Name}", ex);
        }
    }
}

/// <summary>Source-generated JSON for stored API tokens.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StoredToken))]
internal sealed partial class TokenJsonContext : JsonSerializerContext;
