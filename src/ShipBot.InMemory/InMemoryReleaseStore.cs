using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.InMemory;

/// <summary>
/// The embedded default store: the same contract as the Redis store (atomic compare-and-set with
/// audit, lock and halt in one write) inside one process. Everything is lost when the process ends;
/// configure <c>ConnectionStrings:Redis</c> for durability.
/// </summary>
public sealed class InMemoryReleaseStore : IReleaseStore, IIdempotencyStore, ILeaseStore, IChatStateStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ReleaseId, Release> _releases = [];
    private readonly Dictionary<ReleaseId, List<AuditEntry>> _audit = [];
    private readonly Dictionary<string, ReleaseId> _locks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServiceHalt> _halts = new(StringComparer.Ordinal);
    private readonly List<Signal> _signals = [];
    private readonly Dictionary<string, (string? Answer, DateTimeOffset Expires)> _answers = new(StringComparer.Ordinal);

    /// <summary>Request ids whose answer was kept by a save and may still be replaced by the request's final answer.</summary>
    private readonly HashSet<string> _provisional = new(StringComparer.Ordinal);
    private DateTimeOffset _nextPrune;
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Value, DateTimeOffset Expires)> _chat = new(StringComparer.Ordinal);
    private readonly Dictionary<ReleaseId, long> _auditDropped = [];
    private readonly Dictionary<ReleaseId, (long Version, HealthVerdict Verdict)> _latestHealth = [];
    private readonly TimeProvider _time;
    private readonly int _maxAuditEntries;

    /// <param name="time">The clock for time-to-live expiry.</param>
    /// <param name="maxAuditEntries">The most audit entries one release keeps (the oldest are dropped beyond it); 0 keeps all. Default <see cref="AuditLimits.DefaultMaxEntries"/>.</param>
    public InMemoryReleaseStore(TimeProvider time, int maxAuditEntries = AuditLimits.DefaultMaxEntries)
    {
        _time = time;
        _maxAuditEntries = Math.Max(0, maxAuditEntries);
    }

    public Task<Release?> GetAsync(ReleaseId id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_releases.TryGetValue(id, out var release) ? WithLatestHealth(release) : null);
        }
    }

    public Task<IReadOnlyList<Release>> ListActiveAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<Release> list = _releases.Values.Where(r => !r.State.IsTerminal()).OrderBy(r => r.CreatedAt).Select(WithLatestHealth).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<ReleaseId> list = _releases.Values.Where(r => !r.State.IsTerminal()).OrderBy(r => r.CreatedAt).Select(r => r.Id).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsOfServiceAsync(string service, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<ReleaseId> list = _releases.Values.Where(r => r.Id.Service == service && !r.State.IsTerminal()).OrderBy(r => r.CreatedAt).Select(r => r.Id).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<IReadOnlyList<ServiceHalt>?> SetLatestHealthAsync(ReleaseId id, long version, HealthVerdict verdict, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        lock (_gate)
        {
            if (!_releases.TryGetValue(id, out var current) || current.Revision != version)
            {
                return Task.FromResult<IReadOnlyList<ServiceHalt>?>(null);
            }

            _latestHealth[id] = (version, verdict);
            return Task.FromResult<IReadOnlyList<ServiceHalt>?>(_halts.Values.OrderBy(h => h.At).ToList());
        }
    }

    public Task<IReadOnlyList<Release>> ListByServiceAsync(string service, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<Release> list = _releases.Values.Where(r => r.Id.Service == service).OrderByDescending(r => r.CreatedAt).Select(WithLatestHealth).ToList();
            return Task.FromResult(list);
        }
    }

    /// <summary>The stored release with its latest readings on top, if they belong to its current version (call under the lock).</summary>
    private Release WithLatestHealth(Release release) =>
        _latestHealth.TryGetValue(release.Id, out var latest) && latest.Version == release.Revision ? LatestHealth.Overlay(release, latest.Verdict) : release;

    public Task<CreateResult> TryCreateAsync(Release release, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(release);
        lock (_gate)
        {
            if (_releases.ContainsKey(release.Id))
            {
                return Task.FromResult(new CreateResult(CreateOutcome.AlreadyExists, release.Id));
            }

            if (_locks.TryGetValue(release.Id.Service, out var holder))
            {
                return Task.FromResult(new CreateResult(CreateOutcome.ServiceBusy, holder));
            }

            _releases[release.Id] = release;
            _audit[release.Id] = [];
            AddAudit(release.Id, audit);
            if (release.State.HoldsServiceLock())
            {
                _locks[release.Id.Service] = release.Id;
            }

            return Task.FromResult(new CreateResult(CreateOutcome.Created));
        }
    }

    public Task<bool> TrySaveAsync(Release next, long expectedVersion, IReadOnlyList<AuditEntry> audit, ServiceHalt? halt = null, RequestAnswer? answer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (_gate)
        {
            if (!_releases.TryGetValue(next.Id, out var current) || current.Revision != expectedVersion)
            {
                return Task.FromResult(false);
            }

            _releases[next.Id] = next;
            _latestHealth.Remove(next.Id);
            if (answer is not null)
            {
                KeepAnswer(answer.RequestId, answer.Answer, answer.Keep, provisional: true);
            }

            AddAudit(next.Id, audit);
            if (!next.State.HoldsServiceLock() && _locks.TryGetValue(next.Id.Service, out var holder) && holder == next.Id)
            {
                _locks.Remove(next.Id.Service);
            }

            if (halt is not null)
            {
                _halts.TryAdd(halt.Service, halt);
            }

            return Task.FromResult(true);
        }
    }

    public Task AppendAuditAsync(ReleaseId id, AuditEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_audit.ContainsKey(id))
            {
                AddAudit(id, [entry]);
            }

            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<AuditEntry>> GetAuditAsync(ReleaseId id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var list = _audit.TryGetValue(id, out var entries) ? entries.ToList() : [];
            if (_auditDropped.TryGetValue(id, out var dropped) && list.Count > 0)
            {
                list.Insert(0, AuditLimits.TrimmedMarker(list[0].At, dropped, _maxAuditEntries));
            }

            return Task.FromResult<IReadOnlyList<AuditEntry>>(list);
        }
    }

    /// <summary>Appends under the lock, dropping the oldest entries beyond the cap (as Redis's XADD MAXLEN does).</summary>
    private void AddAudit(ReleaseId id, IEnumerable<AuditEntry> entries)
    {
        var list = _audit[id];
        list.AddRange(entries);
        if (_maxAuditEntries > 0 && list.Count > _maxAuditEntries)
        {
            var excess = list.Count - _maxAuditEntries;
            list.RemoveRange(0, excess);
            _auditDropped[id] = _auditDropped.GetValueOrDefault(id) + excess;
        }
    }

    public Task<IReadOnlyList<ServiceHalt>> GetHaltsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<ServiceHalt> list = _halts.Values.OrderBy(h => h.At).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<bool> TrySetHaltAsync(ServiceHalt halt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(halt);
        lock (_gate)
        {
            return Task.FromResult(_halts.TryAdd(halt.Service, halt));
        }
    }

    public Task<ServiceHalt?> RemoveHaltAsync(string service, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_halts.Remove(service, out var halt) ? halt : null);
        }
    }

    public Task AddSignalAsync(Signal signal, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _signals.Add(signal);
            return Task.CompletedTask;
        }
    }

    public Task UpdateSignalAsync(Signal signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        lock (_gate)
        {
            var index = _signals.FindIndex(s => s.Id == signal.Id);
            if (index >= 0)
            {
                _signals[index] = signal;
            }
            else
            {
                _signals.Add(signal);
            }

            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<Signal>> ListSignalsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<Signal> list = _signals.ToList();
            return Task.FromResult(list);
        }
    }

    Task<string?> IIdempotencyStore.GetAsync(string requestId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_answers.TryGetValue(requestId, out var entry) && entry.Expires > _time.GetUtcNow())
            {
                return Task.FromResult(entry.Answer);
            }

            return Task.FromResult<string?>(null);
        }
    }

    Task<bool> IIdempotencyStore.TryClaimAsync(string requestId, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Claim(requestId, ttl));
        }
    }

    /// <summary>Claims a request id (call under the lock).</summary>
    private bool Claim(string requestId, TimeSpan ttl)
    {
        var now = _time.GetUtcNow();
        if (_answers.TryGetValue(requestId, out var entry) && entry.Expires > now)
        {
            return false;
        }

        PruneAnswers(now);
        _answers[requestId] = (null, now + ttl);
        _provisional.Remove(requestId);
        return true;
    }

    Task<OpeningRead> IIdempotencyStore.TryClaimAndReadAsync(string requestId, TimeSpan ttl, ReleaseId release, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!Claim(requestId, ttl))
            {
                return Task.FromResult(OpeningRead.Duplicate);
            }

            IReadOnlyList<ServiceHalt> halts = _halts.Values.OrderBy(h => h.At).ToList();
            return Task.FromResult(new OpeningRead(true, true, _releases.TryGetValue(release, out var found) ? WithLatestHealth(found) : null, halts));
        }
    }

    /// <summary>Drops expired request ids, at most once a minute (a scan per request would make a busy store quadratic).</summary>
    private void PruneAnswers(DateTimeOffset now)
    {
        if (now < _nextPrune)
        {
            return;
        }

        _nextPrune = now + TimeSpan.FromMinutes(1);
        foreach (var expired in _answers.Where(a => a.Value.Expires <= now).Select(a => a.Key).ToList())
        {
            _answers.Remove(expired);
            _provisional.Remove(expired);
        }
    }

    public Task<bool> TryAcquireAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(Acquire(key, owner, ttl));
        }
    }

    public Task<EvaluationRead> ReadForEvaluationAsync(ReleaseId release, string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_releases.TryGetValue(release, out var found))
            {
                return Task.FromResult(new EvaluationRead(null, null));
            }

            return Task.FromResult(new EvaluationRead(WithLatestHealth(found), found.IsUnderEvaluation ? Acquire(key, owner, ttl) : null));
        }
    }

    /// <summary>Takes or renews a lease (call under the lock).</summary>
    private bool Acquire(string key, string owner, TimeSpan ttl)
    {
        var now = _time.GetUtcNow();
        if (_leases.TryGetValue(key, out var lease) && lease.Expires > now && lease.Owner != owner)
        {
            return false;
        }

        _leases[key] = (owner, now + ttl);
        return true;
    }

    public Task ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(key, out var lease) && lease.Owner == owner)
            {
                _leases.Remove(key);
            }

            return Task.CompletedTask;
        }
    }

    Task IIdempotencyStore.SetAsync(string requestId, string answer, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            KeepAnswer(requestId, answer, ttl, provisional: false);
            return Task.CompletedTask;
        }
    }

    /// <summary>Keeps an answer unless the request already has a final one; a provisional answer (kept by a save) may be replaced.</summary>
    private void KeepAnswer(string requestId, string answer, TimeSpan ttl, bool provisional)
    {
        var now = _time.GetUtcNow();
        if (!_answers.TryGetValue(requestId, out var existing) || existing.Expires <= now || existing.Answer is null || _provisional.Contains(requestId))
        {
            _answers[requestId] = (answer, now + ttl);
            if (provisional)
            {
                _provisional.Add(requestId);
            }
            else
            {
                _provisional.Remove(requestId);
            }
        }
    }

    Task<string?> IChatStateStore.GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_chat.TryGetValue(key, out var entry) && entry.Expires > _time.GetUtcNow() ? entry.Value : null);
        }
    }

    Task IChatStateStore.SetAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _chat[key] = (value, _time.GetUtcNow() + ttl);
            return Task.CompletedTask;
        }
    }
}
