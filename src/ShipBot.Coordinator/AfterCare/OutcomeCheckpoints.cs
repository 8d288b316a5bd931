using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Health;
using ShipBot.Coordinator.Timers;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.AfterCare;

/// <summary>
/// After handoff to operations: the outcome report at each checkpoint (judged against the contract's
/// targets), the reminders of what the team still owes (flags to remove, a hotfix's post-incident
/// signal), and the completion of a release that owes nothing.
/// </summary>
internal sealed class OutcomeCheckpoints(
    HealthReader health,
    OutcomeMeasurement outcomes,
    TransitionWriter writer,
    ReleaseLookup lookup,
    ReleaseAccess access,
    TimerReconciler timers,
    CardPublisher cards,
    IReleaseScheduler scheduler,
    IReleaseStore store,
    CoordinatorSettings settings,
    TimeProvider time)
{
    public async Task CheckpointAsync(Release release, CancellationToken ct)
    {
        var policy = access.PolicyOf(release.Id.Service);
        if (release.State.IsTerminal())
        {
            // A finished hotfix still owes its post-incident signal.
            await RemindAsync(release, policy, ct).ConfigureAwait(false);
            return;
        }

        if (release.State != ReleaseState.Operating || release.OperatingSince is not { } since)
        {
            return;
        }

        var now = time.GetUtcNow();
        var index = release.Outcomes.Count;
        if (index < policy.OutcomeCheckpoints.Count)
        {
            if (since + policy.OutcomeCheckpoints[index] > now)
            {
                await timers.ReconcileAsync(release, ct).ConfigureAwait(false);
                return;
            }

            // Judged against the targets the contract states, never against the looser rollback limits.
            var sample = await health.ReadAsync(new HealthQuery(release.Id.Service, release.Id.Version, "operating", 100, OutcomeTargets.MeasuredMetrics), ct).ConfigureAwait(false);
            var measured = await outcomes.MeasureAsync(release, ct).ConfigureAwait(false);
            var lines = measured.Count == 0
                ? OutcomeTargets.Judge(sample, release.Baseline, policy.Thresholds)
                : [.. OutcomeTargets.Judge(sample, release.Baseline, policy.Thresholds), .. Core.Outcomes.OutcomeEvaluation.Report(index + 1, now, measured).Lines];
            var report = new OutcomeReport(index + 1, now, lines);
            var missed = measured.Where(m => m.IsMiss).ToList();

            // A missed target opens a signal, which keeps the release operating until the team fills it in.
            var last = index + 1 >= policy.OutcomeCheckpoints.Count && missed.Count == 0 && !await lookup.HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
            var change = await writer.MutateAsync(release.Id, Actor.System, "outcome checkpoint", r => r.RecordOutcome(report, last, time.GetUtcNow()), ct).ConfigureAwait(false);
            if (change.Modified && missed.Count > 0)
            {
                await outcomes.OpenSignalAsync(change.Next, report, missed, ct).ConfigureAwait(false);
            }

            if (change.Modified)
            {
                var card = ReleaseCards.OutcomeReport(release.Id, report, policy.OutcomeCheckpoints[index], missed.Count > 0);
                await cards.PublishAsync(change.Next, $"outcome:{release.Id}:{report.Checkpoint}", card, ct).ConfigureAwait(false);
            }

            release = change.Next;
        }

        await RemindAsync(release, policy, ct).ConfigureAwait(false);
        await CompleteIfDoneAsync(release.Id, ct).ConfigureAwait(false);
    }

    /// <summary>Completes an operating release whose checkpoints are all reported, flags removed and incident signal filled in.</summary>
    public async Task CompleteIfDoneAsync(ReleaseId id, CancellationToken ct)
    {
        var release = await store.GetAsync(id, ct).ConfigureAwait(false);
        if (release is not { State: ReleaseState.Operating })
        {
            return;
        }

        var reported = release.Outcomes.Count >= access.PolicyOf(id.Service).OutcomeCheckpoints.Count && !await lookup.HasOpenSignalAsync(id, ct).ConfigureAwait(false);
        await writer.MutateAsync(id, Actor.System, "complete", r => r.CompleteIfDone(reported, time.GetUtcNow()), ct).ConfigureAwait(false);
    }

    private async Task RemindAsync(Release release, ServicePolicy policy, CancellationToken ct)
    {
        var reminders = new List<string>();
        if (release.State == ReleaseState.Operating && release.Outcomes.Count > 0 && release.FlagsToRemove.Count > 0)
        {
            reminders.Add($"feature flag(s) still in the code: {string.Join(", ", release.FlagsToRemove)} — mark each with `/ship flag-removed {release.Id} <flag>`");
        }

        var open = (await store.ListSignalsAsync(ct).ConfigureAwait(false)).Where(s => s.Open && s.Release == release.Id.ToString()).ToList();
        if (open.Count > 0)
        {
            reminders.Add($"the post-incident signal is not filled in — `/ship signal incident {release.Id} <what happened>`");
        }

        if (reminders.Count == 0)
        {
            return;
        }

        await cards.PublishAsync(release, $"reminder:{release.Id}", ReleaseCards.Reminder(release, reminders), ct).ConfigureAwait(false);
        if (release.State.IsTerminal() || (release.State == ReleaseState.Operating && release.Outcomes.Count >= policy.OutcomeCheckpoints.Count))
        {
            await scheduler.ScheduleAsync(release.Id, TimerKind.OutcomeCheckpoint, time.GetUtcNow() + settings.ReminderInterval, ct).ConfigureAwait(false);
        }
    }
}
