using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.AfterCare;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Freezes;
using ShipBot.Coordinator.Signals;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Cards;
using ShipBot.Core.Checklists;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Handlers.Approval;

/// <summary>
/// <c>/ship start</c> and <c>/ship hotfix</c> (and Flagger's confirm-rollout): a new release with its
/// contract and checklist, refused while the service is halted, frozen or busy; on-call is told, and
/// the readiness probes run as work.
/// </summary>
internal sealed class StartHandler(
    TransitionWriter writer,
    ReleaseLookup lookup,
    ReleaseAccess access,
    FreezeGate freezes,
    CardPublisher cards,
    SignalRelay signals,
    IDeploymentTarget deployment,
    IReleaseScheduler scheduler,
    IReleaseStore store,
    TimeProvider time)
{
    public Task<CommandReply> StartAsync(StartCommand c, CommandContext context, CancellationToken ct) =>
        StartAsync(context.Actor, context.Conversation, c.Service, c.Version, ReleaseKind.Standard, null, c.Changes, c.Flags, c.Notes, null, context.Row.Roles, ct, c.Provenance, c.Outcomes);

    public Task<CommandReply> HotfixAsync(HotfixCommand c, CommandContext context, CancellationToken ct) =>
        StartAsync(context.Actor, context.Conversation, c.Service, c.Version, c.Priority, c.Reason, [c.Reason], [], c.Notes, c.BypassFreeze, context.Row.Roles, ct);

    /// <param name="roles">The roles the actor needs; null for Flagger's confirm-rollout, which starts its canary's release (people approve it as usual).</param>
    public async Task<CommandReply> StartAsync(
        Actor actor, Conversation conversation, string service, string version, ReleaseKind kind, string? reason,
        IReadOnlyList<string> changes, IReadOnlyList<string> flags, string? notes, string? bypassFreeze, Role[]? roles, CancellationToken ct,
        ReleaseProvenance? provenance = null, IReadOnlyList<string>? outcomes = null)
    {
        var policy = access.PolicyOf(service);
        var verb = kind == ReleaseKind.Standard ? "start" : "hotfix";
        if (roles is not null)
        {
            access.Require(actor, service, verb, roles);
        }

        if (await lookup.HaltOfAsync(service, ct).ConfigureAwait(false) is { } halt)
        {
            return CommandReply.Private($"{service} is halted ({halt.Reason}, by @{halt.By}) — no new release until on-call unhalts it.") with { Refusal = RefusalKind.Rule };
        }

        var (frozen, bypass) = freezes.CheckStart(actor, service, kind, bypassFreeze);
        if (frozen is not null)
        {
            return CommandReply.Private(frozen);
        }

        var (requestedOutcomes, outcomeError) = OutcomeMeasurement.ResolveRequested(policy, outcomes);
        if (outcomeError is not null)
        {
            return CommandReply.Private(outcomeError) with { Refusal = RefusalKind.Rule };
        }

        policy.Outcomes.TryResolve(requestedOutcomes, out var measuredTargets, out _);

        var id = new ReleaseId(service, version);
        var now = time.GetUtcNow();

        // A hotfix's reason describes an incident; customers get their own words, or a neutral line.
        var contract = new ReleaseContract(
            changes,
            notes ?? (kind == ReleaseKind.Standard ? ContractDocument.DefaultNotes(id, changes) : ContractDocument.HotfixNotes(id)),
            $"ShipBot sets {id.Service}'s traffic back to the previous version through the '{deployment.NameFor(id.Service)}' deployment target and halts {id.Service}; on-call reviews and unhalts.",
            flags,
            [.. OutcomeTargets.For(policy.Thresholds).Select(t => t.Text), .. measuredTargets.Select(t => t.Describe())]);
        var change = Release.Create(id, kind, new Person(actor.Id, actor.DisplayName), conversation, policy, contract, reason, now);
        if (requestedOutcomes.Count > 0)
        {
            change = change with { Next = change.Next with { RequestedOutcomes = requestedOutcomes } };
        }

        if (provenance is { IsEmpty: false })
        {
            change = change with { Next = change.Next with { Provenance = provenance } };
        }

        var audit = writer.Audit(change, actor.Id, verb);
        if (bypass is not null)
        {
            change = change with { Next = change.Next with { FreezeBypass = bypass } };
            audit = [.. audit, new AuditEntry(now, actor.Id, "freeze bypass", $"change freeze '{bypass.Window}' (until {Core.Freezes.FreezeSchedule.FormatInstant(bypass.Until, null)}) bypassed for this hotfix: {bypass.Reason}")];
        }

        var created = await writer.CreateAsync(change, audit, ct).ConfigureAwait(false);
        switch (created.Outcome)
        {
            case CreateOutcome.ServiceBusy:
                var active = created.Existing is { } e ? await store.GetAsync(e, ct).ConfigureAwait(false) : null;
                return CommandReply.Private($"{service} already has an active release: {created.Existing} ({active?.Where ?? "active"}). One rollout per service — finish, roll back or abort it first.") with { Refusal = RefusalKind.Rule };
            case CreateOutcome.AlreadyExists:
                var existing = await store.GetAsync(id, ct).ConfigureAwait(false);
                return CommandReply.Private($"{id} already exists ({existing?.State.Display()}). Use a new version.") with { Refusal = RefusalKind.Rule };
        }

        var release = change.Next;
        if (kind != ReleaseKind.Standard)
        {
            // Opened first, so the card shows from its first post that the post-incident signal is owed.
            var incident = new Signal($"incident:{id}", SignalKind.Incident, id.ToString(), string.Empty, actor.Id, now, Open: true);
            await store.AddSignalAsync(incident, ct).ConfigureAwait(false);
            await signals.NotifyAsync(incident, ct).ConfigureAwait(false);
        }

        await cards.PublishCardAsync(release, ct).ConfigureAwait(false);

        // ShipBot notifies on-call itself and ticks that item; readiness probes run as work.
        if (ReleaseCards.Mention(policy) is { } mention)
        {
            await cards.PublishAsync(release, ReleaseCards.AlertKey(id, "oncall"), ReleaseCards.OnCallNotice(id, actor.Mention, mention, policy), ct).ConfigureAwait(false);
            await writer.MutateAsync(id, Actor.System, "notify on-call", r => r.TickBySystem(ChecklistCatalog.OnCallNotified, $"{mention} notified in #{conversation.Channel}", time.GetUtcNow()), ct).ConfigureAwait(false);
        }

        await scheduler.ScheduleAsync(id, TimerKind.Work, now, ct).ConfigureAwait(false);
        release = await store.GetAsync(id, ct).ConfigureAwait(false) ?? release;
        var blocking = string.Join(", ", release.BlockingItems.Select(i => i.Id));
        var notesHint = kind != ReleaseKind.Standard && notes is null
            ? $" Customer-facing notes: \"{release.Contract.ReleaseNotes}\" — to word them yourself, start it with `--notes <text>`."
            : string.Empty;
        return CommandReply.Private($"Started {id}. Settle the checklist ({blocking}) with the buttons or `/ship check {id} <item>…`, then an approver approves.{notesHint}") with { Release = id.ToString() };
    }
}
