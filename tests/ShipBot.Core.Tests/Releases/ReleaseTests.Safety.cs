using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Releases;
using ShipBot.Core.Releases.Events;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>Lifecycle safety (issue 11): terminal states, decisions as objects, separation of duties, the card revision.</summary>
public sealed partial class ReleaseTests
{
    public static TheoryData<ReleaseState> TerminalStates() =>
        [ReleaseState.Completed, ReleaseState.RolledBack, ReleaseState.Rejected, ReleaseState.Aborted];

    [Theory]
    [MemberData(nameof(TerminalStates))]
    public void AnyCommand_OnATerminalRelease_NeverChangesIt(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);
        var before = sut.Release;
        var now = sut.Now;
        Func<Release, ReleaseChange>[] commands =
        [
            r => r.Pause(People.Olga, now),
            r => r.Halt("freeze", "olga", now),
            r => r.Resume(People.Olga, serviceHalted: false, now),
            r => r.BeginRollback("late", "olga", [], now),
            r => r.Decide(People.Olga, DecisionChoice.Hold, now),
            r => r.Decide(People.Olga, DecisionChoice.Rollback, now, "d1"),
            r => r.ApplyHealth(Verdicts.ErrorRateBreach(now), ConsultTimeout, now),
            r => r.TickBySystem(ChecklistCatalog.OnCallNotified, "again", now),
            r => r.Promote(now, Verdicts.Healthy(now), People.Bob),
        ];

        foreach (var command in commands)
        {
            try
            {
                var change = command(before);
                Assert.False(change.Modified, change.Message);
                Assert.Same(before, change.Next);
            }
            catch (ReleaseRuleException)
            {
                // Refused: also fine.
            }
        }
    }

    [Fact]
    public void BeginRollback_WithOpenDecisions_ClosesEachSayingWhyAndRecordsIt()
    {
        var sut = ReleaseScenario.In(ReleaseState.GeneralAvailability);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.BusinessConsult(now), ConsultTimeout, now));
        Assert.Equal(2, sut.Release.OpenDecisions.Count());

        var change = sut.Apply((r, now) => r.BeginRollback("customer reports", "olga", [], now));

        Assert.Empty(change.Next.OpenDecisions);
        Assert.Equal(2, change.Events.Count(e => e.Kind == ReleaseEventKind.DecisionClosed));
        Assert.All(change.Next.DecisionHistory, d => Assert.StartsWith("closed: checkout@1.4.2 is now rolling back from GA 50 %", d.Outcome, StringComparison.Ordinal));
    }

    [Fact]
    public void CompleteValidation_WithADecisionPending_WaitsForOnCallEvenWhenEverythingElseIsGreen()
    {
        var sut = ReleaseScenario.In(ReleaseState.Validating);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
        sut.Advance(sut.Release.Plan.ValidationWindow);

        var waiting = sut.ApplyUnchanged((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), hasRunbook: true));
        Assert.Contains("waits for on-call's decision d1", waiting.Message, StringComparison.Ordinal);

        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));
        var handedOver = sut.Apply((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), hasRunbook: true));
        Assert.Equal(ReleaseState.Operating, handedOver.Next.State);
    }

    [Fact]
    public void DecisionTimedOut_HeldDecision_NeverRollsBack()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));

        sut.Advance(ConsultTimeout * 10);

        sut.ApplyUnchanged((r, now) => r.DecisionTimedOut(now));
    }

    [Fact]
    public void Promote_ByTheRequesterWhoIsAlsoAnApprover_IsRefusedEarlyOrForAStageApproval()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);

        var early = Assert.Throws<ReleaseRuleException>(() => sut.Release.Promote(sut.Now, Verdicts.Healthy(sut.Now), People.Alice));
        var approval = Assert.Throws<ReleaseRuleException>(() => (sut.Release with { AwaitingPromotionApproval = true }).Promote(sut.Now, Verdicts.Healthy(sut.Now), People.Alice));

        Assert.Contains("cannot promote it early (separation of duties)", early.Message, StringComparison.Ordinal);
        Assert.Contains("cannot approve a stage of it (separation of duties)", approval.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_EarlyByAnApprover_IsAuditedWithWhatWasSkippedAndWhy()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(4));

        var change = sut.Apply((r, now) => r.Promote(now, Verdicts.Healthy(now), People.Bob, reason: "canary clean"));

        var promoted = Assert.IsType<Promoted>(Assert.Single(change.Events, e => e.Kind == ReleaseEventKind.Promoted));
        Assert.Equal(new ManualPromotion(People.Bob, ApprovedWaitingStage: false, TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(10), "canary clean"), promoted.Manual);
    }

    [Fact]
    public void Waive_ByTheRequester_IsRefused()
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Alice, "qa", "I know it works", sut.Now));

        Assert.Contains("separation of duties", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Abort_RecordsWhoAndWhy()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.Abort(People.Bob, "wrong build", now));

        Assert.Equal("wrong build (@bob)", change.Next.AbortReason);
    }

    [Fact]
    public void CardRevision_TicksPartialApprovalsAndConfirmedCalls_DoNotMoveIt_ATransitionDoes()
    {
        var sut = CreateSut();
        var start = sut.Release.CardRevision;
        sut.Do((r, now) => r.Confirm(People.Alice, ["qa"], now));
        Assert.Equal(start, sut.Release.CardRevision);

        sut.Do((r, now) => r.Abort(People.Alice, "changed my mind", now));

        Assert.Equal(start + 1, sut.Release.CardRevision);
        Assert.Contains("aborted", sut.Release.LastChange, StringComparison.Ordinal);
    }
}
