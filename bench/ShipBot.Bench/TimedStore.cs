using System.Collections.Concurrent;
using System.Diagnostics;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Bench;

/// <summary>
/// Wraps the Redis store and counts each call with its wall time (serialisation, the round trip
/// and parsing included), for the Stopwatch breakdown of one transition.
/// </summary>
public sealed class TimedStore(IReleaseStore store, IIdempotencyStore idempotency, ILeaseStore leases) : IReleaseStore, IIdempotencyStore, ILeaseStore
{
    private readonly ConcurrentDictionary<string, StrongBoxes> _calls = new();

    public IReadOnlyDictionary<string, (long Count, TimeSpan Time)> Snapshot() =>
        _calls.ToDictionary(c => c.Key, c => (Interlocked.Read(ref c.Value.Count), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref c.Value.Ticks))));

    public void Reset() => _calls.Clear();

    public Task<Release?> GetAsync(ReleaseId id, CancellationToken cancellationToken = default) => Time("GetAsync (EVAL: revision and tag, the document only if changed)", () => store.GetAsync(id, cancellationToken));

    public Task<IReadOnlyList<Release>> ListActiveAsync(CancellationToken cancellationToken = default) => Time("ListActiveAsync", () => store.ListActiveAsync(cancellationToken));

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsAsync(CancellationToken cancellationToken = default) => Time("ListActiveIdsAsync", () => store.ListActiveIdsAsync(cancellationToken));

    public Task<IReadOnlyList<Release>> ListByServiceAsync(string service, CancellationToken cancellationToken = default) => Time("ListByServiceAsync", () => store.ListByServiceAsync(service, cancellationToken));

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsOfServiceAsync(string service, CancellationToken cancellationToken = default) =>
        Time("ListActiveIdsOfServiceAsync (ZINTER)", () => store.ListActiveIdsOfServiceAsync(service, cancellationToken));

    public Task<IReadOnlyList<ServiceHalt>?> SetLatestHealthAsync(ReleaseId id, long version, HealthVerdict verdict, CancellationToken cancellationToken = default) =>
        Time("SetLatestHealthAsync (EVAL: readings, halts)", () => store.SetLatestHealthAsync(id, version, verdict, cancellationToken));

    public Task<CreateResult> TryCreateAsync(Release release, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default) =>
        Time("TryCreateAsync (EVAL)", () => store.TryCreateAsync(release, audit, cancellationToken));

    public Task<bool> TrySaveAsync(Release next, long expectedVersion, IReadOnlyList<AuditEntry> audit, ServiceHalt? halt = null, RequestAnswer? answer = null, CancellationToken cancellationToken = default) =>
        Time("TrySaveAsync (EVAL, CAS + audit + answer)", () => store.TrySaveAsync(next, expectedVersion, audit, halt, answer, cancellationToken));

    public Task AppendAuditAsync(ReleaseId id, AuditEntry entry, CancellationToken cancellationToken = default) => Time("AppendAuditAsync (XADD)", () => Wrap(store.AppendAuditAsync(id, entry, cancellationToken)));

    public Task<IReadOnlyList<AuditEntry>> GetAuditAsync(ReleaseId id, CancellationToken cancellationToken = default) => Time("GetAuditAsync", () => store.GetAuditAsync(id, cancellationToken));

    public Task<IReadOnlyList<ServiceHalt>> GetHaltsAsync(CancellationToken cancellationToken = default) => Time("GetHaltsAsync (HGETALL)", () => store.GetHaltsAsync(cancellationToken));

    public Task<bool> TrySetHaltAsync(ServiceHalt halt, CancellationToken cancellationToken = default) => Time("TrySetHaltAsync", () => store.TrySetHaltAsync(halt, cancellationToken));

    public Task<ServiceHalt?> RemoveHaltAsync(string service, CancellationToken cancellationToken = default) => Time("RemoveHaltAsync", () => store.RemoveHaltAsync(service, cancellationToken));

    public Task AddSignalAsync(Signal signal, CancellationToken cancellationToken = default) => Time("AddSignalAsync", () => Wrap(store.AddSignalAsync(signal, cancellationToken)));

    public Task UpdateSignalAsync(Signal signal, CancellationToken cancellationToken = default) => Time("UpdateSignalAsync", () => Wrap(store.UpdateSignalAsync(signal, cancellationToken)));

    public Task<IReadOnlyList<Signal>> ListSignalsAsync(CancellationToken cancellationToken = default) => Time("ListSignalsAsync (HGETALL)", () => store.ListSignalsAsync(cancellationToken));

    Task<string?> IIdempotencyStore.GetAsync(string requestId, CancellationToken cancellationToken) => Time("Idempotency GetAsync (GET)", () => idempotency.GetAsync(requestId, cancellationToken));

    public Task<bool> TryClaimAsync(string requestId, TimeSpan ttl, CancellationToken cancellationToken = default) => Time("Idempotency TryClaimAsync (EVAL, SET NX)", () => idempotency.TryClaimAsync(requestId, ttl, cancellationToken));

    public Task<OpeningRead> TryClaimAndReadAsync(string requestId, TimeSpan ttl, ReleaseId release, CancellationToken cancellationToken = default) =>
        Time("Idempotency TryClaimAndReadAsync (EVAL: claim, release, halts)", () => idempotency.TryClaimAndReadAsync(requestId, ttl, release, cancellationToken));

    public Task SetAsync(string requestId, string answer, TimeSpan ttl, CancellationToken cancellationToken = default) => Time("Idempotency SetAsync (EVAL)", () => Wrap(idempotency.SetAsync(requestId, answer, ttl, cancellationToken)));

    public Task<bool> TryAcquireAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default) => Time("Lease TryAcquireAsync (EVAL)", () => leases.TryAcquireAsync(key, owner, ttl, cancellationToken));

    public Task<EvaluationRead> ReadForEvaluationAsync(ReleaseId release, string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        Time("Lease ReadForEvaluationAsync (EVAL: release, lease)", () => leases.ReadForEvaluationAsync(release, key, owner, ttl, cancellationToken));

    public Task ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default) => Time("Lease ReleaseAsync (EVAL)", () => Wrap(leases.ReleaseAsync(key, owner, cancellationToken)));

    private static async Task<bool> Wrap(Task task)
    {
        await task.ConfigureAwait(false);
        return true;
    }

    private async Task<T> Time<T>(string name, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await call().ConfigureAwait(false);
        }
        finally
        {
            var elapsed = Stopwatch.GetTimestamp() - started;
            var box = _calls.GetOrAdd(name, _ => new StrongBoxes());
            Interlocked.Increment(ref box.Count);
            Interlocked.Add(ref box.Ticks, elapsed);
        }
    }

    private sealed class StrongBoxes
    {
        public long Count;
        public long Ticks;
    }
}
