using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Routers;
using ShipBot.Coordinator.Timers;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Transitions;

/// <summary>
/// What follows a stored transition: a rollback's deployment call starts, the router follows a pause,
/// the release card and the alerts its events call for are posted (all built by <see cref="ReleaseCards"/>),
/// decision cards are refreshed, timers are re-armed when their plan moved, and observers hear of it.
/// None of them can undo the transition.
/// </summary>
internal sealed partial class TransitionEffects(
    CardPublisher cards,
    TimerReconciler timers,
    RouterPauseSync routers,
    IReleaseStore store,
    ReleaseAccess access,
    IEnumerable<IReleaseObserver> observers,
    CoordinatorSettings settings,
    Func<ReleaseId, Task> rollBackNow,
    TimeProvider time,
    ILogger log)
{
    private readonly IReadOnlyList<IReleaseObserver> _observers = [.. observers];

    public async Task AfterTransitionAsync(Release previous, ReleaseChange change, CancellationToken ct)
    {
        var release = change.Next;
        var policy = access.PolicyOf(release.Id.Service);
        var now = time.GetUtcNow();
        var timersChanged = timers.Changes(previous, release);
        var rollingBack = change.Events.Any(e => e.Kind == ReleaseEventKind.RollbackStarted);
        if (rollingBack && timersChanged)
        {
            // A rollback's deployment call must not wait for chat nor for a free scheduler thread: it
            // starts now, and the Work timer armed here is the safety net (the work lease lets one of them call).
            await timers.ReconcileAsync(release, ct).ConfigureAwait(false);
            if (settings.StartRollbackAtOnce)
            {
                _ = Task.Run(() => rollBackNow(release.Id), CancellationToken.None);
            }
        }

        await routers.SyncAsync(previous, release, ct).ConfigureAwait(false);
        await cards.PublishCardAsync(release, ct).ConfigureAwait(false);
        foreach (var e in change.Events)
        {
            switch (e.Kind)
            {
                case ReleaseEventKind.RollbackStarted:
                    // The rollback may already be done (a fast target): then its completion posts the alert, and a
                    // late "rolling back" must not overwrite it.
                    if (await store.GetAsync(release.Id, ct).ConfigureAwait(false) is not { State: ReleaseState.RolledBack })
                    {
                        await cards.PublishAsync(release, ReleaseCards.AlertKey(release.Id, "rollback"), ReleaseCards.RollbackAlert(release, policy, null, now), ct).ConfigureAwait(false);
                    }

                    break;
                case ReleaseEventKind.HealthInconclusive:
                    await cards.PublishAsync(release, ReleaseCards.AlertKey(release.Id, "halt"), ReleaseCards.HealthUnreadable(release, policy), ct).ConfigureAwait(false);
                    break;
                case ReleaseEventKind.StagingFailed:
                    await cards.PublishAsync(release, ReleaseCards.AlertKey(release.Id, "halt"), ReleaseCards.StagingGateFailed(release, policy), ct).ConfigureAwait(false);
                    break;
                case ReleaseEventKind.PromotionNeedsApproval:
                    await cards.PublishAsync(release, ReleaseCards.AlertKey(release.Id, "promotion"), ReleaseCards.PromotionWaits(release, policy.Approvers), ct).ConfigureAwait(false);
                    break;
            }
        }

        if (previous.AwaitingPromotionApproval && !release.AwaitingPromotionApproval)
        {
            // The approvers' call to action is answered (or moot): its button must not stay live.
            await cards.PublishToAsync(release.Conversation, ReleaseCards.AlertKey(release.Id, "promotion"), ReleaseCards.PromotionSettled(previous, release), ReleaseCards.CardKey(release.Id), ct).ConfigureAwait(false);
        }

        await PublishDecisionCardsAsync(previous, release, policy, now, ct).ConfigureAwait(false);

        if (timersChanged && !rollingBack)
        {
            await timers.ReconcileAsync(release, ct).ConfigureAwait(false);
        }

        await NotifyObserversAsync(previous, change, ct).ConfigureAwait(false);
    }

    /// <summary>New readings kept beside an unchanged release: its card and any open decision's card show them.</summary>
    public async Task AfterReadingsAsync(Release current, Release shown, CancellationToken ct)
    {
        await cards.PublishCardAsync(shown, ct).ConfigureAwait(false);
        await PublishDecisionCardsAsync(current, shown, access.PolicyOf(current.Id.Service), time.GetUtcNow(), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// One card per decision, keyed by its id: a new decision gets a new message; an open one is
    /// refreshed on every change (its waiting time counts up); one that ended loses its buttons and says why.
    /// </summary>
    private async Task PublishDecisionCardsAsync(Release previous, Release release, ServicePolicy policy, DateTimeOffset now, CancellationToken ct)
    {
        var before = previous.OpenDecisions.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var decision in release.OpenDecisions)
        {
            var card = ReleaseCards.Decision(release, decision, policy, now);
            if (before.Contains(decision.Id))
            {
                await cards.PublishToAsync(release.Conversation, DecisionKey(release.Id, decision.Id), card, ReleaseCards.CardKey(release.Id), ct).ConfigureAwait(false);
            }
            else
            {
                await cards.PublishAsync(release, DecisionKey(release.Id, decision.Id), card, ct).ConfigureAwait(false);
            }
        }

        foreach (var ended in previous.OpenDecisions.Where(d => !release.OpenDecisions.Any(o => o.Id == d.Id)))
        {
            var record = release.DecisionHistory.LastOrDefault(r => r.Id == ended.Id)
                ?? new DecisionRecord(ended.Id, ended.Breach.Metric, ended.Stage, $"closed: {release.Id} is now {ReleaseSituation.Describe(release)}", null, now);
            await cards.PublishAsync(release, DecisionKey(release.Id, ended.Id), ReleaseCards.DecisionClosed(release, record), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Each decision has its own message; decisions stored before ids existed ("d0") keep the message they were posted as.</summary>
    private static string DecisionKey(ReleaseId id, string decisionId) =>
        ReleaseCards.AlertKey(id, decisionId == "d0" ? "decision" : $"decision:{decisionId}");

    private async Task NotifyObserversAsync(Release previous, ReleaseChange change, CancellationToken ct)
    {
        foreach (var observer in _observers)
        {
            try
            {
                await observer.OnTransitionAsync(previous, change.Next, change.Events, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // An integration's outage never undoes or blocks a committed transition.
                LogObserverFailed(observer.GetType().Name, change.Next.Id.ToString(), ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Release observer {Observer} failed for {Release}: {Reason}")]
    private partial void LogObserverFailed(string observer, string release, string reason);
}
