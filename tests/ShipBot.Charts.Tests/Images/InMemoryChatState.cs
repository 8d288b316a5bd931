using System.Collections.Concurrent;
using ShipBot.Core.Ports;

namespace ShipBot.Charts.Tests.Images;

/// <summary>Chat state in a dictionary, expiring by the given clock (like the in-memory and Redis stores).</summary>
internal sealed class InMemoryChatState(TimeProvider time, bool honourTtl = true) : IChatStateStore
{
    public ConcurrentDictionary<string, (string Value, DateTimeOffset Expires)> Entries { get; } = new(StringComparer.Ordinal);

    public int Reads { get; private set; }

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        Reads++;
        return Task.FromResult(Entries.TryGetValue(key, out var e) && (!honourTtl || e.Expires > time.GetUtcNow()) ? e.Value : null);
    }

    public Task SetAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        Entries[key] = (value, time.GetUtcNow() + ttl);
        return Task.CompletedTask;
    }
}
