using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Polly;
using Polly.Retry;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Telemetry;
using StackExchange.Redis;

namespace ShipBot.Redis;

/// <summary>
/// Retry settings for Redis calls. With the defaults and a fail-fast connection (as the host
/// configures it), a call gives up about 1.5 s after Redis became unreachable.
/// </summary>
public sealed record RedisStoreOptions
{
    /// <summary>The key prefix (and cluster hash tag). Default "shipbot".</summary>
    public string KeyPrefix { get; init; } = "shipbot";

    /// <summary>Retries after a connection error or timeout; 0 tries once. Default 4.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First backoff delay, doubled on each retry. Default 100 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Replicas that must confirm every durable write (release, audit, halt, signal, request
    /// answer) before it counts as done, through Redis <c>WAIT</c>. Default 0 (the primary's
    /// answer is enough). With a Sentinel-managed primary and replica, 1 makes an acknowledged
    /// command survive the primary's loss: see docs/redis.md.
    /// </summary>
    public int WaitForReplicas { get; init; }

    /// <summary>How long one <c>WAIT</c> may block for the replicas (it is tried <see cref="MaxRetries"/> more times). Default 500 ms.</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The most audit entries one release keeps (the oldest are trimmed beyond it); 0 keeps all. Default <see cref="AuditLimits.DefaultMaxEntries"/>.</summary>
    public int MaxAuditEntries { get; init; } = AuditLimits.DefaultMaxEntries;

    /// <summary>
    /// How many releases this instance keeps parsed in memory, each with the revision and the write tag it
    /// was stored with: a read whose release has not been written since sends only a few bytes and parses
    /// nothing. 0 turns it off. Default 16,384 (more than the 10,000 rollouts one instance is sized for).
    /// </summary>
    public int ReadCacheEntries { get; init; } = 16_384;
}

/// <summary>
/// The release store on Redis, with exactly the contract of the in-memory store (one contract
/// suite runs against both). A release is a hash (<c>json</c>, <c>version</c>, <c>tag</c>, <c>eval</c>, and the latest readings); creating and saving
/// are Lua scripts, so the compare-and-set on the version, the audit entries (a stream per release),
/// the one-active-release lock, the active index and a halt are written together or not at all.
/// Connection errors and timeouts are retried with backoff (Polly) for a bounded time, then surface
/// as <see cref="StoreUnavailableException"/>. A script that timed out may have run: retrying it
/// is safe: every script recognises its own completed write and reports it again.
/// </summary>
public sealed class RedisReleaseStore : IReleaseStore, IIdempotencyStore, ILeaseStore, IChatStateStore
{
    // A script whose reply was lost may be retried after it ran: each script recognises its own
    // completed write (same version and same JSON, or the same claim token) and reports success again.
    private const string CreateScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          if redis.call('HGET', KEYS[1], 'json') == ARGV[2] then return {'created'} end
          return {'exists'}
        end
        local holder = redis.call('GET', KEYS[2])
        if holder then return {'busy', holder} end
        redis.call('HSET', KEYS[1], 'json', ARGV[2], 'version', ARGV[3], 'tag', ARGV[8], 'eval', ARGV[9])
        if ARGV[5] == '1' then redis.call('SET', KEYS[2], ARGV[1]) end
        if ARGV[6] == '0' then
          redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
          redis.call('ZADD', KEYS[6], ARGV[4], ARGV[1])
        end
        redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
        for i = 10, #ARGV do
          if ARGV[7] == '0' then redis.call('XADD', KEYS[5], '*', 'e', ARGV[i]) else redis.call('XADD', KEYS[5], 'MAXLEN', ARGV[7], '*', 'e', ARGV[i]) end
        end
        return {'created'}
        """;

    private const string SaveScript = """
        local v = redis.call('HGET', KEYS[1], 'version')
        if v == ARGV[3] and redis.call('HGET', KEYS[1], 'json') == ARGV[2] then return 1 end
        if not v or v ~= ARGV[4] then return 0 end
        redis.call('HSET', KEYS[1], 'json', ARGV[2], 'version', ARGV[3], 'tag', ARGV[10], 'eval', ARGV[13])
        redis.call('HDEL', KEYS[1], 'health', 'healthv')
        if ARGV[5] == '0' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
        if ARGV[6] == '1' then
          redis.call('ZREM', KEYS[3], ARGV[1])
          redis.call('ZREM', KEYS[6], ARGV[1])
        end
        if ARGV[7] ~= '' then redis.call('HSETNX', KEYS[5], ARGV[7], ARGV[8]) end
        if ARGV[11] ~= '' then
          local a = redis.call('GET', KEYS[7])
          if not a or string.sub(a, 1, 7) == 'claim:\0' or string.sub(a, 1, 6) == 'fold:\0' then redis.call('SET', KEYS[7], ARGV[11], 'PX', ARGV[12]) end
        end
        for i = 14, #ARGV do
          if ARGV[9] == '0' then redis.call('XADD', KEYS[4], '*', 'e', ARGV[i]) else redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[9], '*', 'e', ARGV[i]) end
        end
        return 1
        """;

    // A read that names the revision and write tag of the copy the caller holds gets only the latest
    // readings when the stored release is still that copy, and the document too when it is not. The tag
    // tells apart two writes of the same revision (a write lost in a failover, then made again).
    private const string ReadScript = """
        local f = redis.call('HMGET', KEYS[1], 'version', 'tag', 'health', 'healthv')
        if not f[1] then return false end
        if f[2] and ARGV[1] ~= '' and f[1] .. ':' .. f[2] == ARGV[1] then return {f[3], f[4]} end
        return {f[3], f[4], redis.call('HGET', KEYS[1], 'json'), f[1], f[2]}
        """;

    // A command's opening: the request id's claim (as ClaimScript), then, only for the claimant, every halt
    // and the release as ReadScript reads it, so the command is judged on what was there when it claimed.
    private const string ClaimAndReadScript = """
        local c = redis.call('GET', KEYS[1])
        if not c then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) elseif c ~= ARGV[1] then return {0} end
        local h = redis.call('HVALS', KEYS[3])
        local f = redis.call('HMGET', KEYS[2], 'version', 'tag', 'health', 'healthv')
        if not f[1] then return {1, h} end
        if f[2] and ARGV[3] ~= '' and f[1] .. ':' .. f[2] == ARGV[3] then return {1, h, f[3], f[4]} end
        return {1, h, f[3], f[4], redis.call('HGET', KEYS[2], 'json'), f[1], f[2]}
        """;

    // Readings beside the release, tagged with the version they were taken at: a save (which bumps
    // the version and drops them) always wins over them.
    // The halts come back with it, read at the same instant, for the card the readings are shown on.
    private const string SetHealthScript = """
        if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return {0} end
        redis.call('HSET', KEYS[1], 'health', ARGV[2], 'healthv', ARGV[1])
        return {1, redis.call('HVALS', KEYS[2])}
        """;

    // A periodic evaluation's opening: the release as ReadScript reads it and, when the stored release is
    // marked under evaluation (the 'eval' field every save writes), the evaluation lease as AcquireLeaseScript
    // takes it (1 taken, 0 held by another, -1 not tried).
    private const string ReadForEvaluationScript = """
        local f = redis.call('HMGET', KEYS[1], 'version', 'tag', 'health', 'healthv', 'eval')
        if not f[1] then return false end
        local l = -1
        if f[5] == '1' then
          local v = redis.call('GET', KEYS[2])
          if not v then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) l = 1
          elseif v == ARGV[2] then redis.call('PEXPIRE', KEYS[2], ARGV[3]) l = 1
          else l = 0 end
        end
        if f[2] and ARGV[1] ~= '' and f[1] .. ':' .. f[2] == ARGV[1] then return {l, f[3], f[4]} end
        return {l, f[3], f[4], redis.call('HGET', KEYS[1], 'json'), f[1], f[2]}
        """;

    // Every service's active index from the active set, for releases written before the index
    // existed. Keys are built from the shared hash tag, so they live in the same Cluster slot.
    private const string IndexActiveScript = """
        local ids = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
        for i = 1, #ids, 2 do
          local at = string.find(ids[i], '@', 1, true)
          if at then redis.call('ZADD', ARGV[1] .. string.sub(ids[i], 1, at - 1), ids[i + 1], ids[i]) end
        end
        return #ids / 2
        """;

    private const string RemoveHaltScript = """
        local h = redis.call('HGET', KEYS[1], ARGV[1])
        if h then redis.call('HDEL', KEYS[1], ARGV[1]) end
        return h
        """;

    private const string ClaimScript = """
        local v = redis.call('GET', KEYS[1])
        if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
        if v == ARGV[1] then return 1 end
        return 0
        """;

    // An append names itself (KEYS[3], a token per call): a retry after a lost reply finds it done.
    private const string AppendAuditScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then return 1 end
        if ARGV[2] == '0' then redis.call('XADD', KEYS[2], '*', 'e', ARGV[1]) else redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '*', 'e', ARGV[1]) end
        return 1
        """;

    private const string SetAnswerScript = """
        local v = redis.call('GET', KEYS[1])
        if v and string.sub(v, 1, 7) ~= 'claim:\0' and string.sub(v, 1, 6) ~= 'fold:\0' then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    private const string AcquireLeaseScript = """
        local v = redis.call('GET', KEYS[1])
        if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
        if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        return 0
        """;

    private const string ReleaseLeaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    /// <summary>How long an audit append is remembered as done: far longer than its retries can last.</summary>
    private static readonly TimeSpan AppendRemembered = TimeSpan.FromMinutes(5);

    /// <summary>Marks a claimed request id whose answer is not stored yet ("claim:" and a NUL, which no JSON answer starts with).</summary>
    private const string ClaimPrefix = "claim:\0";

    /// <summary>Marks a provisional answer kept by a save, which the request's final answer replaces ("fold:" and a NUL).</summary>
    private const string FoldPrefix = "fold:\0";

    /// <summary>Operation names for metrics (<c>TrySaveAsync</c> → <c>try_save</c>), computed once per method.</summary>
    private static readonly ConcurrentDictionary<string, string> _operationNames = new(StringComparer.Ordinal);

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisKeys _keys;
    private readonly ResiliencePipeline _retry;
    private readonly RedisStoreOptions _options;
    private readonly string _auditCap;

    /// <summary>Releases as last read or written by this instance, with their revision and write tag (see <see cref="RedisStoreOptions.ReadCacheEntries"/>).</summary>
    private readonly ConcurrentDictionary<ReleaseId, Known> _known = new();

    /// <summary>This instance's prefix for write tags, and a counter that makes each tag unique.</summary>
    private readonly string _tagPrefix = Guid.NewGuid().ToString("N")[..12];
    private long _tags;
    private Task? _activeIndexed;

    public RedisReleaseStore(IConnectionMultiplexer redis, RedisStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _options = options;
        _auditCap = Math.Max(0, options.MaxAuditEntries).ToString(CultureInfo.InvariantCulture);
        _keys = new RedisKeys(options.KeyPrefix);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.BaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = new PredicateBuilder().Handle<RedisConnectionException>().Handle<RedisTimeoutException>()
                    .Handle<RedisServerException>(IsTransient),
            });
        }

        _retry = pipeline.Build();
    }

    public RedisKeys Keys => _keys;

    private IDatabase Db => _redis.GetDatabase();

    public Task<Release?> GetAsync(ReleaseId id, CancellationToken cancellationToken = default)
    {
        var known = _options.ReadCacheEntries > 0 && _known.TryGetValue(id, out var k) ? k : null;
        return RunAsync(async db =>
        {
            var reply = await db.ScriptEvaluateAsync(ReadScript, [_keys.Release(id)], [known?.Stamp ?? string.Empty]).ConfigureAwait(false);
            if (reply.IsNull)
            {
                _known.TryRemove(id, out _);
                return null;
            }

            return FromRead((RedisResult[])reply!, 0, known);
        }, cancellationToken);
    }

    /// <summary>
    /// The release a read script answered, from <paramref name="at"/> in its reply: the latest readings, then (only
    /// when the stored copy is not <paramref name="known"/>) the document, its revision and its write tag.
    /// </summary>
    private Release? FromRead(RedisResult[] fields, int at, Known? known)
    {
        Release? release;
        if (fields.Length < at + 3)
        {
            release = known!.Release;
        }
        else if ((release = Parse<Release>((RedisValue)fields[at + 2])) is not null && !((RedisValue)fields[at + 4]).IsNullOrEmpty)
        {
            Remember(release, $"{(string?)fields[at + 3]}:{(string?)fields[at + 4]}");
        }

        return release is null ? null : WithReadings(release, (RedisValue)fields[at], (RedisValue)fields[at + 1]);
    }

    public async Task<IReadOnlyList<ReleaseId>> ListActiveIdsOfServiceAsync(string service, CancellationToken cancellationToken = default)
    {
        await EnsureActiveIndexAsync(cancellationToken).ConfigureAwait(false);

        // Intersected with the active set, so an id a terminal save (of any ShipBot version) took
        // out of the active set is never listed; the weights keep each id's creation time as its score.
        return await RunAsync<IReadOnlyList<ReleaseId>>(async db => Ids(await db.SortedSetCombineAsync(
            SetOperation.Intersect, [_keys.ActiveOf(service), _keys.Active], [1, 0]).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<ServiceHalt>?> SetLatestHealthAsync(ReleaseId id, long version, HealthVerdict verdict, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        var json = StoredDocument.Versioned(JsonSerializer.Serialize(verdict, StoreJsonContext.Default.HealthVerdict));
        return RunAsync(async db =>
        {
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(SetHealthScript, [_keys.Release(id), _keys.Halts], [version, json]).ConfigureAwait(false))!;
            return (int)reply[0] == 1 ? Halts((RedisValue[])reply[1]!) : null;
        }, cancellationToken);
    }

    public Task<EvaluationRead> ReadForEvaluationAsync(ReleaseId release, string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        RedisKey[] keys = [_keys.Release(release), _keys.Lease(key)];
        return RunAsync(async db =>
        {
            var known = _options.ReadCacheEntries > 0 && _known.TryGetValue(release, out var k) ? k : null;
            var reply = await db.ScriptEvaluateAsync(ReadForEvaluationScript, keys, [known?.Stamp ?? string.Empty, owner, Millis(ttl)]).ConfigureAwait(false);
            if (reply.IsNull)
            {
                _known.TryRemove(release, out _);
                return new EvaluationRead(null, null);
            }

            var fields = (RedisResult[])reply!;
            var leased = (int)fields[0] switch { 1 => true, 0 => false, _ => (bool?)null };
            return new EvaluationRead(FromRead(fields, 1, known), leased);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<ReleaseId>> ListActiveIdsAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<ReleaseId>>(async db => Ids(await db.SortedSetRangeByRankAsync(_keys.Active).ConfigureAwait(false)), cancellationToken);

    public Task<IReadOnlyList<Release>> ListActiveAsync(CancellationToken cancellationToken = default) =>
        RunAsync(async db => await LoadAsync(db, Ids(await db.SortedSetRangeByRankAsync(_keys.Active).ConfigureAwait(false))).ConfigureAwait(false), cancellationToken);

    public Task<IReadOnlyList<Release>> ListByServiceAsync(string service, CancellationToken cancellationToken = default) =>
        RunAsync(async db => await LoadAsync(db, Ids(await db.SortedSetRangeByRankAsync(_keys.Service(service), order: Order.Descending).ConfigureAwait(false))).ConfigureAwait(false), cancellationToken);

    public Task<CreateResult> TryCreateAsync(Release release, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(audit);
        var id = release.Id;
        RedisKey[] keys = [_keys.Release(id), _keys.Lock(id.Service), _keys.Active, _keys.Service(id.Service), _keys.Audit(id), _keys.ActiveOf(id.Service)];
        var args = new List<RedisValue>
        {
            id.ToString(),
            Json(release),
            release.Revision,
            release.CreatedAt.ToUnixTimeMilliseconds(),
            release.State.HoldsServiceLock() ? "1" : "0",
            release.State.IsTerminal() ? "1" : "0",
            _auditCap,
            NextTag(),
            Evaluated(release),
        };
        args.AddRange(audit.Select(a => (RedisValue)Json(a)));
        return RunDurableAsync(async db =>
        {
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(CreateScript, keys, [.. args]).ConfigureAwait(false))!;
            return (string?)result[0] switch
            {
                "created" => Remembered(release, (string)args[7]!, new CreateResult(CreateOutcome.Created)),
                "busy" => new CreateResult(CreateOutcome.ServiceBusy, ReleaseId.TryParse((string?)result[1], out var holder) ? holder : null),
                _ => new CreateResult(CreateOutcome.AlreadyExists, id),
            };
        }, cancellationToken);
    }

    public Task<bool> TrySaveAsync(Release next, long expectedVersion, IReadOnlyList<AuditEntry> audit, ServiceHalt? halt = null, RequestAnswer? answer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(audit);
        var id = next.Id;
        RedisKey[] keys =
        [
            _keys.Release(id), _keys.Lock(id.Service), _keys.Active, _keys.Audit(id), _keys.Halts, _keys.ActiveOf(id.Service),
            answer is null ? _keys.Release(id) : _keys.Request(answer.RequestId),
        ];
        var args = new List<RedisValue>
        {
            id.ToString(),
            Json(next),
            next.Revision,
            expectedVersion,
            next.State.HoldsServiceLock() ? "1" : "0",
            next.State.IsTerminal() ? "1" : "0",
            halt?.Service ?? string.Empty,
            halt is null ? string.Empty : Json(halt),
            _auditCap,
            NextTag(),
            answer is null ? string.Empty : FoldPrefix + StoredDocument.Versioned(answer.Answer),
            answer is null ? "0" : Millis(answer.Keep),
            Evaluated(next),
        };
        args.AddRange(audit.Select(a => (RedisValue)Json(a)));
        return RunDurableAsync(async db =>
        {
            if ((int)(await db.ScriptEvaluateAsync(SaveScript, keys, [.. args]).ConfigureAwait(false)) != 1)
            {
                return false;
            }

            // Kept as written (the in-memory store keeps its objects the same way); a terminal release is hardly read again.
            return Remembered(next, (string)args[9]!, true);
        }, cancellationToken);
    }

    public Task AppendAuditAsync(ReleaseId id, AuditEntry entry, CancellationToken cancellationToken = default)
    {
        // The same token on every retry of this call, kept longer than the retries last.
        RedisKey[] keys = [_keys.Release(id), _keys.Audit(id), _keys.AuditAppend(Guid.NewGuid().ToString("N"))];
        RedisValue[] args = [Json(entry), _auditCap, Millis(AppendRemembered)];
        return RunDurableAsync(db => db.ScriptEvaluateAsync(AppendAuditScript, keys, args), cancellationToken);
    }

    public Task<IReadOnlyList<AuditEntry>> GetAuditAsync(ReleaseId id, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<AuditEntry>>(async db =>
        {
            var key = _keys.Audit(id);
            var entries = await db.StreamRangeAsync(key).ConfigureAwait(false);
            var list = entries.Select(e => Parse<AuditEntry>(e["e"])).OfType<AuditEntry>().ToList();
            if (_options.MaxAuditEntries > 0 && list.Count >= _options.MaxAuditEntries)
            {
                // Full: say how many of the oldest entries the cap has dropped (Redis 7 counts every entry ever added).
                var info = (RedisResult[])(await db.ExecuteAsync("XINFO", "STREAM", key).ConfigureAwait(false))!;
                var added = Enumerable.Range(0, info.Length / 2).Where(i => (string?)info[2 * i] == "entries-added").Select(i => (long?)info[(2 * i) + 1]).FirstOrDefault();
                var dropped = added is { } total ? total - entries.Length : (long?)null;
                if (dropped is null or > 0)
                {
                    list.Insert(0, AuditLimits.TrimmedMarker(list[0].At, dropped, _options.MaxAuditEntries));
                }
            }

            return list;
        }, cancellationToken);

    public Task<IReadOnlyList<ServiceHalt>> GetHaltsAsync(CancellationToken cancellationToken = default) =>
        RunAsync(async db => Halts(await db.HashValuesAsync(_keys.Halts).ConfigureAwait(false)), cancellationToken);

    /// <summary>The halts hash's values, oldest first.</summary>
    private static IReadOnlyList<ServiceHalt> Halts(RedisValue[] values) => values.Select(Parse<ServiceHalt>).OfType<ServiceHalt>().OrderBy(h => h.At).ToList();

    public Task<bool> TrySetHaltAsync(ServiceHalt halt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(halt);
        return RunDurableAsync(db => db.HashSetAsync(_keys.Halts, halt.Service, Json(halt), When.NotExists), cancellationToken);
    }

    public Task<ServiceHalt?> RemoveHaltAsync(string service, CancellationToken cancellationToken = default) =>
        RunDurableAsync(async db => Parse<ServiceHalt>((RedisValue)(await db.ScriptEvaluateAsync(RemoveHaltScript, [_keys.Halts], [service]).ConfigureAwait(false))), cancellationToken);

    public Task AddSignalAsync(Signal signal, CancellationToken cancellationToken = default) => UpdateSignalAsync(signal, cancellationToken);

    public Task UpdateSignalAsync(Signal signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return RunDurableAsync(db => db.HashSetAsync(_keys.Signals, signal.Id, Json(signal)), cancellationToken);
    }

    public Task<IReadOnlyList<Signal>> ListSignalsAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<Signal>>(async db =>
            (await db.HashGetAllAsync(_keys.Signals).ConfigureAwait(false)).Select(h => Parse<Signal>(h.Value)).OfType<Signal>().OrderBy(s => s.At).ToList(),
            cancellationToken);

    Task<string?> IIdempotencyStore.GetAsync(string requestId, CancellationToken cancellationToken) =>
        RunAsync(async db =>
        {
            var value = await db.StringGetAsync(_keys.Request(requestId)).ConfigureAwait(false);
            var text = (string?)value;
            return string.IsNullOrEmpty(text) || text.StartsWith(ClaimPrefix, StringComparison.Ordinal) ? null
                : StoredDocument.Unversioned(text.StartsWith(FoldPrefix, StringComparison.Ordinal) ? text[FoldPrefix.Length..] : text);
        }, cancellationToken, "request.get");

    Task<bool> IIdempotencyStore.TryClaimAsync(string requestId, TimeSpan ttl, CancellationToken cancellationToken)
    {
        // A token per claim, so a retry after a lost reply recognises its own claim.
        var token = ClaimPrefix + Guid.NewGuid().ToString("N");
        return RunDurableAsync(async db => (int)(await db.ScriptEvaluateAsync(ClaimScript, [_keys.Request(requestId)], [token, Millis(ttl)]).ConfigureAwait(false)) == 1, cancellationToken, "request.claim");
    }

    Task<OpeningRead> IIdempotencyStore.TryClaimAndReadAsync(string requestId, TimeSpan ttl, ReleaseId release, CancellationToken cancellationToken)
    {
        // The same token on every retry, so a retry after a lost reply recognises its own claim (and reads).
        var token = ClaimPrefix + Guid.NewGuid().ToString("N");
        RedisKey[] keys = [_keys.Request(requestId), _keys.Release(release), _keys.Halts];
        return RunDurableAsync(async db =>
        {
            var known = _options.ReadCacheEntries > 0 && _known.TryGetValue(release, out var k) ? k : null;
            var reply = (RedisResult[])(await db.ScriptEvaluateAsync(ClaimAndReadScript, keys, [token, Millis(ttl), known?.Stamp ?? string.Empty]).ConfigureAwait(false))!;
            if ((int)reply[0] != 1)
            {
                return OpeningRead.Duplicate;
            }

            var halts = Halts((RedisValue[])reply[1]!);
            if (reply.Length == 2)
            {
                _known.TryRemove(release, out _);
                return new OpeningRead(true, true, null, halts);
            }

            return new OpeningRead(true, true, FromRead(reply, 2, known), halts);
        }, cancellationToken, "request.claim_read");
    }

    Task IIdempotencyStore.SetAsync(string requestId, string answer, TimeSpan ttl, CancellationToken cancellationToken) =>
        RunDurableAsync(db => db.ScriptEvaluateAsync(SetAnswerScript, [_keys.Request(requestId)], [StoredDocument.Versioned(answer), Millis(ttl)]), cancellationToken, "request.answer");

    public Task<bool> TryAcquireAsync(string key, string owner, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        RunAsync(async db => (int)(await db.ScriptEvaluateAsync(AcquireLeaseScript, [_keys.Lease(key)], [owner, Millis(ttl)]).ConfigureAwait(false)) == 1, cancellationToken);

    public Task ReleaseAsync(string key, string owner, CancellationToken cancellationToken = default) =>
        RunAsync(db => db.ScriptEvaluateAsync(ReleaseLeaseScript, [_keys.Lease(key)], [owner]), cancellationToken);

    Task<string?> IChatStateStore.GetAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(async db => (string?)await db.StringGetAsync(_keys.Chat(key)).ConfigureAwait(false), cancellationToken, "chat.get");

    Task IChatStateStore.SetAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken) =>
        RunAsync(db => db.StringSetAsync(_keys.Chat(key), value, ttl), cancellationToken, "chat.set");

    /// <summary>Whether Redis answers a PING (for /readyz).</summary>
    public async Task<TimeSpan> PingAsync() => await Db.PingAsync().ConfigureAwait(false);

    private async Task<IReadOnlyList<Release>> LoadAsync(IDatabase db, IReadOnlyList<ReleaseId> ids)
    {
        // Pipelined reads in chunks: few round trips, without growing the connection's buffers to
        // the size of every release at once (that memory stays with the connection).
        var releases = new List<Release>(ids.Count);
        foreach (var chunk in ids.Chunk(256))
        {
            var values = await Task.WhenAll(chunk.Select(id => db.HashGetAsync(_keys.Release(id), ReleaseFields))).ConfigureAwait(false);
            releases.AddRange(values.Select(ParseRelease).OfType<Release>());
        }

        return releases;
    }

    /// <summary>
    /// Builds every service's active index from the active set once per store instance (ShipBot
    /// versions before the index did not keep it). The first caller waits; a failure is retried by the next.
    /// </summary>
    private async Task EnsureActiveIndexAsync(CancellationToken cancellationToken)
    {
        var indexing = _activeIndexed;
        if (indexing is null)
        {
            var fresh = RunDurableAsync(db => db.ScriptEvaluateAsync(IndexActiveScript, [_keys.Active], [_keys.ActiveOfPrefix]), CancellationToken.None, "index_active");
            indexing = Interlocked.CompareExchange(ref _activeIndexed, fresh, null) ?? fresh;
        }

        try
        {
            await indexing.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (indexing.IsFaulted)
        {
            _ = Interlocked.CompareExchange(ref _activeIndexed, null, indexing);
            throw;
        }
    }

    /// <summary>
    /// Runs one store operation with the retry policy, records its latency and failures
    /// (<c>shipbot.store.*</c>, named after the calling method), and turns an unreachable Redis into
    /// <see cref="StoreUnavailableException"/>. A <paramref name="durable"/> write then waits for
    /// <see cref="RedisStoreOptions.WaitForReplicas"/> replicas.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken, [CallerMemberName] string operationName = "", bool durable = false)
    {
        var started = ShipBotTelemetry.Timestamp();
        try
        {
            var result = await _retry.ExecuteAsync(async _ => await operation(Db).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (durable && _options.WaitForReplicas > 0)
            {
                await WaitForReplicasAsync(cancellationToken).ConfigureAwait(false);
            }

            OperationTelemetry.RecordStore("redis", OperationName(operationName), started);
            return result;
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException || (ex is RedisServerException server && IsTransient(server)))
        {
            OperationTelemetry.RecordStore("redis", OperationName(operationName), started, ex.GetType().Name);
            throw new StoreUnavailableException($"Redis is unavailable: {ex.GetType().Name}", ex);
        }
        catch (Exception ex) when (ex is StoreUnavailableException or RedisException)
        {
            OperationTelemetry.RecordStore("redis", OperationName(operationName), started, ex is StoreUnavailableException ? "replication" : ex.GetType().Name);
            throw;
        }
    }

    private Task RunAsync(Func<IDatabase, Task> operation, CancellationToken cancellationToken, [CallerMemberName] string operationName = "") =>
        RunAsync(async db =>
        {
            await operation(db).ConfigureAwait(false);
            return true;
        }, cancellationToken, operationName);

    private Task<T> RunDurableAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken, [CallerMemberName] string operationName = "") =>
        RunAsync(operation, cancellationToken, operationName, durable: true);

    private Task RunDurableAsync(Func<IDatabase, Task> operation, CancellationToken cancellationToken, [CallerMemberName] string operationName = "") =>
        RunAsync(async db =>
        {
            await operation(db).ConfigureAwait(false);
            return true;
        }, cancellationToken, operationName, durable: true);

    /// <summary>
    /// Redis <c>WAIT</c> on the primary that holds ShipBot's keys (one hash slot): returns when
    /// <see cref="RedisStoreOptions.WaitForReplicas"/> replicas have every write made so far on this
    /// connection. The write itself is not repeated (it is on the primary already); only the
    /// <c>WAIT</c> is tried again. Still unconfirmed after that: <see cref="StoreUnavailableException"/>.
    /// </summary>
    private async Task WaitForReplicasAsync(CancellationToken cancellationToken)
    {
        var acknowledged = 0L;
        for (var attempt = 0; attempt <= Math.Max(0, _options.MaxRetries); attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var server = _redis.GetServer((RedisKey)_keys.Active);
            var answer = await server.ExecuteAsync("WAIT", _options.WaitForReplicas, (long)Math.Max(1, _options.WaitTimeout.TotalMilliseconds)).ConfigureAwait(false);
            acknowledged = (long)answer;
            if (acknowledged >= _options.WaitForReplicas)
            {
                return;
            }
        }

        throw new StoreUnavailableException($"Redis did not confirm the write on {_options.WaitForReplicas} replica(s) (only {acknowledged} answered): it may be lost if the primary fails now.");
    }

    /// <summary>Errors a failover or a restart produces for a while: loading, read-only replica, too few replicas, no primary.</summary>
    private static bool IsTransient(RedisServerException e) =>
        e.Message.StartsWith("LOADING", StringComparison.Ordinal) || e.Message.StartsWith("READONLY", StringComparison.Ordinal)
        || e.Message.StartsWith("NOREPLICAS", StringComparison.Ordinal) || e.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
        || e.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || e.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal);

    /// <summary><c>TrySaveAsync</c> → <c>try_save</c>; names already dotted (<c>request.claim</c>) are kept.</summary>
    private static string OperationName(string member) => _operationNames.GetOrAdd(member, static m =>
    {
        if (m.Contains('.', StringComparison.Ordinal) && char.IsLower(m[0]))
        {
            return m;
        }

        var name = m[(m.LastIndexOf('.') + 1)..];
        name = name.EndsWith("Async", StringComparison.Ordinal) ? name[..^5] : name;
        var snake = new System.Text.StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c) && snake.Length > 0)
            {
                snake.Append('_');
            }

            snake.Append(char.ToLowerInvariant(c));
        }

        return snake.ToString();
    });

    private static IReadOnlyList<ReleaseId> Ids(RedisValue[] values) =>
        values.Select(v => ReleaseId.TryParse(v, out var id) ? id : null).OfType<ReleaseId>().ToList();

    private static string Millis(TimeSpan ttl) => ((long)Math.Max(1, ttl.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);

    private static string Json(Release value) => StoredDocument.Versioned(JsonSerializer.Serialize(value, StoreJsonContext.Default.Release));

    private static string Json(AuditEntry value) => StoredDocument.Versioned(JsonSerializer.Serialize(value, StoreJsonContext.Default.AuditEntry));

    private static string Json(ServiceHalt value) => StoredDocument.Versioned(JsonSerializer.Serialize(value, StoreJsonContext.Default.ServiceHalt));

    private static string Json(Signal value) => StoredDocument.Versioned(JsonSerializer.Serialize(value, StoreJsonContext.Default.Signal));

    /// <summary>The release hash's fields a bulk read takes: the document, and the latest readings with the version they belong to.</summary>
    private static readonly RedisValue[] ReleaseFields = ["json", "health", "healthv"];

    /// <summary>The release with its latest readings on top when they belong to its stored version.</summary>
    private static Release? ParseRelease(RedisValue[] fields) =>
        Parse<Release>(fields[0]) is { } release ? WithReadings(release, fields[1], fields[2]) : null;

    private static Release WithReadings(Release release, RedisValue health, RedisValue healthVersion) =>
        health.IsNullOrEmpty || !healthVersion.TryParse(out long version) || version != release.Revision
            ? release
            : LatestHealth.Overlay(release, Parse<HealthVerdict>(health));

    /// <summary>The release hash's <c>eval</c> field: "1" while the release is under evaluation, so an evaluation's read can take its lease in the same step.</summary>
    private static string Evaluated(Release release) => release.IsUnderEvaluation ? "1" : "0";

    private string NextTag() => $"{_tagPrefix}{Interlocked.Increment(ref _tags):x}";

    private T Remembered<T>(Release release, string tag, T result)
    {
        Remember(release, $"{release.Revision.ToString(CultureInfo.InvariantCulture)}:{tag}");
        return result;
    }

    private void Remember(Release release, string stamp)
    {
        if (_options.ReadCacheEntries <= 0 || release.State.IsTerminal())
        {
            _known.TryRemove(release.Id, out _);
            return;
        }

        if (_known.Count >= _options.ReadCacheEntries && !_known.ContainsKey(release.Id))
        {
            // Full (more releases than the instance is sized for): start again rather than track use.
            _known.Clear();
        }

        _known[release.Id] = new Known(stamp, release);
    }

    /// <summary>A release as stored under <paramref name="Stamp"/> (its revision and write tag).</summary>
    private sealed record Known(string Stamp, Release Release);

    private static T? Parse<T>(RedisValue value)
        where T : class =>
        value.IsNullOrEmpty ? null : (T?)JsonSerializer.Deserialize((string)value!, typeof(T), StoreJsonContext.Default);
}
