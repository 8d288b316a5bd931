using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Timers;

/// <summary>What to do with one timer of a release.</summary>
public enum TimerAction
{
    /// <summary>Fire once at <see cref="TimerStep.At"/> (replacing any earlier one of the kind).</summary>
    Schedule,

    /// <summary>Fire every <see cref="TimerStep.Every"/>.</summary>
    Recur,

    /// <summary>Not needed any more.</summary>
    Cancel,
}

/// <summary>One timer of a plan. <see cref="Basis"/> is what the timer is for (a deployment intent, for the Work timer), so a new intent re-arms it.</summary>
public sealed record TimerStep(TimerKind Kind, TimerAction Action, DateTimeOffset At = default, TimeSpan Every = default, object? Basis = null)
{
    public static TimerStep ScheduleAt(TimerKind kind, DateTimeOffset at, object? basis = null) => new(kind, TimerAction.Schedule, at, Basis: basis);

    public static TimerStep Cancel(TimerKind kind) => new(kind, TimerAction.Cancel);
}

/// <summary>
/// The timers a release needs, in the order they are applied: pure, from the release, its service's
/// policy and the time. A timer kind the plan does not name is left as it is (a Work timer that has
/// fired is not cancelled; it finds nothing to do). Two plans that are equal need no scheduler call,
/// which is how a transition knows whether its timers moved; a release entering another state
/// always applies its plan again (a new phase re-arms its timers).
/// </summary>
public sealed class TimerPlan : IEquatable<TimerPlan>
{
    private TimerPlan(ReleaseState state, IReadOnlyList<TimerStep> steps)
    {
        State = state;
        Steps = steps;
    }

    /// <summary>The state the plan is for.</summary>
    public ReleaseState State { get; }

    public IReadOnlyList<TimerStep> Steps { get; }

    /// <param name="release">The release as stored.</param>
    /// <param name="outcomeCheckpoints">Its service's outcome checkpoints (after handoff to operations).</param>
    /// <param name="evaluationInterval">The periodic tick's interval.</param>
    /// <param name="reminderInterval">How often reminders repeat after the last checkpoint.</param>
    /// <param name="now">The time the plan is made at ("due now" timers are due then).</param>
    /// <param name="owesIncidentSignal">A finished hotfix whose post-incident signal is still open: it keeps a reminder.</param>
    public static TimerPlan For(Release release, IReadOnlyList<TimeSpan> outcomeCheckpoints, TimeSpan evaluationInterval, TimeSpan reminderInterval, DateTimeOffset now, bool owesIncidentSignal)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(outcomeCheckpoints);
        var steps = new List<TimerStep>(8);
        if (release.State.IsTerminal())
        {
            steps.AddRange(Enum.GetValues<TimerKind>().Select(TimerStep.Cancel));
            if (release.Kind != ReleaseKind.Standard && owesIncidentSignal)
            {
                steps.Add(TimerStep.ScheduleAt(TimerKind.OutcomeCheckpoint, now + reminderInterval));
            }

            return new TimerPlan(release.State, steps);
        }

        if (WorkFor(release) is { } work)
        {
            steps.Add(TimerStep.ScheduleAt(TimerKind.Work, now, work));
        }

        steps.Add(release.BakeEndsAt is { } end && release.PendingDeployment is null
            ? TimerStep.ScheduleAt(TimerKind.Promotion, end)
            : TimerStep.Cancel(TimerKind.Promotion));

        // The recurring tick runs for every active release: it evaluates health where there is
        // production traffic and is the safety net for every other timer.
        steps.Add(new TimerStep(TimerKind.HealthEvaluation, TimerAction.Recur, Every: evaluationInterval));

        steps.Add(release.Decision is { } decision
            ? TimerStep.ScheduleAt(TimerKind.DecisionTimeout, decision.AutoRollbackAt)
            : TimerStep.Cancel(TimerKind.DecisionTimeout));

        if (release.State == ReleaseState.Validating && release.ValidationEndsAt is { } validated)
        {
            steps.Add(TimerStep.ScheduleAt(TimerKind.ValidationEnd, validated));
        }

        if (release.State == ReleaseState.Operating && release.OperatingSince is { } since)
        {
            var due = release.Outcomes.Count < outcomeCheckpoints.Count
                ? since + outcomeCheckpoints[release.Outcomes.Count]
                : now + reminderInterval;
            steps.Add(TimerStep.ScheduleAt(TimerKind.OutcomeCheckpoint, due));
        }

        return new TimerPlan(release.State, steps);
    }

    /// <summary>Whether the release has slow work waiting: a deployment call, staging's smoke checks, or readiness probes.</summary>
    public static bool NeedsWork(Release release) => WorkFor(release) is not null;

    /// <summary>What the Work timer is for (its basis), or null when there is no work.</summary>
    private static object? WorkFor(Release r) =>
        r.PendingDeployment is { } intent && r.State != ReleaseState.Halted ? intent
        : r.State == ReleaseState.Staging && r.StagingStep == StagingStep.SmokeChecking ? (object)StagingStep.SmokeChecking
        : !r.ReadinessChecked && r.State is ReleaseState.Draft or ReleaseState.AwaitingApproval ? "readiness"
        : null;

    public bool Equals(TimerPlan? other) => other is not null && State == other.State && Steps.SequenceEqual(other.Steps);

    public override bool Equals(object? obj) => obj is TimerPlan other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(State, Steps.Count);
}
