using System.Text.Json;
using System.Text.Json.Nodes;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using StackExchange.Redis;

namespace ShipBot.Redis.Tests;

/// <summary>
/// Documents exactly as an earlier ShipBot wrote them to Redis (Fixtures/, captured before the
/// stored formats gained a schema version) are read by today's store and written back without
/// losing or changing any value. New fields may be added; none may be dropped or renamed, so a
/// rolled-forward ShipBot reads what its predecessor left, and the predecessor (which ignores
/// unknown fields) reads what it writes.
/// </summary>
public sealed class StoredDocumentFixtureTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly string FixtureDirectory = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static TheoryData<string> ReleaseFixtures()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(FixtureDirectory, "release-*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Fact]
    public void Fixtures_Always_CoverTheStatesThatMatterForARollingUpgrade()
    {
        var states = Directory.GetFiles(FixtureDirectory, "release-*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!["state"]!.GetValue<string>()).ToHashSet();

        Assert.Superset(
            new HashSet<string> { "Draft", "AwaitingApproval", "Staging", "Canary", "EarlyAdopters", "RollingBack", "RolledBack", "Halted", "Paused", "Validating", "Operating", "Completed", "Rejected", "Aborted" },
            states);
    }

    [Theory]
    [MemberData(nameof(ReleaseFixtures))]
    public async Task Release_StoredByAnEarlierVersion_IsReadAndWrittenBackWithEveryValue(string file)
    {
        var json = Read(file);
        var (store, keys) = CreateStore();
        var id = ReleaseIdOf(json);
        var version = JsonNode.Parse(json)!["version"]!.GetValue<long>();

        // As the earlier version left it, one revision behind, so today's store may compare-and-set over it.
        await Db.HashSetAsync(keys.Release(id), [new HashEntry("json", json), new HashEntry("version", version - 1)]);
        var release = await store.GetAsync(id);
        Assert.NotNull(release);
        Assert.Equal(id, release.Id);
        Assert.Equal(version, release.Revision);
        Assert.True(await store.TrySaveAsync(release, version - 1, []));

        var written = (string)(await Db.HashGetAsync(keys.Release(id), "json"))!;
        JsonAssert.Preserves(json, written);
        AssertVersioned(written);
    }

    [Fact]
    public async Task Release_PausedInValidationByAnEarlierVersion_ResumesWithTheValidationWindowItHadLeft()
    {
        // An earlier ShipBot kept the validation window left in "remainingBake", the field that now holds bake time only.
        var json = Read("release-paused-validating.json");
        var (store, keys) = CreateStore();
        var id = ReleaseIdOf(json);
        await Db.HashSetAsync(keys.Release(id), [new HashEntry("json", json), new HashEntry("version", 19)]);

        var release = await store.GetAsync(id);

        Assert.NotNull(release);
        Assert.Equal(TimeSpan.FromMinutes(10), release.RemainingValidation);
        Assert.Null(release.RemainingBake);
        var at = new DateTimeOffset(2025, 3, 3, 11, 0, 0, TimeSpan.Zero);
        var resumed = release.Resume(new Person("U01ALICE", "alice"), serviceHalted: false, at).Next;
        Assert.Equal(ReleaseState.Validating, resumed.State);
        Assert.Equal(at + TimeSpan.FromMinutes(10), resumed.ValidationEndsAt);
    }

    [Fact]
    public async Task AuditEntry_StoredByAnEarlierVersion_IsReadAndWrittenBackWithEveryValue()
    {
        var json = Read("audit-entry.json");
        var (store, keys) = CreateStore();
        var id = new ReleaseId("checkout", "1.4.2");
        await Db.HashSetAsync(keys.Release(id), "json", Read("release-canary.json"));
        await Db.StreamAddAsync(keys.Audit(id), "e", json);

        var entry = Assert.Single(await store.GetAuditAsync(id));
        await store.AppendAuditAsync(id, entry);

        var written = await Db.StreamRangeAsync(keys.Audit(id));
        Assert.Equal(2, written.Length);
        JsonAssert.Preserves(json, (string)written[1]["e"]!);
        AssertVersioned((string)written[1]["e"]!);
    }

    [Theory]
    [InlineData("halt.json")]
    [InlineData("halt-freeze.json")]
    public async Task Halt_StoredByAnEarlierVersion_IsReadAndWrittenBackWithEveryValue(string file)
    {
        var json = Read(file);
        var (store, keys) = CreateStore();
        var service = JsonNode.Parse(json)!["service"]!.GetValue<string>();
        await Db.HashSetAsync(keys.Halts, service, json);

        var halt = Assert.Single(await store.GetHaltsAsync());
        Assert.Equal(halt, await store.RemoveHaltAsync(service));
        Assert.True(await store.TrySetHaltAsync(halt));

        JsonAssert.Preserves(json, (string)(await Db.HashGetAsync(keys.Halts, service))!);
        AssertVersioned((string)(await Db.HashGetAsync(keys.Halts, service))!);
    }

    [Theory]
    [InlineData("signal-incident-open.json")]
    [InlineData("signal-customer.json")]
    public async Task Signal_StoredByAnEarlierVersion_IsReadAndWrittenBackWithEveryValue(string file)
    {
        var json = Read(file);
        var (store, keys) = CreateStore();
        var id = JsonNode.Parse(json)!["id"]!.GetValue<string>();
        await Db.HashSetAsync(keys.Signals, id, json);

        var signal = Assert.Single(await store.ListSignalsAsync());
        await Db.KeyDeleteAsync(keys.Signals);
        await store.UpdateSignalAsync(signal);

        JsonAssert.Preserves(json, (string)(await Db.HashGetAsync(keys.Signals, id))!);
        AssertVersioned((string)(await Db.HashGetAsync(keys.Signals, id))!);
    }

    [Theory]
    [InlineData("idempotency-answer-card.json")]
    [InlineData("idempotency-answer-private.json")]
    public async Task IdempotencyAnswer_StoredByAnEarlierVersion_IsReadAndWrittenBackWithEveryValue(string file)
    {
        var json = Read(file);
        var (store, keys) = CreateStore();
        IIdempotencyStore answers = store;
        await Db.StringSetAsync(keys.Request("old"), json);

        // The command pipeline's own codec: what a duplicate request gets back.
        var reply = JsonSerializer.Deserialize<CommandReply>((await answers.GetAsync("old"))!, ShipBotJson.Options);
        Assert.NotNull(reply);
        Assert.True(await answers.TryClaimAsync("new", TimeSpan.FromMinutes(1)));
        await answers.SetAsync("new", JsonSerializer.Serialize(reply, ShipBotJson.Options), TimeSpan.FromMinutes(1));

        JsonAssert.Preserves(json, (string)(await Db.StringGetAsync(keys.Request("new")))!);
        AssertVersioned((string)(await Db.StringGetAsync(keys.Request("new")))!);

        // What a duplicate request gets back is the same reply, whichever version stored it.
        var again = JsonSerializer.Deserialize<CommandReply>((await answers.GetAsync("new"))!, ShipBotJson.Options);
        Assert.Equal(JsonSerializer.Serialize(reply, ShipBotJson.Options), JsonSerializer.Serialize(again, ShipBotJson.Options));
    }

    [Theory]
    [MemberData(nameof(ReleaseFixtures))]
    public void Release_FixtureFormat_IsSchemaVersionOne(string file)
    {
        Assert.Equal(1, StoredDocument.VersionOf(Read(file)));
    }

    [Theory]
    [InlineData("{}", "{\"schemaVersion\":1}")]
    [InlineData("{\"a\":1}", "{\"schemaVersion\":1,\"a\":1}")]
    [InlineData("{\"schemaVersion\":1,\"a\":1}", "{\"schemaVersion\":1,\"a\":1}")]
    [InlineData("[1,2]", "[1,2]")]
    [InlineData("plain text", "plain text")]
    public void Versioned_Document_GetsTheVersionFirstOnceAndNothingElseChanges(string json, string expected)
    {
        Assert.Equal(expected, StoredDocument.Versioned(json));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"a\":1}")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void Unversioned_VersionedDocument_IsTheOriginal(string json)
    {
        Assert.Equal(json, StoredDocument.Unversioned(StoredDocument.Versioned(json)));
    }

    private static void AssertVersioned(string written)
    {
        Assert.StartsWith("{\"schemaVersion\":1,", written, StringComparison.Ordinal);
        Assert.Equal(StoredDocument.SchemaVersion, StoredDocument.VersionOf(written));
    }

    private IDatabase Db => redis.Redis.GetDatabase();

    private (RedisReleaseStore Store, RedisKeys Keys) CreateStore()
    {
        var store = redis.CreateStore();
        return (store, store.Keys);
    }

    private static ReleaseId ReleaseIdOf(string json)
    {
        var id = JsonNode.Parse(json)!["id"]!;
        return new ReleaseId(id["service"]!.GetValue<string>(), id["version"]!.GetValue<string>());
    }

    private static string Read(string file) => File.ReadAllText(Path.Combine(FixtureDirectory, file)).Trim();
}
