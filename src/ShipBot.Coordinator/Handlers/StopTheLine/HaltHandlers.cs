using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Timers;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Handlers.StopTheLine;

/// <summary>
/// Stopping the line by hand: <c>halt</c> stops one service's releases and promotions (or, with
/// <c>all</c>, every service's: a change freeze); <c>unhalt</c> lifts it, and a bake that ended
/// meanwhile promotes after a fresh health check. Releases halted by their own failure wait for a human.
/// </summary>
internal sealed class HaltHandlers(
    IReleaseStore store,
    ReleaseAccess access,
    TransitionWriter writer,
    CardPublisher cards,
    TimerReconciler timers,
    IReleaseScheduler scheduler,
    TimeProvider time)
{
    public async Task<CommandReply> HaltAsync(HaltCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        var scope = c.Service ?? ServiceHalt.Everything;
        if (c.Service is not null)
        {
            // Said before any role check, and never turned into a freeze of everything.
            if (!access.Services.ContainsKey(c.Service))
            {
                throw new ReleaseRuleException(
                    $"Unknown service '{c.Service}'. Configured services: {string.Join(", ", access.Services.Keys)}. To freeze every service: `/ship halt all <reason>`.");
            }

            if (string.IsNullOrWhiteSpace(c.Reason))
            {
                throw new ReleaseRuleException($"A halt needs a reason: `/ship halt {c.Service} <reason>`.");
            }

            access.Require(context, c.Service);
        }
        else if (!IsOnCallAnywhereOrAdmin(actor))
        {
            throw new ReleaseRuleException($"{actor.Mention} cannot freeze every release: that needs the on-call or admin role.");
        }

        var now = time.GetUtcNow();
        var halt = new ServiceHalt(scope, c.Reason, actor.Id, now);
        RequestScope.ForgetHalts();
        if (!await store.TrySetHaltAsync(halt, ct).ConfigureAwait(false))
        {
            var existing = (await store.GetHaltsAsync(ct).ConfigureAwait(false)).FirstOrDefault(h => h.Service == scope);
            return CommandReply.Private($"Nothing changed: {(c.Service ?? "everything")} is already halted ({existing?.Reason}, by @{existing?.By}).");
        }

        var affected = (await store.ListActiveAsync(ct).ConfigureAwait(false))
            .Where(r => (c.Service is null || r.Id.Service == c.Service) && r.State is ReleaseState.Staging or ReleaseState.Canary or ReleaseState.EarlyAdopters
                or ReleaseState.GeneralAvailability or ReleaseState.Full or ReleaseState.Validating or ReleaseState.Paused)
            .ToList();
        foreach (var release in affected)
        {
            await writer.MutateAsync(release.Id, actor, "halt", r => r.Halt(c.Reason, actor.Id, time.GetUtcNow()), ct).ConfigureAwait(false);
        }

        var subject = c.Service ?? "Every service (change freeze)";
        var policy = c.Service is null ? null : access.PolicyOf(c.Service);
        var card = ReleaseCards.LineStopped(c.Service, subject, $"{actor.Mention}: {c.Reason}. No new release or promotion until someone unhalts it." +
            (affected.Count > 0 ? $" Stopped: {string.Join(", ", affected.Select(a => a.Id))}." : string.Empty), policy);
        var conversation = affected.FirstOrDefault()?.Conversation;
        if (conversation is not null)
        {
            await cards.PublishToAsync(conversation, $"halt:{scope}:{now.ToUnixTimeMilliseconds()}", card, null, ct).ConfigureAwait(false);
        }

        return CommandReply.Public($"⛔ {subject} halted by {actor.Mention}: {c.Reason}." + (affected.Count > 0 ? $" Stopped: {string.Join(", ", affected.Select(a => a.Id))}." : string.Empty), conversation is null ? card : null);
    }

    public async Task<CommandReply> UnhaltAsync(UnhaltCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        var scope = c.Service ?? ServiceHalt.Everything;
        if (c.Service is not null)
        {
            if (!access.Services.ContainsKey(c.Service))
            {
                throw new ReleaseRuleException($"Unknown service '{c.Service}'. Configured services: {string.Join(", ", access.Services.Keys)}. To lift a change freeze: `/ship unhalt all <reason>`.");
            }

            if (string.IsNullOrWhiteSpace(c.Reason))
            {
                throw new ReleaseRuleException($"An unhalt needs a reason: `/ship unhalt {c.Service} <why it is safe>`.");
            }

            access.Require(context, c.Service);
        }
        else if (!IsOnCallAnywhereOrAdmin(actor))
        {
            throw new ReleaseRuleException($"{actor.Mention} cannot lift a change freeze: that needs the on-call or admin role.");
        }

        RequestScope.ForgetHalts();
        var lifted = await store.RemoveHaltAsync(scope, ct).ConfigureAwait(false);
        if (lifted is null)
        {
            return CommandReply.Private($"Nothing changed: {(c.Service ?? "everything")} is not halted.");
        }

        var inScope = (await store.ListActiveAsync(ct).ConfigureAwait(false)).Where(r => c.Service is null || r.Id.Service == c.Service).ToList();
        foreach (var release in inScope.Where(r => r.State != ReleaseState.Halted))
        {
            // A bake that ended while the line was stopped promotes now (after a fresh health check).
            await timers.ReconcileAsync(release, ct).ConfigureAwait(false);
            if (release.IsPromotionDue(time.GetUtcNow()))
            {
                await scheduler.ScheduleAsync(release.Id, TimerKind.Promotion, time.GetUtcNow(), ct).ConfigureAwait(false);
            }

            await cards.PublishCardAsync(release, ct).ConfigureAwait(false);
        }

        var stillHalted = inScope.Where(r => r.State == ReleaseState.Halted).ToList();
        foreach (var release in stillHalted)
        {
            await store.AppendAuditAsync(release.Id, new AuditEntry(time.GetUtcNow(), actor.Id, "unhalt", $"{scope} unhalted: {c.Reason}"), ct).ConfigureAwait(false);
            await cards.PublishCardAsync(release, ct).ConfigureAwait(false);
        }

        var next = stillHalted.Count > 0
            ? $" Still halted, waiting for a human: {string.Join(", ", stillHalted.Select(r => $"{r.Id} at {r.Where}"))} — resume or roll back."
            : string.Empty;
        return CommandReply.Public($"✅ {(c.Service ?? "Change freeze")} unhalted by {actor.Mention}: {c.Reason} (was: {lifted.Reason}).{next}");
    }

    /// <summary>A freeze of every service (and lifting one) is for admins and anyone on call for some service.</summary>
    private bool IsOnCallAnywhereOrAdmin(Core.Settings.Actor actor) =>
        access.Policy.IsAdmin(actor) || access.Services.Keys.Any(s => access.Policy.Has(actor, s, Core.Settings.Role.OnCall));
}
