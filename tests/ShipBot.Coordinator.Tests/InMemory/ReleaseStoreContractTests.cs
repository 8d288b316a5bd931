using Microsoft.Extensions.Time.Testing;
using ShipBot.Coordinator.InMemory;
using ShipBot.Core.Commands;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Tests.InMemory;

/// <summary>
/// The contract every <see cref="IReleaseStore"/> (and its <see cref="IIdempotencyStore"/>) keeps:
/// create with the one-rollout lock, compare-and-set saves that write the release, its audit, the
/// lock and a halt together or not at all, halts, signals and first-answer-wins idempotency.
/// Derive once per implementation (in-memory here, Redis in its own project) and return a fresh,
/// empty store from <see cref="CreateStore"/>.
/// </summary>
public abstract class ReleaseStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly ServicePolicy Policy = new()
    {
        Name = "checkout",
        Requesters = ["alice"],
        Approvers = ["bob"],
        OnCall = ["carol"],
    };

    /// <summary>A new, empty store.</summary>
    protected abstract IReleaseStore CreateStore();

    /// <summary>The store's idempotency side; by default the same object.</summary>
    protected virtual IIdempotencyStore IdempotencyOf(IReleaseStore store) =>
        store as IIdempotencyStore ?? throw new InvalidOperationException($"{store.GetType().Name} is not an IIdempotencyStore; override IdempotencyOf.");

    protected static Release NewRelease(string service, string version, DateTimeOffset? createdAt = null) =>
        Release.Create(
            new ReleaseId(service, version),
            ReleaseKind.Standard,
            new Person("alice", "Alice"),
            new Conversation("console", "releases"),
            Policy with { Name = service },
            new ReleaseContract(["a change"], "notes", "roll back", [], []),
            null,
            createdAt ?? T0).Next;

    /// <summary>The next stored version of <paramref name="release"/> in <paramref name="state"/> (the store does not judge transitions).</summary>
    protected static Release Next(Release release, ReleaseState state) =>
        release with { State = state, Version = release.Version + 1, UpdatedAt = release.UpdatedAt + TimeSpan.FromSeconds(1) };

    protected static AuditEntry Entry(string action, int second = 0) => new(T0 + TimeSpan.FromSeconds(second), "alice", action, $"{action} detail");

    // ================================================================ create and the service lock

    [Fact]
    public async Task TryCreateAsync_NewRelease_CreatedAndReadableWithItsAudit()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");

        var result = await store.TryCreateAsync(release, [Entry("Created")]);

        Assert.Equal(CreateOutcome.Created, result.Outcome);
        var stored = await store.GetAsync(release.Id);
        Assert.NotNull(stored);
        Assert.Equal(release.Id, stored.Id);
        Assert.Equal(release.Version, stored.Version);
        Assert.Equal(ReleaseState.Draft, stored.State);
        Assert.Equal("alice", stored.Requester.Id);
        Assert.Equal(["a change"], stored.Contract.Changes);
        Assert.Equal(release.Checklist.Count, stored.Checklist.Count);
        Assert.Equal("Created", Assert.Single(await store.GetAuditAsync(release.Id)).Action);
        Assert.Contains(await store.ListActiveAsync(), r => r.Id == release.Id);
        Assert.Contains(await store.ListByServiceAsync("checkout"), r => r.Id == release.Id);
    }

    [Fact]
    public async Task TryCreateAsync_ServiceHasAnActiveRelease_ServiceBusyNamingItAndNothingStored()
    {
        var store = CreateStore();
        var first = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(first, [Entry("Created")]);
        var second = NewRelease("checkout", "2.0.0");

        var result = await store.TryCreateAsync(second, [Entry("Created")]);

        Assert.Equal(CreateOutcome.ServiceBusy, result.Outcome);
        Assert.Equal(first.Id, result.Existing);
        Assert.Null(await store.GetAsync(second.Id));
        Assert.Empty(await store.GetAuditAsync(second.Id));
        Assert.Single(await store.ListByServiceAsync("checkout"));
    }

    [Fact]
    public async Task TryCreateAsync_OtherService_NotBlocked()
    {
        var store = CreateStore();
        await store.TryCreateAsync(NewRelease("checkout", "1.0.0"), []);

        var result = await store.TryCreateAsync(NewRelease("search", "1.0.0"), []);

        Assert.Equal(CreateOutcome.Created, result.Outcome);
        Assert.Equal(2, (await store.ListActiveAsync()).Count);
    }

    [Fact]
    public async Task TryCreateAsync_SameNameAgain_AlreadyExistsEvenAfterTheLockIsReleased()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.Rejected), release.Version, [Entry("Rejected", 1)]));

        var result = await store.TryCreateAsync(NewRelease("checkout", "1.0.0", T0 + TimeSpan.FromMinutes(1)), [Entry("Created", 2)]);

        Assert.Equal(CreateOutcome.AlreadyExists, result.Outcome);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(ReleaseState.Rejected, stored!.State);
        Assert.Equal(2, (await store.GetAuditAsync(release.Id)).Count);
    }

    [Theory]
    [InlineData(ReleaseState.Rejected)]
    [InlineData(ReleaseState.Aborted)]
    [InlineData(ReleaseState.RolledBack)]
    [InlineData(ReleaseState.Completed)]
    [InlineData(ReleaseState.Operating)]
    public async Task TrySaveAsync_StateNoLongerHoldsTheServiceLock_NextReleaseCanBeCreated(ReleaseState state)
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        Assert.True(await store.TrySaveAsync(Next(release, state), release.Version, []));
        var result = await store.TryCreateAsync(NewRelease("checkout", "1.1.0", T0 + TimeSpan.FromMinutes(1)), []);

        Assert.Equal(CreateOutcome.Created, result.Outcome);
    }

    [Theory]
    [InlineData(ReleaseState.AwaitingApproval)]
    [InlineData(ReleaseState.Canary)]
    [InlineData(ReleaseState.RollingBack)]
    [InlineData(ReleaseState.Halted)]
    [InlineData(ReleaseState.Paused)]
    public async Task TrySaveAsync_StateStillHoldsTheServiceLock_NextReleaseIsRefused(ReleaseState state)
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        Assert.True(await store.TrySaveAsync(Next(release, state), release.Version, []));
        var result = await store.TryCreateAsync(NewRelease("checkout", "1.1.0"), []);

        Assert.Equal(CreateOutcome.ServiceBusy, result.Outcome);
        Assert.Equal(release.Id, result.Existing);
    }

    // ================================================================ compare-and-set

    [Fact]
    public async Task TrySaveAsync_ExpectedVersionMatches_StoresTheNextVersion()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var next = Next(release, ReleaseState.AwaitingApproval);

        var saved = await store.TrySaveAsync(next, release.Version, [Entry("ReadyForApproval")]);

        Assert.True(saved);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(next.Version, stored!.Version);
        Assert.Equal(ReleaseState.AwaitingApproval, stored.State);
    }

    [Fact]
    public async Task TrySaveAsync_WrongExpectedVersion_FalseAndNothingChanged()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        var current = Next(release, ReleaseState.AwaitingApproval);
        Assert.True(await store.TrySaveAsync(current, release.Version, [Entry("ReadyForApproval", 1)]));
        var stale = Next(release, ReleaseState.Rejected);
        var halt = new ServiceHalt("checkout", "should not be set", "carol", T0);

        var saved = await store.TrySaveAsync(stale, release.Version, [Entry("Rejected", 2)], halt);

        Assert.False(saved);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(current.Version, stored!.Version);
        Assert.Equal(ReleaseState.AwaitingApproval, stored.State);
        Assert.Equal(["Created", "ReadyForApproval"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
        Assert.Empty(await store.GetHaltsAsync());
        // the lock was not released by the refused save
        Assert.Equal(CreateOutcome.ServiceBusy, (await store.TryCreateAsync(NewRelease("checkout", "2.0.0"), [])).Outcome);
    }

    [Fact]
    public async Task TrySaveAsync_UnknownRelease_False()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");

        Assert.False(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Version, [Entry("x")]));

        Assert.Null(await store.GetAsync(release.Id));
        Assert.Empty(await store.GetAuditAsync(release.Id));
    }

    [Fact]
    public async Task TrySaveAsync_FiftyConcurrentWritersWithTheSameVersion_ExactlyOneWins()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() =>
            store.TrySaveAsync(
                Next(release, ReleaseState.AwaitingApproval) with { Approvals = [new Approval(new Person($"u{i}", $"U{i}"), T0)] },
                release.Version,
                [Entry($"writer-{i}")]))));

        Assert.Single(results, r => r);
        var winner = Array.IndexOf(results, true);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(release.Version + 1, stored!.Version);
        Assert.Equal($"u{winner}", Assert.Single(stored.Approvals).By.Id);
        Assert.Equal($"writer-{winner}", Assert.Single(await store.GetAuditAsync(release.Id)).Action);
    }

    // ================================================================ audit

    [Fact]
    public async Task AuditEntries_WrittenWithCreateSaveAndAppend_ReadBackInOrder()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created", 0)]);
        await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Version, [Entry("ItemSettled", 1), Entry("ReadyForApproval", 2)]);
        await store.AppendAuditAsync(release.Id, Entry("chat post", 3));
        await store.TrySaveAsync(Next(Next(release, ReleaseState.AwaitingApproval), ReleaseState.Staging), release.Version + 1, [Entry("Approved", 4)]);

        var audit = await store.GetAuditAsync(release.Id);

        Assert.Equal(["Created", "ItemSettled", "ReadyForApproval", "chat post", "Approved"], audit.Select(a => a.Action));
        Assert.Equal(Entry("ItemSettled", 1), audit[1]);
    }

    [Fact]
    public async Task GetAsync_UnknownRelease_NullAndEmptyAudit()
    {
        var store = CreateStore();
        var id = new ReleaseId("nosuch", "1.0.0");

        Assert.Null(await store.GetAsync(id));
        Assert.Empty(await store.GetAuditAsync(id));
        Assert.Empty(await store.ListByServiceAsync("nosuch"));
    }

    // ================================================================ listing

    [Fact]
    public async Task ListActiveAsync_MixedStates_NonTerminalOnlyOldestFirstIncludingOperating()
    {
        var store = CreateStore();
        var operating = NewRelease("search", "1.0.0", T0);
        var rejected = NewRelease("billing", "1.0.0", T0 + TimeSpan.FromMinutes(1));
        var draft = NewRelease("checkout", "1.0.0", T0 + TimeSpan.FromMinutes(2));
        await store.TryCreateAsync(draft, []);
        await store.TryCreateAsync(rejected, []);
        await store.TryCreateAsync(operating, []);
        await store.TrySaveAsync(Next(operating, ReleaseState.Operating), operating.Version, []);
        await store.TrySaveAsync(Next(rejected, ReleaseState.Rejected), rejected.Version, []);

        var active = await store.ListActiveAsync();

        Assert.Equal([operating.Id, draft.Id], active.Select(r => r.Id));
    }

    [Fact]
    public async Task ListByServiceAsync_SeveralReleases_NewestFirstOnlyThatService()
    {
        var store = CreateStore();
        var old = NewRelease("checkout", "1.0.0", T0);
        await store.TryCreateAsync(old, []);
        await store.TrySaveAsync(Next(old, ReleaseState.Aborted), old.Version, []);
        var newer = NewRelease("checkout", "1.1.0", T0 + TimeSpan.FromHours(1));
        await store.TryCreateAsync(newer, []);
        await store.TryCreateAsync(NewRelease("search", "9.0.0", T0 + TimeSpan.FromHours(2)), []);

        var releases = await store.ListByServiceAsync("checkout");

        Assert.Equal([newer.Id, old.Id], releases.Select(r => r.Id));
    }

    // ================================================================ halts

    [Fact]
    public async Task TrySaveAsync_WithHalt_SetsTheHaltInTheSameWrite()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var halt = new ServiceHalt("checkout", "automatic rollback", "shipbot", T0);

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Version, [Entry("RollbackStarted")], halt));

        Assert.Equal(halt, Assert.Single(await store.GetHaltsAsync()));
    }

    [Fact]
    public async Task TrySaveAsync_WithHaltWhenAlreadyHalted_KeepsTheFirstHalt()
    {
        var store = CreateStore();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var first = new ServiceHalt("checkout", "on-call halted", "carol", T0);
        Assert.True(await store.TrySetHaltAsync(first));

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Version, [], new ServiceHalt("checkout", "rollback", "shipbot", T0)));

        Assert.Equal(first, Assert.Single(await store.GetHaltsAsync()));
    }

    [Fact]
    public async Task TrySetHaltAsync_AlreadyHalted_FalseAndTheExistingHaltStays()
    {
        var store = CreateStore();
        var first = new ServiceHalt("checkout", "bad deploy", "carol", T0);

        Assert.True(await store.TrySetHaltAsync(first));
        Assert.False(await store.TrySetHaltAsync(new ServiceHalt("checkout", "second", "dave", T0 + TimeSpan.FromMinutes(1))));

        Assert.Equal(first, Assert.Single(await store.GetHaltsAsync()));
    }

    [Fact]
    public async Task TrySetHaltAsync_FreezeAndServiceHalt_AreSeparateScopes()
    {
        var store = CreateStore();
        var service = new ServiceHalt("checkout", "bad deploy", "carol", T0);
        var freeze = new ServiceHalt(ServiceHalt.Everything, "holiday freeze", "dave", T0 + TimeSpan.FromMinutes(1));

        Assert.True(await store.TrySetHaltAsync(service));
        Assert.True(await store.TrySetHaltAsync(freeze));

        var halts = await store.GetHaltsAsync();
        Assert.Equal(2, halts.Count);
        Assert.Contains(service, halts);
        Assert.Contains(halts, h => h.IsFreeze && h == freeze);
    }

    [Fact]
    public async Task RemoveHaltAsync_Halted_ReturnsTheLiftedHaltThenNull()
    {
        var store = CreateStore();
        var halt = new ServiceHalt("checkout", "bad deploy", "carol", T0);
        await store.TrySetHaltAsync(halt);
        await store.TrySetHaltAsync(new ServiceHalt("search", "other", "carol", T0));

        var lifted = await store.RemoveHaltAsync("checkout");
        var again = await store.RemoveHaltAsync("checkout");

        Assert.Equal(halt, lifted);
        Assert.Null(again);
        Assert.Equal("search", Assert.Single(await store.GetHaltsAsync()).Service);
        Assert.True(await store.TrySetHaltAsync(new ServiceHalt("checkout", "again", "carol", T0)));
    }

    // ================================================================ signals

    [Fact]
    public async Task Signals_AddUpdateList_OpenSignalReplacedByItsFilledInVersion()
    {
        var store = CreateStore();
        var open = new Signal("incident:checkout@1.0.1", SignalKind.Incident, "checkout@1.0.1", string.Empty, "alice", T0, Open: true);
        var friction = new Signal("friction:1", SignalKind.Friction, null, "approvals are slow", "bob", T0 + TimeSpan.FromMinutes(1));
        await store.AddSignalAsync(open);
        await store.AddSignalAsync(friction);

        var filled = open with { Text = "expired certificate", By = "carol", At = T0 + TimeSpan.FromHours(1), Open = false };
        await store.UpdateSignalAsync(filled);

        var signals = await store.ListSignalsAsync();
        Assert.Equal(2, signals.Count);
        Assert.Contains(filled, signals);
        Assert.Contains(friction, signals);
        Assert.DoesNotContain(signals, s => s.Open);
    }

    [Fact]
    public async Task ListSignalsAsync_Empty_Empty()
    {
        var store = CreateStore();

        Assert.Empty(await store.ListSignalsAsync());
    }

    // ================================================================ idempotency

    [Fact]
    public async Task IdempotencySetAsync_TwiceForOneRequest_FirstAnswerWins()
    {
        var idempotency = IdempotencyOf(CreateStore());

        await idempotency.SetAsync("req-1", "{\"text\":\"first\"}", TimeSpan.FromHours(1));
        await idempotency.SetAsync("req-1", "{\"text\":\"second\"}", TimeSpan.FromHours(1));
        await idempotency.SetAsync("req-2", "{\"text\":\"other\"}", TimeSpan.FromHours(1));

        Assert.Equal("{\"text\":\"first\"}", await idempotency.GetAsync("req-1"));
        Assert.Equal("{\"text\":\"other\"}", await idempotency.GetAsync("req-2"));
        Assert.Null(await idempotency.GetAsync("req-3"));
    }

    [Fact]
    public async Task IdempotencySetAsync_ConcurrentAnswersForOneRequest_OneAnswerForEveryone()
    {
        var idempotency = IdempotencyOf(CreateStore());

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => idempotency.SetAsync("req-race", $"answer-{i}", TimeSpan.FromHours(1)))));

        var answer = await idempotency.GetAsync("req-race");
        Assert.NotNull(answer);
        Assert.StartsWith("answer-", answer, StringComparison.Ordinal);
        Assert.Equal(answer, await idempotency.GetAsync("req-race"));
    }
}

/// <summary>The contract for the embedded in-memory store, plus its clock-driven expiry of request ids.</summary>
public sealed class InMemoryReleaseStoreContractTests : ReleaseStoreContract
{
    private readonly FakeTimeProvider _time = new(T0);

    protected override IReleaseStore CreateStore() => new InMemoryReleaseStore(_time);

    [Fact]
    public async Task IdempotencyGetAsync_AfterTheWindow_ForgottenAndANewAnswerCanBeKept()
    {
        IIdempotencyStore store = new InMemoryReleaseStore(_time);
        await store.SetAsync("req-1", "first", TimeSpan.FromMinutes(5));

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("first", await store.GetAsync("req-1"));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await store.GetAsync("req-1"));

        await store.SetAsync("req-1", "second", TimeSpan.FromMinutes(5));
        Assert.Equal("second", await store.GetAsync("req-1"));
    }
}
