using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>
/// The coordinator end to end over the real in-memory store and a fake clock: the lifecycle of
/// a release, the health gates and automatic rollback, and the staging gate.
/// </summary>
public sealed partial class ReleaseCoordinatorTests
{
    private static readonly ReleaseId Demo = Id("1.0.0");

    private static CoordinatorHarness CreateSut(
        Func<ServicePolicy, ServicePolicy>? configure = null,
        IHealthSimulator? simulator = null,
        IReadOnlyList<ServicePolicy>? extraServices = null,
        IReleaseStore? store = null) =>
        new(configure, simulator, extraServices, store);

    /// <summary>The latest release card reflects the stored release: its title names the state and its footer the stored card revision.</summary>
    private static async Task AssertCardShowsAsync(CoordinatorHarness sut, ReleaseId id, string titleState)
    {
        var release = await sut.GetAsync(id);
        var card = sut.LastCard(id);
        Assert.Equal($"card:{id}", card.Key);
        Assert.Null(card.ThreadKey);
        Assert.Equal(Channel, card.Conversation);
        Assert.Contains($"{id} — {titleState}", card.Card.Title, StringComparison.Ordinal);
        var footer = card.Card.Blocks.OfType<ContextBlock>().Last().Text;
        Assert.EndsWith($"updated {ReleaseCards.Clock(release.UpdatedAt)} (rev {release.CardRevision})", footer, StringComparison.Ordinal);
    }

    private static bool IsIntent(DeploymentRequest request, string environment, int percent, bool rollback = false) =>
        request.Intent.Environment.Name() == environment && request.Intent.Percent == percent && request.Intent.IsRollback == rollback;

    // ================================================================ happy path

    [Fact]
    public async Task HandleAndOnTimer_HappyPath_WalksEveryStateToCompletedUpdatingOneCard()
    {
        var sut = CreateSut();

        // start
        var reply = await sut.SendAsync(Alice, "/ship start demo 1.0.0 new checkout flow; faster search");
        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.StartsWith("Started demo@1.0.0", reply.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Draft, release.State);
        Assert.Equal(["new checkout flow", "faster search"], release.Contract.Changes);
        Assert.Equal("alice", release.Requester.Id);
        await AssertCardShowsAsync(sut, Demo, "Draft");
        var notice = Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:oncall"));
        Assert.Contains("carol", notice.Card.Mentions);
        Assert.Equal(ChecklistItemState.Verified, release.Checklist.Single(i => i.Id == ChecklistCatalog.OnCallNotified).State);
        Assert.Contains(sut.Scheduled, t => t.Release == Demo && t.Kind == TimerKind.Work);

        // readiness work: ShipBot verifies the items it can check itself
        await sut.FireAsync(Demo, TimerKind.Work);
        release = await sut.GetAsync(Demo);
        Assert.True(release.ReadinessChecked);
        Assert.Equal(ChecklistItemState.Verified, release.Checklist.Single(i => i.Id == "health").State);
        Assert.Equal(ChecklistItemState.Verified, release.Checklist.Single(i => i.Id == "https").State);
        Assert.Equal(ReleaseState.Draft, release.State);
        await AssertCardShowsAsync(sut, Demo, "Draft");

        // the requester settles every blocking item in one command
        var blocking = release.BlockingItems.Select(i => i.Id).ToList();
        Assert.Contains("qa", blocking);
        Assert.Contains("rollback", blocking);
        Assert.Contains("flags", blocking);
        Assert.DoesNotContain("health", blocking);
        reply = await sut.SendAsync(Alice, $"/ship check demo@1.0.0 {string.Join(' ', blocking)}");
        Assert.Contains("waiting for approval", reply.Text, StringComparison.Ordinal);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.AwaitingApproval, release.State);
        Assert.Empty(release.BlockingItems);
        await AssertCardShowsAsync(sut, Demo, "Awaiting approval");

        // bob approves: the staging gate starts
        reply = await sut.SendAsync(Bob, "/ship approve demo@1.0.0");
        Assert.Contains("goes to staging", reply.Text, StringComparison.Ordinal);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Staging, release.State);
        Assert.Equal(StagingStep.Deploying, release.StagingStep);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Staging, 100), release.PendingDeployment);
        Assert.Equal("bob", Assert.Single(release.Approvals).By.Id);
        Assert.Equal(ChecklistItemState.Confirmed, release.Checklist.Single(i => i.Id == ChecklistCatalog.Approved).State);
        await AssertCardShowsAsync(sut, Demo, "Staging");

        // work: staging deployment and smoke checks, then the staging bake
        await sut.FireAsync(Demo, TimerKind.Work);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Staging, release.State);
        Assert.Equal(StagingStep.Baking, release.StagingStep);
        Assert.Equal(sut.Time.GetUtcNow() + StagingBake, release.BakeEndsAt);
        await sut.Deployment.Received(1).RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging, Arg.Any<CancellationToken>());
        Assert.Contains(sut.Scheduled, t => t.Release == Demo && t.Kind == TimerKind.Promotion && t.DueAt == release.BakeEndsAt);
        await AssertCardShowsAsync(sut, Demo, "Staging");

        // the staging bake ends: canary 5 %, baseline captured
        await sut.AdvanceAndFireAsync(StagingBake, Demo, TimerKind.Promotion);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 5), release.PendingDeployment);
        Assert.Equal(0.003, release.Baseline[Metrics.ErrorRate]);
        Assert.Equal(1.0, release.Baseline[Metrics.Business]);
        await AssertCardShowsAsync(sut, Demo, "Canary 5 %");

        await sut.FireAsync(Demo, TimerKind.Work);
        release = await sut.GetAsync(Demo);
        Assert.Null(release.PendingDeployment);
        Assert.Equal(sut.Time.GetUtcNow() + StageBake, release.BakeEndsAt);
        Assert.Contains(sut.Scheduled, t => t.Release == Demo && t.Kind == TimerKind.HealthEvaluation && t.Interval == sut.Settings.EvaluationInterval);
        await AssertCardShowsAsync(sut, Demo, "Canary 5 %");

        // every production stage in turn
        (ReleaseState State, string Title)[] stages =
        [
            (ReleaseState.EarlyAdopters, "Early adopters 25 %"),
            (ReleaseState.GeneralAvailability, "GA 50 %"),
            (ReleaseState.Full, "Full 100 %"),
        ];
        foreach (var (state, title) in stages)
        {
            await sut.AdvanceAndFireAsync(StageBake, Demo, TimerKind.Promotion);
            Assert.Equal(state, (await sut.GetAsync(Demo)).State);
            await AssertCardShowsAsync(sut, Demo, title);
            await sut.FireAsync(Demo, TimerKind.Work);
            release = await sut.GetAsync(Demo);
            Assert.Equal(state, release.State);
            Assert.Null(release.PendingDeployment);
            Assert.Equal(HealthStatus.Healthy, release.LastHealth?.Status);
            await AssertCardShowsAsync(sut, Demo, title);
        }

        // the full bake ends: post-deployment validation
        await sut.AdvanceAndFireAsync(StageBake, Demo, TimerKind.Promotion);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Validating, release.State);
        Assert.Equal(sut.Time.GetUtcNow() + ValidationWindow, release.ValidationEndsAt);
        Assert.Contains(sut.Scheduled, t => t.Release == Demo && t.Kind == TimerKind.ValidationEnd && t.DueAt == release.ValidationEndsAt);
        await AssertCardShowsAsync(sut, Demo, "Validating");

        // a human verifies user-facing functionality; the window ends: Operating
        reply = await sut.SendAsync(Alice, "/ship check demo@1.0.0 ufv");
        Assert.Contains("ufv confirmed", reply.Text, StringComparison.Ordinal);
        await AssertCardShowsAsync(sut, Demo, "Validating");
        await sut.AdvanceAndFireAsync(ValidationWindow, Demo, TimerKind.ValidationEnd);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Operating, release.State);
        Assert.Equal(sut.Time.GetUtcNow(), release.OperatingSince);
        Assert.NotEmpty(release.Handoff);
        Assert.All(release.Handoff, h => Assert.True(h.Met, h.Criterion));
        Assert.Contains(sut.Scheduled, t => t.Release == Demo && t.Kind == TimerKind.OutcomeCheckpoint && t.DueAt == release.OperatingSince + TimeSpan.FromSeconds(5));
        await AssertCardShowsAsync(sut, Demo, "Operating");

        // outcome checkpoints at +5 s and +10 s: Completed
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), Demo, TimerKind.OutcomeCheckpoint);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Operating, release.State);
        Assert.Equal(1, Assert.Single(release.Outcomes).Checkpoint);
        Assert.Single(sut.PublicationsWithKey("outcome:demo@1.0.0:1"));
        await AssertCardShowsAsync(sut, Demo, "Operating");

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), Demo, TimerKind.OutcomeCheckpoint);
        release = await sut.GetAsync(Demo);
        Assert.Equal(ReleaseState.Completed, release.State);
        Assert.Equal([1, 2], release.Outcomes.Select(o => o.Checkpoint));
        await AssertCardShowsAsync(sut, Demo, "Completed");
        foreach (var kind in Enum.GetValues<TimerKind>())
        {
            Assert.Contains((Demo, kind), sut.Cancelled);
        }

        // the deployment target saw each traffic change exactly once, in order
        var requests = sut.DeploymentRequests();
        Assert.Collection(
            requests,
            r => Assert.True(IsIntent(r, "staging", 100), r.Intent.Describe()),
            r => Assert.True(IsIntent(r, "production", 5), r.Intent.Describe()),
            r => Assert.True(IsIntent(r, "production", 25), r.Intent.Describe()),
            r => Assert.True(IsIntent(r, "production", 50), r.Intent.Describe()),
            r => Assert.True(IsIntent(r, "production", 100), r.Intent.Describe()));
        Assert.Equal(requests.Count, requests.Select(r => r.IdempotencyKey).Distinct().Count());

        // one release card, updated in place under one key, through every state
        await sut.Notifier.Received().PublishAsync(Channel, "card:demo@1.0.0", Arg.Any<Card>(), null, Arg.Any<CancellationToken>());
        var cards = sut.Publications.Where(p => p.Key.StartsWith("card:", StringComparison.Ordinal)).ToList();
        Assert.All(cards, c => Assert.Equal("card:demo@1.0.0", c.Key));
        var titles = cards.Select(c => c.Card.Title[(c.Card.Title.IndexOf('—', StringComparison.Ordinal) + 2)..]).Distinct().ToList();
        Assert.Equal(
            ["Draft", "Awaiting approval", "Staging", "Canary 5 %", "Early adopters 25 %", "GA 50 %", "Full 100 %", "Validating", "Operating", "Completed"],
            titles);

        // the audit trail has the transitions and the deployment calls
        var audit = await sut.AuditAsync(Demo);
        Assert.Equal(5, audit.Count(a => a.Action == "deployment call"));
        Assert.Contains(audit, a => a.Action == nameof(ReleaseEventKind.Approved) && a.Actor == "bob");
        Assert.Contains(audit, a => a.Action == nameof(ReleaseEventKind.Completed));
    }

    [Fact]
    public async Task OnTimerAsync_OperatingRelease_ReleasesTheServiceLockForTheNextRelease()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.SendAsync(Alice, $"/ship check {id} ufv");
        await sut.AdvanceAndFireAsync(ValidationWindow, id, TimerKind.ValidationEnd);
        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(id)).State);

        var reply = await sut.SendAsync(Alice, "/ship start demo 1.1.0 next thing");

        Assert.StartsWith("Started demo@1.1.0", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task OnTimerAsync_ValidationWindowEndsWithoutUserFacingCheck_StaysValidating()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.Validating, (await sut.GetAsync(id)).State);

        await sut.AdvanceAndFireAsync(ValidationWindow, id, TimerKind.ValidationEnd);

        Assert.Equal(ReleaseState.Validating, (await sut.GetAsync(id)).State);
    }

    // ================================================================ health gates and automatic rollback

    [Fact]
    public async Task OnTimerAsync_ErrorRateBreachDuringCanary_RollsBackAlertsOnCallAndHaltsService()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        sut.BreachErrorRate();
        await sut.FireAsync(id, TimerKind.HealthEvaluation);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), release.PendingDeployment);
        Assert.NotNull(release.Rollback);
        Assert.Equal("shipbot", release.Rollback.By);
        Assert.Equal("Canary 5 %", release.Rollback.Stage);
        var evidence = Assert.Single(release.Rollback.Evidence);
        Assert.Equal(Metrics.ErrorRate, evidence.Metric);
        Assert.Equal(0.2, evidence.Value);
        Assert.Equal(0.003, evidence.Baseline);

        var alert = Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:rollback"));
        Assert.Contains("carol", alert.Card.Mentions);
        Assert.Equal("card:demo@1.0.0", alert.ThreadKey);
        Assert.Equal(CardTone.Danger, alert.Card.Tone);
        var trigger = alert.Card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts).Single(f => f.Label == "Trigger").Value;
        Assert.Contains("error rate 20 %", trigger, StringComparison.Ordinal);
        Assert.Contains("limit baseline 0.3 % + 1 pt", trigger, StringComparison.Ordinal);
        Assert.Contains("baseline 0.3 %", trigger, StringComparison.Ordinal);
        await AssertCardShowsAsync(sut, id, "Rolling back from Canary 5 %");

        var halt = Assert.Single(await sut.Store.GetHaltsAsync());
        Assert.Equal("demo", halt.Service);
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.Work);

        // the rollback call
        await sut.FireAsync(id, TimerKind.Work);
        await sut.Deployment.Received(1).ApplyAsync(
            Arg.Is<DeploymentRequest>(r => r.Release == id && r.Intent.IsRollback && r.Intent.Percent == 0), Arg.Any<CancellationToken>());
        release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RolledBack, release.State);
        Assert.Null(release.PendingDeployment);
        var alerts = sut.PublicationsWithKey("alert:demo@1.0.0:rollback");
        Assert.Equal(2, alerts.Count);
        Assert.Contains("Rolled back", alerts[^1].Card.Title, StringComparison.Ordinal);
        await AssertCardShowsAsync(sut, id, "Rolled back from Canary 5 %");
        Assert.Contains((id, TimerKind.HealthEvaluation), sut.Cancelled);
        var audit = await sut.AuditAsync(id);
        Assert.Contains(audit, a => a.Action == nameof(ReleaseEventKind.BreachDetected));
        Assert.Contains(audit, a => a.Action == nameof(ReleaseEventKind.RolledBack));

        // the line is stopped until on-call unhalts
        var refused = await sut.SendAsync(Alice, "/ship start demo 1.0.1 fix");
        Assert.Equal(ReplyVisibility.Ephemeral, refused.Visibility);
        Assert.Contains("halted", refused.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Id("1.0.1")));

        var unhalted = await sut.SendAsync(Carol, "/ship unhalt demo error spike was a bad config, reverted");
        Assert.Equal(ReplyVisibility.InChannel, unhalted.Visibility);
        Assert.Contains("unhalted", unhalted.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.GetHaltsAsync());

        var started = await sut.SendAsync(Alice, "/ship start demo 1.0.1 fix");
        Assert.StartsWith("Started demo@1.0.1", started.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTimerAsync_BreachWhenBakeEnds_RollsBackInsteadOfPromoting()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        sut.SetMetric(Metrics.LatencyP99, 900);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Equal(Metrics.LatencyP99, Assert.Single(release.Rollback!.Evidence).Metric);
        Assert.DoesNotContain(sut.DeploymentRequests(), r => IsIntent(r, "production", 25));
    }

    [Fact]
    public async Task OnTimerAsync_HealthSourceCannotRead_HoldsTheStageAndNeverPromotes()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        sut.Health.ReadAsync(Arg.Any<HealthQuery>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException<HealthSample>(new HttpRequestException("prometheus: connection refused")));

        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Equal(HealthStatus.Unknown, release.LastHealth?.Status);
        Assert.DoesNotContain(sut.DeploymentRequests(), r => IsIntent(r, "production", 25));
        // every following health evaluation retries the held promotion
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.HealthEvaluation && t.Interval == sut.Settings.EvaluationInterval);
    }

    [Fact]
    public async Task OnTimerAsync_ProductionDeploymentFails_StartsAutomaticRollback()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        sut.Deployment.ApplyAsync(Arg.Is<DeploymentRequest>(r => r.Intent.Percent == 25), Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(false, "HTTP 502 from the load balancer", TimeSpan.FromSeconds(1)));

        await sut.FireAsync(id, TimerKind.Work);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Contains("deployment to 25 % failed", release.Rollback!.Reason, StringComparison.Ordinal);
        Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:rollback"));
        Assert.Contains(await sut.Store.GetHaltsAsync(), h => h.Service == "demo");
    }

    [Fact]
    public async Task OnTimerAsync_RollbackCallFails_RetriesAfterTheRetryDelay()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        sut.BreachErrorRate();
        await sut.FireAsync(id, TimerKind.HealthEvaluation);
        sut.Deployment.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(false, "timeout", TimeSpan.FromSeconds(10)), new DeploymentResult(true, "rolled back", TimeSpan.FromSeconds(1)));

        await sut.FireAsync(id, TimerKind.Work);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Contains("timeout", release.LastDeploymentError, StringComparison.Ordinal);
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.Work && t.DueAt == sut.Time.GetUtcNow() + sut.Settings.RetryDelay);

        await sut.AdvanceAndFireAsync(sut.Settings.RetryDelay, id, TimerKind.Work);

        Assert.Equal(ReleaseState.RolledBack, (await sut.GetAsync(id)).State);
    }

    // ================================================================ staging gate

    [Fact]
    public async Task OnTimerAsync_StagingSmokeChecksFail_HaltsReleaseAndServiceWithoutProductionTraffic()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        await sut.SendAsync(Bob, $"/ship approve {id}");
        sut.Deployment.RunSmokeChecksAsync(id, DeploymentEnvironment.Staging, Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(false, "GET /checkout returned 500", TimeSpan.FromSeconds(2)));

        await sut.FireAsync(id, TimerKind.Work);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Halted, release.State);
        Assert.Equal(ReleaseState.Staging, release.ResumeState);
        Assert.Contains("smoke checks failed", release.HaltReason, StringComparison.Ordinal);
        Assert.Equal(-1, release.StageIndex);
        var alert = Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:halt"));
        Assert.Contains("carol", alert.Card.Mentions);
        Assert.Contains(await sut.Store.GetHaltsAsync(), h => h.Service == "demo");

        // a stale promotion timer does nothing; production is never touched
        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.Halted, (await sut.GetAsync(id)).State);
        Assert.All(sut.DeploymentRequests(), r => Assert.Equal(DeploymentEnvironment.Staging, r.Intent.Environment));

        // fix, unhalt, resume: the whole gate runs again
        var early = await sut.SendAsync(Alice, $"/ship resume {id}");
        Assert.Contains("unhalt it first", early.Text, StringComparison.Ordinal);
        await sut.SendAsync(Carol, "/ship unhalt demo fixed the 500");
        sut.Deployment.RunSmokeChecksAsync(id, DeploymentEnvironment.Staging, Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(true, "ok", TimeSpan.FromSeconds(2)));
        await sut.SendAsync(Alice, $"/ship resume {id}");
        release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Staging, release.State);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Staging, 100), release.PendingDeployment);

        await sut.FireAsync(id, TimerKind.Work);

        release = await sut.GetAsync(id);
        Assert.Equal(StagingStep.Baking, release.StagingStep);
        Assert.Equal(2, sut.DeploymentRequests().Count(r => IsIntent(r, "staging", 100)));
    }

    [Fact]
    public async Task OnTimerAsync_StagingDeploymentThrows_HaltsAtTheGate()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        await sut.SendAsync(Bob, $"/ship approve {id}");
        sut.Deployment.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException<DeploymentResult>(new TimeoutException("webhook timed out")));

        await sut.FireAsync(id, TimerKind.Work);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Halted, release.State);
        Assert.Contains("webhook timed out", release.HaltReason, StringComparison.Ordinal);
        await sut.Deployment.DidNotReceive().RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<DeploymentEnvironment>(), Arg.Any<CancellationToken>());
    }
}
