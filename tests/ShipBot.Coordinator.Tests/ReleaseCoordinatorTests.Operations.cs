using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Pause, halt and change freeze, consult decisions, manual rollback, abort, the hotfix path, simulate and recovery.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    // ================================================================ pause / resume

    [Fact]
    public async Task HandleAsync_PauseDuringBake_StopsTheClockAndResumeRestartsItWithTheRemainder()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        sut.Time.Advance(TimeSpan.FromSeconds(2));

        var paused = await sut.SendAsync(Alice, $"/ship pause {id}");

        var release = await sut.GetAsync(id);
        Assert.Contains("Paused demo@1.0.0", paused.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Paused, release.State);
        Assert.Equal(ReleaseState.Canary, release.ResumeState);
        Assert.Equal(TimeSpan.FromSeconds(3), release.RemainingBake);
        Assert.Null(release.BakeEndsAt);
        Assert.Contains((id, TimerKind.Promotion), sut.Cancelled);
        await AssertCardShowsAsync(sut, id, "Paused at Canary 5 %");

        // a promotion timer that still fires does nothing while paused
        await sut.AdvanceAndFireAsync(TimeSpan.FromMinutes(1), id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.Paused, (await sut.GetAsync(id)).State);
        var again = await sut.SendAsync(Bob, $"/ship pause {id}");
        Assert.Contains("already paused", again.Text, StringComparison.Ordinal);

        var resumed = await sut.SendAsync(Carol, $"/ship resume {id}");

        release = await sut.GetAsync(id);
        Assert.Contains("Resumed demo@1.0.0", resumed.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Equal(sut.Time.GetUtcNow() + TimeSpan.FromSeconds(3), release.BakeEndsAt);
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.Promotion && t.DueAt == release.BakeEndsAt);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(3), id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.EarlyAdopters, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task HandleAsync_PauseBeforeApproval_RefusedNamingTheState()
    {
        var sut = CreateSut();
        var id = await sut.StartAsync();

        var reply = await sut.SendAsync(Alice, $"/ship pause {id}");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("Cannot pause demo@1.0.0: it is Draft", reply.Text, StringComparison.Ordinal);
    }

    // ================================================================ halt / unhalt / change freeze

    [Fact]
    public async Task HandleAsync_OnCallHaltsAndUnhaltsService_StopsTheReleaseUntilResumed()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        var halted = await sut.SendAsync(Carol, "/ship halt demo checkout latency spike");

        Assert.Equal(ReplyVisibility.InChannel, halted.Visibility);
        Assert.Contains("demo halted by @Carol: checkout latency spike", halted.Text, StringComparison.Ordinal);
        Assert.Contains("Stopped: demo@1.0.0", halted.Text, StringComparison.Ordinal);
        var halt = Assert.Single(await sut.Store.GetHaltsAsync());
        Assert.Equal(("demo", "carol", "checkout latency spike"), (halt.Service, halt.By, halt.Reason));
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Halted, release.State);
        Assert.Equal(ReleaseState.Canary, release.ResumeState);
        var alert = Assert.Single(sut.Publications, p => p.Key.StartsWith("halt:demo:", StringComparison.Ordinal));
        Assert.Contains("carol", alert.Card.Mentions);
        await AssertCardShowsAsync(sut, id, "Halted at Canary 5 %");

        var twice = await sut.SendAsync(Carol, "/ship halt demo again");
        Assert.Contains("already halted (checkout latency spike", twice.Text, StringComparison.Ordinal);

        // no promotion while halted, and no resume before the unhalt
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.Halted, (await sut.GetAsync(id)).State);
        var early = await sut.SendAsync(Alice, $"/ship resume {id}");
        Assert.Contains("on-call must unhalt it first", early.Text, StringComparison.Ordinal);

        var unhalted = await sut.SendAsync(Carol, "/ship unhalt demo latency back to normal");

        Assert.Equal(ReplyVisibility.InChannel, unhalted.Visibility);
        Assert.Contains("(was: checkout latency spike)", unhalted.Text, StringComparison.Ordinal);
        Assert.Contains("Still halted, waiting for a human: demo@1.0.0", unhalted.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.GetHaltsAsync());
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "unhalt" && a.Actor == "carol");

        await sut.SendAsync(Alice, $"/ship resume {id}");
        release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.NotNull(release.BakeEndsAt);
    }

    [Fact]
    public async Task HandleAsync_UnhaltWhenNotHalted_NothingChanged()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Carol, "/ship unhalt demo just in case");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("Nothing changed: demo is not halted", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_ChangeFreeze_BlocksStartsForEveryServiceUntilLifted()
    {
        var sut = CreateSut(extraServices: [DemoPolicy("web")]);
        var id = await sut.ToCanaryBakeAsync();

        var frozen = await sut.SendAsync(Dave, "/ship halt all holiday change freeze");

        Assert.Equal(ReplyVisibility.InChannel, frozen.Visibility);
        Assert.Contains("Every service (change freeze) halted by @Dave", frozen.Text, StringComparison.Ordinal);
        var halt = Assert.Single(await sut.Store.GetHaltsAsync());
        Assert.True(halt.IsFreeze);
        Assert.Equal(ReleaseState.Halted, (await sut.GetAsync(id)).State);

        var web = await sut.SendAsync(Alice, "/ship start web 3.0.0 new header");
        var hotfix = await sut.SendAsync(Carol, "/ship hotfix web 3.0.1 p1 broken header");
        Assert.Contains("web is halted (holiday change freeze, by @dave)", web.Text, StringComparison.Ordinal);
        Assert.Contains("halted", hotfix.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.ListByServiceAsync("web"));

        var denied = await sut.SendAsync(Alice, "/ship unhalt all I want to ship");
        Assert.Contains("needs the on-call or admin role", denied.Text, StringComparison.Ordinal);

        var lifted = await sut.SendAsync(Dave, "/ship unhalt all freeze over");
        Assert.Contains("Change freeze unhalted by @Dave", lifted.Text, StringComparison.Ordinal);
        var started = await sut.SendAsync(Alice, "/ship start web 3.0.0 new header");
        Assert.StartsWith("Started web@3.0.0", started.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_ChangeFreezeByRequester_RefusedNamingTheRoles()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Alice, "/ship halt all stop everything");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("needs the on-call or admin role", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.GetHaltsAsync());
    }

    [Fact]
    public async Task OnTimerAsync_StagingBakeEndsDuringHalt_PromotionIsReArmedAfterUnhalt()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        await sut.SendAsync(Carol, "/ship halt demo investigating an incident");
        // approval is not blocked by a halt (the release is pre-production): it goes through the staging gate
        await sut.SendAsync(Bob, $"/ship approve {id}");
        await sut.FireAsync(id, TimerKind.Work);
        Assert.Equal(StagingStep.Baking, (await sut.GetAsync(id)).StagingStep);
        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.Staging, (await sut.GetAsync(id)).State);
        var firedAt = sut.Scheduled.Count;

        await sut.SendAsync(Carol, "/ship unhalt demo incident closed");

        // some promotion timer must be armed after the one that fired during the halt, or nothing ever moves the release
        Assert.Contains(sut.Scheduled.Skip(firedAt), t => t.Release == id && t.Kind == TimerKind.Promotion);
    }

    // ================================================================ consult (Hō-Ren-Sō)

    [Fact]
    public async Task OnTimerAsync_BusinessMetricDropsAtGeneralAvailability_PostsDecisionCardAndWaitsForOnCall()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();

        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.GeneralAvailability, release.State);
        Assert.NotNull(release.Decision);
        Assert.Equal(Metrics.Business, release.Decision.Breach.Metric);
        Assert.Equal(sut.Time.GetUtcNow() + sut.Policy.ConsultTimeout, release.Decision.AutoRollbackAt);
        var card = Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:decision:d1"));
        Assert.Contains("carol", card.Card.Mentions);
        Assert.Equal("card:demo@1.0.0", card.ThreadKey);
        Assert.Contains("business metric 0.8 breaches", card.Card.Title, StringComparison.Ordinal);
        var buttons = card.Card.Blocks.OfType<ActionsBlock>().SelectMany(b => b.Actions).ToList();
        Assert.Equal(["decide demo@1.0.0 rollback d1", "decide demo@1.0.0 hold d1", "decide demo@1.0.0 continue d1"], buttons.Select(a => a.Value));
        Assert.All(buttons, b => Assert.Equal("d.d1", b.Basis));
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.DecisionTimeout && t.DueAt == release.Decision.AutoRollbackAt);
        Assert.Empty(await sut.Store.GetHaltsAsync());

        // no promotion while the decision is pending
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.GeneralAvailability, (await sut.GetAsync(id)).State);

        var denied = await sut.SendAsync(Alice, $"/ship decide {id} continue");
        Assert.Contains("needs the on-call or admin role", denied.Text, StringComparison.Ordinal);

        var decided = await sut.SendAsync(Carol, $"/ship decide {id} continue");

        Assert.Contains("Continuing", decided.Text, StringComparison.Ordinal);
        release = await sut.GetAsync(id);
        Assert.Null(release.Decision);
        Assert.Contains(new BreachKey(Metrics.Business, "GA 50 %"), release.AcknowledgedBreaches);
        var cards = sut.PublicationsWithKey("alert:demo@1.0.0:decision:d1");
        Assert.Equal(2, cards.Count);
        Assert.Contains("decided", cards[^1].Card.Title, StringComparison.Ordinal);
        Assert.Contains("continue by @Carol", cards[^1].Card.Fallback, StringComparison.Ordinal);
        Assert.Empty(cards[^1].Card.Blocks.OfType<ActionsBlock>());
        Assert.Contains((id, TimerKind.DecisionTimeout), sut.Cancelled);

        // the acknowledged breach is not raised again at this stage
        await sut.FireAsync(id, TimerKind.HealthEvaluation);
        Assert.Null((await sut.GetAsync(id)).Decision);
        Assert.Equal(2, sut.PublicationsWithKey("alert:demo@1.0.0:decision:d1").Count);
    }

    [Fact]
    public async Task OnTimerAsync_OnCallChoseContinue_PromotesAtTheEndOfTheBakeDespiteTheAcknowledgedBreach()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);
        await sut.SendAsync(Carol, $"/ship decide {id} continue");

        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Full, release.State);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 100), release.PendingDeployment);
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.Work);
    }

    [Fact]
    public async Task OnTimerAsync_NobodyAnswersTheConsult_RollsBackAtTheTimeout()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);

        await sut.AdvanceAndFireAsync(sut.Policy.ConsultTimeout - TimeSpan.FromSeconds(1), id, TimerKind.DecisionTimeout);
        Assert.Equal(ReleaseState.GeneralAvailability, (await sut.GetAsync(id)).State);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.DecisionTimeout);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Contains("no decision within the consult window", release.Rollback!.Reason, StringComparison.Ordinal);
        Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:rollback"));
        Assert.Contains(await sut.Store.GetHaltsAsync(), h => h.Service == "demo");
    }

    [Fact]
    public async Task HandleAsync_OnCallChoosesHoldThenRollback_HoldKeepsTheStageWithoutANewConsultThenRollsBack()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);

        await sut.SendAsync(Carol, $"/ship decide {id} hold");
        var held = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.GeneralAvailability, held.State);
        Assert.Null(held.Decision);
        Assert.Single(held.HeldDecisions);

        // Still breached: holding means no new consult for the same breach, no promotion, no timeout.
        await sut.AdvanceAndFireAsync(sut.Policy.ConsultTimeout + CoordinatorHarness.StageBake, id, TimerKind.HealthEvaluation);
        await sut.FireAsync(id, TimerKind.DecisionTimeout);
        held = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.GeneralAvailability, held.State);
        Assert.Null(held.Decision);
        Assert.Single(held.HeldDecisions);

        await sut.SendAsync(Carol, $"/ship decide {id} rollback");

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Contains("@Carol decided to roll back", release.Rollback!.Reason, StringComparison.Ordinal);
        Assert.Empty(release.HeldDecisions);
    }

    // ================================================================ manual rollback and abort

    [Fact]
    public async Task HandleAsync_RequesterRollsBackWithReason_RecordsReasonAndRollsBack()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.BakeAndPromoteAsync(id);

        var reply = await sut.SendAsync(Alice, $"/ship rollback {id} customers report broken invoices");

        Assert.Contains("Rolling back demo@1.0.0", reply.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Equal("customers report broken invoices", release.Rollback!.Reason);
        Assert.Equal("Early adopters 25 %", release.Rollback.Stage);
        Assert.Empty(release.Rollback.Evidence);
        var alert = Assert.Single(sut.PublicationsWithKey("alert:demo@1.0.0:rollback"));
        Assert.Contains("carol", alert.Card.Mentions);
        var reason = alert.Card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts).Single(f => f.Label == "Reason").Value;
        Assert.Contains("customers report broken invoices", reason, StringComparison.Ordinal);
        var halt = Assert.Single(await sut.Store.GetHaltsAsync());
        Assert.Equal("alice", halt.By);

        var twice = await sut.SendAsync(Carol, $"/ship rollback {id} me too");
        Assert.Contains("already rolling back", twice.Text, StringComparison.Ordinal);

        await sut.FireAsync(id, TimerKind.Work);
        Assert.Equal(ReleaseState.RolledBack, (await sut.GetAsync(id)).State);
        Assert.Single(sut.DeploymentRequests(), r => r.Intent.IsRollback);
    }

    [Fact]
    public async Task HandleAsync_RollbackBeforeProductionTraffic_RefusedSuggestingAbort()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        var version = (await sut.GetAsync(id)).Revision;

        var reply = await sut.SendAsync(Alice, $"/ship rollback {id} changed my mind");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("abort it instead", reply.Text, StringComparison.Ordinal);
        Assert.Equal(version, (await sut.GetAsync(id)).Revision);
        Assert.Empty(await sut.Store.GetHaltsAsync());
    }

    [Fact]
    public async Task HandleAsync_AbortInStaging_AbortsCancelsTimersAndFreesTheService()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        await sut.SendAsync(Bob, $"/ship approve {id}");

        var reply = await sut.SendAsync(Alice, $"/ship abort {id} wrong artifact was built");

        Assert.Contains("Aborted demo@1.0.0", reply.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Aborted, release.State);
        Assert.Null(release.PendingDeployment);
        foreach (var kind in Enum.GetValues<TimerKind>())
        {
            Assert.Contains((id, kind), sut.Cancelled);
        }

        // a work timer that still fires deploys nothing
        await sut.FireAsync(id, TimerKind.Work);
        Assert.Empty(sut.DeploymentRequests());
        Assert.Empty(await sut.Store.GetHaltsAsync());
        var next = await sut.SendAsync(Alice, "/ship start demo 1.0.1 rebuilt");
        Assert.StartsWith("Started demo@1.0.1", next.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_AbortWithProductionTraffic_RefusedSuggestingRollback()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        var version = (await sut.GetAsync(id)).Revision;

        var reply = await sut.SendAsync(Alice, $"/ship abort {id} never mind");

        Assert.Contains("roll it back instead", reply.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Equal(version, release.Revision);
    }

    // ================================================================ promote now

    [Fact]
    public async Task HandleAsync_ApproverPromotesNow_SkipsTheRestOfTheBake()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        var reply = await sut.SendAsync(Bob, $"/ship promote {id}");

        Assert.Contains("promoted to Early adopters 25 %", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.EarlyAdopters, (await sut.GetAsync(id)).State);
        Assert.Contains(await sut.AuditAsync(id), a => a.Actor == "bob" && a.Detail.Contains("@Bob promoted early", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandleAsync_PromoteNowWhileBreached_RefusedWithTheHealth()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        sut.SetMetric(Metrics.Cpu, 0.97);

        var reply = await sut.SendAsync(Bob, $"/ship promote {id}");

        Assert.Contains("Cannot promote demo@1.0.0: health is breached", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
    }

    // ================================================================ hotfix path

    [Fact]
    public async Task HandleAsync_HotfixP0_ExpeditedPlanThroughStagingCanaryAndFullWithOpenIncidentSignal()
    {
        var sut = CreateSut();
        var id = Id("1.0.1");

        var reply = await sut.SendAsync(Alice, "/ship hotfix demo 1.0.1 p0 checkout returns 500 for everyone");

        Assert.StartsWith("Started demo@1.0.1", reply.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseKind.HotfixP0, release.Kind);
        Assert.Equal("checkout returns 500 for everyone", release.HotfixReason);
        Assert.Equal([StageKind.Canary, StageKind.Full], release.Plan.Stages.Select(s => s.Kind));
        Assert.DoesNotContain(release.Checklist, i => i.Id == "qa");
        Assert.Contains(release.Checklist, i => i.Id == "ratelimit" && i.Mandatory && !i.Floor);
        var signal = Assert.Single(await sut.Store.ListSignalsAsync());
        Assert.Equal((SignalKind.Incident, "demo@1.0.1", true), (signal.Kind, signal.Release, signal.Open));

        // the expedited path still goes through the checklist, approval and the staging gate
        await sut.FireAsync(id, TimerKind.Work);
        await sut.SettleChecklistAsync(id);
        await sut.SendAsync(Bob, $"/ship approve {id}");
        await sut.FireAsync(id, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);
        await sut.FireAsync(id, TimerKind.Work);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
        await sut.BakeAndPromoteAsync(id);
        Assert.Equal(ReleaseState.Full, (await sut.GetAsync(id)).State);
        Assert.Equal([100, 5, 100], sut.DeploymentRequests().Select(r => r.Intent.Percent));

        // the post-incident signal is filled in by anyone
        var filled = await sut.SendAsync(Carol, "/ship signal incident demo@1.0.1 expired TLS cert on the payment gateway");

        Assert.Equal(ReplyVisibility.InChannel, filled.Visibility);
        var updated = Assert.Single(await sut.Store.ListSignalsAsync());
        Assert.Equal(signal.Id, updated.Id);
        Assert.False(updated.Open);
        Assert.Equal("expired TLS cert on the payment gateway", updated.Text);
        Assert.Equal("carol", updated.By);
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "signal" && a.Actor == "carol");
    }

    [Fact]
    public async Task HandleAsync_HotfixByOnCallAllowedButNotByApprover()
    {
        var sut = CreateSut();

        var denied = await sut.SendAsync(Bob, "/ship hotfix demo 1.0.1 p1 search broken");
        var allowed = await sut.SendAsync(Carol, "/ship hotfix demo 1.0.1 p1 search broken");

        Assert.Contains("needs the requester or on-call role", denied.Text, StringComparison.Ordinal);
        Assert.StartsWith("Started demo@1.0.1", allowed.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(Id("1.0.1"));
        Assert.Equal([StageKind.Canary, StageKind.GeneralAvailability, StageKind.Full], release.Plan.Stages.Select(s => s.Kind));
    }

    [Fact]
    public async Task HandleAsync_SignalWithoutRelease_RecordedAsClosedSignal()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Mallory, "/ship signal friction approvals take too long");

        Assert.Equal(ReplyVisibility.InChannel, reply.Visibility);
        var signal = Assert.Single(await sut.Store.ListSignalsAsync());
        Assert.Equal((SignalKind.Friction, (string?)null, "approvals take too long", "mallory", false), (signal.Kind, signal.Release, signal.Text, signal.By, signal.Open));
    }

    [Fact]
    public async Task OnTimerAsync_FlagsStillInCode_OperatingUntilEveryFlagIsRemoved()
    {
        var sut = CreateSut();
        var id = Id("1.0.0");
        await sut.SendAsync(Alice, "/ship start demo 1.0.0 new checkout --flag new-checkout");
        await sut.FireAsync(id, TimerKind.Work);
        await sut.SettleChecklistAsync(id);
        await sut.SendAsync(Bob, $"/ship approve {id}");
        await sut.FireAsync(id, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);
        await sut.FireAsync(id, TimerKind.Work);
        await sut.BakeAndPromoteAsync(id);
        await sut.BakeAndPromoteAsync(id);
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.SendAsync(Alice, $"/ship check {id} ufv");
        await sut.AdvanceAndFireAsync(ValidationWindow, id, TimerKind.ValidationEnd);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Operating, release.State);
        Assert.Equal(["new-checkout"], release.FlagsToRemove);
        var reminder = sut.PublicationsWithKey("reminder:demo@1.0.0")[^1];
        Assert.Contains("new-checkout", reminder.Card.Fallback, StringComparison.Ordinal);
        Assert.Contains(sut.Scheduled, t => t.Release == id && t.Kind == TimerKind.OutcomeCheckpoint && t.DueAt == sut.Time.GetUtcNow() + sut.Settings.ReminderInterval);

        var reply = await sut.SendAsync(Alice, $"/ship flag-removed {id} new-checkout");

        Assert.Contains("completed", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Completed, (await sut.GetAsync(id)).State);
    }

    // ================================================================ simulate

    [Fact]
    public async Task HandleAsync_SimulateWithoutSimulatedSource_SaysItIsOnlyAvailableThere()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Alice, "/ship simulate demo error_rate 20%");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("only when the simulated health source is configured", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_SimulateWithSimulatedSource_SetsTheMetric()
    {
        var simulator = Substitute.For<IHealthSimulator>();
        simulator.KnownMetrics.Returns([Metrics.ErrorRate, Metrics.LatencyP99]);
        var sut = CreateSut(simulator: simulator);

        var set = await sut.SendAsync(Alice, "/ship simulate demo error_rate 20%");
        var unknown = await sut.SendAsync(Alice, "/ship simulate demo happiness 3");
        var reset = await sut.SendAsync(Alice, "/ship simulate demo reset");
        var help = await sut.SendAsync(Alice, "/ship help");

        simulator.Received(1).Set("demo", Metrics.ErrorRate, 0.2);
        simulator.Received(1).Reset("demo");
        simulator.DidNotReceive().Set(Arg.Any<string>(), "happiness", Arg.Any<double>());
        Assert.Equal(ReplyVisibility.InChannel, set.Visibility);
        Assert.Contains("error rate of demo to 20 %", set.Text, StringComparison.Ordinal);
        Assert.Contains("Unknown metric 'happiness'. Known: error_rate, latency_p99_ms", unknown.Text, StringComparison.Ordinal);
        Assert.Contains("reset the simulated metrics of demo", reset.Text, StringComparison.Ordinal);
        Assert.Contains("simulate", help.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_SimulateUnknownService_ListsConfiguredServices()
    {
        var simulator = Substitute.For<IHealthSimulator>();
        simulator.KnownMetrics.Returns([Metrics.ErrorRate]);
        var sut = CreateSut(simulator: simulator);

        var reply = await sut.SendAsync(Alice, "/ship simulate nosuch error_rate 0.2");

        Assert.Contains("Unknown service 'nosuch'", reply.Text, StringComparison.Ordinal);
        simulator.DidNotReceiveWithAnyArgs().Set(default!, default!, default);
    }

    // ================================================================ recovery

    [Fact]
    public async Task RecoverAsync_ActiveReleasesInStore_ReArmsTheirTimers()
    {
        var sut = CreateSut(extraServices: [DemoPolicy("web")]);
        var canary = await sut.ToCanaryBakeAsync();
        var web = Id("2.0.0", "web");
        await sut.SendAsync(Alice, "/ship start web 2.0.0 header");
        var rejected = Id("0.1.0", "web");
        var old = Release.Create(rejected, ReleaseKind.Standard, new Person("alice", "Alice"), Channel, sut.Policy,
            new ReleaseContract([], "n", "r", [], []), null, Start - TimeSpan.FromDays(3)).Next with
        { State = ReleaseState.Rejected };
        await sut.Store.TryCreateAsync(old, []);
        var bakeEndsAt = (await sut.GetAsync(canary)).BakeEndsAt;

        // a restarted instance: same store, a fresh scheduler
        var scheduler = Substitute.For<IReleaseScheduler>();
        var restarted = new ReleaseCoordinator(sut.Store, sut.Store, sut.Store, scheduler, sut.Deployment, sut.Health, sut.Readiness, [sut.Notifier],
            sut.Access, sut.Settings, sut.Time, NullLogger<ReleaseCoordinator>.Instance);

        var count = await restarted.RecoverAsync();

        Assert.Equal(2, count);
        await scheduler.Received(1).ScheduleAsync(canary, TimerKind.Promotion, bakeEndsAt!.Value, Arg.Any<CancellationToken>());
        await scheduler.Received(1).ScheduleRecurringAsync(canary, TimerKind.HealthEvaluation, sut.Settings.EvaluationInterval, Arg.Any<CancellationToken>());
        await scheduler.Received(1).ScheduleAsync(web, TimerKind.Work, sut.Time.GetUtcNow(), Arg.Any<CancellationToken>());
        await scheduler.DidNotReceive().ScheduleAsync(rejected, Arg.Any<TimerKind>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
        // every active release gets the recurring tick, the safety net for its other timers
        await scheduler.Received(1).ScheduleRecurringAsync(web, TimerKind.HealthEvaluation, sut.Settings.EvaluationInterval, Arg.Any<CancellationToken>());
        await scheduler.DidNotReceive().ScheduleRecurringAsync(rejected, Arg.Any<TimerKind>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RecoverAsync_ReleaseWithPendingDecision_ReArmsDecisionTimeoutAndHealthEvaluation()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);
        var decision = (await sut.GetAsync(id)).Decision!;
        var scheduler = Substitute.For<IReleaseScheduler>();
        var restarted = new ReleaseCoordinator(sut.Store, sut.Store, sut.Store, scheduler, sut.Deployment, sut.Health, sut.Readiness, [sut.Notifier],
            sut.Access, sut.Settings, sut.Time, NullLogger<ReleaseCoordinator>.Instance);

        Assert.Equal(1, await restarted.RecoverAsync());

        await scheduler.Received(1).ScheduleAsync(id, TimerKind.DecisionTimeout, decision.AutoRollbackAt, Arg.Any<CancellationToken>());
        await scheduler.Received(1).ScheduleRecurringAsync(id, TimerKind.HealthEvaluation, sut.Settings.EvaluationInterval, Arg.Any<CancellationToken>());
    }
}
