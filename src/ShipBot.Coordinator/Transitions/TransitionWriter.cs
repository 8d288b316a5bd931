using ShipBot.Coordinator.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator.Transitions;

/// <summary>
/// The only writer of a release. Every transition is a compare-and-set on the release's version: on
/// a conflict the change is applied again to the fresh release, so two clicks at once make one change
/// and the loser is told what happened. The audit entries (one per event) and the service halt a
/// failed rollout or staging gate causes are written in the same store call; then the effects run.
/// </summary>
internal sealed class TransitionWriter(IReleaseStore store, TransitionEffects effects, TimeProvider time)
{
    /// <summary>The action name of a periodic evaluation: a change of readings only is not audited.</summary>
    public const string HealthEvaluation = "health evaluation";

    private const int MaxAttempts = 16;

    /// <summary>
    /// Applies <paramref name="apply"/> to the stored release and stores the result with a
    /// compare-and-set, retrying on a conflict with the fresh release; then notifies and re-arms timers.
    /// </summary>
    public Task<ReleaseChange> MutateAsync(ReleaseId id, Actor actor, string action, Func<Release, ReleaseChange> apply, CancellationToken ct) =>
        MutateAsync(id, null, actor, action, apply, ct);

    /// <param name="known">
    /// The release as the caller has just read it: the first attempt starts from it instead of reading
    /// it again (one round trip less); if it is no longer current, the compare-and-set fails and the
    /// next attempt reads it fresh.
    /// </param>
    public async Task<ReleaseChange> MutateAsync(ReleaseId id, Release? known, Actor actor, string action, Func<Release, ReleaseChange> apply, CancellationToken ct)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = (attempt == 0 ? known : null) ?? await store.GetAsync(id, ct).ConfigureAwait(false)
                ?? throw new ReleaseRuleException($"There is no release {id}.");
            var change = apply(current);
            if (!change.Modified)
            {
                return change;
            }

            if (action == HealthEvaluation && LatestHealth.IsReadingsOnly(current, change))
            {
                if (await store.SetLatestHealthAsync(id, current.Revision, change.Next.LastHealth!, ct).ConfigureAwait(false) is { } halts)
                {
                    // Read with the readings: the card they are shown on, and a promotion that follows, see the halts as they are now.
                    RequestScope.RememberHalts(halts);
                    return await KeepReadingsAsync(current, change, ct).ConfigureAwait(false);
                }

                // The release moved on since it was read: judge the readings against it as it is now.
                continue;
            }

            // The aggregate says when a change stops the line for its whole service.
            var halt = change.Halt is { } stop ? new ServiceHalt(stop.Service, stop.Reason, actor.Id, time.GetUtcNow()) : null;
            if (halt is not null)
            {
                RequestScope.ForgetHalts();
            }

            // The command's answer (the reply a one-step command gives) goes in the same write.
            var answering = RequestScope.OpenAnswer;
            var answer = answering?.AnswerTo(change);
            RequestScope.ForgetOpening();
            if (await store.TrySaveAsync(change.Next, current.Revision, Audit(change, actor.Id, action), halt, answer, ct).ConfigureAwait(false))
            {
                answering?.Kept = answer!.Answer;
                WriteTracker.Mark();
                ReleaseTelemetry.RecordTransition(change);
                await effects.AfterTransitionAsync(current, change, ct).ConfigureAwait(false);
                return change;
            }
        }

        throw new ReleaseRuleException($"{id} is changing too fast to apply '{action}'; try again.");
    }

    /// <summary>Stores a new release with its audit entries; one active release per service is the store's rule.</summary>
    public async Task<CreateResult> CreateAsync(ReleaseChange change, IReadOnlyList<AuditEntry> audit, CancellationToken ct)
    {
        RequestScope.ForgetOpening();
        var created = await store.TryCreateAsync(change.Next, audit, ct).ConfigureAwait(false);
        if (created.Outcome == CreateOutcome.Created)
        {
            WriteTracker.Mark();
            ReleaseTelemetry.RecordTransition(change);
        }

        return created;
    }

    /// <summary>One audit entry per event; a change without events is audited under <paramref name="action"/>.</summary>
    public IReadOnlyList<AuditEntry> Audit(ReleaseChange change, string actor, string action)
    {
        var now = time.GetUtcNow();
        var entries = change.Events.Select(e => new AuditEntry(now, actor, e.Kind.ToString(), e.Summary)).ToList();
        if (entries.Count == 0 && change.Modified && action != HealthEvaluation)
        {
            // A health evaluation that changed nothing but the readings is not an audit event.
            entries.Add(new AuditEntry(now, actor, action, change.Message));
        }

        return entries;
    }

    /// <summary>
    /// An evaluation that changed only the readings, now kept beside the release: no new revision, no
    /// audit, no timers to move. The card (and any open decision's card) shows them; the release
    /// document is not written.
    /// </summary>
    private async Task<ReleaseChange> KeepReadingsAsync(Release current, ReleaseChange change, CancellationToken ct)
    {
        var shown = current with { LastHealth = change.Next.LastHealth };
        await effects.AfterReadingsAsync(current, shown, ct).ConfigureAwait(false);
        return new ReleaseChange(shown, [], change.Message) { Modified = false };
    }
}
