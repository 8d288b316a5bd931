using ShipBot.Core.Checklists;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using Xunit;

namespace ShipBot.Testing;

/// <summary>
/// The contract every <see cref="IReleaseStore"/> (with its <see cref="IIdempotencyStore"/> and
/// <see cref="ILeaseStore"/>) keeps: create with the one-rollout lock, compare-and-set saves that
/// write the release, its audit, the lock and a halt together or not at all, halts, signals,
/// claim-then-answer idempotency and owner-checked leases. Derive once per implementation (the
/// in-memory store in ShipBot.Coordinator.Tests, Redis in ShipBot.Redis.Tests) and return fresh,
/// empty, isolated stores from <see cref="CreateAsync"/>. Nothing here waits for time to pass:
/// expiry is tested per implementation (a fake clock in memory, real short TTLs on Redis).
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

    /// <summary>A new, empty store; the three views are usually the same object.</summary>
    protected abstract Task<(IReleaseStore Store, IIdempotencyStore Idempotency, ILeaseStore Leases)> CreateAsync();

    /// <summary>A new, empty store that keeps at most <paramref name="maxAuditEntries"/> audit entries per release.</summary>
    protected abstract Task<IReleaseStore> CreateWithAuditCapAsync(int maxAuditEntries);

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
        release with { State = state, Revision = release.Revision + 1, UpdatedAt = release.UpdatedAt + TimeSpan.FromSeconds(1) };

    protected static AuditEntry Entry(string action, int second = 0) => new(T0 + TimeSpan.FromSeconds(second), "alice", action, $"{action} detail");

    // ================================================================ create and the service lock

    [Fact]
    public async Task TryCreateAsync_NewRelease_CreatedAndReadableWithItsAudit()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");

        var result = await store.TryCreateAsync(release, [Entry("Created")]);

        Assert.Equal(CreateOutcome.Created, result.Outcome);
        var stored = await store.GetAsync(release.Id);
        Assert.NotNull(stored);
        Assert.Equal(release.Id, stored.Id);
        Assert.Equal(release.Revision, stored.Revision);
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
        var (store, _, _) = await CreateAsync();
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
        var (store, _, _) = await CreateAsync();
        await store.TryCreateAsync(NewRelease("checkout", "1.0.0"), []);

        var result = await store.TryCreateAsync(NewRelease("search", "1.0.0"), []);

        Assert.Equal(CreateOutcome.Created, result.Outcome);
        Assert.Equal(2, (await store.ListActiveAsync()).Count);
    }

    [Fact]
    public async Task TryCreateAsync_SameNameAgain_AlreadyExistsEvenAfterTheLockIsReleased()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.Rejected), release.Revision, [Entry("Rejected", 1)]));

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
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        Assert.True(await store.TrySaveAsync(Next(release, state), release.Revision, []));
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
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        Assert.True(await store.TrySaveAsync(Next(release, state), release.Revision, []));
        var result = await store.TryCreateAsync(NewRelease("checkout", "1.1.0"), []);

        Assert.Equal(CreateOutcome.ServiceBusy, result.Outcome);
        Assert.Equal(release.Id, result.Existing);
    }

    // ================================================================ compare-and-set

    [Fact]
    public async Task TrySaveAsync_ExpectedVersionMatches_StoresTheNextVersion()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var next = Next(release, ReleaseState.AwaitingApproval);

        var saved = await store.TrySaveAsync(next, release.Revision, [Entry("ReadyForApproval")]);

        Assert.True(saved);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(next.Revision, stored!.Revision);
        Assert.Equal(ReleaseState.AwaitingApproval, stored.State);
    }

    [Fact]
    public async Task TrySaveAsync_WrongExpectedVersion_FalseAndNothingChanged()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        var current = Next(release, ReleaseState.AwaitingApproval);
        Assert.True(await store.TrySaveAsync(current, release.Revision, [Entry("ReadyForApproval", 1)]));
        var stale = Next(release, ReleaseState.Rejected);
        var halt = new ServiceHalt("checkout", "should not be set", "carol", T0);

        var saved = await store.TrySaveAsync(stale, release.Revision, [Entry("Rejected", 2)], halt);

        Assert.False(saved);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(current.Revision, stored!.Revision);
        Assert.Equal(ReleaseState.AwaitingApproval, stored.State);
        Assert.Equal(["Created", "ReadyForApproval"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
        Assert.Empty(await store.GetHaltsAsync());
        // the lock was not released by the refused save
        Assert.Equal(CreateOutcome.ServiceBusy, (await store.TryCreateAsync(NewRelease("checkout", "2.0.0"), [])).Outcome);
    }

    [Fact]
    public async Task TrySaveAsync_UnknownRelease_False()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");

        Assert.False(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, [Entry("x")]));

        Assert.Null(await store.GetAsync(release.Id));
        Assert.Empty(await store.GetAuditAsync(release.Id));
    }

    [Fact]
    public async Task TrySaveAsync_FiftyConcurrentWritersWithTheSameVersion_ExactlyOneWins()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() =>
            store.TrySaveAsync(
                Next(release, ReleaseState.AwaitingApproval) with { Approvals = [new Approval(new Person($"u{i}", $"U{i}"), T0)] },
                release.Revision,
                [Entry($"writer-{i}")]))));

        Assert.Single(results, r => r);
        var winner = Array.IndexOf(results, true);
        var stored = await store.GetAsync(release.Id);
        Assert.Equal(release.Revision + 1, stored!.Revision);
        Assert.Equal($"u{winner}", Assert.Single(stored.Approvals).By.Id);
        Assert.Equal($"writer-{winner}", Assert.Single(await store.GetAuditAsync(release.Id)).Action);
    }

    // ================================================================ audit

    [Fact]
    public async Task AuditEntries_WrittenWithCreateSaveAndAppend_ReadBackInOrder()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created", 0)]);
        await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, [Entry("ItemSettled", 1), Entry("ReadyForApproval", 2)]);
        await store.AppendAuditAsync(release.Id, Entry("chat post", 3));
        await store.TrySaveAsync(Next(Next(release, ReleaseState.AwaitingApproval), ReleaseState.Staging), release.Revision + 1, [Entry("Approved", 4)]);

        var audit = await store.GetAuditAsync(release.Id);

        Assert.Equal(["Created", "ItemSettled", "ReadyForApproval", "chat post", "Approved"], audit.Select(a => a.Action));
        Assert.Equal(Entry("ItemSettled", 1), audit[1]);
    }

    [Fact]
    public async Task GetAsync_UnknownRelease_NullAndEmptyAudit()
    {
        var (store, _, _) = await CreateAsync();
        var id = new ReleaseId("nosuch", "1.0.0");

        Assert.Null(await store.GetAsync(id));
        Assert.Empty(await store.GetAuditAsync(id));
        Assert.Empty(await store.ListByServiceAsync("nosuch"));
    }

    // ================================================================ listing

    [Fact]
    public async Task ListActiveAsync_MixedStates_NonTerminalOnlyOldestFirstIncludingOperating()
    {
        var (store, _, _) = await CreateAsync();
        var operating = NewRelease("search", "1.0.0", T0);
        var rejected = NewRelease("billing", "1.0.0", T0 + TimeSpan.FromMinutes(1));
        var draft = NewRelease("checkout", "1.0.0", T0 + TimeSpan.FromMinutes(2));
        await store.TryCreateAsync(draft, []);
        await store.TryCreateAsync(rejected, []);
        await store.TryCreateAsync(operating, []);
        await store.TrySaveAsync(Next(operating, ReleaseState.Operating), operating.Revision, []);
        await store.TrySaveAsync(Next(rejected, ReleaseState.Rejected), rejected.Revision, []);

        var active = await store.ListActiveAsync();

        Assert.Equal([operating.Id, draft.Id], active.Select(r => r.Id));
    }

    [Fact]
    public async Task ListActiveIdsOfServiceAsync_MixedServicesAndStates_ThatServicesNonTerminalOnlyOldestFirst()
    {
        var (store, _, _) = await CreateAsync();
        var operating = NewRelease("checkout", "1.0.0", T0);
        var aborted = NewRelease("checkout", "1.1.0", T0 + TimeSpan.FromMinutes(1));
        var other = NewRelease("search", "1.0.0", T0 + TimeSpan.FromMinutes(2));
        var rollout = NewRelease("checkout", "1.2.0", T0 + TimeSpan.FromMinutes(3));
        await store.TryCreateAsync(operating, []);
        await store.TrySaveAsync(Next(operating, ReleaseState.Operating), operating.Revision, []);
        await store.TryCreateAsync(aborted, []);
        await store.TrySaveAsync(Next(aborted, ReleaseState.Aborted), aborted.Revision, []);
        await store.TryCreateAsync(other, []);
        await store.TryCreateAsync(rollout, []);

        Assert.Equal([operating.Id, rollout.Id], await store.ListActiveIdsOfServiceAsync("checkout"));
        Assert.Equal([other.Id], await store.ListActiveIdsOfServiceAsync("search"));
        Assert.Empty(await store.ListActiveIdsOfServiceAsync("nosuch"));
    }

    [Fact]
    public async Task ListActiveIdsOfServiceAsync_ReleaseFinishes_LeavesTheIndexInTheSameSave()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.Equal([release.Id], await store.ListActiveIdsOfServiceAsync("checkout"));

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RolledBack), release.Revision, [Entry("RolledBack")]));

        Assert.Empty(await store.ListActiveIdsOfServiceAsync("checkout"));
        Assert.Empty(await store.ListActiveIdsAsync());
    }

    // ================================================================ latest readings

    private static HealthVerdict Healthy(double errorRate, int second) =>
        new(HealthStatus.Healthy, [new CheckResult("error_rate", CheckStatus.Pass, errorRate, "≤ 5 %", null, BreachAction.Rollback, "test")], T0 + TimeSpan.FromSeconds(second));

    [Fact]
    public async Task SetLatestHealthAsync_SameVersion_ReadsShowTheReadingsWithoutANewVersionOrAudit()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        var stored = Next(release, ReleaseState.Canary) with { LastHealth = Healthy(0.01, 10) };
        await store.TrySaveAsync(stored, release.Revision, []);

        Assert.NotNull(await store.SetLatestHealthAsync(release.Id, stored.Revision, Healthy(0.02, 40)));

        var read = await store.GetAsync(release.Id);
        Assert.NotNull(read);
        Assert.Equal(stored.Revision, read.Revision);
        Assert.Equal(0.02, Assert.Single(read.LastHealth!.Checks).Value);
        Assert.Equal(T0 + TimeSpan.FromSeconds(40), read.LastHealth.At);
        Assert.Equal(0.02, Assert.Single(Assert.Single(await store.ListActiveAsync()).LastHealth!.Checks).Value);
        Assert.Equal(0.02, Assert.Single(Assert.Single(await store.ListByServiceAsync("checkout")).LastHealth!.Checks).Value);
        Assert.Single(await store.GetAuditAsync(release.Id));
    }

    [Fact]
    public async Task SetLatestHealthAsync_StaleVersionOrNoRelease_Ignored()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var stored = Next(release, ReleaseState.Canary) with { LastHealth = Healthy(0.01, 10) };
        await store.TrySaveAsync(stored, release.Revision, []);

        Assert.Null(await store.SetLatestHealthAsync(release.Id, release.Revision, Healthy(0.03, 40)));
        Assert.Null(await store.SetLatestHealthAsync(new ReleaseId("nosuch", "1.0.0"), 1, Healthy(0.03, 40)));

        Assert.Equal(0.01, Assert.Single((await store.GetAsync(release.Id))!.LastHealth!.Checks).Value);
        Assert.Null(await store.GetAsync(new ReleaseId("nosuch", "1.0.0")));
    }

    [Fact]
    public async Task SetLatestHealthAsync_ThenASave_TheSavedReleaseWinsAndOldReadingsNeverReturn()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var canary = Next(release, ReleaseState.Canary) with { LastHealth = Healthy(0.01, 10) };
        await store.TrySaveAsync(canary, release.Revision, []);
        await store.SetLatestHealthAsync(release.Id, canary.Revision, Healthy(0.02, 40));

        // A save whose own verdict is older than the readings (a pause, say) still replaces them.
        var paused = Next(canary, ReleaseState.Paused);
        Assert.True(await store.TrySaveAsync(paused, canary.Revision, [Entry("Paused")]));

        var read = await store.GetAsync(release.Id);
        Assert.Equal(paused.Revision, read!.Revision);
        Assert.Equal(0.01, Assert.Single(read.LastHealth!.Checks).Value);
    }

    [Fact]
    public async Task ListByServiceAsync_SeveralReleases_NewestFirstOnlyThatService()
    {
        var (store, _, _) = await CreateAsync();
        var old = NewRelease("checkout", "1.0.0", T0);
        await store.TryCreateAsync(old, []);
        await store.TrySaveAsync(Next(old, ReleaseState.Aborted), old.Revision, []);
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
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var halt = new ServiceHalt("checkout", "automatic rollback", "shipbot", T0);

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Revision, [Entry("RollbackStarted")], halt));

        Assert.Equal(halt, Assert.Single(await store.GetHaltsAsync()));
    }

    [Fact]
    public async Task TrySaveAsync_WithHaltWhenAlreadyHalted_KeepsTheFirstHalt()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var first = new ServiceHalt("checkout", "on-call halted", "carol", T0);
        Assert.True(await store.TrySetHaltAsync(first));

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Revision, [], new ServiceHalt("checkout", "rollback", "shipbot", T0)));

        Assert.Equal(first, Assert.Single(await store.GetHaltsAsync()));
    }

    [Fact]
    public async Task TrySetHaltAsync_AlreadyHalted_FalseAndTheExistingHaltStays()
    {
        var (store, _, _) = await CreateAsync();
        var first = new ServiceHalt("checkout", "bad deploy", "carol", T0);

        Assert.True(await store.TrySetHaltAsync(first));
        Assert.False(await store.TrySetHaltAsync(new ServiceHalt("checkout", "second", "dave", T0 + TimeSpan.FromMinutes(1))));

        Assert.Equal(first, Assert.Single(await store.GetHaltsAsync()));
    }

    [Fact]
    public async Task TrySetHaltAsync_FreezeAndServiceHalt_AreSeparateScopes()
    {
        var (store, _, _) = await CreateAsync();
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
        var (store, _, _) = await CreateAsync();
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
        var (store, _, _) = await CreateAsync();
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
        var (store, _, _) = await CreateAsync();

        Assert.Empty(await store.ListSignalsAsync());
    }

    // ================================================================ idempotency

    [Fact]
    public async Task IdempotencySetAsync_TwiceForOneRequest_FirstAnswerWins()
    {
        var (_, idempotency, _) = await CreateAsync();

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
        var (_, idempotency, _) = await CreateAsync();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => idempotency.SetAsync("req-race", $"answer-{i}", TimeSpan.FromHours(1)))));

        var answer = await idempotency.GetAsync("req-race");
        Assert.NotNull(answer);
        Assert.StartsWith("answer-", answer, StringComparison.Ordinal);
        Assert.Equal(answer, await idempotency.GetAsync("req-race"));
    }

    // ================================================================ more of create and the service lock

    [Fact]
    public async Task TryCreateAsync_TwentyConcurrentVersionsOfOneService_ExactlyOneCreatedTheOthersBusyNamingIt()
    {
        var (store, _, _) = await CreateAsync();
        var releases = Enumerable.Range(0, 20).Select(i => NewRelease("checkout", $"1.0.{i}", T0 + TimeSpan.FromSeconds(i))).ToList();

        var results = await Task.WhenAll(releases.Select(r => Task.Run(() => store.TryCreateAsync(r, [Entry($"Created {r.Id}")]))));

        var winner = releases[Assert.Single(Enumerable.Range(0, 20), i => results[i].Outcome == CreateOutcome.Created)];
        Assert.All(results.Where(r => r.Outcome != CreateOutcome.Created), r =>
        {
            Assert.Equal(CreateOutcome.ServiceBusy, r.Outcome);
            Assert.Equal(winner.Id, r.Existing);
        });
        Assert.Equal([winner.Id], (await store.ListByServiceAsync("checkout")).Select(r => r.Id));
        Assert.Equal([winner.Id], await store.ListActiveIdsAsync());
        foreach (var loser in releases.Where(r => r.Id != winner.Id))
        {
            Assert.Null(await store.GetAsync(loser.Id));
            Assert.Empty(await store.GetAuditAsync(loser.Id));
        }

        Assert.Equal($"Created {winner.Id}", Assert.Single(await store.GetAuditAsync(winner.Id)).Action);
    }

    [Fact]
    public virtual async Task TryCreateAsync_ReleaseNotHoldingTheLockWhileTheServiceIsBusy_ServiceBusyAndNothingStored()
    {
        var (store, _, _) = await CreateAsync();
        var active = NewRelease("checkout", "2.0.0");
        await store.TryCreateAsync(active, []);
        var operating = NewRelease("checkout", "1.0.0", T0 - TimeSpan.FromDays(1)) with { State = ReleaseState.Operating };

        var result = await store.TryCreateAsync(operating, [Entry("Created")]);

        Assert.Equal(CreateOutcome.ServiceBusy, result.Outcome);
        Assert.Equal(active.Id, result.Existing);
        Assert.Null(await store.GetAsync(operating.Id));
        Assert.Empty(await store.GetAuditAsync(operating.Id));
        Assert.Equal([active.Id], await store.ListActiveIdsAsync());
    }

    [Fact]
    public async Task TryCreateAsync_TerminalReleaseOnAFreeService_StoredButNotActiveAndLockStaysFree()
    {
        var (store, _, _) = await CreateAsync();
        var done = NewRelease("checkout", "0.9.0", T0 - TimeSpan.FromDays(1)) with { State = ReleaseState.Completed };

        Assert.Equal(CreateOutcome.Created, (await store.TryCreateAsync(done, [Entry("Imported")])).Outcome);

        Assert.Equal(ReleaseState.Completed, (await store.GetAsync(done.Id))!.State);
        Assert.Empty(await store.ListActiveAsync());
        Assert.Empty(await store.ListActiveIdsAsync());
        Assert.Equal([done.Id], (await store.ListByServiceAsync("checkout")).Select(r => r.Id));
        Assert.Equal(CreateOutcome.Created, (await store.TryCreateAsync(NewRelease("checkout", "1.0.0"), [])).Outcome);
    }

    [Fact]
    public async Task TrySaveAsync_OlderReleaseEndsWhileANewerHoldsTheLock_NewerKeepsTheLock()
    {
        var (store, _, _) = await CreateAsync();
        var old = NewRelease("checkout", "1.0.0", T0);
        await store.TryCreateAsync(old, []);
        var operating = Next(old, ReleaseState.Operating);
        Assert.True(await store.TrySaveAsync(operating, old.Revision, []));
        var newer = NewRelease("checkout", "1.1.0", T0 + TimeSpan.FromHours(1));
        Assert.Equal(CreateOutcome.Created, (await store.TryCreateAsync(newer, [])).Outcome);

        Assert.True(await store.TrySaveAsync(Next(operating, ReleaseState.Completed), operating.Revision, []));

        var result = await store.TryCreateAsync(NewRelease("checkout", "1.2.0", T0 + TimeSpan.FromHours(2)), []);
        Assert.Equal(CreateOutcome.ServiceBusy, result.Outcome);
        Assert.Equal(newer.Id, result.Existing);
        Assert.Equal([newer.Id], await store.ListActiveIdsAsync());
    }

    [Fact]
    public async Task TrySaveAsync_SuccessiveSavesWithTheRightVersions_EachStoredAndAStaleOneRefused()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var v2 = Next(release, ReleaseState.AwaitingApproval);
        var v3 = Next(v2, ReleaseState.Staging);

        Assert.True(await store.TrySaveAsync(v2, release.Revision, [Entry("v2", 1)]));
        Assert.True(await store.TrySaveAsync(v3, v2.Revision, [Entry("v3", 2)]));
        Assert.False(await store.TrySaveAsync(Next(v2, ReleaseState.Aborted), v2.Revision, [Entry("stale", 3)]));

        var stored = await store.GetAsync(release.Id);
        Assert.Equal(v3.Revision, stored!.Revision);
        Assert.Equal(ReleaseState.Staging, stored.State);
        Assert.Equal(["v2", "v3"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
    }

    // ================================================================ the whole release comes back

    [Fact]
    public async Task TrySaveAsync_FullyPopulatedRelease_ReadBackAsGiven()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var full = FullyPopulated(release);

        Assert.True(await store.TrySaveAsync(full, release.Revision, [Entry("everything")]));

        var stored = await store.GetAsync(release.Id);
        AssertSameRelease(full, stored);
        AssertSameRelease(full, Assert.Single(await store.ListActiveAsync()));
        AssertSameRelease(full, Assert.Single(await store.ListByServiceAsync("checkout")));
    }

    [Fact]
    public async Task TryCreateAsync_FullyPopulatedRelease_ReadBackAsGiven()
    {
        var (store, _, _) = await CreateAsync();
        var full = FullyPopulated(NewRelease("checkout", "1.0.0")) with { Revision = 1 };

        Assert.Equal(CreateOutcome.Created, (await store.TryCreateAsync(full, [])).Outcome);

        AssertSameRelease(full, await store.GetAsync(full.Id));
    }

    [Fact]
    public async Task AuditEntries_ManyInOneWrite_ReadBackInOrderAndUnchanged()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        var first = Enumerable.Range(0, 30).Select(i => Entry($"create-{i:00}", i)).ToList();
        var second = Enumerable.Range(30, 30).Select(i => new AuditEntry(T0 + TimeSpan.FromMilliseconds(i), $"U{i}", $"save-{i:00}", $"ünïcode ✓ \"quoted\"\n line {i}")).ToList();
        await store.TryCreateAsync(release, first);

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, second));

        Assert.Equal([.. first, .. second], await store.GetAuditAsync(release.Id));
    }

    [Fact]
    public async Task AuditEntries_RefusedCreateAndRefusedSave_WriteNoAudit()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);

        await store.TryCreateAsync(release, [Entry("again")]);
        await store.TryCreateAsync(NewRelease("checkout", "2.0.0"), [Entry("busy")]);
        await store.TrySaveAsync(Next(release, ReleaseState.Aborted), release.Revision + 5, [Entry("stale")]);

        Assert.Equal(["Created"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
        Assert.Empty(await store.GetAuditAsync(new ReleaseId("checkout", "2.0.0")));
    }

    [Fact]
    public virtual async Task AppendAuditAsync_UnknownRelease_NothingStoredAndALaterCreateStartsClean()
    {
        var (store, _, _) = await CreateAsync();
        var id = new ReleaseId("checkout", "1.0.0");

        await store.AppendAuditAsync(id, Entry("refused approve"));

        Assert.Empty(await store.GetAuditAsync(id));
        await store.TryCreateAsync(NewRelease("checkout", "1.0.0"), [Entry("Created")]);
        Assert.Equal(["Created"], (await store.GetAuditAsync(id)).Select(a => a.Action));
    }

    // ================================================================ listing ids

    [Fact]
    public async Task ListActiveIdsAsync_MixedStates_NonTerminalIdsOldestFirstMatchingListActiveAsync()
    {
        var (store, _, _) = await CreateAsync();
        var operating = NewRelease("search", "1.0.0", T0);
        var rejected = NewRelease("billing", "1.0.0", T0 + TimeSpan.FromMinutes(1));
        var draft = NewRelease("checkout", "1.0.0", T0 + TimeSpan.FromMinutes(2));
        var rolledBack = NewRelease("cart", "3.0.0", T0 + TimeSpan.FromMinutes(3));
        var halted = NewRelease("payments", "1.0.0", T0 + TimeSpan.FromMinutes(4));
        foreach (var r in new[] { halted, draft, rolledBack, rejected, operating })
        {
            await store.TryCreateAsync(r, []);
        }

        await store.TrySaveAsync(Next(operating, ReleaseState.Operating), operating.Revision, []);
        await store.TrySaveAsync(Next(rejected, ReleaseState.Rejected), rejected.Revision, []);
        await store.TrySaveAsync(Next(rolledBack, ReleaseState.RollingBack), rolledBack.Revision, []);
        await store.TrySaveAsync(Next(Next(rolledBack, ReleaseState.RollingBack), ReleaseState.RolledBack), rolledBack.Revision + 1, []);
        await store.TrySaveAsync(Next(halted, ReleaseState.Halted), halted.Revision, []);

        var ids = await store.ListActiveIdsAsync();

        Assert.Equal([operating.Id, draft.Id, halted.Id], ids);
        Assert.Equal(ids, (await store.ListActiveAsync()).Select(r => r.Id));
    }

    [Fact]
    public async Task ListActiveIdsAsync_Empty_Empty()
    {
        var (store, _, _) = await CreateAsync();

        Assert.Empty(await store.ListActiveIdsAsync());
        Assert.Empty(await store.ListActiveAsync());
    }

    // ================================================================ more of halts

    [Fact]
    public async Task TrySaveAsync_WithAFreezeWhileTheServiceIsHalted_SetsTheFreezeAndKeepsTheServiceHalt()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var service = new ServiceHalt("checkout", "on-call halted", "carol", T0);
        var freeze = new ServiceHalt(ServiceHalt.Everything, "incident freeze", "shipbot", T0 + TimeSpan.FromMinutes(1));
        await store.TrySetHaltAsync(service);

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Revision, [], freeze));

        Assert.Equal([service, freeze], await store.GetHaltsAsync());
    }

    [Fact]
    public async Task TrySaveAsync_WithHaltWhenTheHaltWasLifted_SetsItAgain()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        await store.TrySetHaltAsync(new ServiceHalt("checkout", "earlier", "carol", T0));
        await store.RemoveHaltAsync("checkout");
        var halt = new ServiceHalt("checkout", "rollback", "shipbot", T0 + TimeSpan.FromMinutes(5));

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.RollingBack), release.Revision, [], halt));

        Assert.Equal(halt, Assert.Single(await store.GetHaltsAsync()));
    }

    // ================================================================ request-id claims

    [Fact]
    public async Task TryClaimAsync_FirstClaim_TrueThenFalseAndNoAnswerYet()
    {
        var (_, idempotency, _) = await CreateAsync();

        Assert.True(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        Assert.False(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));

        Assert.Null(await idempotency.GetAsync("req-1"));
        Assert.True(await idempotency.TryClaimAsync("req-2", TimeSpan.FromMinutes(1)));
    }

    // ================================================================ an evaluation's opening read

    /// <summary>A release in its canary stage with no deployment pending: under evaluation.</summary>
    private static Release UnderEvaluation(Release release) =>
        Next(release, ReleaseState.Canary) with { StageIndex = 0, PendingDeployment = null };

    [Fact]
    public async Task ReadForEvaluationAsync_UnderEvaluation_ReadsTheReleaseAndTakesTheLeaseOnce()
    {
        var (store, _, leases) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var canary = UnderEvaluation(release);
        Assert.True(canary.IsUnderEvaluation);
        Assert.True(await store.TrySaveAsync(canary, release.Revision, []));
        Assert.NotNull(await store.SetLatestHealthAsync(release.Id, canary.Revision, Healthy(0.02, 40)));

        var first = await leases.ReadForEvaluationAsync(release.Id, "eval:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1));
        var again = await leases.ReadForEvaluationAsync(release.Id, "eval:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1));
        var other = await leases.ReadForEvaluationAsync(release.Id, "eval:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1));

        Assert.Equal(canary.Revision, first.Release!.Revision);
        Assert.Equal(0.02, Assert.Single(first.Release.LastHealth!.Checks).Value);
        Assert.True(first.Leased);
        Assert.True(again.Leased);
        Assert.False(other.Leased);
        Assert.Equal(canary.Revision, other.Release!.Revision);

        // The same lease as TryAcquireAsync's.
        Assert.False(await leases.TryAcquireAsync("eval:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
        Assert.True(await leases.TryAcquireAsync("eval:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task ReadForEvaluationAsync_NotUnderEvaluation_ReadsTheReleaseAndLeavesTheLeaseAlone()
    {
        var (store, _, leases) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.False(release.IsUnderEvaluation);

        var read = await leases.ReadForEvaluationAsync(release.Id, "eval:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1));

        Assert.Equal(release.Revision, read.Release!.Revision);
        Assert.Null(read.Leased);
        Assert.True(await leases.TryAcquireAsync("eval:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task ReadForEvaluationAsync_NoSuchRelease_NothingReadNoLease()
    {
        var (_, _, leases) = await CreateAsync();

        var read = await leases.ReadForEvaluationAsync(new ReleaseId("nosuch", "1.0.0"), "eval:nosuch@1.0.0", "replica-a", TimeSpan.FromMinutes(1));

        Assert.Null(read.Release);
        Assert.Null(read.Leased);
        Assert.True(await leases.TryAcquireAsync("eval:nosuch@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task SetLatestHealthAsync_Kept_ReturnsEveryHaltAsItIsNow()
    {
        var (store, _, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.Empty((await store.SetLatestHealthAsync(release.Id, release.Revision, Healthy(0.01, 10)))!);
        var halt = new ServiceHalt("checkout", "incident", "carol", T0);
        Assert.True(await store.TrySetHaltAsync(halt));

        Assert.Equal([halt], await store.SetLatestHealthAsync(release.Id, release.Revision, Healthy(0.02, 20)));
    }

    [Fact]
    public async Task TryClaimAndReadAsync_FirstClaim_ReadsTheReleaseWithItsReadingsAndEveryHalt()
    {
        var (store, idempotency, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        var canary = Next(release, ReleaseState.Canary) with { LastHealth = Healthy(0.01, 10) };
        Assert.True(await store.TrySaveAsync(canary, release.Revision, []));
        Assert.NotNull(await store.SetLatestHealthAsync(release.Id, canary.Revision, Healthy(0.02, 40)));
        var freeze = new ServiceHalt(ServiceHalt.Everything, "freeze", "carol", T0 + TimeSpan.FromSeconds(5));
        var halt = new ServiceHalt("payments", "incident", "carol", T0);
        Assert.True(await store.TrySetHaltAsync(freeze));
        Assert.True(await store.TrySetHaltAsync(halt));

        var opening = await idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), release.Id);

        Assert.True(opening.Claimed);
        Assert.True(opening.Read);
        Assert.Equal(canary.Revision, opening.Release!.Revision);
        Assert.Equal(ReleaseState.Canary, opening.Release.State);
        Assert.Equal(0.02, Assert.Single(opening.Release.LastHealth!.Checks).Value);
        Assert.Equal([halt, freeze], opening.Halts);

        // The claim is the same claim as TryClaimAsync's: a duplicate is refused either way, and reads nothing.
        Assert.False(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        Assert.Equal(OpeningRead.Duplicate, await idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), release.Id));
        Assert.Null(await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TryClaimAndReadAsync_NoSuchRelease_ClaimedWithNothingReadAndNoHalts()
    {
        var (_, idempotency, _) = await CreateAsync();

        var opening = await idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), new ReleaseId("nosuch", "1.0.0"));

        Assert.True(opening.Claimed);
        Assert.True(opening.Read);
        Assert.Null(opening.Release);
        Assert.Empty(opening.Halts);
        Assert.False((await idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), new ReleaseId("nosuch", "1.0.0"))).Claimed);
    }

    [Fact]
    public async Task TryClaimAndReadAsync_AfterAnotherWrite_ReadsTheNewRevision()
    {
        var (store, idempotency, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.Equal(release.Revision, (await idempotency.TryClaimAndReadAsync("req-1", TimeSpan.FromMinutes(1), release.Id)).Release!.Revision);
        var next = Next(release, ReleaseState.AwaitingApproval);
        Assert.True(await store.TrySaveAsync(next, release.Revision, []));

        var opening = await idempotency.TryClaimAndReadAsync("req-2", TimeSpan.FromMinutes(1), release.Id);

        Assert.Equal(next.Revision, opening.Release!.Revision);
        Assert.Equal(ReleaseState.AwaitingApproval, opening.Release.State);
    }

    [Fact]
    public async Task TryClaimAsync_ThenSetAsync_TheAnswerIsStoredAndTheFirstAnswerWins()
    {
        var (_, idempotency, _) = await CreateAsync();
        Assert.True(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));

        await idempotency.SetAsync("req-1", "{\"text\":\"first\"}", TimeSpan.FromHours(1));
        await idempotency.SetAsync("req-1", "{\"text\":\"second\"}", TimeSpan.FromHours(1));

        Assert.Equal("{\"text\":\"first\"}", await idempotency.GetAsync("req-1"));
        Assert.False(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        Assert.Equal("{\"text\":\"first\"}", await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TrySaveAsync_WithTheRequestsAnswer_ADuplicateFindsItAndTheFinalAnswerReplacesIt()
    {
        var (store, idempotency, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.True(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, [], null, new RequestAnswer("req-1", "{\"text\":\"saved\"}", TimeSpan.FromHours(1))));

        Assert.Equal("{\"text\":\"saved\"}", await idempotency.GetAsync("req-1"));
        Assert.False(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        await idempotency.SetAsync("req-1", "{\"text\":\"final\"}", TimeSpan.FromHours(1));
        await idempotency.SetAsync("req-1", "{\"text\":\"late\"}", TimeSpan.FromHours(1));
        Assert.Equal("{\"text\":\"final\"}", await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TrySaveAsync_AnswerForARequestAlreadyAnswered_TheFinalAnswerStays()
    {
        var (store, idempotency, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.True(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        await idempotency.SetAsync("req-1", "{\"text\":\"final\"}", TimeSpan.FromHours(1));

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, [], null, new RequestAnswer("req-1", "{\"text\":\"saved\"}", TimeSpan.FromHours(1))));

        Assert.Equal("{\"text\":\"final\"}", await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TrySaveAsync_RefusedWithAnAnswer_TheAnswerIsNotKept()
    {
        var (store, idempotency, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.True(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));

        Assert.False(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision + 5, [], null, new RequestAnswer("req-1", "{\"text\":\"saved\"}", TimeSpan.FromHours(1))));

        Assert.Null(await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TrySaveAsync_TwoSavesOfOneRequest_TheLaterAnswerReplacesTheEarlier()
    {
        var (store, idempotency, _) = await CreateAsync();
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, []);
        Assert.True(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        var first = Next(release, ReleaseState.AwaitingApproval);

        Assert.True(await store.TrySaveAsync(first, release.Revision, [], null, new RequestAnswer("req-1", "{\"text\":\"one\"}", TimeSpan.FromHours(1))));
        Assert.True(await store.TrySaveAsync(Next(first, ReleaseState.Staging), first.Revision, [], null, new RequestAnswer("req-1", "{\"text\":\"two\"}", TimeSpan.FromHours(1))));

        Assert.Equal("{\"text\":\"two\"}", await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TryClaimAsync_AlreadyAnsweredWithoutAClaim_False()
    {
        var (_, idempotency, _) = await CreateAsync();
        await idempotency.SetAsync("req-1", "answer", TimeSpan.FromHours(1));

        Assert.False(await idempotency.TryClaimAsync("req-1", TimeSpan.FromMinutes(1)));
        Assert.Equal("answer", await idempotency.GetAsync("req-1"));
    }

    [Fact]
    public async Task TryClaimAsync_TwentyConcurrentClaims_ExactlyOneWins()
    {
        var (_, idempotency, _) = await CreateAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => idempotency.TryClaimAsync("req-race", TimeSpan.FromMinutes(1)))));

        Assert.Single(results, r => r);
    }

    // ================================================================ leases

    [Fact]
    public async Task TryAcquireAsync_HeldByAnotherOwner_FalseAndReentrantForTheHolder()
    {
        var (_, _, leases) = await CreateAsync();

        Assert.True(await leases.TryAcquireAsync("tick:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1)));
        Assert.False(await leases.TryAcquireAsync("tick:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
        Assert.True(await leases.TryAcquireAsync("tick:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1)));
        Assert.False(await leases.TryAcquireAsync("tick:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
        Assert.True(await leases.TryAcquireAsync("tick:search@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task ReleaseAsync_ByAnotherOwner_NothingChangesAndByTheHolder_Freed()
    {
        var (_, _, leases) = await CreateAsync();
        Assert.True(await leases.TryAcquireAsync("deploy:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1)));

        await leases.ReleaseAsync("deploy:checkout@1.0.0", "replica-b");
        Assert.False(await leases.TryAcquireAsync("deploy:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));

        await leases.ReleaseAsync("deploy:checkout@1.0.0", "replica-a");
        Assert.True(await leases.TryAcquireAsync("deploy:checkout@1.0.0", "replica-b", TimeSpan.FromMinutes(1)));
        Assert.False(await leases.TryAcquireAsync("deploy:checkout@1.0.0", "replica-a", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task ReleaseAsync_NeverAcquired_NothingHappens()
    {
        var (_, _, leases) = await CreateAsync();

        await leases.ReleaseAsync("nothing", "replica-a");

        Assert.True(await leases.TryAcquireAsync("nothing", "replica-b", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task TryAcquireAsync_TwentyConcurrentOwners_ExactlyOneHoldsIt()
    {
        var (_, _, leases) = await CreateAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => leases.TryAcquireAsync("tick", $"replica-{i}", TimeSpan.FromMinutes(1)))));

        var holder = Assert.Single(Enumerable.Range(0, 20), i => results[i]);
        Assert.True(await leases.TryAcquireAsync("tick", $"replica-{holder}", TimeSpan.FromMinutes(1)));
    }

    // ================================================================ helpers for the round trip

    /// <summary>Every field of <paramref name="release"/> set to something other than its default, one version on.</summary>
    protected static Release FullyPopulated(Release release)
    {
        ArgumentNullException.ThrowIfNull(release);
        var breach = new CheckResult(Metrics.ErrorRate, CheckStatus.Breach, 0.048, "limit baseline 0.3 % + 1 pt", 0.003, BreachAction.Consult, "prometheus");
        var pass = new CheckResult(Metrics.LatencyP99, CheckStatus.Pass, 212.5, "≤ 1.2 × baseline", 180.25, BreachAction.Rollback, "prometheus");
        var unknown = new CheckResult(Metrics.UserFeedback, CheckStatus.Unknown, null, "≥ 4/5", null, BreachAction.Consult, "survey");
        var elsewhere = TimeSpan.FromHours(2);
        return release with
        {
            HotfixReason = "expired certificate",
            Requester = new Person("U0ALICE", "Alice Ñández"),
            Conversation = new Conversation("slack", "C0RELEASES"),
            Contract = new ReleaseContract(["new checkout flow", "drop v1 endpoint"], "Faster checkout \"for everyone\"\nsecond line", "kubectl rollout undo", ["new-checkout"], ["conversion ≥ 3 %"]),
            RequiredApprovals = 2,
            Approvals =
            [
                new Approval(new Person("bob", "Bob"), T0 + TimeSpan.FromMinutes(5)),
                new Approval(new Person("U0DAVE", "Dave"), new DateTimeOffset(2025, 6, 2, 11, 6, 0, elsewhere)),
            ],
            Checklist = release.Checklist
                .Select((item, i) => i % 2 == 0 ? item with { State = ChecklistItemState.Confirmed, By = "alice", Detail = $"checked {i} ✓", At = T0 + TimeSpan.FromMinutes(i) } : item)
                .ToList(),
            State = ReleaseState.Paused,
            ResumeState = ReleaseState.Canary,
            StageIndex = 0,
            StagingStep = StagingStep.Baking,
            PendingDeployment = new DeploymentIntent(DeploymentEnvironment.Production, 5),
            LastDeploymentError = "HTTP 503 from the target",
            PhaseStartedAt = T0 + TimeSpan.FromMinutes(20),
            BakeEndsAt = T0 + TimeSpan.FromMinutes(50),
            RemainingBake = TimeSpan.FromSeconds(1050.25),
            AwaitingPromotionApproval = true,
            Baseline = new Dictionary<string, double>
            {
                [Metrics.ErrorRate] = 0.003,
                [Metrics.LatencyP99] = 180.25,
                [Metrics.Business] = 1.0 / 3.0,
            },
            LastHealth = new HealthVerdict(HealthStatus.Breached, [breach, pass, unknown], T0 + TimeSpan.FromMinutes(25), "one source was slow"),
            Decision = new PendingDecision(breach, "Canary 5 %", T0 + TimeSpan.FromMinutes(25), T0 + TimeSpan.FromMinutes(35)),
            AcknowledgedBreaches = [new BreachKey(Metrics.Cpu, "Canary 5 %")],
            Rollback = new RollbackRecord("error rate 4.8 % breaches limit", "shipbot", "Canary 5 %", [breach, pass], T0 + TimeSpan.FromMinutes(26)),
            HaltReason = "on-call halted",
            Rejection = "not this week",
            ValidationEndsAt = T0 + TimeSpan.FromHours(3),
            Handoff = [new HandoffCheck("runbook linked", true, "docs/runbook.md"), new HandoffCheck("alerts routed", false, "no pager route")],
            History = [new StageRecord("Staging", T0 + TimeSpan.FromMinutes(10), T0 + TimeSpan.FromMinutes(20)), new StageRecord("Canary 5 %", T0 + TimeSpan.FromMinutes(20), null)],
            Outcomes = [new OutcomeReport(1, T0 + TimeSpan.FromDays(1), ["conversion 3.1 % vs target 3 % ✓", "p99 212 ms"])],
            FlagsRemoved = ["old-checkout"],
            OperatingSince = T0 + TimeSpan.FromHours(4),
            ReadinessChecked = true,
            UpdatedAt = new DateTimeOffset(2025, 6, 2, 11, 26, 0, elsewhere),
            Revision = release.Revision + 1,
        };
    }

    // ================================================================ chat state

    [Fact]
    public async Task ChatState_SetThenGet_LastWriteWinsAndUnknownKeysAreNull()
    {
        var (store, _, _) = await CreateAsync();
        var chat = Assert.IsAssignableFrom<IChatStateStore>(store);
        Assert.Null(await chat.GetAsync("slack:msg:card:a@1"));
        await chat.SetAsync("slack:msg:card:a@1", "C1|1.000", TimeSpan.FromMinutes(5));
        await chat.SetAsync("slack:msg:card:a@1", "C1|2.000", TimeSpan.FromMinutes(5));
        Assert.Equal("C1|2.000", await chat.GetAsync("slack:msg:card:a@1"));
        Assert.Null(await chat.GetAsync("slack:msg:card:b@1"));
    }

    // ================================================================ bounded audit

    [Fact]
    public async Task AppendAuditAsync_BeyondTheCap_KeepsTheNewestEntriesAfterAMarkerCountingTheDropped()
    {
        var store = await CreateWithAuditCapAsync(5);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created")]);
        for (var i = 1; i <= 11; i++)
        {
            await store.AppendAuditAsync(release.Id, Entry($"refused approve {i}", i));
        }

        var audit = await store.GetAuditAsync(release.Id);

        Assert.Equal(6, audit.Count);
        Assert.Equal(AuditLimits.TrimmedAction, audit[0].Action);
        Assert.Contains("7 earlier entries were dropped", audit[0].Detail, StringComparison.Ordinal);
        Assert.Contains("last 5 audit entries", audit[0].Detail, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(7, 5).Select(i => $"refused approve {i}"), audit.Skip(1).Select(a => a.Action));
    }

    [Fact]
    public async Task TrySaveAsync_AuditBeyondTheCap_TrimmedInTheSameWrite()
    {
        var store = await CreateWithAuditCapAsync(3);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created"), Entry("ItemSettled", 1)]);

        Assert.True(await store.TrySaveAsync(Next(release, ReleaseState.AwaitingApproval), release.Revision, [Entry("ReadyForApproval", 2), Entry("Approved", 3)]));

        var audit = await store.GetAuditAsync(release.Id);
        Assert.Equal([AuditLimits.TrimmedAction, "ItemSettled", "ReadyForApproval", "Approved"], audit.Select(a => a.Action));
        Assert.Contains("1 earlier entries were dropped", audit[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAuditAsync_AtTheCapWithNothingDropped_NoMarker()
    {
        var store = await CreateWithAuditCapAsync(3);
        var release = NewRelease("checkout", "1.0.0");
        await store.TryCreateAsync(release, [Entry("Created"), Entry("ItemSettled", 1), Entry("ReadyForApproval", 2)]);

        Assert.Equal(["Created", "ItemSettled", "ReadyForApproval"], (await store.GetAuditAsync(release.Id)).Select(a => a.Action));
    }

    /// <summary>The store gave back what it was given: structurally equal, with the fiddly fields spelled out for a readable failure.</summary>
    protected static void AssertSameRelease(Release expected, Release? actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Revision, actual.Revision);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.ResumeState, actual.ResumeState);
        Assert.Equal(expected.Requester, actual.Requester);
        Assert.Equal(expected.Conversation, actual.Conversation);
        Assert.Equal(expected.Approvals, actual.Approvals);
        Assert.Equal(expected.Approvals.Select(a => a.At.Offset), actual.Approvals.Select(a => a.At.Offset));
        Assert.Equal(expected.Checklist, actual.Checklist);
        Assert.Equal(expected.Plan.Stages, actual.Plan.Stages);
        Assert.Equal(expected.Baseline.OrderBy(b => b.Key), actual.Baseline.OrderBy(b => b.Key));
        Assert.Equal(expected.LastHealth?.Checks, actual.LastHealth?.Checks);
        Assert.Equal(expected.LastHealth?.Error, actual.LastHealth?.Error);
        Assert.Equal(expected.Decision, actual.Decision);
        Assert.Equal(expected.Rollback?.Evidence, actual.Rollback?.Evidence);
        Assert.Equal(expected.History, actual.History);
        Assert.Equal(expected.Outcomes.SelectMany(o => o.Lines), actual.Outcomes.SelectMany(o => o.Lines));
        Assert.Equal(expected.Handoff, actual.Handoff);
        Assert.Equal(expected.RemainingBake, actual.RemainingBake);
        Assert.Equal(expected.UpdatedAt, actual.UpdatedAt);
        Assert.Equal(expected.UpdatedAt.Offset, actual.UpdatedAt.Offset);
        Assert.Equivalent(expected, actual, strict: true);
    }
}
