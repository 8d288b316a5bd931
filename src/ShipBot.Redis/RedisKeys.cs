using ShipBot.Core.Releases;

namespace ShipBot.Redis;

/// <summary>
/// Every Redis key ShipBot uses, from one place. All keys share the hash tag <c>{prefix}</c>, so
/// on Redis Cluster they live in one slot and a script may touch the release, its audit stream,
/// the service lock, the active index and the halts together.
/// </summary>
public sealed class RedisKeys(string prefix = "shipbot")
{
    private readonly string _p = $"{{{prefix}}}:";

    public string Release(ReleaseId id) => $"{_p}release:{id}";

    public string Audit(ReleaseId id) => $"{_p}audit:{id}";

    public string Lock(string service) => $"{_p}lock:{service}";

    /// <summary>Sorted set of active (non-terminal) release ids, scored by creation time.</summary>
    public string Active => $"{_p}active";

    /// <summary>
    /// Sorted set of one service's active (non-terminal) release ids, scored by creation time: the
    /// per-service part of <see cref="Active"/>, changed in the same scripts.
    /// </summary>
    public string ActiveOf(string service) => $"{_p}active-of:{service}";

    /// <summary>The prefix of <see cref="ActiveOf"/> (a script that rebuilds every service's index appends the service).</summary>
    public string ActiveOfPrefix => $"{_p}active-of:";

    /// <summary>Sorted set of one service's release ids, scored by creation time.</summary>
    public string Service(string service) => $"{_p}service:{service}";

    /// <summary>Hash: service (or "*") → halt JSON.</summary>
    public string Halts => $"{_p}halts";

    /// <summary>Hash: signal id → signal JSON.</summary>
    public string Signals => $"{_p}signals";

    public string Request(string requestId) => $"{_p}request:{requestId}";

    public string Lease(string key) => $"{_p}lease:{key}";

    /// <summary>Marks one audit append as done for a few minutes, so a retry after a lost reply does not append it twice.</summary>
    public string AuditAppend(string token) => $"{_p}audit-append:{token}";

    /// <summary>A chat adapter's small state (message references, conversation references).</summary>
    public string Chat(string key) => $"{_p}chat:{key}";

    /// <summary>Hash: API token name → stored token JSON (the token's hash, never the token).</summary>
    public string Tokens => $"{_p}tokens";

    /// <summary>One API token by the SHA-256 of its value → stored token JSON (the lookup on every request).</summary>
    public string Token(string hash) => $"{_p}token:{hash}";

    /// <summary>List of ASP.NET Core data protection keys (session cookies and antiforgery tokens), shared by every replica.</summary>
    public string DataProtectionKeys => $"{_p}dataprotection-keys";
}
