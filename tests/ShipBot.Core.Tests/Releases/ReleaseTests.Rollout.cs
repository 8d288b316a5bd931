using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Releases.Events;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>The staging gate, promotions, validation, handoff, outcomes, pause/halt/resume.</summary>
public sealed partial class ReleaseTests
{
    private static readonly TimeSpan ConsultTimeout = TimeSpan.FromMinutes(15);

    private static StagePlan PlanWithApprovalAfterCanary() => ReleaseScenario.SmallPlan with
    {
        Stages = [ReleaseScenario.SmallPlan.Stages[0] with { NeedsApproval = true }, .. ReleaseScenario.SmallPlan.Stages.Skip(1)],
    };

    public static TheoryData<HealthStatus?> NotGreen() => new() { null, HealthStatus.Unknown, HealthStatus.Breached };

    private static HealthVerdict? VerdictFor(HealthStatus? status, DateTimeOffset now) => status switch
    {
        null => null,
        HealthStatus.Unknown => Verdicts.Unknown(now),
        HealthStatus.Breached => Verdicts.ErrorRateBreach(now),
        _ => Verdicts.Healthy(now),
    };

    // ---------------------------------------------------------------- staging gate

    [Fact]
    public void RecordDeployment_StagingSucceeded_RunsSmokeChecks()
    {
        var sut = CreateSut().ToStaging(StagingStep.Deploying);

        var change = sut.Apply((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Staging, 100), true, "deployed", now));

        Assert.Equal(ReleaseState.Staging, change.Next.State);
        Assert.Equal(StagingStep.SmokeChecking, change.Next.StagingStep);
        Assert.Null(change.Next.PendingDeployment);
        Assert.Null(change.Next.BakeEndsAt);
        Assert.Equal(ReleaseEventKind.DeploymentSucceeded, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void RecordSmokeChecks_Passed_StartsTheStagingBake()
    {
        var sut = CreateSut().ToStaging(StagingStep.SmokeChecking);

        var change = sut.Apply((r, now) => r.RecordSmokeChecks(true, "3 of 3 passed", now));

        Assert.Equal(StagingStep.Baking, change.Next.StagingStep);
        Assert.Equal(sut.Now + ReleaseScenario.SmallPlan.StagingBake, change.Next.BakeEndsAt);
        Assert.Equal(ReleaseEventKind.SmokeChecksPassed, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void RecordSmokeChecks_Failed_HaltsAtTheGateWithResumeStateStaging()
    {
        var sut = CreateSut().ToStaging(StagingStep.SmokeChecking);

        var change = sut.Apply((r, now) => r.RecordSmokeChecks(false, "login returns 500", now));

        var next = change.Next;
        Assert.Equal(ReleaseState.Halted, next.State);
        Assert.Equal(ReleaseState.Staging, next.ResumeState);
        Assert.Equal(StagingStep.NotStarted, next.StagingStep);
        Assert.Equal(-1, next.StageIndex);
        Assert.Null(next.PendingDeployment);
        Assert.Contains("login returns 500", next.HaltReason, StringComparison.Ordinal);
        var failed = Assert.IsType<StagingFailed>(Assert.Single(change.Events));
        Assert.Equal("staging smoke checks failed: login returns 500", failed.Reason);
        Assert.Equal("Staging", next.Where);

        // A red staging gate stops the line for the whole service.
        Assert.Equal(new ServiceHaltRequest(next.Id.Service, failed.Summary), change.Halt);
    }

    [Fact]
    public void RecordDeployment_StagingFailed_HaltsAndNeverReachesProduction()
    {
        var sut = CreateSut().ToStaging(StagingStep.Deploying);

        var change = sut.Apply((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Staging, 100), false, "timeout", now));

        Assert.Equal(ReleaseState.Halted, change.Next.State);
        Assert.Equal(ReleaseState.Staging, change.Next.ResumeState);
        Assert.Equal(-1, change.Next.StageIndex);
        Assert.Contains("staging deployment failed: timeout", change.Next.HaltReason, StringComparison.Ordinal);
        Assert.Throws<ReleaseRuleException>(() => change.Next.Promote(sut.Now.AddHours(1), Verdicts.Healthy(sut.Now), People.Bob));
    }

    [Fact]
    public void Resume_AfterRedStagingGate_RerunsTheWholeGate()
    {
        var sut = CreateSut().ToStaging(StagingStep.SmokeChecking).Do((r, now) => r.RecordSmokeChecks(false, "500", now));

        var change = sut.Apply((r, now) => r.Resume(People.Olga, serviceHalted: false, now));

        var next = change.Next;
        Assert.Equal(ReleaseState.Staging, next.State);
        Assert.Null(next.ResumeState);
        Assert.Null(next.HaltReason);
        Assert.Equal(StagingStep.Deploying, next.StagingStep);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Staging, 100), next.PendingDeployment);
        Assert.Equal(ReleaseEventKind.Resumed, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void Resume_AfterRedStagingGateWhileServiceHalted_Throws()
    {
        var sut = CreateSut().ToStaging(StagingStep.SmokeChecking).Do((r, now) => r.RecordSmokeChecks(false, "500", now));

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Resume(People.Olga, serviceHalted: true, sut.Now));

        Assert.Contains("unhalt it first", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_StagingBeforeSmokeChecksPass_ReturnsUnchanged()
    {
        var sut = CreateSut().ToStaging(StagingStep.SmokeChecking);

        var change = sut.ApplyUnchanged((r, now) => r.Promote(now, null, People.Bob));

        Assert.Contains("has not passed its staging smoke checks", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_WhileDeploymentPending_ReturnsUnchanged()
    {
        var sut = CreateSut().ToStaging(StagingStep.Deploying);

        var change = sut.ApplyUnchanged((r, now) => r.Promote(now, null, People.Bob));

        Assert.Contains("still waiting for staging at 100 %", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_StagingAfterBake_EntersCanaryWithBaselineAndPendingDeployment()
    {
        var sut = ReleaseScenario.In(ReleaseState.Staging).Advance(ReleaseScenario.SmallPlan.StagingBake);
        Assert.True(sut.Release.IsPromotionDue(sut.Now));

        var change = sut.Apply((r, now) => r.Promote(now, null, null, Verdicts.Baseline));

        var next = change.Next;
        Assert.Equal(ReleaseState.Canary, next.State);
        Assert.Equal(0, next.StageIndex);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 5), next.PendingDeployment);
        Assert.Null(next.BakeEndsAt);
        Assert.Same(Verdicts.Baseline, next.Baseline);
        Assert.False(next.IsUnderEvaluation);
        Assert.Equal(ReleaseEventKind.Promoted, Assert.Single(change.Events).Kind);
        Assert.Equal(sut.Now, next.History[0].EndedAt);
        Assert.Equal("Canary 5 %", next.History[^1].Name);
    }

    // ---------------------------------------------------------------- production stages

    [Fact]
    public void RecordDeployment_ProductionSucceeded_StartsTheStageBake()
    {
        var sut = ReleaseScenario.In(ReleaseState.Staging).Advance(ReleaseScenario.SmallPlan.StagingBake);
        sut.Do((r, now) => r.Promote(now, null, null, Verdicts.Baseline));

        var change = sut.Apply((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 5), true, "5 % live", now));

        Assert.Null(change.Next.PendingDeployment);
        Assert.Equal(sut.Now + TimeSpan.FromMinutes(10), change.Next.BakeEndsAt);
        Assert.True(change.Next.IsUnderEvaluation);
    }

    [Fact]
    public void RecordDeployment_ProductionFailed_StartsRollback()
    {
        var sut = ReleaseScenario.In(ReleaseState.Staging).Advance(ReleaseScenario.SmallPlan.StagingBake);
        sut.Do((r, now) => r.Promote(now, null, null, Verdicts.Baseline));

        var change = sut.Apply((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 5), false, "webhook 502", now));

        Assert.Equal(ReleaseState.RollingBack, change.Next.State);
        Assert.Contains("webhook 502", change.Next.Rollback!.Reason, StringComparison.Ordinal);
        Assert.True(change.Next.PendingDeployment!.IsRollback);
    }

    [Fact]
    public void Promote_BeforeBakeEndsAt_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(9));
        Assert.False(sut.Release.IsPromotionDue(sut.Now));

        var change = sut.ApplyUnchanged((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        Assert.Contains("bakes until", change.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NotGreen))]
    public void Promote_BakeOverButHealthNotGreen_HoldsUnchanged(HealthStatus? status)
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(10));
        Assert.True(sut.Release.IsPromotionDue(sut.Now));

        var change = sut.ApplyUnchanged((r, now) => r.Promote(now, VerdictFor(status, now), null));

        Assert.Contains("holds at Canary 5 %", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_BakeOverAndHealthy_MovesToNextStage()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(10));

        var change = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        var next = change.Next;
        Assert.Equal(ReleaseState.EarlyAdopters, next.State);
        Assert.Equal(1, next.StageIndex);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 25), next.PendingDeployment);
        var promoted = Assert.IsType<Promoted>(Assert.Single(change.Events));
        Assert.Equal(new Promoted(sut.Release.Id, "Canary 5 %", "Early adopters 25 %", FromStaging: false), promoted);
    }

    [Fact]
    public void Promote_ManualByApprover_SkipsTheRestOfTheBake()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(1));

        var change = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), People.Bob));

        Assert.Equal(ReleaseState.EarlyAdopters, change.Next.State);
        var promoted = Assert.IsType<Promoted>(Assert.Single(change.Events));
        Assert.Equal(new ManualPromotion(People.Bob, ApprovedWaitingStage: false, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10), null), promoted.Manual);
        Assert.Null(promoted.Judged);
    }

    [Theory]
    [MemberData(nameof(NotGreen))]
    public void Promote_ManualWhenHealthNotGreen_Throws(HealthStatus? status)
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Promote(sut.Now, VerdictFor(status, sut.Now), People.Bob));

        Assert.Contains("Cannot promote checkout@1.4.2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_NeedsApprovalStage_WaitsForAnApprover()
    {
        var sut = CreateSut(PolicyWith(plan: PlanWithApprovalAfterCanary())).ToStage(0).Advance(TimeSpan.FromMinutes(10));

        var change = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        Assert.Equal(ReleaseState.Canary, change.Next.State);
        Assert.True(change.Next.AwaitingPromotionApproval);
        Assert.False(change.Next.IsPromotionDue(sut.Now));
        Assert.Equal(ReleaseEventKind.PromotionNeedsApproval, Assert.Single(change.Events).Kind);

        var again = sut.ApplyUnchanged((r, now) => r.Promote(now, Verdicts.Healthy(now), null));
        Assert.Contains("waits for an approver", again.Message, StringComparison.Ordinal);

        var approved = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), People.Bob));
        Assert.Equal(ReleaseState.EarlyAdopters, approved.Next.State);
        Assert.False(approved.Next.AwaitingPromotionApproval);
    }

    [Fact]
    public void Promote_WithDecisionPending_Throws()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Promote(sut.Now, Verdicts.Healthy(sut.Now), People.Bob));

        Assert.Contains("decision pending about user feedback", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_FromLastStage_EntersValidation()
    {
        var sut = ReleaseScenario.In(ReleaseState.Full).Advance(TimeSpan.FromMinutes(10));

        var change = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        var next = change.Next;
        Assert.Equal(ReleaseState.Validating, next.State);
        Assert.Equal(3, next.StageIndex);
        Assert.Null(next.PendingDeployment);
        Assert.Equal(sut.Now + ReleaseScenario.SmallPlan.ValidationWindow, next.ValidationEndsAt);
        Assert.Equal(ReleaseEventKind.ValidationStarted, Assert.Single(change.Events).Kind);
        Assert.True(next.IsUnderEvaluation);
    }

    [Fact]
    public void Promote_ApproverPromotesNowOutOfTheLastStage_AuditedAsAnEarlyPromotionThenValidation()
    {
        var sut = ReleaseScenario.In(ReleaseState.Full);
        Assert.True(sut.Release.BakeEndsAt > sut.Now);

        var change = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), People.Bob, reason: "users waiting"));

        Assert.Equal(ReleaseState.Validating, change.Next.State);
        Assert.Equal([ReleaseEventKind.Promoted, ReleaseEventKind.ValidationStarted], change.Events.Select(e => e.Kind));
        var promoted = Assert.IsType<Promoted>(change.Events[0]);
        Assert.True(promoted.Manual!.Skipped > TimeSpan.Zero);
        Assert.Contains("@bob promoted early, skipping", promoted.Summary, StringComparison.Ordinal);
        Assert.Contains("users waiting", promoted.Summary, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- validation and handoff

    [Fact]
    public void Confirm_UserFacingVerifiedWhileValidating_Confirms()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating);

        var change = sut.Apply((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));

        Assert.Equal(ChecklistItemState.Confirmed, change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.UserFacingVerified).State);
        Assert.Equal(ReleaseState.Validating, change.Next.State);
    }

    [Fact]
    public void CompleteValidation_WindowNotOver_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
        sut.Advance(TimeSpan.FromMinutes(14));

        sut.ApplyUnchanged((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), true));
    }

    [Fact]
    public void CompleteValidation_UserFacingNotVerified_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Advance(TimeSpan.FromHours(1));

        sut.ApplyUnchanged((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), true));
    }

    [Theory]
    [MemberData(nameof(NotGreen))]
    public void CompleteValidation_HealthNotGreen_ReturnsUnchanged(HealthStatus? status)
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
        sut.Advance(TimeSpan.FromHours(1));

        sut.ApplyUnchanged((r, now) => r.CompleteValidation(now, VerdictFor(status, now), true));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CompleteValidation_AllCriteriaMet_HandsOverWithHandoffChecks(bool hasRunbook)
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
        sut.Advance(ReleaseScenario.SmallPlan.ValidationWindow);

        var change = sut.Apply((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), hasRunbook));

        var next = change.Next;
        Assert.Equal(ReleaseState.Operating, next.State);
        Assert.Equal(sut.Now, next.OperatingSince);
        Assert.Equal(6, next.Handoff.Count);
        Assert.Equal(
            ["Release contract approved", "Every stage done", "Post-deployment validation passed", "Outcome measurement dates set"],
            next.Handoff.Take(4).Select(h => h.Criterion));
        Assert.Equal("On-call informed", next.Handoff[5].Criterion);
        Assert.All(next.Handoff, h => Assert.True(h.Met, h.Criterion));
        var runbook = next.Handoff[4];
        Assert.Contains("unbook", runbook.Criterion, StringComparison.Ordinal);
        Assert.Equal(hasRunbook, !$"{runbook.Criterion} {runbook.Detail}".Contains("not applicable", StringComparison.Ordinal));
        Assert.Contains("@bob", next.Handoff[0].Detail, StringComparison.Ordinal);
        Assert.Contains("Canary 5 % → Early adopters 25 % → GA 50 % → Full 100 %", next.Handoff[1].Detail, StringComparison.Ordinal);
        Assert.Equal(ReleaseEventKind.HandedOver, Assert.Single(change.Events).Kind);
        Assert.False(next.State.HoldsServiceLock());
    }

    // ---------------------------------------------------------------- operating

    [Fact]
    public void RecordOutcome_LastCheckpointWithAllFlagsRemoved_Completes()
    {
        var sut = ReleaseScenario.In(ReleaseState.Operating).Do((r, now) => r.MarkFlagRemoved(People.Alice, "NEW-CART", false, now));

        var change = sut.Apply((r, now) => r.RecordOutcome(new OutcomeReport(3, now, ["conversion +2.4 % vs +2 % ✓"]), lastCheckpoint: true, now));

        Assert.Equal(ReleaseState.Completed, change.Next.State);
        Assert.Equal([ReleaseEventKind.OutcomeRecorded, ReleaseEventKind.Completed], change.Events.Select(e => e.Kind));
        Assert.True(change.Next.State.IsTerminal());
    }

    [Fact]
    public void RecordOutcome_LastCheckpointWithFlagLeft_StaysOperatingUntilFlagRemoved()
    {
        var sut = ReleaseScenario.In(ReleaseState.Operating);

        var outcome = sut.Apply((r, now) => r.RecordOutcome(new OutcomeReport(3, now, ["ok"]), lastCheckpoint: true, now));
        Assert.Equal(ReleaseState.Operating, outcome.Next.State);
        Assert.Equal([ReleaseScenario.Flag], outcome.Next.FlagsToRemove);

        var flag = sut.Apply((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, checkpointsDone: true, now));
        Assert.Equal(ReleaseState.Completed, flag.Next.State);
        Assert.Equal([ReleaseEventKind.FlagRemoved, ReleaseEventKind.Completed], flag.Events.Select(e => e.Kind));
    }

    [Fact]
    public void RecordOutcome_NotLastCheckpoint_StaysOperating()
    {
        var sut = ReleaseScenario.In(ReleaseState.Operating).Do((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, false, now));

        var change = sut.Apply((r, now) => r.RecordOutcome(new OutcomeReport(1, now, ["ok"]), lastCheckpoint: false, now));

        Assert.Equal(ReleaseState.Operating, change.Next.State);
        Assert.Single(change.Next.Outcomes);
    }

    [Fact]
    public void RecordOutcome_SameCheckpointTwice_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.Operating).Do((r, now) => r.RecordOutcome(new OutcomeReport(1, now, ["ok"]), false, now));

        var change = sut.ApplyUnchanged((r, now) => r.RecordOutcome(new OutcomeReport(1, now, ["again"]), false, now));

        Assert.Contains("already reported", change.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ReleaseState.Full)]
    [InlineData(ReleaseState.Validating)]
    [InlineData(ReleaseState.Operating)]
    public void MarkFlagRemoved_AfterFullRolloutWithCheckpointsPending_RecordsTheFlag(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.Apply((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, checkpointsDone: false, now));

        Assert.Equal(state, change.Next.State);
        Assert.Empty(change.Next.FlagsToRemove);
        Assert.Equal(ReleaseEventKind.FlagRemoved, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void MarkFlagRemoved_UnknownFlag_ThrowsListingFlags()
    {
        var sut = ReleaseScenario.In(ReleaseState.Operating);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.MarkFlagRemoved(People.Alice, "old-cart", false, sut.Now));

        Assert.Contains("no feature flag 'old-cart'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Its flags: new-cart", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MarkFlagRemoved_Twice_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.Operating).Do((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, false, now));

        var change = sut.ApplyUnchanged((r, now) => r.MarkFlagRemoved(People.Bob, ReleaseScenario.Flag, false, now));

        Assert.Contains("already marked removed", change.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- pause, halt, resume

    [Fact]
    public void Pause_InProductionStage_StopsClockAndResumeKeepsRemainingBake()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(4));

        var paused = sut.Apply((r, now) => r.Pause(People.Alice, now));
        Assert.Equal(ReleaseState.Paused, paused.Next.State);
        Assert.Equal(ReleaseState.Canary, paused.Next.ResumeState);
        Assert.Equal(TimeSpan.FromMinutes(6), paused.Next.RemainingBake);
        Assert.Null(paused.Next.BakeEndsAt);
        Assert.False(paused.Next.IsPromotionDue(sut.Now.AddDays(1)));
        Assert.Equal(ReleaseEventKind.Paused, Assert.Single(paused.Events).Kind);

        sut.Advance(TimeSpan.FromHours(3));
        var resumed = sut.Apply((r, now) => r.Resume(People.Alice, false, now));

        Assert.Equal(ReleaseState.Canary, resumed.Next.State);
        Assert.Null(resumed.Next.ResumeState);
        Assert.Null(resumed.Next.RemainingBake);
        Assert.Equal(sut.Now + TimeSpan.FromMinutes(6), resumed.Next.BakeEndsAt);
    }

    [Fact]
    public void Pause_InStagingBake_ResumeKeepsRemainingStagingBake()
    {
        var sut = ReleaseScenario.In(ReleaseState.Staging).Advance(TimeSpan.FromMinutes(2));

        sut.Do((r, now) => r.Pause(People.Alice, now));
        Assert.Equal(TimeSpan.FromMinutes(3), sut.Release.RemainingBake);
        sut.Advance(TimeSpan.FromHours(1));
        var resumed = sut.Apply((r, now) => r.Resume(People.Alice, false, now));

        Assert.Equal(ReleaseState.Staging, resumed.Next.State);
        Assert.Equal(StagingStep.Baking, resumed.Next.StagingStep);
        Assert.Null(resumed.Next.PendingDeployment);
        Assert.Equal(sut.Now + TimeSpan.FromMinutes(3), resumed.Next.BakeEndsAt);
    }

    [Fact]
    public void Pause_InValidation_ResumeKeepsRemainingWindow()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Advance(TimeSpan.FromMinutes(5));

        sut.Do((r, now) => r.Pause(People.Alice, now));
        Assert.Equal(TimeSpan.FromMinutes(10), sut.Release.RemainingValidation);
        Assert.Null(sut.Release.RemainingBake);
        sut.Advance(TimeSpan.FromHours(1));
        var resumed = sut.Apply((r, now) => r.Resume(People.Alice, false, now));

        Assert.Equal(ReleaseState.Validating, resumed.Next.State);
        Assert.Equal(sut.Now + TimeSpan.FromMinutes(10), resumed.Next.ValidationEndsAt);
        Assert.Null(resumed.Next.RemainingValidation);
    }

    [Fact]
    public void Pause_WhileDeploymentPending_BakeStartsOnlyAfterResume()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(10));
        sut.Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null));
        sut.Do((r, now) => r.Pause(People.Alice, now));

        sut.Do((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 25), true, "25 % live", now));
        Assert.Equal(ReleaseState.Paused, sut.Release.State);
        Assert.Equal(TimeSpan.FromMinutes(20), sut.Release.RemainingBake);
        Assert.Null(sut.Release.BakeEndsAt);

        sut.Advance(TimeSpan.FromMinutes(30));
        var resumed = sut.Apply((r, now) => r.Resume(People.Alice, false, now));
        Assert.Equal(ReleaseState.EarlyAdopters, resumed.Next.State);
        Assert.Equal(sut.Now + TimeSpan.FromMinutes(20), resumed.Next.BakeEndsAt);
    }

    [Fact]
    public void Halt_FromProductionStage_ResumeRefusedWhileServiceHaltedThenAllowed()
    {
        var sut = ReleaseScenario.In(ReleaseState.GeneralAvailability).Advance(TimeSpan.FromMinutes(12));

        var halted = sut.Apply((r, now) => r.Halt("incident in payments", People.Olga.Name, now));
        Assert.Equal(ReleaseState.Halted, halted.Next.State);
        Assert.Equal(ReleaseState.GeneralAvailability, halted.Next.ResumeState);
        Assert.Equal("incident in payments", halted.Next.HaltReason);
        Assert.Equal(TimeSpan.FromMinutes(18), halted.Next.RemainingBake);
        Assert.Equal(ReleaseEventKind.Halted, Assert.Single(halted.Events).Kind);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Resume(People.Olga, serviceHalted: true, sut.Now));
        Assert.Contains("checkout is halted", ex.Message, StringComparison.Ordinal);

        sut.Advance(TimeSpan.FromHours(2));
        var resumed = sut.Apply((r, now) => r.Resume(People.Olga, serviceHalted: false, now));
        Assert.Equal(ReleaseState.GeneralAvailability, resumed.Next.State);
        Assert.Null(resumed.Next.HaltReason);
        Assert.Equal(sut.Now + TimeSpan.FromMinutes(18), resumed.Next.BakeEndsAt);
    }

    [Fact]
    public void Halt_WhilePaused_KeepsWhereToResume()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        sut.Do((r, now) => r.Pause(People.Alice, now));

        var halted = sut.Apply((r, now) => r.Halt("change freeze", People.Olga.Name, now));

        Assert.Equal(ReleaseState.Halted, halted.Next.State);
        Assert.Equal(ReleaseState.Canary, halted.Next.ResumeState);
        Assert.Equal(TimeSpan.FromMinutes(7), halted.Next.RemainingBake);
        var resumed = sut.Apply((r, now) => r.Resume(People.Olga, false, now));
        Assert.Equal(ReleaseState.Canary, resumed.Next.State);
    }
}
