using System.Text.RegularExpressions;
using ShipBot.Core.Checklists;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using static ShipBot.Core.Releases.ReleaseState;

namespace ShipBot.Core.Tests.Releases;

/// <summary>The lifecycle state machine of a release: every legal transition, and every command in every state where it is not.</summary>
public sealed partial class ReleaseTests
{
    private static readonly ReleaseState[] ProductionStages = [Canary, EarlyAdopters, GeneralAvailability, Full];

    // ---------------------------------------------------------------- legal transitions

    public static TheoryData<string, ReleaseState, ReleaseState> LegalTransitions()
    {
        var data = new TheoryData<string, ReleaseState, ReleaseState>
        {
            { "checklist complete", Draft, AwaitingApproval },
            { "reject", Draft, Rejected },
            { "abort", Draft, Aborted },
            { "approve", AwaitingApproval, Staging },
            { "reject", AwaitingApproval, Rejected },
            { "abort", AwaitingApproval, Aborted },
            { "staging deployment failed", Staging, Halted },
            { "staging smoke checks failed", Staging, Halted },
            { "promote after bake", Staging, Canary },
            { "promote now", Staging, Canary },
            { "pause", Staging, Paused },
            { "halt", Staging, Halted },
            { "abort", Staging, Aborted },
            { "promote after bake", Canary, EarlyAdopters },
            { "promote after bake", EarlyAdopters, GeneralAvailability },
            { "promote after bake", GeneralAvailability, Full },
            { "promote after bake", Full, Validating },
            { "production deployment failed", Canary, RollingBack },
            { "complete validation", Validating, Operating },
            { "rollback", Operating, RollingBack },
            { "last outcome reported", Operating, Completed },
            { "last flag removed", Operating, Completed },
            { "rollback confirmed", RollingBack, RolledBack },
            { "resume", Paused, Canary },
            { "resume", Halted, Canary },
            { "halt", Paused, Halted },
            { "rollback", Paused, RollingBack },
            { "rollback", Halted, RollingBack },
            { "health breach", Paused, RollingBack },
            { "health breach", Halted, RollingBack },
            { "resume after red staging gate", Halted, Staging },
            { "abort after red staging gate", Halted, Aborted },
            { "abort while paused in staging", Paused, Aborted },
        };
        foreach (var stage in ProductionStages.Append(Validating))
        {
            data.Add("pause", stage, Paused);
            data.Add("halt", stage, Halted);
            data.Add("rollback", stage, RollingBack);
            data.Add("health breach", stage, RollingBack);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LegalTransitions))]
    public void Transition_Legal_ReachesNextStateWithOneVersionStep(string transition, ReleaseState from, ReleaseState to)
    {
        var (sut, command) = Arrange(transition, from);
        Assert.Equal(from, sut.Release.State);

        var change = sut.Apply(command);

        Assert.Equal(to, change.Next.State);
        Assert.NotEmpty(change.Events);
    }

    private static (ReleaseScenario Sut, Func<Release, DateTimeOffset, ReleaseChange> Command) Arrange(string transition, ReleaseState from)
    {
        switch (transition)
        {
            case "checklist complete":
            {
                var sut = CreateSut().Do((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "notified", now));
                var ids = sut.Release.BlockingItems.Select(i => i.Id).ToList();
                return (sut, (r, now) => r.Confirm(People.Alice, ids, now));
            }

            case "staging deployment failed":
            {
                var sut = CreateSut().ToStaging(StagingStep.Deploying);
                var intent = sut.Release.PendingDeployment!;
                return (sut, (r, now) => r.RecordDeployment(intent, false, "connection refused", now));
            }

            case "staging smoke checks failed":
                return (CreateSut().ToStaging(StagingStep.SmokeChecking), (r, now) => r.RecordSmokeChecks(false, "login smoke check 500", now));
            case "production deployment failed":
            {
                var sut = ReleaseScenario.In(Staging).Advance(ReleaseScenario.SmallPlan.StagingBake);
                sut.Do((r, now) => r.Promote(now, null, null, Verdicts.Baseline));
                var intent = sut.Release.PendingDeployment!;
                return (sut, (r, now) => r.RecordDeployment(intent, false, "webhook 502", now));
            }

            case "promote after bake":
            {
                var sut = ReleaseScenario.In(from);
                sut.Advance(sut.Release.CurrentStage?.Bake ?? sut.Release.Plan.StagingBake);
                return (sut, (r, now) => r.Promote(now, Verdicts.Healthy(now), null, Verdicts.Baseline));
            }

            case "promote now":
                return (ReleaseScenario.In(from), (r, now) => r.Promote(now, null, People.Bob, Verdicts.Baseline));
            case "complete validation":
            {
                var sut = ReleaseScenario.In(Validating).Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
                sut.Advance(sut.Release.Plan.ValidationWindow);
                return (sut, (r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), hasRunbook: true));
            }

            case "last outcome reported":
            {
                var sut = ReleaseScenario.In(Operating).Do((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, false, now));
                return (sut, (r, now) => r.RecordOutcome(new OutcomeReport(3, now, ["ok"]), lastCheckpoint: true, now));
            }

            case "last flag removed":
            {
                var sut = ReleaseScenario.In(Operating).Do((r, now) => r.RecordOutcome(new OutcomeReport(3, now, ["ok"]), lastCheckpoint: true, now));
                Assert.Equal(Operating, sut.Release.State);
                return (sut, (r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, checkpointsDone: true, now));
            }

            case "rollback confirmed":
            {
                var sut = ReleaseScenario.In(RollingBack);
                var intent = sut.Release.PendingDeployment!;
                return (sut, (r, now) => r.RecordDeployment(intent, true, "previous version serves 100 %", now));
            }

            case "resume after red staging gate":
                return (CreateSut().ToStaging(StagingStep.SmokeChecking).Do((r, now) => r.RecordSmokeChecks(false, "500", now)), (r, now) => r.Resume(People.Olga, false, now));
            case "abort after red staging gate":
                return (CreateSut().ToStaging(StagingStep.SmokeChecking).Do((r, now) => r.RecordSmokeChecks(false, "500", now)), (r, now) => r.Abort(People.Alice, "giving up", now));
            case "abort while paused in staging":
                return (ReleaseScenario.In(Staging).Do((r, now) => r.Pause(People.Alice, now)), (r, now) => r.Abort(People.Alice, "giving up", now));
            default:
                return (ReleaseScenario.In(from), Command(transition));
        }
    }

    private static Func<Release, DateTimeOffset, ReleaseChange> Command(string name) => name switch
    {
        "reject" => (r, now) => r.Reject(People.Bob, "not this week", now),
        "abort" => (r, now) => r.Abort(People.Alice, "wrong build", now),
        "approve" => (r, now) => r.Approve(People.Bob, now),
        "pause" => (r, now) => r.Pause(People.Alice, now),
        "halt" => (r, now) => r.Halt("change freeze", People.Olga.Name, now),
        "rollback" => (r, now) => r.BeginRollback("customer reports", People.Olga.Name, [], now),
        "resume" => (r, now) => r.Resume(People.Olga, false, now),
        "health breach" => (r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), TimeSpan.FromMinutes(15), now),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such transition in the table"),
    };

    [Fact]
    public void Lifecycle_MainLine_WalksEveryStateInOrder()
    {
        var sut = CreateSut();
        var seen = new List<ReleaseState> { sut.Release.State };

        sut.ToAwaitingApproval();
        seen.Add(sut.Release.State);
        sut.ToStaging();
        seen.Add(sut.Release.State);
        for (var i = 0; i < sut.Release.Plan.Stages.Count; i++)
        {
            sut.ToStage(i);
            seen.Add(sut.Release.State);
        }

        sut.ToValidating();
        seen.Add(sut.Release.State);
        sut.ToOperating();
        seen.Add(sut.Release.State);
        sut.ToCompleted();
        seen.Add(sut.Release.State);

        Assert.Equal([Draft, AwaitingApproval, Staging, Canary, EarlyAdopters, GeneralAvailability, Full, Validating, Operating, Completed], seen);
        Assert.Equal(["Staging", "Canary 5 %", "Early adopters 25 %", "GA 50 %", "Full 100 %", "Validation"], sut.Release.History.Select(h => h.Name));
        Assert.All(sut.Release.History, h => Assert.NotNull(h.EndedAt));
    }

    // ---------------------------------------------------------------- versions

    [Fact]
    public void Version_EveryModifyingChange_IncrementsByExactlyOne()
    {
        var sut = ReleaseScenario.In(Completed);

        Assert.True(sut.ChangeCount > 20);
        Assert.Equal(1 + sut.ChangeCount, sut.Release.Revision);
    }

    [Fact]
    public void Version_UnchangedResults_KeepTheVersion()
    {
        var canary = ReleaseScenario.In(Canary);
        var version = canary.Release.Revision;

        canary.ApplyUnchanged((r, now) => r.Promote(now, Verdicts.Healthy(now), null));
        canary.ApplyUnchanged((r, now) => r.Resume(People.Alice, false, now));
        canary.ApplyUnchanged((r, now) => r.Approve(People.Carol, now));
        canary.ApplyUnchanged((r, now) => r.DecisionTimedOut(now));
        canary.ApplyUnchanged((r, now) => r.RecordSmokeChecks(true, "late", now));
        canary.ApplyUnchanged((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 5), true, "duplicate", now));

        Assert.Equal(version, canary.Release.Revision);
    }

    // ---------------------------------------------------------------- illegal: the command throws and names the state

    private static void AssertRefusedNamingState(ReleaseState state, Action command)
    {
        var ex = Assert.Throws<ReleaseRuleException>(command);
        Assert.Matches(new Regex($@"\bis {Regex.Escape(state.Display())}\b"), ex.Message);
    }

    public static TheoryData<ReleaseState> ConfirmIllegal() => ReleaseScenario.StatesExcept(Draft, AwaitingApproval);

    [Theory]
    [MemberData(nameof(ConfirmIllegal))]
    public void Confirm_ReleaseItemOutsideDraftOrAwaitingApproval_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Confirm(People.Bob, ["qa"], sut.Now));
    }

    public static TheoryData<ReleaseState> VerifyIllegal() => ReleaseScenario.StatesExcept(Validating);

    [Theory]
    [MemberData(nameof(VerifyIllegal))]
    public void Confirm_UserFacingVerifiedOutsideValidating_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], sut.Now));
    }

    [Theory]
    [MemberData(nameof(ConfirmIllegal))]
    public void Waive_OutsideDraftOrAwaitingApproval_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Waive(People.Bob, "db", "stateless", sut.Now));
    }

    [Theory]
    [InlineData(Draft)]
    [InlineData(Rejected)]
    [InlineData(Aborted)]
    public void Approve_NeverApprovedRelease_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Approve(People.Bob, sut.Now));
    }

    public static TheoryData<ReleaseState> ApprovedStates() =>
        ReleaseScenario.StatesExcept(Draft, AwaitingApproval, Rejected, Aborted);

    [Theory]
    [MemberData(nameof(ApprovedStates))]
    public void Approve_AlreadyApprovedRelease_ReturnsUnchangedNamingTheApprover(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.ApplyUnchanged((r, now) => r.Approve(People.Carol, now));

        Assert.Contains("already approved by @bob", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> RejectIllegal() => ReleaseScenario.StatesExcept(Draft, AwaitingApproval, Rejected);

    [Theory]
    [MemberData(nameof(RejectIllegal))]
    public void Reject_AfterApprovalPhase_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Reject(People.Bob, "too late", sut.Now));
    }

    public static TheoryData<ReleaseState> AbortIllegal() =>
        ReleaseScenario.StatesExcept(Draft, AwaitingApproval, Staging, Aborted);

    [Theory]
    [MemberData(nameof(AbortIllegal))]
    public void Abort_WithProductionTrafficOrFinished_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Abort(People.Alice, "give up", sut.Now));
    }

    [Fact]
    public void Abort_InCanary_SuggestsRollingBack()
    {
        var sut = ReleaseScenario.In(Canary);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Abort(People.Alice, "give up", sut.Now));

        Assert.Contains("roll it back instead", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> PromoteIllegal() =>
        ReleaseScenario.StatesExcept(Staging, Canary, EarlyAdopters, GeneralAvailability, Full);

    [Theory]
    [MemberData(nameof(PromoteIllegal))]
    public void Promote_Automatic_OutsideStagingOrProductionStage_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state).Advance(TimeSpan.FromDays(1));

        AssertRefusedNamingState(state, () => sut.Release.Promote(sut.Now, Verdicts.Healthy(sut.Now), null));
    }

    [Theory]
    [MemberData(nameof(PromoteIllegal))]
    public void Promote_Manual_OutsideStagingOrProductionStage_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Promote(sut.Now, Verdicts.Healthy(sut.Now), People.Bob));
    }

    public static TheoryData<ReleaseState> PauseIllegal() =>
        ReleaseScenario.States(Draft, AwaitingApproval, Operating, Completed, Rejected, Aborted, RollingBack, RolledBack, Halted);

    [Theory]
    [MemberData(nameof(PauseIllegal))]
    public void Pause_WithoutARunningClock_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Pause(People.Alice, sut.Now));
    }

    [Fact]
    public void Pause_AlreadyPaused_ReturnsUnchanged()
    {
        var sut = ReleaseScenario.In(Paused);

        var change = sut.ApplyUnchanged((r, now) => r.Pause(People.Bob, now));

        Assert.Contains("already paused", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> HaltIllegal() =>
        ReleaseScenario.States(Draft, AwaitingApproval, Operating, Completed, Rejected, Aborted, RollingBack, RolledBack);

    [Theory]
    [MemberData(nameof(HaltIllegal))]
    public void Halt_OutsideTheRollout_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Halt("change freeze", People.Olga.Name, sut.Now));
    }

    [Fact]
    public void Halt_AlreadyHalted_ReturnsUnchangedWithTheFirstReason()
    {
        var sut = ReleaseScenario.In(Halted);

        var change = sut.ApplyUnchanged((r, now) => r.Halt("second halt", People.Olga.Name, now));

        Assert.Contains("already halted (checkout halted by on-call)", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> ResumeIllegal() =>
        ReleaseScenario.States(Draft, AwaitingApproval, Operating, Completed, Rejected, Aborted, RollingBack, RolledBack);

    [Theory]
    [MemberData(nameof(ResumeIllegal))]
    public void Resume_NothingToResume_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.Resume(People.Olga, false, sut.Now));
    }

    public static TheoryData<ReleaseState> RunningStates() =>
        ReleaseScenario.States(Staging, Canary, EarlyAdopters, GeneralAvailability, Full, Validating);

    [Theory]
    [MemberData(nameof(RunningStates))]
    public void Resume_ClockAlreadyRunning_ReturnsUnchangedNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.ApplyUnchanged((r, now) => r.Resume(People.Olga, false, now));

        Assert.Contains($"not paused; it is {state.Display()}", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> RollbackIllegal() =>
        ReleaseScenario.States(Draft, AwaitingApproval, Staging, Completed, Rejected, Aborted);

    [Theory]
    [MemberData(nameof(RollbackIllegal))]
    public void BeginRollback_WithoutProductionTrafficOrFinished_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.BeginRollback("customer reports", People.Olga.Name, [], sut.Now));
    }

    [Theory]
    [InlineData(Draft)]
    [InlineData(AwaitingApproval)]
    [InlineData(Staging)]
    public void BeginRollback_BeforeProductionTraffic_SuggestsAbort(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.BeginRollback("customer reports", People.Olga.Name, [], sut.Now));

        Assert.Contains("abort it instead", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RollingBack)]
    [InlineData(RolledBack)]
    public void BeginRollback_AlreadyRollingOrRolledBack_ReturnsUnchangedSayingWhoStartedIt(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.ApplyUnchanged((r, now) => r.BeginRollback("me too", People.Bob.Name, [], now));

        Assert.Contains($"already {state.Display().ToLowerInvariant()}", change.Message, StringComparison.Ordinal);
        Assert.Contains("by @olga", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> DecideIllegal() => ReleaseScenario.StatesExcept(RollingBack, RolledBack);

    [Theory]
    [MemberData(nameof(DecideIllegal))]
    public void Decide_NoDecisionPending_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        foreach (var choice in Enum.GetValues<DecisionChoice>())
        {
            AssertRefusedNamingState(state, () => sut.Release.Decide(People.Olga, choice, sut.Now));
        }
    }

    [Theory]
    [InlineData(RollingBack)]
    [InlineData(RolledBack)]
    public void Decide_AfterRollbackStarted_ReturnsUnchanged(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.ApplyUnchanged((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now));

        Assert.Contains($"already {state.Display().ToLowerInvariant()}", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> FlagIllegal() => ReleaseScenario.StatesExcept(Full, Validating, Operating, Completed);

    [Theory]
    [MemberData(nameof(FlagIllegal))]
    public void MarkFlagRemoved_BeforeFullRollout_ThrowsNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        AssertRefusedNamingState(state, () => sut.Release.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, false, sut.Now));
    }

    [Fact]
    public void MarkFlagRemoved_Completed_ReturnsUnchangedAlreadyRemoved()
    {
        var sut = ReleaseScenario.In(Completed);

        var change = sut.ApplyUnchanged((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, true, now));

        Assert.Contains("already marked removed", change.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- illegal: the command is designed to change nothing

    public static TheoryData<ReleaseState> NotValidating() => ReleaseScenario.StatesExcept(Validating);

    [Theory]
    [MemberData(nameof(NotValidating))]
    public void CompleteValidation_NotValidating_ReturnsUnchangedNamingState(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state).Advance(TimeSpan.FromDays(1));

        var change = sut.ApplyUnchanged((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), true));

        Assert.Contains($"is {state.Display()}, not validating", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> NotOperating() => ReleaseScenario.StatesExcept(Operating);

    [Theory]
    [MemberData(nameof(NotOperating))]
    public void RecordOutcome_NotOperating_ReturnsUnchanged(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.ApplyUnchanged((r, now) => r.RecordOutcome(new OutcomeReport(9, now, ["late"]), true, now));

        Assert.Contains("is not operating", change.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ReleaseState> EveryState() => ReleaseScenario.AllStates();

    [Theory]
    [MemberData(nameof(EveryState))]
    public void RecordDeployment_IntentNotPending_ReturnsUnchanged(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        foreach (var succeeded in new[] { true, false })
        {
            var change = sut.ApplyUnchanged((r, now) => r.RecordDeployment(new DeploymentIntent(DeploymentEnvironment.Production, 42), succeeded, "stale answer", now));
            Assert.Contains("no longer pending", change.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void RecordSmokeChecks_NotSmokeChecking_ReturnsUnchanged(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        foreach (var passed in new[] { true, false })
        {
            var change = sut.ApplyUnchanged((r, now) => r.RecordSmokeChecks(passed, "late result", now));
            Assert.Contains("not running", change.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<ReleaseState> NotUnderEvaluation() =>
        ReleaseScenario.States(Draft, AwaitingApproval, Staging, Operating, Completed, Rejected, Aborted, RollingBack, RolledBack);

    [Theory]
    [MemberData(nameof(NotUnderEvaluation))]
    public void ApplyHealth_NotUnderEvaluation_ReturnsUnchanged(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var change = sut.ApplyUnchanged((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), TimeSpan.FromMinutes(15), now));

        Assert.Contains("not under health evaluation", change.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void DecisionTimedOut_NoDecisionPending_ReturnsUnchanged(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state).Advance(TimeSpan.FromDays(1));

        sut.ApplyUnchanged((r, now) => r.DecisionTimedOut(now));
    }
}
