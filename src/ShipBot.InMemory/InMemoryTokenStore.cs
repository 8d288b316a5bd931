using ShipBot.Core.Ports;

namespace ShipBot.InMemory;

/// <summary>
/// The embedded default token store: one process only, lost when it stops. With Redis configured
/// the Redis token store replaces it, so every replica sees the same tokens and revocations.
/// </summary>
public sealed class InMemoryTokenStore : ITokenStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StoredToken> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredToken> _byHash = new(StringComparer.Ordinal);

    public Task<bool> TryAddAsync(StoredToken token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        lock (_gate)
        {
            if (!_byName.TryAdd(token.Name, token))
            {
                return Task.FromResult(false);
            }

            _byHash[token.Hash] = token;
            return Task.FromResult(true);
        }
    }

    public Task<StoredToken?> FindByHashAsync(string hash, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_byHash.GetValueOrDefault(hash));
        }
    }

    public Task<StoredToken?> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_byName.Remove(name, out var token))
            {
                return Task.FromResult<StoredToken?>(null);
            }

            _byHash.Remove(token.Hash);
            return Task.FromResult<StoredToken?>(token);
        }
    }

    public Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<StoredToken> list = [.. _byName.Values.OrderBy(t => t.Name, StringComparer.Ordinal)];
            return Task.FromResult(list);
        }
    }
}
