using System.Globalization;
using System.Text.Json;
using ShipBot.Core.Commands;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Testing;
using StackExchange.Redis;

namespace ShipBot.Redis.Tests;

/// <summary>What the Redis store writes (key names, hash tag, types) and its real-time expiry.</summary>
public sealed class RedisReleaseStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    private IDatabase Db => redis.Redis.GetDatabase();

    // ================================================================ key layout

    [Fact]
    public async Task Keys_AfterEveryKindOfWrite_ExactlyThoseOfRedisKeysAllInOneHashSlot()
    {
        var (store, prefix) = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        var keys = new RedisKeys(prefix);
        IIdempotencyStore idempotency = store;

        await store.TryCreateAsync(release, [Entry("Created")]);
        await store.TrySaveAsync(Next(release, ReleaseState.Staging), release.Revision, [Entry("Approved")], new ServiceHalt("checkout", "test", "carol", T0));
        await store.AppendAuditAsync(release.Id, Entry("chat post"));
        await store.AddSignalAsync(new Signal("friction:1", SignalKind.Friction, null, "slow", "bob", T0));
        await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1));
        await idempotency.SetAsync("req-2", "answer", TimeSpan.FromMinutes(1));
        await store.TryAcquireAsync("tick:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1));

        string[] expected =
        [
            keys.Release(release.Id), keys.Audit(release.Id), keys.Lock("checkout"), keys.Active, keys.Service("checkout"), keys.ActiveOf("checkout"),
            keys.Halts, keys.Signals, keys.Request("req-1"), keys.Request("req-2"), keys.Lease("tick:checkout@1.0.0"),
        ];
        var written = AllKeysMentioning(prefix);

        // The audit append's own marker, named by a token of its own.
        var appended = Assert.Single(written, k => k.StartsWith(keys.AuditAppend(string.Empty), StringComparison.Ordinal));
        expected = [.. expected, appended];
        Assert.Equal(expected.Order(StringComparer.Ordinal), written);
        Assert.All(written, k => Assert.StartsWith($"{{{prefix}}}:", k, StringComparison.Ordinal));
        Assert.Single(written.Select(k => redis.Redis.HashSlot(k)).Distinct());
        Assert.Equal(written, redis.KeysOf(prefix));
    }

    [Fact]
    public void RedisKeys_DefaultPrefix_ShipbotHashTag()
    {
        var keys = new RedisKeys();
        var id = new ReleaseId("checkout", "1.4.2");

        Assert.Equal("{shipbot}:release:checkout@1.4.2", keys.Release(id));
        Assert.Equal("{shipbot}:audit:checkout@1.4.2", keys.Audit(id));
        Assert.Equal("{shipbot}:lock:checkout", keys.Lock("checkout"));
        Assert.Equal("{shipbot}:active", keys.Active);
        Assert.Equal("{shipbot}:service:checkout", keys.Service("checkout"));
        Assert.Equal("{shipbot}:active-of:checkout", keys.ActiveOf("checkout"));
        Assert.Equal("{shipbot}:halts", keys.Halts);
        Assert.Equal("{shipbot}:signals", keys.Signals);
        Assert.Equal("{shipbot}:request:r1", keys.Request("r1"));
        Assert.Equal("{shipbot}:lease:tick", keys.Lease("tick"));
    }

    [Fact]
    public async Task ListActiveIdsOfServiceAsync_ReleasesWrittenBeforeTheIndex_FoundFromTheActiveSet()
    {
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var old = NewRelease("checkout", "1.0.0");
        var other = NewRelease("search", "2.0.0");
        await store.TryCreateAsync(old, []);
        await store.TryCreateAsync(other, []);
        // As an earlier ShipBot left them: the active set, and no per-service index.
        await Db.KeyDeleteAsync([keys.ActiveOf("checkout"), keys.ActiveOf("search")]);
        var fresh = new RedisReleaseStore(redis.Redis, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);

        Assert.Equal([old.Id], await fresh.ListActiveIdsOfServiceAsync("checkout"));
        Assert.Equal([other.Id], await fresh.ListActiveIdsOfServiceAsync("search"));
    }

    [Fact]
    public async Task ListActiveIdsOfServiceAsync_TerminalSaveByAWriterWithoutTheIndex_NotListed()
    {
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.Equal([release.Id], await store.ListActiveIdsOfServiceAsync("checkout"));

        // An earlier ShipBot finishing the release takes it out of the active set only.
        await Db.SortedSetRemoveAsync(keys.Active, release.Id.ToString());

        Assert.Empty(await store.ListActiveIdsOfServiceAsync("checkout"));
    }

    [Fact]
    public async Task ReleaseHash_AfterCreateAndSave_HasOnlyJsonVersionTagAndEvalFields()
    {
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var next = Next(release, ReleaseState.AwaitingApproval);

        await store.TrySaveAsync(next, release.Revision, []);

        Assert.Equal(RedisType.Hash, await Db.KeyTypeAsync(keys.Release(release.Id)));
        var fields = (await Db.HashGetAllAsync(keys.Release(release.Id))).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        Assert.Equal(["eval", "json", "tag", "version"], fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(next.Revision.ToString(CultureInfo.InvariantCulture), fields["version"]);
        Assert.Equal("0", fields["eval"]);
        using var json = JsonDocument.Parse(fields["json"]);
        Assert.Equal(next.Revision, json.RootElement.GetProperty("version").GetInt64());
        Assert.Equal("AwaitingApproval", json.RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Audit_WrittenByCreateSaveAndAppend_IsOneStreamInOrder()
    {
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created", 0)]);
        await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, [Entry("a", 1), Entry("b", 2)]);
        await store.AppendAuditAsync(release.Id, Entry("c", 3));

        Assert.Equal(RedisType.Stream, await Db.KeyTypeAsync(keys.Audit(release.Id)));
        var entries = await Db.StreamRangeAsync(keys.Audit(release.Id));
        Assert.Equal(4, entries.Length);
        Assert.All(entries, e => Assert.Equal("e", Assert.Single(e.Values).Name.ToString()));
        Assert.Equal(["Created", "a", "b", "c"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
    }

    [Fact]
    public async Task LockAndIndexes_ActiveRelease_LockNamesItAndIndexesScoreByCreation()
    {
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");

        await store.TryCreateAsync(release, []);

        Assert.Equal("checkout@1.0.0", (string?)await Db.StringGetAsync(keys.Lock("checkout")));
        Assert.Equal(release.CreatedAt.ToUnixTimeMilliseconds(), await Db.SortedSetScoreAsync(keys.Active, "checkout@1.0.0"));
        Assert.Equal(release.CreatedAt.ToUnixTimeMilliseconds(), await Db.SortedSetScoreAsync(keys.Service("checkout"), "checkout@1.0.0"));

        await store.TrySaveAsync(Next(release, ReleaseState.Aborted), release.Revision, []);

        Assert.False(await Db.KeyExistsAsync(keys.Lock("checkout")));
        Assert.Null(await Db.SortedSetScoreAsync(keys.Active, "checkout@1.0.0"));
        Assert.NotNull(await Db.SortedSetScoreAsync(keys.Service("checkout"), "checkout@1.0.0"));
    }

    // ================================================================ expiry on redis-server's own clock
    //
    // What must still hold is checked with a TTL of a minute, so a slow machine cannot let it expire
    // between two calls; what must expire gets a short TTL and is waited for (with a generous
    // deadline), never slept on.

    [Fact]
    public async Task TryClaimAsync_NotAnsweredWithinItsTtl_ClaimableAgain()
    {
        var (store, prefix) = CreateStore();
        IIdempotencyStore claims = store;

        Assert.True(await claims.TryClaimAsync("req-held", TimeSpan.FromMinutes(1)));
        Assert.False(await claims.TryClaimAsync("req-held", TimeSpan.FromMinutes(1)));
        Assert.True(await claims.TryClaimAsync("req-1", TimeSpan.FromMilliseconds(200)));
        Assert.True(await Db.KeyTimeToLiveAsync(new RedisKeys(prefix).Request("req-1")) is not { } ttl || ttl <= TimeSpan.FromMilliseconds(200));

        Assert.True(await Eventually.TrueAsync(() => claims.TryClaimAsync("req-1", TimeSpan.FromMinutes(1))), "the claim never expired");
        Assert.Null(await claims.GetAsync("req-1"));
        Assert.False(await claims.TryClaimAsync("req-held", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task SetAsync_AnswerAfterAShortClaim_KeptForTheAnswersTtl()
    {
        var (store, prefix) = CreateStore();
        IIdempotencyStore claims = store;
        Assert.True(await claims.TryClaimAsync("req-1", TimeSpan.FromMilliseconds(200)));

        await claims.SetAsync("req-1", "answer", TimeSpan.FromMinutes(1));

        // The answer's TTL replaced the claim's: it outlives the 200 ms by far.
        Assert.True(await Db.KeyTimeToLiveAsync(new RedisKeys(prefix).Request("req-1")) > TimeSpan.FromSeconds(50));
        Assert.Equal("answer", await claims.GetAsync("req-1"));
        Assert.False(await claims.TryClaimAsync("req-1", TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task GetAsync_AnswerAfterItsTtl_ForgottenAndANewAnswerCanBeKept()
    {
        IIdempotencyStore store = CreateStore().Store;
        await store.SetAsync("req-held", "kept", TimeSpan.FromMinutes(1));
        Assert.Equal("kept", await store.GetAsync("req-held"));
        await store.SetAsync("req-1", "first", TimeSpan.FromMilliseconds(200));

        Assert.True(await Eventually.TrueAsync(async () => await store.GetAsync("req-1") is null), "the answer never expired");
        await store.SetAsync("req-1", "second", TimeSpan.FromMinutes(1));
        Assert.Equal("second", await store.GetAsync("req-1"));
        Assert.Equal("kept", await store.GetAsync("req-held"));
    }

    [Fact]
    public async Task TryAcquireAsync_LeaseAfterItsTtl_AnotherOwnerAcquires()
    {
        ILeaseStore store = CreateStore().Store;
        Assert.True(await store.TryAcquireAsync("held", "replica-a", TimeSpan.FromMinutes(1)));
        Assert.False(await store.TryAcquireAsync("held", "replica-b", TimeSpan.FromMinutes(1)));
        Assert.True(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromMilliseconds(200)));

        Assert.True(await Eventually.TrueAsync(() => store.TryAcquireAsync("tick", "replica-b", TimeSpan.FromMinutes(1))), "the lease never expired");
        Assert.False(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromMinutes(1)));
        Assert.False(await store.TryAcquireAsync("held", "replica-b", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task TryAcquireAsync_ReacquiredByTheHolder_TheLeaseIsExtended()
    {
        var (store, prefix) = CreateStore();
        Assert.True(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromMilliseconds(200)));

        Assert.True(await store.TryAcquireAsync("tick", "replica-a", TimeSpan.FromMinutes(1)));

        // Extended to the minute: long after the first 200 ms it is still replica-a's.
        Assert.True(await Db.KeyTimeToLiveAsync(new RedisKeys(prefix).Lease("tick")) > TimeSpan.FromSeconds(50));
        Assert.False(await store.TryAcquireAsync("tick", "replica-b", TimeSpan.FromMilliseconds(200)));
    }

    // ================================================================ options

    [Fact]
    public async Task Constructor_MaxRetriesZero_TriesOnceWithoutRetrying()
    {
        var store = redis.CreateStore(new RedisStoreOptions { MaxRetries = 0 });

        Assert.Null(await store.GetAsync(new ReleaseId("checkout", "1.0.0")));
    }

    [Fact]
    public async Task GetAsync_ReleaseWithMeasuredOutcomes_ReadBackByAnotherStoreAfterARestart()
    {
        var (store, prefix) = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var reports = new List<OutcomeReport>
        {
            new(1, T0 + TimeSpan.FromDays(1), ["checkout conversion: 2.3 % vs target ≥ 2.1 % — pass (Δ +0.3 % since baseline 2 %, +15 %)", "1 of 1 target(s) met."]),
            new(2, T0 + TimeSpan.FromDays(7), ["checkout conversion: 1.9 % vs target ≥ 2.1 % — miss (Δ −0.1 % since baseline 2 %, −5 %)", "0 of 1 target(s) met; missed: checkout conversion."]),
        };
        var measured = Next(release, ReleaseState.Operating) with
        {
            RequestedOutcomes = ["refund rate"],
            Baseline = new Dictionary<string, double> { ["error_rate"] = 0.003, ["outcome:checkout conversion"] = 2 },
            Outcomes = reports,
        };
        Assert.True(await store.TrySaveAsync(measured, release.Revision, []));

        var restarted = new RedisReleaseStore(redis.Redis, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
        var read = await restarted.GetAsync(release.Id);

        Assert.NotNull(read);
        Assert.Equal(["refund rate"], read.RequestedOutcomes);
        Assert.Equal(2, read.Baseline["outcome:checkout conversion"]);
        Assert.Equal(reports.Select(r => (r.Checkpoint, r.At, string.Join("\n", r.Lines))), read.Outcomes.Select(r => (r.Checkpoint, r.At, string.Join("\n", r.Lines))));
    }

    // ================================================================ releases kept parsed by the instance that read or wrote them

    [Fact]
    public async Task GetAsync_SavedSinceByAnotherInstance_ReturnsTheNewRevision()
    {
        var (store, prefix) = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.Equal(release.Revision, (await store.GetAsync(release.Id))!.Revision);
        var other = new RedisReleaseStore(redis.Redis, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);

        Assert.True(await other.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, []));

        var read = await store.GetAsync(release.Id);
        Assert.Equal(ReleaseState.AwaitingApproval, read!.State);
        Assert.Equal(release.Revision + 1, read.Revision);
    }

    [Fact]
    public async Task TryClaimAndReadAsync_SavedSinceByAnotherInstance_ReadsTheNewRevisionThenOnlyTheStamp()
    {
        var (store, prefix) = CreateStore();
        IIdempotencyStore idempotency = store;
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var other = new RedisReleaseStore(redis.Redis, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
        Assert.True(await other.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, []));

        var first = await idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), release.Id);
        var second = await idempotency.TryClaimAndReadAsync("req-2", TimeSpan.FromMinutes(1), release.Id);

        Assert.Equal(ReleaseState.AwaitingApproval, first.Release!.State);
        Assert.Equal(release.Revision + 1, first.Release.Revision);

        // Unchanged since: the same parsed copy, from a reply of a few bytes.
        Assert.Same(first.Release, second.Release);
    }

    [Fact]
    public async Task ReadForEvaluationAsync_ReleaseStoredWithoutTheEvalMark_LeaseNotTried()
    {
        // A ShipBot from before the mark saves json and version only: the caller takes the lease itself.
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        await Db.HashDeleteAsync(keys.Release(release.Id), "eval");

        var read = await store.ReadForEvaluationAsync(release.Id, "eval:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1));

        Assert.Equal(release.Revision, read.Release!.Revision);
        Assert.Null(read.Leased);
        Assert.False(await Db.KeyExistsAsync(keys.Lease("eval:checkout@1.0.0")));
    }

    [Fact]
    public async Task GetAsync_SameRevisionWrittenAgainAfterAWriteWasLost_ReturnsTheStoredDocument()
    {
        // A failover can lose an acknowledged write; the same revision is then written again with other content.
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var beforeLoss = await Db.HashGetAllAsync(keys.Release(release.Id));
        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, []));
        await Db.HashSetAsync(keys.Release(release.Id), beforeLoss);
        var other = new RedisReleaseStore(redis.Redis, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);

        Assert.True(await other.TrySaveAsync(Next(release, ReleaseState.Aborted), release.Revision, []));

        Assert.Equal(ReleaseState.Aborted, (await store.GetAsync(release.Id))!.State);
    }

    [Fact]
    public async Task GetAsync_SavedByAWriterThatKeepsNoTag_ReturnsTheNewRevision()
    {
        // A ShipBot from before the tag (rolled back, or mid-upgrade) saves json and version only.
        var (store, prefix) = CreateStore();
        var keys = new RedisKeys(prefix);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var saved = Next(release, ReleaseState.AwaitingApproval);
        Assert.True(await store.TrySaveAsync(saved, release.Revision, []));
        var written = (string)(await Db.HashGetAsync(keys.Release(release.Id), "json"))!;
        var older = written.Replace("\"AwaitingApproval\"", "\"Aborted\"", StringComparison.Ordinal).Replace($"\"version\":{saved.Revision}", $"\"version\":{saved.Revision + 1}", StringComparison.Ordinal);

        await Db.HashSetAsync(keys.Release(release.Id), [new("json", older), new("version", saved.Revision + 1)]);

        var read = await store.GetAsync(release.Id);
        Assert.Equal(ReleaseState.Aborted, read!.State);
        Assert.Equal(saved.Revision + 1, read.Revision);
    }

    [Fact]
    public async Task GetAsync_ReadingsKeptAfterThisInstanceSaved_ShownOnTheRememberedRelease()
    {
        var (store, _) = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var verdict = new ShipBot.Core.Health.HealthVerdict(ShipBot.Core.Health.HealthStatus.Healthy, [], T0 + TimeSpan.FromMinutes(5));

        Assert.NotNull(await store.SetLatestHealthAsync(release.Id, release.Revision, verdict));

        Assert.Equal(T0 + TimeSpan.FromMinutes(5), (await store.GetAsync(release.Id))!.LastHealth?.At);
        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, []));
        Assert.Null((await store.GetAsync(release.Id))!.LastHealth);
    }

    [Fact]
    public async Task GetAsync_ReadCacheOff_ReadsTheDocumentEveryTime()
    {
        var (_, prefix) = CreateStore();
        var store = new RedisReleaseStore(redis.Redis, new RedisStoreOptions { KeyPrefix = prefix, ReadCacheEntries = 0 }, TimeProvider.System);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        var first = await store.GetAsync(release.Id);
        var second = await store.GetAsync(release.Id);

        Assert.NotSame(first, second);
        Assert.Equal(release.Revision, second!.Revision);
    }

    [Fact]
    public async Task GetAsync_MissingRelease_Null()
    {
        var (store, _) = CreateStore();

        Assert.Null(await store.GetAsync(new ReleaseId("nothing", "0.0.1")));
    }

    // ================================================================ helpers

    private (RedisReleaseStore Store, string Prefix) CreateStore()
    {
        var store = redis.CreateStore();
        var prefix = store.Keys.Active[1..store.Keys.Active.IndexOf('}', StringComparison.Ordinal)];
        return (store, prefix);
    }

    private string[] AllKeysMentioning(string prefix) =>
        [.. redis.Redis.GetServer(redis.Redis.GetEndPoints()[0]).Keys(pattern: "*").Select(k => k.ToString()).Where(k => k.Contains(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    internal static Release NewRelease(string service, string version) =>
        Release.Create(
            new ReleaseId(service, version),
            ReleaseKind.Standard,
            new Person("alice", "Alice"),
            new Conversation("console", "releases"),
            new ServicePolicy { Name = service, Requesters = ["alice"], Approvers = ["bob"], OnCall = ["carol"] },
            new ReleaseContract(["a change"], "notes", "roll back", [], []),
            null,
            T0).Next;

    internal static Release Next(Release release, ReleaseState state) =>
        release with { State = state, Revision = release.Revision + 1, UpdatedAt = release.UpdatedAt + TimeSpan.FromSeconds(1) };

    internal static AuditEntry Entry(string action, int second = 0) => new(T0 + TimeSpan.FromSeconds(second), "alice", action, $"{action} detail");
}
