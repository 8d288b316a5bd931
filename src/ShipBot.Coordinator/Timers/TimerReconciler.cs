using System.Collections.Concurrent;
using ShipBot.Coordinator.Access;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Timers;

/// <summary>
/// Applies a release's <see cref="TimerPlan"/> to the scheduler, after transitions and at recovery,
/// and remembers which releases this instance has armed (the sweep arms the others).
/// </summary>
internal sealed class TimerReconciler(IReleaseScheduler scheduler, ReleaseLookup lookup, ReleaseAccess access, CoordinatorSettings settings, TimeProvider time)
{
    /// <summary>Releases whose timers this instance has armed.</summary>
    private readonly ConcurrentDictionary<ReleaseId, byte> _armed = new();

    /// <summary>Whether a transition from <paramref name="previous"/> to <paramref name="next"/> moved any timer.</summary>
    public bool Changes(Release previous, Release next)
    {
        if (previous.State.IsTerminal() != next.State.IsTerminal())
        {
            return true;
        }

        var now = time.GetUtcNow();
        return !PlanOf(previous, now, false).Equals(PlanOf(next, now, false));
    }

    /// <summary>Arms exactly the timers the release's state needs.</summary>
    public async Task ReconcileAsync(Release release, CancellationToken ct)
    {
        var terminal = release.State.IsTerminal();
        var owes = terminal && release.Kind != ReleaseKind.Standard && await lookup.HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
        if (terminal)
        {
            _armed.TryRemove(release.Id, out _);
        }
        else
        {
            _armed[release.Id] = 0;
        }

        foreach (var step in PlanOf(release, time.GetUtcNow(), owes).Steps)
        {
            switch (step.Action)
            {
                case TimerAction.Schedule:
                    await scheduler.ScheduleAsync(release.Id, step.Kind, step.At, ct).ConfigureAwait(false);
                    break;
                case TimerAction.Recur:
                    await scheduler.ScheduleRecurringAsync(release.Id, step.Kind, step.Every, ct).ConfigureAwait(false);
                    break;
                default:
                    await scheduler.CancelAsync(release.Id, step.Kind, ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    public bool IsArmed(ReleaseId id) => _armed.ContainsKey(id);

    /// <summary>Forgets the releases that are no longer active.</summary>
    public void ForgetAllBut(IReadOnlySet<ReleaseId> active)
    {
        foreach (var stale in _armed.Keys.Where(k => !active.Contains(k)).ToList())
        {
            _armed.TryRemove(stale, out _);
        }
    }

    private TimerPlan PlanOf(Release release, DateTimeOffset now, bool owes) =>
        TimerPlan.For(release, access.Services.TryGetValue(release.Id.Service, out var policy) ? policy.OutcomeCheckpoints : [], settings.EvaluationInterval, settings.ReminderInterval, now, owes);
}
