using NSubstitute;
using NSubstitute.ExceptionExtensions;
using ShipBot.Core.Cards;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>The traffic router as an effect of transitions (pause/resume, status on the card) and ShipBot as Flagger's gate.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    private static readonly TargetStatus ArgoStatus = new("Argo Rollouts", "shop/demo",
        [new TargetFact("phase", "Paused"), new TargetFact("step", "2/6 (pause)"), new TargetFact("weights", "canary 5 % · stable 95 %"),
         new TargetFact("analysis", "demo-7-2 Running")],
        Start);

    // ================================================================ router pause / resume

    [Fact]
    public async Task HandleAsync_PauseWithRouterTarget_PausesTheRouterAfterTheTransitionAndResumeResumesIt()
    {
        var sut = new CoordinatorHarness(routerTarget: true);
        var router = (IRouterTarget)sut.Deployment;
        var states = new List<ReleaseState>();
        router.SetPausedAsync(Arg.Any<ReleaseId>(), Arg.Any<bool>(), Arg.Any<CancellationToken>()).Returns<Task<DeploymentResult?>>(async ci =>
        {
            // Called after the transition is stored: the store already says Paused (or resumed).
            states.Add((await sut.GetAsync(ci.ArgAt<ReleaseId>(0))).State);
            return new DeploymentResult(true, ci.ArgAt<bool>(1) ? "spec.paused set" : "spec.paused cleared", TimeSpan.FromMilliseconds(8))
            {
                Status = ArgoStatus with { Facts = [.. ArgoStatus.Facts, new TargetFact("paused", ci.ArgAt<bool>(1) ? "spec.paused (manually)" : "no")] },
            };
        });
        var id = await sut.ToCanaryBakeAsync();

        await sut.SendAsync(Alice, $"/ship pause {id}");

        await router.Received(1).SetPausedAsync(id, true, Arg.Any<CancellationToken>());
        Assert.Equal([ReleaseState.Paused], states);
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "router pause" && a.Detail.Contains("ok", StringComparison.Ordinal) && a.Detail.Contains("spec.paused set", StringComparison.Ordinal));
        Assert.Contains(Facts(sut.LastCard(id).Card), f => f.Label == "Paused" && f.Value == "spec.paused (manually)");

        await sut.SendAsync(Carol, $"/ship resume {id}");

        await router.Received(1).SetPausedAsync(id, false, Arg.Any<CancellationToken>());
        Assert.Equal([ReleaseState.Paused, ReleaseState.Canary], states);
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "router resume");
    }

    [Fact]
    public async Task HandleAsync_RouterPauseFails_ReleaseStaysPausedAndTheCardAndAuditSaySo()
    {
        var sut = new CoordinatorHarness(routerTarget: true);
        var router = (IRouterTarget)sut.Deployment;
        router.SetPausedAsync(Arg.Any<ReleaseId>(), true, Arg.Any<CancellationToken>())
            .Returns(Task.FromResult<DeploymentResult?>(new DeploymentResult(false, "rollouts.argoproj.io \"demo\" is forbidden", TimeSpan.FromMilliseconds(5))));
        router.SetPausedAsync(Arg.Any<ReleaseId>(), false, Arg.Any<CancellationToken>())
            .ThrowsAsync(new HttpRequestException("connection refused"));
        var id = await sut.ToCanaryBakeAsync();

        var paused = await sut.SendAsync(Alice, $"/ship pause {id}");

        Assert.Contains("Paused demo@1.0.0", paused.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Paused, (await sut.GetAsync(id)).State);
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "router pause" && a.Detail.Contains("failed", StringComparison.Ordinal) && a.Detail.Contains("forbidden", StringComparison.Ordinal));
        var fact = Assert.Single(Facts(sut.LastCard(id).Card), f => f.Label == "Pause failed");
        Assert.Contains("forbidden", fact.Value, StringComparison.Ordinal);

        var resumed = await sut.SendAsync(Carol, $"/ship resume {id}");

        Assert.Contains("Resumed demo@1.0.0", resumed.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
        var facts = Facts(sut.LastCard(id).Card);
        Assert.DoesNotContain(facts, f => f.Label == "Pause failed");
        Assert.Contains(facts, f => f.Label == "Resume failed" && f.Value.Contains("connection refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandleAsync_PauseWithTargetThatIsNotARouter_ChangesNothingElse()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        await sut.SendAsync(Alice, $"/ship pause {id}");

        Assert.Equal(ReleaseState.Paused, (await sut.GetAsync(id)).State);
        Assert.DoesNotContain(await sut.AuditAsync(id), a => a.Action.StartsWith("router", StringComparison.Ordinal));
    }

    // ================================================================ router status on the card

    [Fact]
    public async Task OnTimerAsync_DeploymentCallReportsRouterStatus_CardShowsStepWeightsAndAnalysis()
    {
        var sut = new CoordinatorHarness(routerTarget: true);
        sut.Deployment.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(true, "canary at 5 %", TimeSpan.FromMilliseconds(30)) { Status = ArgoStatus });

        var id = await sut.ToCanaryBakeAsync();

        var facts = Facts(sut.LastCard(id).Card);
        Assert.Contains(facts, f => f.Label == "Argo Rollouts" && f.Value.StartsWith("shop/demo (as of ", StringComparison.Ordinal));
        Assert.Contains(facts, f => f.Label == "Step" && f.Value == "2/6 (pause)");
        Assert.Contains(facts, f => f.Label == "Weights" && f.Value == "canary 5 % · stable 95 %");
        Assert.Contains(facts, f => f.Label == "Analysis" && f.Value == "demo-7-2 Running");
        Assert.Same(ArgoStatus, sut.Coordinator.RouterStatusOf(id));
    }

    // ================================================================ Flagger gate

    private static readonly Dictionary<string, string> DocMetadata = new(StringComparer.Ordinal) { ["test"] = "all", ["token"] = "16688eb5e9f289f1991c" };

    private static CoordinatorHarness FlaggerSut(Func<ServicePolicy, ServicePolicy>? configure = null) =>
        new(configure, settings: s => s with { FlaggerCanaries = [new FlaggerCanary("demo", "test", "podinfo", "console")] });

    /// <summary>The payload of Flagger's webhook documentation (name podinfo, namespace test, checksum 85d557f47b).</summary>
    private static FlaggerHook Hook(FlaggerGate gate, string phase = "Progressing", IReadOnlyDictionary<string, string>? metadata = null) =>
        new(gate, "podinfo", "test", phase, "85d557f47b", metadata ?? DocMetadata);

    private static readonly ReleaseId FlaggerRelease = new("demo", "85d557f47b");

    [Fact]
    public async Task OnFlaggerHookAsync_FirstConfirmRollout_CreatesTheReleaseAndRefusesUntilApproved()
    {
        var sut = FlaggerSut();

        var first = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout, "Waiting"));

        Assert.False(first.Allowed);
        Assert.Equal(FlaggerRelease, first.Release);
        Assert.Contains("not approved", first.Reason, StringComparison.Ordinal);
        var release = await sut.GetAsync(FlaggerRelease);
        Assert.Equal("flagger", release.Requester.Id);
        Assert.Equal(new Conversation("console", "releases"), release.Conversation);
        Assert.Contains("Flagger canary test/podinfo revision 85d557f47b", release.Contract.Changes);
        var card = sut.LastCard(FlaggerRelease).Card;
        Assert.Contains(Facts(card), f => f.Label == "Flagger" && f.Value.StartsWith("test/podinfo", StringComparison.Ordinal));
        Assert.Contains(Facts(card), f => f.Label == "Phase" && f.Value == "Waiting");
        Assert.Contains(Facts(card), f => f.Label == "Gate confirm-rollout" && f.Value.StartsWith("not yet", StringComparison.Ordinal));

        // Asked again (Flagger asks every interval): the same release, still refused, audited once.
        var again = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout, "Waiting"));
        Assert.False(again.Allowed);
        Assert.Single(await sut.Store.ListByServiceAsync("demo"));
        Assert.Single(await sut.AuditAsync(FlaggerRelease), a => a.Action == "flagger confirm-rollout");

        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.SettleChecklistAsync(FlaggerRelease);
        await sut.SendAsync(Bob, $"/ship approve {FlaggerRelease}");

        var approved = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout));
        Assert.True(approved.Allowed, approved.Reason);
        var increase = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease));
        Assert.True(increase.Allowed, increase.Reason);
        Assert.Contains(await sut.AuditAsync(FlaggerRelease), a => a.Action == "flagger confirm-rollout" && a.Detail.StartsWith("allowed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OnFlaggerHookAsync_ApprovedButHaltedOrFrozenOrPaused_Refused()
    {
        var sut = FlaggerSut();
        await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout));
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.SettleChecklistAsync(FlaggerRelease);
        await sut.SendAsync(Bob, $"/ship approve {FlaggerRelease}");
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, FlaggerRelease, TimerKind.Promotion);
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(FlaggerRelease)).State);

        await sut.SendAsync(Carol, "/ship halt demo checkout latency spike");
        var halted = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease));
        Assert.False(halted.Allowed);
        Assert.Contains("halted", halted.Reason, StringComparison.Ordinal);
        Assert.Contains("checkout latency spike", halted.Reason, StringComparison.Ordinal);

        await sut.SendAsync(Carol, "/ship unhalt demo fixed");
        await sut.SendAsync(Dave, "/ship halt all quarter-end change freeze");
        var frozen = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmPromotion));
        Assert.False(frozen.Allowed);
        Assert.Contains("change freeze", frozen.Reason, StringComparison.Ordinal);

        await sut.SendAsync(Dave, "/ship unhalt all over");
        await sut.SendAsync(Carol, $"/ship resume {FlaggerRelease}");
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(FlaggerRelease)).State);
        Assert.True((await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease))).Allowed);

        await sut.SendAsync(Alice, $"/ship pause {FlaggerRelease}");
        var paused = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease));
        Assert.False(paused.Allowed);
        Assert.Contains("paused", paused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnFlaggerHookAsync_CalendarFreezeWindow_TrafficIncreaseAndPromotionRefusedUntilItEnds()
    {
        var calendar = new FakeFreezeCalendar();
        var sut = new CoordinatorHarness(freezes: calendar, settings: s => s with { FlaggerCanaries = [new FlaggerCanary("demo", "test", "podinfo", "console")] });
        await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout));
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.SettleChecklistAsync(FlaggerRelease);
        await sut.SendAsync(Bob, $"/ship approve {FlaggerRelease}");
        Assert.True((await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease))).Allowed);

        calendar.Add(Window("Friday freeze", sut.Time.GetUtcNow() - TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)));
        var increase = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease));
        var promotion = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmPromotion));

        Assert.False(increase.Allowed);
        Assert.Contains("Friday freeze", increase.Reason, StringComparison.Ordinal);
        Assert.False(promotion.Allowed);
        sut.Time.Advance(TimeSpan.FromHours(1));
        Assert.True((await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease))).Allowed);
    }

    [Fact]
    public async Task OnFlaggerHookAsync_StageWaitsForApproval_TrafficIncreaseAndPromotionRefusedUntilPromoted()
    {
        var sut = FlaggerSut(p => p with { Plan = p.Plan with { Stages = [.. p.Plan.Stages.Select(s => s.Kind == StageKind.EarlyAdopters ? s with { NeedsApproval = true } : s)] } });
        await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout));
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.SettleChecklistAsync(FlaggerRelease);
        await sut.SendAsync(Bob, $"/ship approve {FlaggerRelease}");
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, FlaggerRelease, TimerKind.Promotion);
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.BakeAndPromoteAsync(FlaggerRelease);
        await sut.AdvanceAndFireAsync(StageBake, FlaggerRelease, TimerKind.Promotion);
        Assert.True((await sut.GetAsync(FlaggerRelease)).AwaitingPromotionApproval);

        var increase = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease));
        var promotion = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmPromotion));

        Assert.False(increase.Allowed);
        Assert.False(promotion.Allowed);
        Assert.Contains("waits for an approver", increase.Reason, StringComparison.Ordinal);

        await sut.SendAsync(Bob, $"/ship promote {FlaggerRelease}");
        Assert.True((await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease))).Allowed);
    }

    [Fact]
    public async Task OnFlaggerHookAsync_Rollback_RefusedUntilOnCallRollsBackThenAllowed()
    {
        var sut = FlaggerSut();
        await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout));
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.SettleChecklistAsync(FlaggerRelease);
        await sut.SendAsync(Bob, $"/ship approve {FlaggerRelease}");
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, FlaggerRelease, TimerKind.Promotion);
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);

        var before = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.Rollback));
        Assert.False(before.Allowed);
        Assert.Contains("no rollback", before.Reason, StringComparison.Ordinal);

        await sut.SendAsync(Carol, $"/ship rollback {FlaggerRelease} checkout errors in the canary");

        var after = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.Rollback));
        Assert.True(after.Allowed, after.Reason);
        Assert.Contains("checkout errors in the canary", after.Reason, StringComparison.Ordinal);
        Assert.False((await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmTrafficIncrease))).Allowed);
    }

    [Fact]
    public async Task OnFlaggerHookAsync_AlertFires_RollbackAllowed()
    {
        var sut = FlaggerSut();
        await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout));
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.SettleChecklistAsync(FlaggerRelease);
        await sut.SendAsync(Bob, $"/ship approve {FlaggerRelease}");
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, FlaggerRelease, TimerKind.Promotion);
        await sut.FireAsync(FlaggerRelease, TimerKind.Work);

        var alert = await sut.Coordinator.OnAlertAsync(new ExternalAlert("demo", null, "CheckoutErrors", "critical", "5xx above 2 %", "Alertmanager", Start, "fp-1"));
        Assert.Equal(AlertOutcome.Acted, alert.Outcome);

        Assert.True((await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.Rollback))).Allowed);
    }

    [Fact]
    public async Task OnFlaggerHookAsync_MetadataCarriesWeightAndFailedChecks_CardShowsThem()
    {
        var sut = FlaggerSut();
        var metadata = new Dictionary<string, string>(DocMetadata, StringComparer.Ordinal) { ["weight"] = "20", ["failedChecks"] = "1" };

        await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout, "Progressing", metadata));

        var facts = Facts(sut.LastCard(FlaggerRelease).Card);
        Assert.Contains(facts, f => f.Label == "Phase" && f.Value == "Progressing");
        Assert.Contains(facts, f => f.Label == "Weight" && f.Value == "20 %");
        Assert.Contains(facts, f => f.Label == "Failed checks" && f.Value == "1");
    }

    [Fact]
    public async Task OnFlaggerHookAsync_UnmappedCanaryOrNoReleaseYet_Refused()
    {
        var sut = FlaggerSut();

        var unmapped = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout) with { Namespace = "other" });
        var noRelease = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmPromotion));
        var noRollback = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.Rollback));

        Assert.False(unmapped.Allowed);
        Assert.Contains("not mapped", unmapped.Reason, StringComparison.Ordinal);
        Assert.False(noRelease.Allowed);
        Assert.False(noRollback.Allowed);
        Assert.Empty(await sut.Store.ListByServiceAsync("demo"));
    }

    [Fact]
    public async Task OnFlaggerHookAsync_MetadataVersion_NamesTheRelease()
    {
        var sut = FlaggerSut();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["version"] = "6.1.2" };

        var answer = await sut.Coordinator.OnFlaggerHookAsync(Hook(FlaggerGate.ConfirmRollout, "Waiting", metadata));

        Assert.Equal(new ReleaseId("demo", "6.1.2"), answer.Release);
    }

    private static IReadOnlyList<CardFact> Facts(Card card) => card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts).ToList();
}
