using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Releases.Events;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>Health evaluation, consult decisions and rollbacks on the aggregate.</summary>
public sealed partial class ReleaseTests
{
    [Fact]
    public void ApplyHealth_RollbackBreach_StartsRollbackWithEvidence()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), ConsultTimeout, now));

        var next = change.Next;
        Assert.Equal(ReleaseState.RollingBack, next.State);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), next.PendingDeployment);
        Assert.Null(next.BakeEndsAt);
        Assert.Equal(HealthStatus.Breached, next.LastHealth!.Status);
        var rollback = next.Rollback!;
        Assert.Equal("shipbot", rollback.By);
        Assert.Equal("Canary 5 %", rollback.Stage);
        Assert.Equal(sut.Now, rollback.At);
        Assert.StartsWith("automatic: ", rollback.Reason, StringComparison.Ordinal);
        var evidence = Assert.Single(rollback.Evidence);
        Assert.Equal(Metrics.ErrorRate, evidence.Metric);
        Assert.Equal(CheckStatus.Breach, evidence.Status);
        Assert.Equal(0.048, evidence.Value);
        Assert.Equal(0.003, evidence.Baseline);
        Assert.Contains("baseline 0.3 % + 1 pt", evidence.Threshold, StringComparison.Ordinal);
        Assert.Equal([ReleaseEventKind.BreachDetected, ReleaseEventKind.RollbackStarted], change.Events.Select(e => e.Kind));
        var breach = Assert.IsType<BreachDetected>(change.Events[0]);
        Assert.Equal("Canary 5 %", breach.Stage);
        Assert.Equal([evidence], breach.Breaches);
        Assert.Null(breach.Judge);
        var started = Assert.IsType<RollbackStarted>(change.Events[1]);
        Assert.Equal((rollback.Reason, "shipbot", "Canary 5 %"), (started.Reason, started.By, started.Stage));
        Assert.True(started.IsAutomatic);
        Assert.Equal([evidence], started.Evidence);
    }

    [Fact]
    public void ApplyHealth_RollbackBreachWhilePaused_StartsRollbackFromThePausedStage()
    {
        var sut = ReleaseScenario.In(ReleaseState.Paused);

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), ConsultTimeout, now));

        Assert.Equal(ReleaseState.RollingBack, change.Next.State);
        Assert.Null(change.Next.ResumeState);
        Assert.Null(change.Next.RemainingBake);
        Assert.Equal("Canary 5 %", change.Next.Rollback!.Stage);
    }

    [Fact]
    public void ApplyHealth_WhileDeploymentPending_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(10));
        sut.Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        sut.ApplyUnchanged((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), ConsultTimeout, now));
    }

    [Fact]
    public void ApplyHealth_StatusChanges_RecordsVerdictWithHealthChangedEvent()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);

        var unknown = sut.Apply((r, now) => r.ApplyHealth(Verdicts.Unknown(now), ConsultTimeout, now));

        Assert.Equal(HealthStatus.Unknown, unknown.Next.LastHealth!.Status);
        Assert.Equal(ReleaseState.Canary, unknown.Next.State);
        Assert.Equal(ReleaseEventKind.HealthChanged, Assert.Single(unknown.Events).Kind);
    }

    [Fact]
    public void ApplyHealth_SameStatusAgain_RecordsVerdictWithoutEvent()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromSeconds(30));

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.Healthy(now), ConsultTimeout, now));

        Assert.Empty(change.Events);
        Assert.Equal(sut.Now, change.Next.LastHealth!.At);
    }

    [Fact]
    public void ApplyHealth_UnknownVerdict_IsNeverTakenAsHealthyForPromotion()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(10));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.Unknown(now), ConsultTimeout, now));

        var change = sut.ApplyUnchanged((r, now) => r.Promote(now, r.LastHealth, null));

        Assert.Contains("health is unknown", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplyHealth_ConsultBreach_AsksOnCallAndWaits()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        var next = change.Next;
        Assert.Equal(ReleaseState.EarlyAdopters, next.State);
        var decision = next.Decision!;
        Assert.Equal(Metrics.UserFeedback, decision.Breach.Metric);
        Assert.Equal(BreachAction.Consult, decision.Breach.Action);
        Assert.Equal("Early adopters 25 %", decision.Stage);
        Assert.Equal(sut.Now, decision.RaisedAt);
        Assert.Equal(sut.Now + ConsultTimeout, decision.AutoRollbackAt);
        Assert.Equal(ReleaseEventKind.ConsultRequested, Assert.Single(change.Events).Kind);
        Assert.False(next.IsPromotionDue(sut.Now.AddDays(1)));
    }

    [Fact]
    public void ApplyHealth_ConsultBreachWhileDecisionPending_KeepsTheFirstDecision()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        var first = sut.Release.Decision;
        sut.Advance(TimeSpan.FromMinutes(1));

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        Assert.Same(first, change.Next.Decision);
        Assert.DoesNotContain(change.Events, e => e.Kind == ReleaseEventKind.ConsultRequested);
    }

    [Fact]
    public void Decide_Hold_KeepsTheReleaseAtItsStageWithTheDecisionHeldAndNoTimeout()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters).Advance(TimeSpan.FromMinutes(5));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        var decisionId = sut.Release.Decision!.Id;

        var change = sut.Apply((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));

        var next = change.Next;
        Assert.Equal(ReleaseState.EarlyAdopters, next.State);
        Assert.Null(next.Decision);
        var held = Assert.Single(next.HeldDecisions);
        Assert.Equal(decisionId, held.Id);
        Assert.Equal("olga", held.HeldBy);
        var decided = Assert.IsType<Decided>(Assert.Single(change.Events));
        Assert.Equal(ReleaseEventKind.Decided, decided.Kind);
        Assert.Equal((People.Olga, DecisionChoice.Hold, decisionId), (decided.By, decided.Choice, decided.DecisionId));
        Assert.Equal(new BreachKey(Metrics.UserFeedback, "Early adopters 25 %"), decided.Breach);
        Assert.Null(change.Halt);

        // Held: no new consult for the same breach, no promotion, and no timeout rolls it back.
        sut.Advance(TimeSpan.FromHours(2));
        var again = sut.Apply((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        Assert.Empty(again.Events);
        Assert.Null(again.Next.Decision);
        Assert.Single(again.Next.HeldDecisions);
        Assert.False(sut.Release.IsPromotionDue(sut.Now));
        Assert.False(sut.Release.DecisionTimedOut(sut.Now).Modified);
        Assert.Throws<ReleaseRuleException>(() => sut.Release.Promote(sut.Now, Verdicts.Healthy(sut.Now), People.Bob));
    }

    [Fact]
    public void Decide_HoldThenAnotherMetricBreaches_OpensANewDecisionForThatBreachOnly()
    {
        var sut = ReleaseScenario.In(ReleaseState.GeneralAvailability);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.BusinessConsult(now), ConsultTimeout, now));

        var fresh = change.Next.Decision!;
        Assert.Equal(Metrics.Business, fresh.Breach.Metric);
        Assert.NotEqual(change.Next.HeldDecisions.Single().Id, fresh.Id);

        // Continuing the new decision leaves the held one held.
        var cont = sut.Apply((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now, fresh.Id));
        Assert.Equal(Metrics.UserFeedback, Assert.Single(cont.Next.HeldDecisions).Breach.Metric);
        Assert.Null(cont.Next.Decision);
    }

    [Fact]
    public void Decide_NamingADecisionThatEnded_ThrowsSayingHowItEnded()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        var first = sut.Release.Decision!.Id;
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now, first));

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Decide(People.Olga, DecisionChoice.Continue, sut.Now, first));

        Assert.Contains($"Decision {first}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("continue by @olga", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_Continue_AcknowledgesBreachWhichIsNotRaisedAgainAtThatStage()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        var change = sut.Apply((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));

        Assert.Equal(ReleaseState.EarlyAdopters, change.Next.State);
        Assert.Null(change.Next.Decision);
        Assert.Equal([new BreachKey(Metrics.UserFeedback, "Early adopters 25 %")], change.Next.AcknowledgedBreaches);
        var decided = Assert.IsType<Decided>(Assert.Single(change.Events));
        Assert.Equal((People.Olga, DecisionChoice.Continue), (decided.By, decided.Choice));
        Assert.Equal(change.Next.AcknowledgedBreaches[0], decided.Breach);

        sut.Advance(TimeSpan.FromMinutes(1));
        var again = sut.Apply((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        Assert.Null(again.Next.Decision);
        Assert.DoesNotContain(again.Events, e => e.Kind == ReleaseEventKind.ConsultRequested);
    }

    [Fact]
    public void Decide_ContinueAtOneStage_SameBreachAtTheNextStageAsksAgain()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.Healthy(now, StageKind.EarlyAdopters), ConsultTimeout, now));
        sut.ToStage(2);

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        Assert.Equal("GA 50 %", change.Next.Decision!.Stage);
    }

    [Fact]
    public void Promote_AfterContinuePastConsultBreach_PromotesWhenBakeIsOver()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));
        sut.Advance(TimeSpan.FromMinutes(20));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        Assert.True(sut.Release.IsPromotionDue(sut.Now));

        var change = sut.Apply((r, now) => r.Promote(now, r.LastHealth, null));

        Assert.Equal(ReleaseState.GeneralAvailability, change.Next.State);
    }

    [Fact]
    public void Decide_Rollback_StartsRollbackWithTheBreachAsEvidence()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        var change = sut.Apply((r, now) => r.Decide(People.Olga, DecisionChoice.Rollback, now));

        var next = change.Next;
        Assert.Equal(ReleaseState.RollingBack, next.State);
        Assert.Null(next.Decision);
        Assert.Equal("olga", next.Rollback!.By);
        Assert.Equal(Metrics.UserFeedback, Assert.Single(next.Rollback.Evidence).Metric);
        Assert.Equal([ReleaseEventKind.Decided, ReleaseEventKind.RollbackStarted], change.Events.Select(e => e.Kind));
    }

    [Fact]
    public void Decide_HoldWhileHalted_StaysHalted()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters).Do((r, now) => r.Halt("incident", People.Olga.Name, now));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        var change = sut.Apply((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));

        Assert.Equal(ReleaseState.Halted, change.Next.State);
        Assert.Equal(ReleaseState.EarlyAdopters, change.Next.ResumeState);
    }

    [Fact]
    public void DecisionTimedOut_BeforeAutoRollbackAt_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Advance(ConsultTimeout - TimeSpan.FromSeconds(1));

        var change = sut.ApplyUnchanged((r, now) => r.DecisionTimedOut(now));

        Assert.NotNull(change.Next.Decision);
    }

    [Fact]
    public void DecisionTimedOut_AtAutoRollbackAt_RollsBack()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Advance(ConsultTimeout);

        var change = sut.Apply((r, now) => r.DecisionTimedOut(now));

        Assert.Equal(ReleaseState.RollingBack, change.Next.State);
        Assert.Null(change.Next.Decision);
        Assert.Contains("no decision within the consult window", change.Next.Rollback!.Reason, StringComparison.Ordinal);
        Assert.Equal("shipbot", change.Next.Rollback.By);
    }

    [Fact]
    public void BeginRollback_Manual_RecordsReasonAndWho()
    {
        var sut = ReleaseScenario.In(ReleaseState.GeneralAvailability);

        var change = sut.Apply((r, now) => r.BeginRollback("customer reports of double charges", People.Olga.Name, [], now));

        var rollback = change.Next.Rollback!;
        Assert.Equal("customer reports of double charges", rollback.Reason);
        Assert.Equal("olga", rollback.By);
        Assert.Equal("GA 50 %", rollback.Stage);
        Assert.Empty(rollback.Evidence);
        var started = Assert.IsType<RollbackStarted>(Assert.Single(change.Events));
        Assert.Equal(("customer reports of double charges", "olga", "GA 50 %", false), (started.Reason, started.By, started.Stage, started.IsAutomatic));
        Assert.Empty(started.Evidence);

        // A rollback stops the line for the whole service, with the rollback's words as the reason.
        Assert.Equal(new ServiceHaltRequest(sut.Release.Id.Service, started.Summary), change.Halt);
    }

    [Theory]
    [InlineData("rollback breach")]
    [InlineData("decision to roll back")]
    [InlineData("decision timed out")]
    [InlineData("stage deployment failed")]
    [InlineData("staging deployment failed")]
    [InlineData("smoke checks failed")]
    public void Halt_EveryChangeThatStopsTheLine_AsksForAServiceHaltInTheWordsOfItsEvent(string how)
    {
        var change = how switch
        {
            "rollback breach" => ReleaseScenario.In(ReleaseState.Canary).Apply((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), ConsultTimeout, now)),
            "decision to roll back" => ReleaseScenario.In(ReleaseState.EarlyAdopters)
                .Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now))
                .Apply((r, now) => r.Decide(People.Olga, DecisionChoice.Rollback, now)),
            "decision timed out" => ReleaseScenario.In(ReleaseState.EarlyAdopters)
                .Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now))
                .Advance(ConsultTimeout)
                .Apply((r, now) => r.DecisionTimedOut(now)),
            "stage deployment failed" => ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(10))
                .Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null))
                .Apply((r, now) => r.RecordDeployment(r.PendingDeployment!, false, "HTTP 503", now)),
            "staging deployment failed" => ReleaseScenario.Create().ToStaging(StagingStep.Deploying)
                .Apply((r, now) => r.RecordDeployment(r.PendingDeployment!, false, "HTTP 503", now)),
            _ => ReleaseScenario.Create().ToStaging(StagingStep.SmokeChecking).Apply((r, now) => r.RecordSmokeChecks(false, "login returns 500", now)),
        };

        // The line stops exactly when it always did: a rollback starts or the staging gate goes red.
        var stop = Assert.Single(change.Events, e => e.Kind is ReleaseEventKind.RollbackStarted or ReleaseEventKind.StagingFailed);
        Assert.True(stop.HaltsService);
        Assert.Equal(new ServiceHaltRequest(change.Next.Id.Service, stop.Summary), change.Halt);
    }

    [Fact]
    public void Halt_ARelease_DoesNotHaltItsService()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);

        var change = sut.Apply((r, now) => r.Halt("change freeze", People.Olga.Name, now));

        var halted = Assert.IsType<Halted>(Assert.Single(change.Events));
        Assert.Equal(("Canary 5 %", "olga", "change freeze"), (halted.Stage, halted.By, halted.Reason));
        Assert.Null(change.Halt);
    }

    [Fact]
    public void ApplyHealth_TooManyUnreadableInARow_HaltsTheReleaseButNotTheService()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.Unknown(now), ConsultTimeout, now, maxInconclusive: 2));

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.Unknown(now), ConsultTimeout, now, maxInconclusive: 2));

        Assert.Equal(ReleaseState.Halted, change.Next.State);
        var inconclusive = Assert.IsType<HealthInconclusive>(change.Events[0]);
        Assert.Equal(("Canary 5 %", 2), (inconclusive.Stage, inconclusive.Streak));
        var halted = Assert.IsType<Halted>(change.Events[1]);
        Assert.Equal(("shipbot", inconclusive.Reason), (halted.By, halted.Reason));
        Assert.Equal(inconclusive.Reason, change.Next.HaltReason);
        Assert.Null(change.Halt);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void BeginRollback_WithoutReason_Throws(string reason)
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.BeginRollback(reason, People.Olga.Name, [], sut.Now));

        Assert.Contains("needs a reason", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RecordDeployment_RollbackConfirmed_RolledBackAndHistoryClosed()
    {
        var sut = ReleaseScenario.In(ReleaseState.RollingBack).Advance(TimeSpan.FromSeconds(40));

        var change = sut.Apply((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 0, true), true, "previous version at 100 %", now));

        Assert.Equal(ReleaseState.RolledBack, change.Next.State);
        Assert.Null(change.Next.PendingDeployment);
        Assert.Equal(sut.Now, change.Next.History[^1].EndedAt);
        Assert.Equal(ReleaseEventKind.RolledBack, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void RecordDeployment_RollbackFailed_StaysRollingBackWithTheError()
    {
        var sut = ReleaseScenario.In(ReleaseState.RollingBack);

        var change = sut.Apply((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 0, true), false, "webhook timeout", now));

        Assert.Equal(ReleaseState.RollingBack, change.Next.State);
        Assert.Equal("webhook timeout", change.Next.LastDeploymentError);
        Assert.NotNull(change.Next.PendingDeployment);
        Assert.Equal(ReleaseEventKind.DeploymentFailed, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void ApplyHealth_RollbackBreachWhileDecisionPending_RollsBackAndClosesTheDecision()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));

        var change = sut.Apply((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), ConsultTimeout, now));

        Assert.Equal(ReleaseState.RollingBack, change.Next.State);
        Assert.Null(change.Next.Decision);
        sut.ApplyUnchanged((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));
    }

    [Fact]
    public void Where_PausedDuringValidation_SaysValidating()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating).Do((r, now) => r.Pause(People.Alice, now));

        Assert.Equal("Validating", sut.Release.Where);
    }
}
