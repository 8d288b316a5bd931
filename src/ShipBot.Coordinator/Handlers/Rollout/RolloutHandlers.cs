using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Freezes;
using ShipBot.Coordinator.Health;
using ShipBot.Core.Commands;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Handlers.Rollout;

/// <summary>
/// Steering a rollout by hand: promote (early, or approving a stage that waits), pause and resume,
/// roll back, abort, answer a consult, and mark a feature flag removed.
/// </summary>
internal sealed class RolloutHandlers(ReleaseLookup lookup, ReleaseAccess access, ReleaseActions actions, HealthGate health, FreezeGate freezes, TimeProvider time)
{
    public async Task<CommandReply> PromoteAsync(PromoteCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (ReleaseAccess.IsRequester(release, actor))
        {
            var what = release.AwaitingPromotionApproval ? "approve a stage of it" : "promote it early";
            throw new ReleaseRuleException($"{actor.Mention} requested {release.Id} and cannot {what} (separation of duties): another approver must.") { Kind = RefusalKind.Forbidden };
        }

        access.Require(context, release.Id.Service);
        if (await lookup.HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false) is { } halt)
        {
            return CommandReply.Private($"Cannot promote {release.Id}: {release.Id.Service} is halted ({halt.Reason}).") with { Refusal = RefusalKind.Rule };
        }

        if (freezes.FreezeHolding(release) is { } freeze)
        {
            return CommandReply.Private($"Cannot promote {release.Id} now: {freeze.Explain()} It holds at {release.Where} and moves on by itself after the freeze; rolling back is never blocked.");
        }

        // A judged stage keeps the judge's last verdict: a fresh look a moment after the last one would see no new canary traffic, "no data".
        var verdict = release.StageIndex < 0 || release.State == ReleaseState.Staging ? null
            : release.JudgesCurrentStage(release.Judge) && release.LastHealth is { } judged ? judged
            : (await health.EvaluateAsync(release, ct).ConfigureAwait(false)).Verdict;
        var baseline = release.State == ReleaseState.Staging ? await health.CaptureBaselineAsync(release, ct).ConfigureAwait(false) : null;
        return await actions.ApplyAsync(release, context, "promote", r => r.Promote(time.GetUtcNow(), verdict, ReleaseAccess.PersonOf(actor), baseline, c.Reason), ct).ConfigureAwait(false);
    }

    public Task<CommandReply> PauseAsync(PauseCommand c, CommandContext context, CancellationToken ct) =>
        actions.OnReleaseAsync(c.Release, context, (r, p, now) => r.Pause(p, now), ct);

    public async Task<CommandReply> ResumeAsync(ResumeCommand c, CommandContext context, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        access.Require(context, release.Id.Service);
        var halted = await lookup.HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false) is not null;
        return await actions.ApplyAsync(release, context, "resume", r => r.Resume(ReleaseAccess.PersonOf(context.Actor), halted, time.GetUtcNow()), ct, startFromKnown: true).ConfigureAwait(false);
    }

    /// <summary>
    /// A rollback acts on the service's active release only: rolling back an older one while a newer
    /// one rolls out would tell the deployment target something ShipBot's own state contradicts.
    /// Admins may roll back in an emergency.
    /// </summary>
    public async Task<CommandReply> RollbackAsync(RollbackCommand c, CommandContext context, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        access.Require(context, release.Id.Service);
        var active = await lookup.ActiveReleaseOfAsync(release.Id.Service, ct).ConfigureAwait(false);
        if (active is not null && active.Id != release.Id && !release.State.IsTerminal() && release.State != ReleaseState.RollingBack)
        {
            throw new ReleaseRuleException(
                $"Cannot roll back {release.Id}: it is not {release.Id.Service}'s active release — {active.Id} is ({ReleaseSituation.Describe(active)}). " +
                $"Roll back {active.Id} (or abort it, before production traffic) first.");
        }

        return await actions.ApplyAsync(release, context, "roll back", r => r.BeginRollback(c.Reason, ReleaseAccess.PersonOf(context.Actor).Name, [], time.GetUtcNow()), ct).ConfigureAwait(false);
    }

    public Task<CommandReply> AbortAsync(AbortCommand c, CommandContext context, CancellationToken ct) =>
        actions.OnReleaseAsync(c.Release, context, (r, p, now) => r.Abort(p, c.Reason, now), ct);

    public Task<CommandReply> DecideAsync(DecideCommand c, CommandContext context, CancellationToken ct) =>
        actions.OnReleaseAsync(c.Release, context, (r, p, now) => r.Decide(p, c.Choice, now, c.DecisionId), ct);

    public async Task<CommandReply> FlagRemovedAsync(FlagRemovedCommand c, CommandContext context, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        access.Require(context, release.Id.Service);
        var policy = access.PolicyOf(release.Id.Service);
        var openSignal = await lookup.HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
        return await actions.ApplyAsync(release, context, "flag-removed",
            r => r.MarkFlagRemoved(ReleaseAccess.PersonOf(context.Actor), c.Flag, r.Outcomes.Count >= policy.OutcomeCheckpoints.Count && !openSignal, time.GetUtcNow()), ct).ConfigureAwait(false);
    }
}
