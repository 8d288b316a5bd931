using System.Collections.Concurrent;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Scheduling.Tests;

/// <summary>
/// The real in-memory store, with every <see cref="GetAsync"/> recorded: a timer that fires makes
/// the coordinator read its release first, so the reads of a release nobody else touches count the
/// fires. It can also be told that the store is unreachable for the next reads of one release.
/// </summary>
internal sealed class ObservedReleaseStore(IReleaseStore inner) : IReleaseStore
{
    private readonly ConcurrentQueue<(ReleaseId Release, DateTimeOffset At)> _reads = new();
    private readonly ConcurrentDictionary<ReleaseId, int> _failures = new();

    public IReadOnlyList<DateTimeOffset> ReadsOf(ReleaseId release) =>
        _reads.Where(r => r.Release == release).Select(r => r.At).ToList();

    /// <summary>The next <paramref name="times"/> reads of <paramref name="release"/> throw <see cref="StoreUnavailableException"/>.</summary>
    public void FailReads(ReleaseId release, int times) => _failures[release] = times;

    public Task<Release?> GetAsync(ReleaseId id, CancellationToken cancellationToken = default)
    {
        _reads.Enqueue((id, TimeProvider.System.GetUtcNow()));
        if (_failures.TryGetValue(id, out var left) && left > 0 && _failures.TryUpdate(id, left - 1, left))
        {
            throw new StoreUnavailableException("store unreachable (test)");
        }

        return inner.GetAsync(id, cancellationToken);
    }

    public Task<IReadOnlyList<Release>> ListActiveAsync(CancellationToken cancellationToken = default) => inner.ListActiveAsync(cancellationToken);

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsAsync(CancellationToken cancellationToken = default) => inner.ListActiveIdsAsync(cancellationToken);

    public Task<IReadOnlyList<Release>> ListByServiceAsync(string service, CancellationToken cancellationToken = default) => inner.ListByServiceAsync(service, cancellationToken);

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsOfServiceAsync(string service, CancellationToken cancellationToken = default) => inner.ListActiveIdsOfServiceAsync(service, cancellationToken);

    public Task<IReadOnlyList<ServiceHalt>?> SetLatestHealthAsync(ReleaseId id, long version, HealthVerdict verdict, CancellationToken cancellationToken = default) => inner.SetLatestHealthAsync(id, version, verdict, cancellationToken);

    public Task<CreateResult> TryCreateAsync(Release release, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default) =>
        inner.TryCreateAsync(release, audit, cancellationToken);

    public Task<bool> TrySaveAsync(Release next, long expectedVersion, IReadOnlyList<AuditEntry> audit, ServiceHalt? halt = null, RequestAnswer? answer = null, CancellationToken cancellationToken = default) =>
        inner.TrySaveAsync(next, expectedVersion, audit, halt, answer, cancellationToken);

    public Task AppendAuditAsync(ReleaseId id, AuditEntry entry, CancellationToken cancellationToken = default) => inner.AppendAuditAsync(id, entry, cancellationToken);

    public Task<IReadOnlyList<AuditEntry>> GetAuditAsync(ReleaseId id, CancellationToken cancellationToken = default) => inner.GetAuditAsync(id, cancellationToken);

    public Task<IReadOnlyList<ServiceHalt>> GetHaltsAsync(CancellationToken cancellationToken = default) => inner.GetHaltsAsync(cancellationToken);

    public Task<bool> TrySetHaltAsync(ServiceHalt halt, CancellationToken cancellationToken = default) => inner.TrySetHaltAsync(halt, cancellationToken);

    public Task<ServiceHalt?> RemoveHaltAsync(string service, CancellationToken cancellationToken = default) => inner.RemoveHaltAsync(service, cancellationToken);

    public Task AddSignalAsync(Signal signal, CancellationToken cancellationToken = default) => inner.AddSignalAsync(signal, cancellationToken);

    public Task UpdateSignalAsync(Signal signal, CancellationToken cancellationToken = default) => inner.UpdateSignalAsync(signal, cancellationToken);

    public Task<IReadOnlyList<Signal>> ListSignalsAsync(CancellationToken cancellationToken = default) => inner.ListSignalsAsync(cancellationToken);
}
