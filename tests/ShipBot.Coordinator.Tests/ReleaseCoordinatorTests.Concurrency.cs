using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Idempotent commands, compare-and-set transitions under concurrency, and a store outage.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    private const string StoreDown = "State store unavailable — nothing was changed, try again.";

    // ================================================================ idempotency

    [Fact]
    public async Task HandleAsync_SameRequestIdTwice_ReturnsTheFirstReplyAndChangesNothing()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();

        var first = await sut.SendAsync(Bob, $"/ship approve {id}", "slack-trigger-42");
        var afterFirst = await sut.GetAsync(id);
        var audit = (await sut.AuditAsync(id)).Count;
        var posts = sut.Publications.Count;
        var timers = sut.Scheduled.Count;
        var second = await sut.SendAsync(Bob, $"/ship approve {id}", "slack-trigger-42");

        Assert.Equal(first, second);
        Assert.Contains("goes to staging", second.Text, StringComparison.Ordinal);
        var afterSecond = await sut.GetAsync(id);
        Assert.Equal(afterFirst.Revision, afterSecond.Revision);
        Assert.Single(afterSecond.Approvals);
        Assert.Equal(audit, (await sut.AuditAsync(id)).Count);
        Assert.Equal(posts, sut.Publications.Count);
        Assert.Equal(timers, sut.Scheduled.Count);
    }

    [Fact]
    public async Task HandleAsync_SameRequestIdForCardReply_ReplaysTheFirstCardEvenAfterLaterChanges()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        var first = await sut.SendAsync(Mallory, $"/ship status {id}", "teams-activity-7");
        await sut.SendAsync(Bob, $"/ship approve {id}");

        var replay = await sut.SendAsync(Mallory, $"/ship status {id}", "teams-activity-7");
        var fresh = await sut.SendAsync(Mallory, $"/ship status {id}");

        Assert.Equal(first.Text, replay.Text);
        Assert.NotNull(replay.Card);
        Assert.Equal(first.Card!.Title, replay.Card.Title);
        Assert.Equal(first.Card.Blocks.Count, replay.Card.Blocks.Count);
        Assert.Equal(first.Card.Blocks.Select(b => b.GetType()), replay.Card.Blocks.Select(b => b.GetType()));
        Assert.Contains("Awaiting approval", replay.Card.Title, StringComparison.Ordinal);
        Assert.Contains("Staging", fresh.Card!.Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_RefusedCommandRetriedWithSameId_GetsTheSameRefusal()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();

        var first = await sut.SendAsync(Carol, $"/ship approve {id}", "dup-1");
        var second = await sut.SendAsync(Carol, $"/ship approve {id}", "dup-1");

        Assert.Equal(first, second);
        Assert.Contains("needs the approver role", second.Text, StringComparison.Ordinal);
    }

    // ================================================================ compare-and-set

    [Fact]
    public async Task HandleAsync_TwoApproversClickAtOnce_ExactlyOneApprovalAndTheOtherToldAlreadyApproved()
    {
        var sut = CreateSut(p => p with { Approvers = ["bob", "erin"] });
        var id = await sut.ToAwaitingApprovalAsync();

        var replies = await Task.WhenAll(
            Task.Run(() => sut.SendAsync(Bob, $"/ship approve {id}", "click-bob")),
            Task.Run(() => sut.SendAsync(Erin, $"/ship approve {id}", "click-erin")));

        var release = await sut.GetAsync(id);
        var approval = Assert.Single(release.Approvals);
        Assert.Equal(ReleaseState.Staging, release.State);
        Assert.Single(replies, r => r.Text.Contains("goes to staging", StringComparison.Ordinal));
        var loser = Assert.Single(replies, r => r.Text.Contains("already approved", StringComparison.Ordinal));
        Assert.Contains(approval.By.Mention, loser.Text, StringComparison.Ordinal);
        Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.Approved));
        Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.StagingStarted));
    }

    [Fact]
    public async Task HandleAsync_SameApproverClicksTwice_OneApproval()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();

        await sut.SendAsync(Bob, $"/ship approve {id}");
        var version = (await sut.GetAsync(id)).Revision;
        var again = await sut.SendAsync(Bob, $"/ship approve {id}");

        Assert.Equal(ReplyVisibility.Ephemeral, again.Visibility);
        Assert.Contains("already approved by @Bob", again.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(id);
        Assert.Single(release.Approvals);
        Assert.Equal(version, release.Revision);
    }

    [Fact]
    public async Task OnTimerAsync_PromotionTimerFiresTwice_PromotesOnce()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        sut.Time.Advance(StageBake);

        await sut.FireAsync(id, TimerKind.Promotion);
        var version = (await sut.GetAsync(id)).Revision;
        await sut.FireAsync(id, TimerKind.Promotion);
        Assert.Equal(version, (await sut.GetAsync(id)).Revision);
        await sut.FireAsync(id, TimerKind.Work);
        await sut.FireAsync(id, TimerKind.Work);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.EarlyAdopters, release.State);
        Assert.Equal(1, release.StageIndex);
        Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.Promoted) && a.Detail.Contains("Early adopters", StringComparison.Ordinal));
        Assert.Single(sut.DeploymentRequests(), r => IsIntent(r, "production", 25));
    }

    [Fact]
    public async Task OnTimerAsync_PromotionTimerFiresOnTwoReplicasAtOnce_PromotesOnce()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        sut.Time.Advance(StageBake);

        await Task.WhenAll(
            Task.Run(() => sut.FireAsync(id, TimerKind.Promotion)),
            Task.Run(() => sut.FireAsync(id, TimerKind.Promotion)),
            Task.Run(() => sut.FireAsync(id, TimerKind.Promotion)));
        await Task.WhenAll(
            Task.Run(() => sut.FireAsync(id, TimerKind.Work)),
            Task.Run(() => sut.FireAsync(id, TimerKind.Work)));

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.EarlyAdopters, release.State);
        Assert.Equal(1, release.StageIndex);
        Assert.Null(release.PendingDeployment);
        Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.Promoted) && a.Detail.Contains("Early adopters", StringComparison.Ordinal));
        Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.DeploymentSucceeded) && a.Detail.Contains("25 %", StringComparison.Ordinal));
        // two replicas may both call the target, but always with the same idempotency key
        Assert.Single(sut.DeploymentRequests().Where(r => IsIntent(r, "production", 25)).Select(r => r.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task OnTimerAsync_PromotionTimerBeforeBakeEnds_DoesNothing()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        var version = (await sut.GetAsync(id)).Revision;

        await sut.AdvanceAndFireAsync(StageBake - TimeSpan.FromSeconds(1), id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Equal(version, release.Revision);
    }

    [Fact]
    public async Task OnTimerAsync_UnknownReleaseOrTerminalRelease_Ignored()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        await sut.SendAsync(Bob, $"/ship reject {id} not now");
        var version = (await sut.GetAsync(id)).Revision;

        foreach (var kind in Enum.GetValues<TimerKind>())
        {
            await sut.FireAsync(Id("7.7.7"), kind);
            await sut.FireAsync(id, kind);
        }

        Assert.Equal(version, (await sut.GetAsync(id)).Revision);
        Assert.Empty(sut.DeploymentRequests());
    }

    // ================================================================ store outage

    private static IReleaseStore UnavailableStore()
    {
        var store = Substitute.For<IReleaseStore>();
        var down = new StoreUnavailableException("redis: connection refused");
        store.GetAsync(Arg.Any<ReleaseId>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<Release?>(down));
        store.ListActiveAsync(Arg.Any<CancellationToken>()).Returns(Task.FromException<IReadOnlyList<Release>>(down));
        store.ListByServiceAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<IReadOnlyList<Release>>(down));
        store.ListActiveIdsOfServiceAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<IReadOnlyList<ReleaseId>>(down));
        store.SetLatestHealthAsync(Arg.Any<ReleaseId>(), Arg.Any<long>(), Arg.Any<HealthVerdict>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<IReadOnlyList<ServiceHalt>?>(down));
        store.GetHaltsAsync(Arg.Any<CancellationToken>()).Returns(Task.FromException<IReadOnlyList<ServiceHalt>>(down));
        store.TryCreateAsync(Arg.Any<Release>(), Arg.Any<IReadOnlyList<AuditEntry>>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<CreateResult>(down));
        store.TrySaveAsync(Arg.Any<Release>(), Arg.Any<long>(), Arg.Any<IReadOnlyList<AuditEntry>>(), Arg.Any<ServiceHalt?>(), Arg.Any<RequestAnswer?>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException<bool>(down));
        store.TrySetHaltAsync(Arg.Any<ServiceHalt>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<bool>(down));
        store.RemoveHaltAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(Task.FromException<ServiceHalt?>(down));
        store.AppendAuditAsync(Arg.Any<ReleaseId>(), Arg.Any<AuditEntry>(), Arg.Any<CancellationToken>()).Returns(Task.FromException(down));
        store.AddSignalAsync(Arg.Any<Signal>(), Arg.Any<CancellationToken>()).Returns(Task.FromException(down));
        store.ListSignalsAsync(Arg.Any<CancellationToken>()).Returns(Task.FromException<IReadOnlyList<Signal>>(down));
        return store;
    }

    private static readonly string[] StoreWrites =
    [
        nameof(IReleaseStore.TryCreateAsync), nameof(IReleaseStore.TrySaveAsync), nameof(IReleaseStore.AppendAuditAsync),
        nameof(IReleaseStore.TrySetHaltAsync), nameof(IReleaseStore.RemoveHaltAsync), nameof(IReleaseStore.AddSignalAsync),
        nameof(IReleaseStore.UpdateSignalAsync), nameof(IReleaseStore.SetLatestHealthAsync),
    ];

    private static async Task AssertNothingWrittenAsync(CoordinatorHarness sut, IReleaseStore store, string requestId)
    {
        // every store call threw, so at most the one write that failed was attempted, and nothing came after it
        var writes = store.ReceivedCalls().Select(c => c.GetMethodInfo().Name).Where(StoreWrites.Contains).ToList();
        Assert.True(writes.Count <= 1, $"writes attempted after the store failed: {string.Join(", ", writes)}");
        Assert.Empty(sut.Publications);
        Assert.Empty(sut.Scheduled);
        Assert.Empty(sut.Cancelled);
        Assert.Empty(sut.DeploymentRequests());
        // the failure is not remembered as the answer: a retry with the same id is handled afresh
        Assert.Null(await sut.Idempotency.GetAsync(requestId));
    }

    [Theory]
    [InlineData("alice", "/ship start demo 1.0.0 new checkout flow")]
    [InlineData("bob", "/ship approve demo@1.0.0")]
    [InlineData("alice", "/ship check demo@1.0.0 qa")]
    [InlineData("carol", "/ship halt demo bad deploy")]
    [InlineData("carol", "/ship unhalt demo fixed")]
    [InlineData("alice", "/ship hotfix demo 1.0.1 p0 checkout down")]
    [InlineData("mallory", "/ship status demo@1.0.0")]
    [InlineData("mallory", "/ship list")]
    [InlineData("mallory", "/ship signal customer demo@1.0.0 users love it")]
    public async Task HandleAsync_StoreUnavailable_SaysNothingChangedAndWritesNothing(string who, string text)
    {
        var store = UnavailableStore();
        var sut = CreateSut(store: store);

        var reply = await sut.SendAsync(People[who], text, "outage-1");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Equal(StoreDown, reply.Text);
        await AssertNothingWrittenAsync(sut, store, "outage-1");
    }

    [Fact]
    public async Task HandleAsync_StoreFailsOnTheWrite_SaysNothingChangedAndNotifiesNobody()
    {
        // reads work, the compare-and-set write fails
        var store = UnavailableStore();
        var policy = DemoPolicy();
        var awaiting = Release.Create(Demo, ReleaseKind.Standard, new Person("alice", "Alice"), Channel, policy,
            new ReleaseContract(["x"], "notes", "rollback", [], []), null, Start).Next with
        { State = ReleaseState.AwaitingApproval };
        store.GetAsync(Demo, Arg.Any<CancellationToken>()).Returns(awaiting);
        store.GetHaltsAsync(Arg.Any<CancellationToken>()).Returns(Task.FromResult<IReadOnlyList<ServiceHalt>>([]));
        var sut = CreateSut(store: store);

        var reply = await sut.SendAsync(Bob, "/ship approve demo@1.0.0", "outage-2");

        Assert.Equal(StoreDown, reply.Text);
        await store.Received(1).TrySaveAsync(Arg.Any<Release>(), awaiting.Revision, Arg.Any<IReadOnlyList<AuditEntry>>(), Arg.Any<ServiceHalt?>(), Arg.Any<RequestAnswer?>(), Arg.Any<CancellationToken>());
        await store.DidNotReceiveWithAnyArgs().AppendAuditAsync(default, default!, default);
        await store.DidNotReceiveWithAnyArgs().TrySetHaltAsync(default!, default);
        Assert.Empty(sut.Publications);
        Assert.Empty(sut.Scheduled);
        Assert.Null(await sut.Idempotency.GetAsync("outage-2"));
    }

    [Fact]
    public async Task HandleAsync_ChatPostFails_TransitionStillCommitted()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        sut.Notifier.PublishAsync(Arg.Any<Conversation>(), Arg.Any<string>(), Arg.Any<Card>(), Arg.Any<string?>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException(new HttpRequestException("slack: 429 rate limited")));

        var reply = await sut.SendAsync(Bob, $"/ship approve {id}");

        Assert.Contains("goes to staging", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Staging, (await sut.GetAsync(id)).State);
        await sut.Scheduler.Received().ScheduleAsync(id, TimerKind.Work, Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
    }
}
