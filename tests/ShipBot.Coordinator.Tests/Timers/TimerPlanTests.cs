using ShipBot.Coordinator.Timers;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Tests.Timers;

/// <summary>The pure timer plan: which timers a release needs, from the release alone.</summary>
public sealed class TimerPlanTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Reminder = TimeSpan.FromDays(1);

    private static TimerPlan PlanOf(CoordinatorHarness sut, Release release, bool owes = false) =>
        TimerPlan.For(release, sut.Policy.OutcomeCheckpoints, Tick, Reminder, sut.Time.GetUtcNow(), owes);

    [Fact]
    public async Task For_ReleaseBakingAtCanary_PromotesAtTheBakesEndTicksAndHasNoWorkNorDecision()
    {
        var sut = new CoordinatorHarness();
        var release = await sut.GetAsync(await sut.ToCanaryBakeAsync());

        var plan = PlanOf(sut, release);

        Assert.Contains(TimerStep.ScheduleAt(TimerKind.Promotion, release.BakeEndsAt!.Value), plan.Steps);
        Assert.Contains(new TimerStep(TimerKind.HealthEvaluation, TimerAction.Recur, Every: Tick), plan.Steps);
        Assert.Contains(TimerStep.Cancel(TimerKind.DecisionTimeout), plan.Steps);
        Assert.DoesNotContain(plan.Steps, s => s.Kind == TimerKind.Work);
        Assert.False(TimerPlan.NeedsWork(release));
    }

    [Fact]
    public async Task For_SameReleaseTwice_PlansAreEqual()
    {
        var sut = new CoordinatorHarness();
        var release = await sut.GetAsync(await sut.ToCanaryBakeAsync());

        Assert.Equal(PlanOf(sut, release), PlanOf(sut, release));
    }

    [Fact]
    public async Task For_BakeEndMoved_PlanDiffers()
    {
        var sut = new CoordinatorHarness();
        var release = await sut.GetAsync(await sut.ToCanaryBakeAsync());

        var later = release with { BakeEndsAt = release.BakeEndsAt!.Value.AddMinutes(1) };

        Assert.NotEqual(PlanOf(sut, release), PlanOf(sut, later));
    }

    [Fact]
    public async Task For_FinishedRelease_CancelsEveryTimer()
    {
        var sut = new CoordinatorHarness();
        var release = await sut.GetAsync(await sut.ToCanaryBakeAsync()) with { State = ReleaseState.RolledBack };

        var plan = PlanOf(sut, release);

        Assert.Equal(Enum.GetValues<TimerKind>().Select(TimerStep.Cancel), plan.Steps);
    }

    [Fact]
    public async Task For_FinishedHotfixOwingItsIncidentSignal_KeepsAReminder()
    {
        var sut = new CoordinatorHarness();
        var release = await sut.GetAsync(await sut.ToCanaryBakeAsync()) with { State = ReleaseState.RolledBack, Kind = ReleaseKind.HotfixP1 };

        var plan = PlanOf(sut, release, owes: true);

        Assert.Equal(TimerStep.ScheduleAt(TimerKind.OutcomeCheckpoint, sut.Time.GetUtcNow() + Reminder), plan.Steps[^1]);
    }

    [Fact]
    public async Task For_OperatingWithNoReportYet_SchedulesTheFirstCheckpointAfterHandoff()
    {
        var sut = new CoordinatorHarness();
        var since = sut.Time.GetUtcNow();
        var release = await sut.GetAsync(await sut.ToCanaryBakeAsync()) with { State = ReleaseState.Operating, OperatingSince = since, BakeEndsAt = null };

        var plan = PlanOf(sut, release);

        Assert.Contains(TimerStep.ScheduleAt(TimerKind.OutcomeCheckpoint, since + sut.Policy.OutcomeCheckpoints[0]), plan.Steps);
        Assert.Contains(TimerStep.Cancel(TimerKind.Promotion), plan.Steps);
    }
}
