using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.AfterCare;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Health;
using ShipBot.Coordinator.Transitions;
using ShipBot.Coordinator.Work;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator.Timers;

/// <summary>
/// A timer that fires goes to the room that handles it; the periodic tick drives whatever is due.
/// Also rebuilds the timers at start-up (recovery) and arms the releases another replica started (sweep).
/// </summary>
internal sealed partial class TimerDispatcher(
    IReleaseStore store,
    ILeaseStore leases,
    TransitionWriter writer,
    LeasedWorker worker,
    HealthGate gate,
    OutcomeCheckpoints afterCare,
    TimerReconciler timers,
    ReleaseAccess access,
    CoordinatorSettings settings,
    string instance,
    TimeProvider time,
    ILogger log)
{
    /// <summary>
    /// Runs one timer. Safe to call twice or on two replicas: it re-reads the release and does only
    /// what is still due, and every change is a compare-and-set.
    /// </summary>
    public async Task OnTimerAsync(ReleaseId id, TimerKind kind, CancellationToken cancellationToken)
    {
        using var span = ReleaseTelemetry.StartTimer(id, kind.ToString());
        Release? release;
        bool? leased = null;
        if (kind == TimerKind.HealthEvaluation && ReferenceEquals(leases, store))
        {
            // One store keeps both: the read takes the evaluation lease too when the stored release is under
            // evaluation; the halts come back with the readings (RequestScope), for the card they are shown on.
            RequestScope.Begin();
            (release, leased) = await leases.ReadForEvaluationAsync(id, EvaluationLease(id), instance, EvaluationLeaseTime, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            release = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }

        if (release is null || release.State.IsTerminal() && kind is not (TimerKind.Work or TimerKind.OutcomeCheckpoint))
        {
            return;
        }

        try
        {
            switch (kind)
            {
                case TimerKind.Work:
                    await worker.DoWorkAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.Promotion:
                    await gate.PromoteIfDueAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.HealthEvaluation:
                    await TickAsync(release, leased, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.DecisionTimeout:
                    await writer.MutateAsync(id, Actor.System, "consult timeout", r => r.DecisionTimedOut(time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.ValidationEnd:
                    await gate.TryCompleteValidationAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.OutcomeCheckpoint:
                    await afterCare.CheckpointAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (ReleaseRuleException ex)
        {
            LogTimerRefused(id.ToString(), kind.ToString(), ex.Message);
        }
    }

    /// <summary>Rebuilds every active release's timers (at start-up, from the store).</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var active = await store.ListActiveAsync(cancellationToken).ConfigureAwait(false);
        foreach (var release in active)
        {
            await timers.ReconcileAsync(release, cancellationToken).ConfigureAwait(false);
        }

        return active.Count;
    }

    /// <summary>
    /// Arms the timers of active releases this instance does not know yet: releases started on
    /// another replica, or whose replica went away. Reads only ids, then the unknown releases.
    /// Returns how many were armed.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var ids = await store.ListActiveIdsAsync(cancellationToken).ConfigureAwait(false);
        timers.ForgetAllBut(ids.ToHashSet());
        var armed = 0;
        foreach (var id in ids.Where(i => !timers.IsArmed(i)))
        {
            if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } release)
            {
                await timers.ReconcileAsync(release, cancellationToken).ConfigureAwait(false);
                armed++;
            }
        }

        return armed;
    }

    /// <summary>
    /// The periodic tick of every active release (the health-evaluation timer). Besides evaluating
    /// health it drives whatever is due, so a release keeps moving on any replica even when the
    /// one-shot timer that was meant for it lived on a replica that went away. Leases make one
    /// replica do each piece of work.
    /// </summary>
    /// <param name="leased">The evaluation lease as the read took it: true held, false held by another replica, null not tried.</param>
    private async Task TickAsync(Release release, bool? leased, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (TimerPlan.NeedsWork(release))
        {
            await worker.DoWorkAsync(release, ct).ConfigureAwait(false);
            release = await store.GetAsync(release.Id, ct).ConfigureAwait(false) ?? release;
        }

        if (release.Decision is { } d && d.AutoRollbackAt <= now)
        {
            await writer.MutateAsync(release.Id, Actor.System, "consult timeout", r => r.DecisionTimedOut(time.GetUtcNow()), ct).ConfigureAwait(false);
            return;
        }

        if (release.IsUnderEvaluation)
        {
            if (leased ?? await leases.TryAcquireAsync(EvaluationLease(release.Id), instance, EvaluationLeaseTime, ct).ConfigureAwait(false))
            {
                await gate.EvaluateAndApplyAsync(release, ct).ConfigureAwait(false);
            }
        }
        else if (release.State == ReleaseState.Staging && release.IsPromotionDue(now))
        {
            await gate.PromoteIfDueAsync(release, ct).ConfigureAwait(false);
        }
        else if (release.State == ReleaseState.Operating && release.OperatingSince is { } since)
        {
            var policy = access.PolicyOf(release.Id.Service);
            if (release.Outcomes.Count < policy.OutcomeCheckpoints.Count && since + policy.OutcomeCheckpoints[release.Outcomes.Count] <= now)
            {
                await afterCare.CheckpointAsync(release, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One replica evaluates each release per interval: the lease it holds for most of one.</summary>
    private static string EvaluationLease(ReleaseId id) => $"eval:{id}";

    private TimeSpan EvaluationLeaseTime => settings.EvaluationInterval * 0.8;

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Kind} of {Release} refused: {Reason}")]
    private partial void LogTimerRefused(string release, string kind, string reason);
}
