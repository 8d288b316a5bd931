using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Cards;
using ShipBot.Core.Checklists;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator;

/// <summary>
/// Turns chat commands and timer events into release transitions through the ports. Every
/// transition is a compare-and-set on the release's version: on a conflict the command is applied
/// again to the fresh release, so two clicks at once make one change and the loser is told what
/// happened. Role checks happen here, never in an adapter. Slow work (deployment calls, smoke
/// checks, readiness probes) is handed to the scheduler as "work due now", so a command is
/// answered at once and a crash never loses the step.
/// </summary>
public sealed partial class ReleaseCoordinator
{
    private const int MaxAttempts = 16;
    private const string HealthEvaluation = "health evaluation";

    /// <summary>How long a request id stays claimed without an answer (a crash mid-request frees it after this).</summary>
    private static readonly TimeSpan ClaimTimeToLive = TimeSpan.FromSeconds(30);

    /// <summary>A release's work lease; renewed every third of it while the work runs.</summary>
    private static readonly TimeSpan WorkLease = TimeSpan.FromSeconds(15);

    /// <summary>Set once the current command has stored something, so a later store failure is not reported as "nothing was changed".</summary>
    private static readonly AsyncLocal<StrongBox<bool>?> _written = new();
    private readonly IReleaseStore _store;
    private readonly IIdempotencyStore _idempotency;
    private readonly IReleaseScheduler _scheduler;
    private readonly IDeploymentTarget _deployment;
    private readonly IHealthSource _health;
    private readonly IReadinessVerifier _readiness;
    private readonly IReadOnlyDictionary<string, IChatNotifier> _notifiers;
    private readonly IHealthSimulator? _simulator;
    private readonly AccessPolicy _access;
    private readonly CoordinatorSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<ReleaseCoordinator> _log;
    private readonly ILeaseStore _leases;
    private readonly IReadOnlyList<IReleaseObserver> _observers;

    /// <summary>This instance's lease owner id (one per process; replicas differ).</summary>
    private readonly string _instance = Guid.NewGuid().ToString("N");

    /// <summary>Releases whose timers this instance has armed; the sweep arms the others.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ReleaseId, byte> _armed = new();

    public ReleaseCoordinator(
        IReleaseStore store,
        IIdempotencyStore idempotency,
        IReleaseScheduler scheduler,
        IDeploymentTarget deployment,
        IHealthSource health,
        IReadinessVerifier readiness,
        IEnumerable<IChatNotifier> notifiers,
        AccessPolicy access,
        CoordinatorSettings settings,
        TimeProvider time,
        ILogger<ReleaseCoordinator> log,
        IHealthSimulator? simulator = null,
        ILeaseStore? leases = null,
        IEnumerable<IReleaseObserver>? observers = null)
    {
        _observers = observers?.ToList() ?? [];
        _leases = leases ?? new InMemory.InMemoryReleaseStore(time);
        _store = store;
        _idempotency = idempotency;
        _scheduler = scheduler;
        _deployment = deployment;
        _health = health;
        _readiness = readiness;
        _notifiers = notifiers.ToDictionary(n => n.Platform, StringComparer.OrdinalIgnoreCase);
        _access = access;
        _settings = settings;
        _time = time;
        _log = log;
        _simulator = simulator;
    }

    public AccessPolicy Access => _access;

    /// <summary>Publishes the sequential judge's evidence chart for the release card (optional: without it the card shows the numbers only).</summary>
    public IJudgeCharts? JudgeCharts { get; init; }

    // ================================================================ commands

    /// <summary>
    /// Handles one command. A repeated <see cref="InboundCommand.RequestId"/> gets the first answer
    /// and changes nothing. Never throws for bad input or refused rules: the reply says why.
    /// </summary>
    public async Task<CommandReply> HandleAsync(InboundCommand inbound, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inbound);
        using var span = ReleaseTelemetry.StartInbound(inbound.Conversation.Platform, inbound.Text);
        _written.Value = new StrongBox<bool>(false);
        try
        {
            // Scoped to the sender: someone else's request id is a different request.
            var requestKey = string.IsNullOrEmpty(inbound.RequestId) ? null : ScopedRequestId(inbound);
            if (requestKey is not null
                && await FirstAnswerAsync(requestKey, cancellationToken).ConfigureAwait(false) is { } first)
            {
                return first;
            }

            var parsed = inbound.Command is { } command ? ParseResult.Ok(command) : CommandParser.Parse(inbound.Text);
            span.TagCommand(parsed.Command);
            CommandReply reply;
            if (!parsed.Success)
            {
                reply = CommandReply.Private($"{parsed.Error} Usage: `{parsed.Usage}` — `/ship help` lists every verb.") with { Refusal = RefusalKind.Rule };
            }
            else if (inbound.Basis is not null && !ClickBasis.TryParse(inbound.Basis, out _))
            {
                reply = CommandReply.Private("This button comes from a card ShipBot cannot read any more. Nothing was changed — use the updated card.");
            }
            else
            {
                ClickBasis.TryParse(inbound.Basis, out var basis);
                try
                {
                    reply = await ClickGuard.StaleReplyAsync(parsed.Command!, basis, n => ResolveAsync(n, cancellationToken)).ConfigureAwait(false) is { } stale
                        ? await StaleAsync(parsed.Command!, inbound.Actor, stale, cancellationToken).ConfigureAwait(false)
                        : await DispatchAsync(parsed.Command!, inbound, basis, cancellationToken).ConfigureAwait(false);
                }
                catch (ReleaseRuleException ex)
                {
                    reply = CommandReply.Private(ex.Message) with { Refusal = ex.Kind };
                    await AuditRefusalAsync(parsed.Command!, inbound.Actor, ex.Message, cancellationToken).ConfigureAwait(false);
                }
            }

            if (requestKey is not null)
            {
                // A click's answer serves a double click, then is forgotten: a later click on the same button is judged
                // against its basis again (it says what changed), and a refused button works once the reason is gone.
                var keep = inbound.IsClick ? _settings.DoubleClickWindow : _settings.IdempotencyWindow;
                await _idempotency.SetAsync(requestKey, JsonSerializer.Serialize(Identity.ApiTokenService.ForReplay(reply), ShipBotJson.Options), keep, cancellationToken).ConfigureAwait(false);
            }

            return reply;
        }
        catch (StoreUnavailableException ex)
        {
            LogStoreUnavailable(ex.Message);
            return (_written.Value?.Value == true
                ? CommandReply.Private("State store unavailable part-way: some of this was saved — check `/ship status` before trying again.")
                : CommandReply.Private("State store unavailable — nothing was changed, try again.")) with { Refusal = RefusalKind.Unavailable };
        }
    }

    /// <summary>
    /// The first answer to a repeated request id, or null when this call is the first and now owns
    /// the id. A duplicate that arrives while the first is still being handled waits briefly for its answer.
    /// </summary>
    private async Task<CommandReply?> FirstAnswerAsync(string requestId, CancellationToken ct)
    {
        // Claim first: the common case (a new id) costs one round trip; only a duplicate reads the answer.
        if (await _idempotency.TryClaimAsync(requestId, ClaimTimeToLive, ct).ConfigureAwait(false))
        {
            return null;
        }

        for (var i = 0; i < 20; i++)
        {
            if (await _idempotency.GetAsync(requestId, ct).ConfigureAwait(false) is { } answered)
            {
                return JsonSerializer.Deserialize<CommandReply>(answered, ShipBotJson.Options) ?? CommandReply.Private("Already handled.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
        }

        return CommandReply.Private("This request is already being handled; its result will show on the release card.");
    }

    private static string ScopedRequestId(InboundCommand inbound) => $"{inbound.Conversation.Platform}:{inbound.Actor.Id}:{inbound.RequestId}";

    /// <summary>A click on an out-of-date card: nothing changes; the release's audit trail records it.</summary>
    private async Task<CommandReply> StaleAsync(ShipCommand command, Actor actor, string reason, CancellationToken ct)
    {
        if (command is IReleaseCommand { Release: var name } && ReleaseId.TryParse(name, out var id)
            && await _store.GetAsync(id.Value, ct).ConfigureAwait(false) is not null)
        {
            await _store.AppendAuditAsync(id.Value, new AuditEntry(_time.GetUtcNow(), actor.Id, $"stale click: {command.Verb}", reason), ct).ConfigureAwait(false);
        }

        return CommandReply.Private(reason);
    }

    private async Task AuditRefusalAsync(ShipCommand command, Actor actor, string message, CancellationToken ct)
    {
        if (command is IReleaseCommand { Release: var name } && ReleaseId.TryParse(name, out var id)
            && await _store.GetAsync(id.Value, ct).ConfigureAwait(false) is not null)
        {
            await _store.AppendAuditAsync(id.Value, new AuditEntry(_time.GetUtcNow(), actor.Id, $"refused {command.Verb}", message), ct).ConfigureAwait(false);
        }
    }

    private Task<CommandReply> DispatchAsync(ShipCommand command, InboundCommand inbound, ClickBasis? basis, CancellationToken ct)
    {
        var actor = inbound.Actor;
        return command switch
        {
            StartCommand c => StartAsync(actor, inbound.Conversation, c.Service, c.Version, ReleaseKind.Standard, null, c.Changes, c.Flags, c.Notes, null, ct, c.Provenance, c.Outcomes),
            HotfixCommand c => StartAsync(actor, inbound.Conversation, c.Service, c.Version, c.Priority, c.Reason, [c.Reason], [], c.Notes, c.BypassFreeze, ct),
            ListCommand => ListAsync(ct),
            StatusCommand c => StatusAsync(c, ct),
            ApproveCommand c => ApproveAsync(c.Release, actor, basis, ct),
            RejectCommand c => OnReleaseAsync(c.Release, actor, "reject", [Role.Approver], basis, (r, p, now) => r.Reject(p, c.Reason, now), ct),
            CheckCommand c => CheckAsync(c, actor, basis, ct),
            WaiveCommand c => WaiveAsync(c, actor, basis, ct),
            PromoteCommand c => PromoteNowAsync(c, actor, basis, ct),
            PauseCommand c => OnReleaseAsync(c.Release, actor, "pause", [Role.Requester, Role.Approver, Role.OnCall], basis, (r, p, now) => r.Pause(p, now), ct),
            ResumeCommand c => ResumeAsync(c.Release, actor, basis, ct),
            RollbackCommand c => RollbackAsync(c, actor, basis, ct),
            AbortCommand c => OnReleaseAsync(c.Release, actor, "abort", [Role.Requester, Role.Approver], basis, (r, p, now) => r.Abort(p, c.Reason, now), ct),

            // Admins may answer a consult in an emergency.
            DecideCommand c => OnReleaseAsync(c.Release, actor, "decide", [Role.OnCall, Role.Admin], basis, (r, p, now) => r.Decide(p, c.Choice, now, c.DecisionId), ct),
            FlagRemovedCommand c => FlagRemovedAsync(c, actor, basis, ct),
            HaltCommand c => HaltAsync(c, actor, ct),
            UnhaltCommand c => UnhaltAsync(c, actor, ct),
            ContractCommand c => ContractAsync(c.Release, ct),
            NotesCommand c => NotesAsync(c.Release, ct),
            OutcomeCommand c => OutcomeAsync(c.Release, ct),
            SignalCommand c => SignalAsync(c, actor, ct),
            SignalsCommand => SignalsAsync(ct),
            FreezesCommand c => FreezesAsync(c),
            StatsCommand c => StatsAsync(c, ct),
            SimulateCommand c => Task.FromResult(Simulate(c, actor)),
            TokenCommand c => TokensAsync(c, actor, ct),
            HelpCommand c => Task.FromResult(Help(c.Topic)),
            _ => Task.FromResult(CommandReply.Private("That command is not supported here.")),
        };
    }

    private async Task<CommandReply> StartAsync(
        Actor actor, Conversation conversation, string service, string version, ReleaseKind kind, string? reason,
        IReadOnlyList<string> changes, IReadOnlyList<string> flags, string? notes, string? bypassFreeze, CancellationToken ct, ReleaseProvenance? provenance = null, IReadOnlyList<string>? outcomes = null)
    {
        var policy = PolicyOf(service);
        var verb = kind == ReleaseKind.Standard ? "start" : "hotfix";
        if (!ReferenceEquals(actor, FlaggerPrincipal))
        {
            // Flagger's confirm-rollout starts its canary's release; people approve it as usual.
            Require(actor, service, verb, kind == ReleaseKind.Standard ? [Role.Requester] : [Role.Requester, Role.OnCall]);
        }

        if (await HaltOfAsync(service, ct).ConfigureAwait(false) is { } halt)
        {
            return CommandReply.Private($"{service} is halted ({halt.Reason}, by @{halt.By}) — no new release until on-call unhalts it.") with { Refusal = RefusalKind.Rule };
        }

        var (frozen, bypass) = CheckStartFreeze(actor, service, kind, bypassFreeze);
        if (frozen is not null)
        {
            return CommandReply.Private(frozen);
        }

        var (requestedOutcomes, outcomeError) = ResolveRequestedOutcomes(policy, outcomes);
        if (outcomeError is not null)
        {
            return CommandReply.Private(outcomeError) with { Refusal = RefusalKind.Rule };
        }

        policy.Outcomes.TryResolve(requestedOutcomes, out var measuredTargets, out _);

        var id = new ReleaseId(service, version);
        var now = _time.GetUtcNow();
        // A hotfix's reason describes an incident; customers get their own words, or a neutral line.
        var contract = new ReleaseContract(
            changes,
            notes ?? (kind == ReleaseKind.Standard ? ContractDocument.DefaultNotes(id, changes) : ContractDocument.HotfixNotes(id)),
            $"ShipBot sets {id.Service}'s traffic back to the previous version through the '{_deployment.NameFor(id.Service)}' deployment target and halts {id.Service}; on-call reviews and unhalts.",
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

        var audit = Audit(change, actor.Id, verb);
        if (bypass is not null)
        {
            change = change with { Next = change.Next with { FreezeBypass = bypass } };
            audit = [.. audit, new AuditEntry(now, actor.Id, "freeze bypass", $"change freeze '{bypass.Window}' (until {Core.Freezes.FreezeSchedule.FormatInstant(bypass.Until, null)}) bypassed for this hotfix: {bypass.Reason}")];
        }

        var created = await _store.TryCreateAsync(change.Next, audit, ct).ConfigureAwait(false);
        switch (created.Outcome)
        {
            case CreateOutcome.ServiceBusy:
                var active = created.Existing is { } e ? await _store.GetAsync(e, ct).ConfigureAwait(false) : null;
                return CommandReply.Private($"{service} already has an active release: {created.Existing} ({active?.Where ?? "active"}). One rollout per service — finish, roll back or abort it first.") with { Refusal = RefusalKind.Rule };
            case CreateOutcome.AlreadyExists:
                var existing = await _store.GetAsync(id, ct).ConfigureAwait(false);
                return CommandReply.Private($"{id} already exists ({existing?.State.Display()}). Use a new version.") with { Refusal = RefusalKind.Rule };
        }

        _written.Value?.Value = true;
        ReleaseTelemetry.RecordTransition(change);
        var release = change.Next;
        if (kind != ReleaseKind.Standard)
        {
            // Opened first, so the card shows from its first post that the post-incident signal is owed.
            var incident = new Signal($"incident:{id}", SignalKind.Incident, id.ToString(), string.Empty, actor.Id, now, Open: true);
            await _store.AddSignalAsync(incident, ct).ConfigureAwait(false);
            await NotifySignalObserversAsync(incident, ct).ConfigureAwait(false);
        }

        await PublishCardAsync(release, ct).ConfigureAwait(false);

        // ShipBot notifies on-call itself and ticks that item; readiness probes run as work.
        if (ReleaseCards.Mention(policy) is { } mention)
        {
            var notice = new Card($"📣 {mention}: {id} is starting", null, CardTone.Info,
                [new TextBlock($"{actor.Mention} started {id}. You are on call for its rollout; breach and rollback alerts will mention you here.")],
                policy.OnCall, $"{mention}: {id} is starting");
            await PublishAsync(release, ReleaseCards.AlertKey(id, "oncall"), notice, ct).ConfigureAwait(false);
            await MutateAsync(id, Actor.System, "notify on-call", r => r.TickBySystem(ChecklistCatalog.OnCallNotified, $"{mention} notified in #{conversation.Channel}", _time.GetUtcNow()), ct).ConfigureAwait(false);
        }

        await _scheduler.ScheduleAsync(id, TimerKind.Work, now, ct).ConfigureAwait(false);
        release = await _store.GetAsync(id, ct).ConfigureAwait(false) ?? release;
        var blocking = string.Join(", ", release.BlockingItems.Select(i => i.Id));
        var notesHint = kind != ReleaseKind.Standard && notes is null
            ? $" Customer-facing notes: \"{release.Contract.ReleaseNotes}\" — to word them yourself, start it with `--notes <text>`."
            : string.Empty;
        return CommandReply.Private($"Started {id}. Settle the checklist ({blocking}) with the buttons or `/ship check {id} <item>…`, then an approver approves.{notesHint}") with { Release = id.ToString() };
    }

    private async Task<CommandReply> CheckAsync(CheckCommand c, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(c.Release, ct).ConfigureAwait(false);
        var isRequester = string.Equals(release.Requester.Id, actor.Id, StringComparison.OrdinalIgnoreCase);
        if (!isRequester)
        {
            Require(actor, release.Id.Service, "tick checklist items", [Role.Requester, Role.Approver]);
        }

        var change = await MutateAsync(release.Id, actor, "check", ClickGuard.Wrap(basis, r => r.Confirm(PersonOf(actor), c.Items, _time.GetUtcNow(), c.Evidence)), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> WaiveAsync(WaiveCommand c, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (IsRequester(release, actor))
        {
            // Said before the role check: a requester who is also an approver still may not waive on their own release.
            throw new ReleaseRuleException($"{actor.Mention} requested {release.Id} and cannot waive its checklist items (separation of duties): another approver must.") { Kind = RefusalKind.Forbidden };
        }

        Require(actor, release.Id.Service, "waive", [Role.Approver]);
        var change = await MutateAsync(release.Id, actor, "waive", ClickGuard.Wrap(basis, r => r.Waive(PersonOf(actor), c.Item, c.Reason, _time.GetUtcNow())), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    /// <summary>
    /// A rollback acts on the service's active release only: rolling back an older one while a newer
    /// one rolls out would tell the deployment target something ShipBot's own state contradicts.
    /// Admins may roll back in an emergency.
    /// </summary>
    private async Task<CommandReply> RollbackAsync(RollbackCommand c, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(c.Release, ct).ConfigureAwait(false);
        Require(actor, release.Id.Service, "roll back", [Role.Requester, Role.Approver, Role.OnCall, Role.Admin]);
        var active = await ActiveReleaseOfAsync(release.Id.Service, ct).ConfigureAwait(false);
        if (active is not null && active.Id != release.Id && !release.State.IsTerminal() && release.State != ReleaseState.RollingBack)
        {
            throw new ReleaseRuleException(
                $"Cannot roll back {release.Id}: it is not {release.Id.Service}'s active release — {active.Id} is ({ReleaseSituation.Describe(active)}). " +
                $"Roll back {active.Id} (or abort it, before production traffic) first.");
        }

        var change = await MutateAsync(release.Id, actor, "roll back", ClickGuard.Wrap(basis, r => r.BeginRollback(c.Reason, PersonOf(actor).Name, [], _time.GetUtcNow())), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> ApproveAsync(string name, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(name, ct).ConfigureAwait(false);
        if (string.Equals(release.Requester.Id, actor.Id, StringComparison.OrdinalIgnoreCase))
        {
            // Said before the role check: even a requester who is also an approver may not approve their own release.
            throw new ReleaseRuleException($"{actor.Mention} requested {release.Id} and cannot approve it (separation of duties).") { Kind = RefusalKind.Forbidden };
        }

        Require(actor, release.Id.Service, "approve", [Role.Approver]);
        var change = await MutateAsync(release.Id, actor, "approve", ClickGuard.Wrap(basis, r => r.Approve(PersonOf(actor), _time.GetUtcNow())), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> PromoteNowAsync(PromoteCommand c, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (IsRequester(release, actor))
        {
            var what = release.AwaitingPromotionApproval ? "approve a stage of it" : "promote it early";
            throw new ReleaseRuleException($"{actor.Mention} requested {release.Id} and cannot {what} (separation of duties): another approver must.") { Kind = RefusalKind.Forbidden };
        }

        Require(actor, release.Id.Service, "promote", [Role.Approver]);
        if (await HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false) is { } halt)
        {
            return CommandReply.Private($"Cannot promote {release.Id}: {release.Id.Service} is halted ({halt.Reason}).") with { Refusal = RefusalKind.Rule };
        }

        if (FreezeHolding(release) is { } freeze)
        {
            return CommandReply.Private($"Cannot promote {release.Id} now: {freeze.Explain()} It holds at {release.Where} and moves on by itself after the freeze; rolling back is never blocked.");
        }

        // A judged stage keeps the judge's last verdict: a fresh look a moment after the last one would see no new canary traffic, "no data".
        var verdict = release.StageIndex < 0 || release.State == ReleaseState.Staging ? null
            : release.JudgesCurrentStage(release.Judge) && release.LastHealth is { } judged ? judged
            : (await EvaluateAsync(release, ct).ConfigureAwait(false)).Verdict;
        var baseline = release.State == ReleaseState.Staging ? await CaptureBaselineAsync(release, ct).ConfigureAwait(false) : null;
        var change = await MutateAsync(release.Id, actor, "promote", ClickGuard.Wrap(basis, r => r.Promote(_time.GetUtcNow(), verdict, PersonOf(actor), baseline, c.Reason)), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> ResumeAsync(string name, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(name, ct).ConfigureAwait(false);
        Require(actor, release.Id.Service, "resume", [Role.Requester, Role.Approver, Role.OnCall]);
        var halted = await HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false) is not null;
        var change = await MutateAsync(release.Id, release, actor, "resume", ClickGuard.Wrap(basis, r => r.Resume(PersonOf(actor), halted, _time.GetUtcNow())), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> FlagRemovedAsync(FlagRemovedCommand c, Actor actor, ClickBasis? basis, CancellationToken ct)
    {
        var release = await ResolveAsync(c.Release, ct).ConfigureAwait(false);
        Require(actor, release.Id.Service, "mark flags removed", [Role.Requester, Role.Approver]);
        var policy = PolicyOf(release.Id.Service);
        var openSignal = await HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
        var change = await MutateAsync(release.Id, actor, "flag-removed",
            ClickGuard.Wrap(basis, r => r.MarkFlagRemoved(PersonOf(actor), c.Flag, r.Outcomes.Count >= policy.OutcomeCheckpoints.Count && !openSignal, _time.GetUtcNow())), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> OnReleaseAsync(
        string name, Actor actor, string verb, Role[] roles, ClickBasis? basis, Func<Release, Person, DateTimeOffset, ReleaseChange> apply, CancellationToken ct)
    {
        var release = await ResolveAsync(name, ct).ConfigureAwait(false);
        Require(actor, release.Id.Service, verb, roles);
        var change = await MutateAsync(release.Id, release, actor, verb, ClickGuard.Wrap(basis, r => apply(r, PersonOf(actor), _time.GetUtcNow())), ct).ConfigureAwait(false);
        return Outcome(change);
    }

    private async Task<CommandReply> HaltAsync(HaltCommand c, Actor actor, CancellationToken ct)
    {
        var scope = c.Service ?? ServiceHalt.Everything;
        if (c.Service is not null)
        {
            // Said before any role check, and never turned into a freeze of everything.
            if (!_access.Services.ContainsKey(c.Service))
            {
                throw new ReleaseRuleException(
                    $"Unknown service '{c.Service}'. Configured services: {string.Join(", ", _access.Services.Keys)}. To freeze every service: `/ship halt all <reason>`.");
            }

            if (string.IsNullOrWhiteSpace(c.Reason))
            {
                throw new ReleaseRuleException($"A halt needs a reason: `/ship halt {c.Service} <reason>`.");
            }

            Require(actor, c.Service, "halt", [Role.OnCall, Role.Admin]);
        }
        else if (!_access.IsAdmin(actor) && !_access.Services.Keys.Any(s => _access.Has(actor, s, Role.OnCall)))
        {
            throw new ReleaseRuleException($"{actor.Mention} cannot freeze every release: that needs the on-call or admin role.");
        }

        var now = _time.GetUtcNow();
        var halt = new ServiceHalt(scope, c.Reason, actor.Id, now);
        if (!await _store.TrySetHaltAsync(halt, ct).ConfigureAwait(false))
        {
            var existing = (await _store.GetHaltsAsync(ct).ConfigureAwait(false)).FirstOrDefault(h => h.Service == scope);
            return CommandReply.Private($"Nothing changed: {(c.Service ?? "everything")} is already halted ({existing?.Reason}, by @{existing?.By}).");
        }

        var affected = (await _store.ListActiveAsync(ct).ConfigureAwait(false))
            .Where(r => (c.Service is null || r.Id.Service == c.Service) && r.State is ReleaseState.Staging or ReleaseState.Canary or ReleaseState.EarlyAdopters
                or ReleaseState.GeneralAvailability or ReleaseState.Full or ReleaseState.Validating or ReleaseState.Paused)
            .ToList();
        foreach (var release in affected)
        {
            await MutateAsync(release.Id, actor, "halt", r => r.Halt(c.Reason, actor.Id, _time.GetUtcNow()), ct).ConfigureAwait(false);
        }

        var subject = c.Service ?? "Every service (change freeze)";
        var policy = c.Service is null ? null : PolicyOf(c.Service);
        var card = ReleaseCards.HaltAlert(subject, $"{actor.Mention}: {c.Reason}. No new release or promotion until someone unhalts it." +
            (affected.Count > 0 ? $" Stopped: {string.Join(", ", affected.Select(a => a.Id))}." : string.Empty), policy,
            [new CardAction("unhalt", "Unhalt…", $"unhalt {c.Service ?? "all"}", ActionStyle.Default, "Lift the halt?", "Why is it safe to unhalt?")]);
        var conversation = affected.FirstOrDefault()?.Conversation;
        if (conversation is not null)
        {
            await PublishToAsync(conversation, $"halt:{scope}:{now.ToUnixTimeMilliseconds()}", card, null, ct).ConfigureAwait(false);
        }

        return CommandReply.Public($"⛔ {subject} halted by {actor.Mention}: {c.Reason}." + (affected.Count > 0 ? $" Stopped: {string.Join(", ", affected.Select(a => a.Id))}." : string.Empty), conversation is null ? card : null);
    }

    private async Task<CommandReply> UnhaltAsync(UnhaltCommand c, Actor actor, CancellationToken ct)
    {
        var scope = c.Service ?? ServiceHalt.Everything;
        if (c.Service is not null)
        {
            if (!_access.Services.ContainsKey(c.Service))
            {
                throw new ReleaseRuleException($"Unknown service '{c.Service}'. Configured services: {string.Join(", ", _access.Services.Keys)}. To lift a change freeze: `/ship unhalt all <reason>`.");
            }

            if (string.IsNullOrWhiteSpace(c.Reason))
            {
                throw new ReleaseRuleException($"An unhalt needs a reason: `/ship unhalt {c.Service} <why it is safe>`.");
            }

            Require(actor, c.Service, "unhalt", [Role.OnCall, Role.Admin]);
        }
        else if (!_access.IsAdmin(actor) && !_access.Services.Keys.Any(s => _access.Has(actor, s, Role.OnCall)))
        {
            throw new ReleaseRuleException($"{actor.Mention} cannot lift a change freeze: that needs the on-call or admin role.");
        }

        var lifted = await _store.RemoveHaltAsync(scope, ct).ConfigureAwait(false);
        if (lifted is null)
        {
            return CommandReply.Private($"Nothing changed: {(c.Service ?? "everything")} is not halted.");
        }

        var inScope = (await _store.ListActiveAsync(ct).ConfigureAwait(false)).Where(r => c.Service is null || r.Id.Service == c.Service).ToList();
        foreach (var release in inScope.Where(r => r.State != ReleaseState.Halted))
        {
            // A bake that ended while the line was stopped promotes now (after a fresh health check).
            await ReconcileTimersAsync(release, ct).ConfigureAwait(false);
            if (release.IsPromotionDue(_time.GetUtcNow()))
            {
                await _scheduler.ScheduleAsync(release.Id, TimerKind.Promotion, _time.GetUtcNow(), ct).ConfigureAwait(false);
            }

            await PublishCardAsync(release, ct).ConfigureAwait(false);
        }

        var stillHalted = inScope.Where(r => r.State == ReleaseState.Halted).ToList();
        foreach (var release in stillHalted)
        {
            await _store.AppendAuditAsync(release.Id, new AuditEntry(_time.GetUtcNow(), actor.Id, "unhalt", $"{scope} unhalted: {c.Reason}"), ct).ConfigureAwait(false);
            await PublishCardAsync(release, ct).ConfigureAwait(false);
        }

        var next = stillHalted.Count > 0
            ? $" Still halted, waiting for a human: {string.Join(", ", stillHalted.Select(r => $"{r.Id} at {r.Where}"))} — resume or roll back."
            : string.Empty;
        return CommandReply.Public($"✅ {(c.Service ?? "Change freeze")} unhalted by {actor.Mention}: {c.Reason} (was: {lifted.Reason}).{next}");
    }

    private async Task<CommandReply> ListAsync(CancellationToken ct)
    {
        var releases = await _store.ListActiveAsync(ct).ConfigureAwait(false);
        var halts = await _store.GetHaltsAsync(ct).ConfigureAwait(false);
        var card = ReleaseCards.List(releases, halts, _time.GetUtcNow());
        return CommandReply.Public(card.Fallback, card);
    }

    private async Task<CommandReply> StatusAsync(StatusCommand c, CancellationToken ct)
    {
        if (c.Release is null)
        {
            return await ListAsync(ct).ConfigureAwait(false);
        }

        var release = await ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (c.Audit)
        {
            var audit = await _store.GetAuditAsync(release.Id, ct).ConfigureAwait(false);
            var auditCard = ReleaseCards.Audit(release, audit);
            return CommandReply.Public(auditCard.Fallback, auditCard);
        }

        var card = ReleaseCards.Release(release, await HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false), _time.GetUtcNow(), await CardContextAsync(release, ct).ConfigureAwait(false));
        return CommandReply.Public(card.Fallback, card);
    }

    private async Task<CommandReply> ContractAsync(string name, CancellationToken ct)
    {
        var release = await ResolveAsync(name, ct).ConfigureAwait(false);
        var markdown = ContractDocument.Markdown(release, PolicyOf(release.Id.Service));
        return CommandReply.Public($"📄 {ContractDocument.FileName(release)}\n\n{markdown}");
    }

    private async Task<CommandReply> NotesAsync(string name, CancellationToken ct)
    {
        var release = await ResolveAsync(name, ct).ConfigureAwait(false);
        return CommandReply.Public($"📝 Release notes for {release.Id}: {release.Contract.ReleaseNotes}");
    }

    private async Task<CommandReply> OutcomeAsync(string name, CancellationToken ct)
    {
        var release = await ResolveAsync(name, ct).ConfigureAwait(false);
        if (release.Outcomes.Count == 0)
        {
            var policy = PolicyOf(release.Id.Service);
            var when = release.OperatingSince is { } since ? $" The first checkpoint is at {ReleaseCards.Clock(since + policy.OutcomeCheckpoints[0])}." : " Checkpoints start after handoff to operations.";
            return CommandReply.Private($"No outcome report for {release.Id} yet.{when}");
        }

        var last = release.Outcomes[^1];
        return CommandReply.Public($"📈 Outcome report #{last.Checkpoint} for {release.Id} ({ReleaseCards.Clock(last.At)}):\n{string.Join("\n", last.Lines.Select(l => "• " + l))}");
    }

    private async Task<CommandReply> SignalAsync(SignalCommand c, Actor actor, CancellationToken ct)
    {
        ReleaseId? releaseId = null;
        if (c.Release is not null)
        {
            releaseId = (await ResolveAsync(c.Release, ct).ConfigureAwait(false)).Id;
        }

        var now = _time.GetUtcNow();
        var signals = await _store.ListSignalsAsync(ct).ConfigureAwait(false);
        var open = signals.FirstOrDefault(s => s.Open && s.Kind == c.Kind && releaseId is not null && s.Release == releaseId.ToString());
        var signal = open is not null
            ? open with { Text = c.Text, By = actor.Id, At = now, Open = false }
            : new Signal($"{c.Kind.ToString().ToLowerInvariant()}:{now.ToUnixTimeMilliseconds()}:{actor.Id}", c.Kind, releaseId?.ToString(), c.Text, actor.Id, now);
        if (open is not null)
        {
            await _store.UpdateSignalAsync(signal, ct).ConfigureAwait(false);
        }
        else
        {
            await _store.AddSignalAsync(signal, ct).ConfigureAwait(false);
        }

        await NotifySignalObserversAsync(signal, ct).ConfigureAwait(false);

        if (releaseId is { } rid)
        {
            await _store.AppendAuditAsync(rid, new AuditEntry(now, actor.Id, "signal", $"{c.Kind}: {c.Text}"), ct).ConfigureAwait(false);
            if (open is not null)
            {
                await CompleteIfDoneAsync(rid, ct).ConfigureAwait(false);
            }
        }

        return CommandReply.Public($"📡 {c.Kind} signal recorded by {actor.Mention}{(releaseId is null ? string.Empty : $" for {releaseId}")}: {c.Text}");
    }

    private async Task<CommandReply> SignalsAsync(CancellationToken ct)
    {
        var signals = await _store.ListSignalsAsync(ct).ConfigureAwait(false);
        var open = signals.Where(s => s.Open).ToList();
        var recent = signals.Where(s => !s.Open).OrderByDescending(s => s.At).Take(10).ToList();
        var text = new StringBuilder();
        text.Append(open.Count == 0 ? "📡 No open signals." : $"📡 Open signals ({open.Count}):");
        foreach (var signal in open)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n• {signal.Kind.ToString().ToLowerInvariant()} for {signal.Release ?? "no release"}, opened {ReleaseCards.Clock(signal.At)} — fill it in: `/ship signal {signal.Kind.ToString().ToLowerInvariant()} {signal.Release} <what happened>`");
        }

        if (recent.Count > 0)
        {
            text.Append("\nLatest recorded:");
            foreach (var signal in recent)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n• {ReleaseCards.Clock(signal.At)} {signal.Kind.ToString().ToLowerInvariant()}{(signal.Release is null ? string.Empty : $" ({signal.Release})")} by @{signal.By}: {signal.Text}");
            }
        }

        return CommandReply.Public(text.ToString());
    }

    private CommandReply Simulate(SimulateCommand c, Actor actor)
    {
        if (_simulator is null)
        {
            return CommandReply.Private("simulate is available only when the simulated health source is configured (ShipBot:Health:Source = Simulated).");
        }

        PolicyOf(c.Service);
        if (c.Value is null)
        {
            _simulator.Reset(c.Service);
            return CommandReply.Public($"🧪 {actor.Mention} reset the simulated metrics of {c.Service}.");
        }

        if (c.Metric.StartsWith("outcome:", StringComparison.Ordinal))
        {
            // The simulated value of an outcome target, read as it is (before the rollout it is the baseline).
            _simulator.Set(c.Service, c.Metric, c.Value.Value);
            return CommandReply.Public($"🧪 {actor.Mention} set the simulated outcome '{c.Metric["outcome:".Length..]}' of {c.Service} to {Core.Outcomes.OutcomeTarget.Number(c.Value.Value)}.");
        }

        if (!_simulator.KnownMetrics.Contains(c.Metric))
        {
            return CommandReply.Private($"Unknown metric '{c.Metric}'. Known: {string.Join(", ", _simulator.KnownMetrics)}.");
        }

        _simulator.Set(c.Service, c.Metric, c.Value.Value);
        return CommandReply.Public($"🧪 {actor.Mention} set simulated {Metrics.Label(c.Metric)} of {c.Service} to {Metrics.Format(c.Metric, c.Value.Value)}.");
    }

    private CommandReply Help(string? topic)
    {
        if (topic is not null)
        {
            var verb = topic.TrimStart('/');
            verb = verb is "ls" ? "list" : verb is "roll-back" ? "rollback" : verb is "?" ? "help" : verb;
            if (CommandParser.Verbs.FirstOrDefault(v => v.Verb == verb) is not { Verb: not null } v)
            {
                return CommandReply.Private($"I don't know the verb '{(topic.Length <= 40 ? topic : topic[..40] + "…")}'. Verbs: {string.Join(", ", CommandParser.Verbs.Select(x => x.Verb))}. `/ship help` shows them all.");
            }

            return CommandReply.Private($"`/ship {v.Usage}` — {v.What}.{HelpDetail(v.Verb)}");
        }

        var text = new StringBuilder("ShipBot — governed, progressive releases from chat. A release is named service@version.\n");
        foreach (var verb in CommandParser.Verbs.Where(x => x.Verb != "simulate" || _simulator is not null))
        {
            text.Append("• `/ship ").Append(verb.Usage).Append("` — ").Append(verb.What).Append('\n');
        }

        text.Append("Services: ").Append(string.Join(", ", _access.Services.Keys)).Append(". `/ship help <verb>` explains one verb.");
        return CommandReply.Private(text.ToString());
    }

    /// <summary>What one verb's arguments can be, for <c>help &lt;verb&gt;</c>.</summary>
    private string HelpDetail(string verb)
    {
        var services = string.Join(", ", _access.Services.Keys);
        var items = ChecklistCatalog.For(ReleaseKind.Standard).Where(i => i.SettledBy == ItemSettledBy.Human).ToList();
        return verb switch
        {
            "check" => $"\nItems: {string.Join(", ", items.Where(i => i.Id != ChecklistCatalog.UserFacingVerified).Select(i => $"`{i.Id}` ({i.Label})"))}; " +
                $"`{ChecklistCatalog.UserFacingVerified}` ({ChecklistCatalog.UserFacingVerification.Label}) during validation. ShipBot ticks `{ChecklistCatalog.Approved}` and `{ChecklistCatalog.OnCallNotified}` itself.",
            "waive" => $"\nWaivable by an approver who is not the requester, with a reason. Never waivable: {string.Join(", ", ChecklistCatalog.FloorIds.Order(StringComparer.Ordinal).Select(i => $"`{i}`"))} (the production floor); on a hotfix also its security items.",
            "halt" => $"\n`/ship halt <service> <reason>` stops one service's releases and promotions; `/ship halt all <reason>` is a change freeze of every service. Services: {services}.",
            "unhalt" => $"\n`/ship unhalt <service> <reason>` or `/ship unhalt all <reason>`. Services: {services}.",
            "start" or "hotfix" or "simulate" => $"\nServices: {services}.",
            "decide" => "\nRoll back now; hold here (no promotion and no automatic rollback for that breach until on-call continues or rolls back); continue (promote past it). The buttons on a decision card name their decision.",
            "promote" => "\nAn approver who is not the requester; the early promotion and its reason are recorded.",
            _ => string.Empty,
        };
    }

    // ================================================================ timers

    /// <summary>
    /// Runs one timer. Safe to call twice or on two replicas: it re-reads the release and does only
    /// what is still due, and every change is a compare-and-set.
    /// </summary>
    /// <summary>
    /// A pushed alert (Alertmanager) about a service: if the service has a release with production
    /// traffic, the alert is judged like a failed health check at once, without waiting for a poll:
    /// it rolls the release back (or consults on-call when the service sets <c>alert</c> to Consult).
    /// One firing acts once per release, however often it is delivered; a firing that finds no
    /// rollout yet is not used up, so a repeat acts once the release reaches production.
    /// </summary>
    public async Task<AlertResult> OnAlertAsync(ExternalAlert alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        using var span = ReleaseTelemetry.StartAlert(alert.Service, alert.Name);
        if (!_access.Services.TryGetValue(alert.Service, out var policy))
        {
            return new AlertResult(AlertOutcome.NoRollout);
        }

        // Only the service's active release: an older one still operating is not what the target now serves.
        var activeRelease = await ActiveReleaseOfAsync(policy.Name, cancellationToken).ConfigureAwait(false);
        foreach (var id in activeRelease is null ? [] : new[] { activeRelease.Id })
        {
            if (alert.Version is { } v && !string.Equals(v, id.Version, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // Production traffic, even while a stage's deployment call is in flight, and not rolling back already.
            // The release was just read to find it: the transition below starts from it and re-reads only after a conflict.
            var release = activeRelease;
            if (release is null || release.StageIndex < 0 || release.State.IsTerminal() || release.State is ReleaseState.RollingBack)
            {
                continue;
            }

            var action = policy.Thresholds.Actions.TryGetValue(ExternalAlert.Metric, out var a) ? a : BreachAction.Rollback;
            if (action == BreachAction.Consult && !release.IsUnderEvaluation)
            {
                // A decision needs a settled stage; the next notification of this firing asks once the deployment call is done.
                continue;
            }

            if (!await _idempotency.TryClaimAsync($"alert:{alert.DedupKey}:{id}", _settings.IdempotencyWindow, cancellationToken).ConfigureAwait(false))
            {
                return new AlertResult(AlertOutcome.AlreadyActed, id);
            }

            span.TagRelease(id);

            // Remembers which release this firing acted on, to say so when it is delivered again after the rollback.
            await _idempotency.SetAsync($"alert:{alert.DedupKey}", id.ToString(), _settings.IdempotencyWindow, cancellationToken).ConfigureAwait(false);

            var check = new CheckResult(
                $"{ExternalAlert.Metric} {alert.Name}",
                CheckStatus.Breach,
                null,
                $"firing ({alert.Severity}, since {ReleaseCards.Clock(alert.StartsAt)}){(string.IsNullOrWhiteSpace(alert.Summary) ? string.Empty : $": {alert.Summary}")}",
                null,
                action,
                alert.Source);
            var verdict = new HealthVerdict(HealthStatus.Breached, [check], _time.GetUtcNow());
            await MutateAsync(id, release, Actor.System, "alert", r => r.IsUnderEvaluation
                ? r.ApplyHealth(verdict, policy.ConsultTimeout, _time.GetUtcNow())
                : r.BeginRollback($"automatic: {check.DescribeBreach()}", "shipbot", [check], _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            return new AlertResult(AlertOutcome.Acted, id);
        }

        return await _idempotency.GetAsync($"alert:{alert.DedupKey}", cancellationToken).ConfigureAwait(false) is { } acted && ReleaseId.TryParse(acted, out var actedOn)
            ? new AlertResult(AlertOutcome.AlreadyActed, actedOn)
            : new AlertResult(AlertOutcome.NoRollout);
    }

    public async Task OnTimerAsync(ReleaseId id, TimerKind kind, CancellationToken cancellationToken = default)
    {
        using var span = ReleaseTelemetry.StartTimer(id, kind.ToString());
        var release = await _store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (release is null || release.State.IsTerminal() && kind is not (TimerKind.Work or TimerKind.OutcomeCheckpoint))
        {
            return;
        }

        try
        {
            switch (kind)
            {
                case TimerKind.Work:
                    await DoWorkAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.Promotion:
                    await PromoteIfDueAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.HealthEvaluation:
                    await TickAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.DecisionTimeout:
                    await MutateAsync(id, Actor.System, "consult timeout", r => r.DecisionTimedOut(_time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.ValidationEnd:
                    await TryCompleteValidationAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
                case TimerKind.OutcomeCheckpoint:
                    await CheckpointAsync(release, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (ReleaseRuleException ex)
        {
            LogTimerRefused(id.ToString(), kind.ToString(), ex.Message);
        }
    }

    /// <summary>Rebuilds every active release's timers (at start-up, from the store).</summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken = default)
    {
        var active = await _store.ListActiveAsync(cancellationToken).ConfigureAwait(false);
        foreach (var release in active)
        {
            await ReconcileTimersAsync(release, cancellationToken).ConfigureAwait(false);
        }

        return active.Count;
    }

    /// <summary>
    /// Arms the timers of active releases this instance does not know yet: releases started on
    /// another replica, or whose replica went away. Reads only ids, then the unknown releases.
    /// Returns how many were armed.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        var ids = await _store.ListActiveIdsAsync(cancellationToken).ConfigureAwait(false);
        var active = ids.ToHashSet();
        foreach (var stale in _armed.Keys.Where(k => !active.Contains(k)).ToList())
        {
            _armed.TryRemove(stale, out _);
        }

        var armed = 0;
        foreach (var id in ids.Where(i => !_armed.ContainsKey(i)))
        {
            if (await _store.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } release)
            {
                await ReconcileTimersAsync(release, cancellationToken).ConfigureAwait(false);
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
    private async Task TickAsync(Release release, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (NeedsWork(release))
        {
            await DoWorkAsync(release, ct).ConfigureAwait(false);
            release = await _store.GetAsync(release.Id, ct).ConfigureAwait(false) ?? release;
        }

        if (release.Decision is { } d && d.AutoRollbackAt <= now)
        {
            await MutateAsync(release.Id, Actor.System, "consult timeout", r => r.DecisionTimedOut(_time.GetUtcNow()), ct).ConfigureAwait(false);
            return;
        }

        if (release.IsUnderEvaluation)
        {
            if (await _leases.TryAcquireAsync($"eval:{release.Id}", _instance, _settings.EvaluationInterval * 0.8, ct).ConfigureAwait(false))
            {
                await EvaluateAndApplyAsync(release, ct).ConfigureAwait(false);
            }
        }
        else if (release.State == ReleaseState.Staging && release.IsPromotionDue(now))
        {
            await PromoteIfDueAsync(release, ct).ConfigureAwait(false);
        }
        else if (release.State == ReleaseState.Operating && release.OperatingSince is { } since)
        {
            var policy = PolicyOf(release.Id.Service);
            if (release.Outcomes.Count < policy.OutcomeCheckpoints.Count && since + policy.OutcomeCheckpoints[release.Outcomes.Count] <= now)
            {
                await CheckpointAsync(release, ct).ConfigureAwait(false);
            }
        }
    }

    private static bool NeedsWork(Release r) =>
        (r.PendingDeployment is not null && r.State != ReleaseState.Halted)
        || (r.State == ReleaseState.Staging && r.StagingStep == StagingStep.SmokeChecking)
        || (!r.ReadinessChecked && r.State is ReleaseState.Draft or ReleaseState.AwaitingApproval);

    private async Task DoWorkAsync(Release release, CancellationToken ct)
    {
        // One caller at a time — across replicas and within this one (the Work timer and the tick may
        // overlap) — calls the deployment target for a release: the owner is unique per attempt.
        var lease = $"work:{release.Id}";
        var owner = $"{_instance}:{Guid.NewGuid():N}";
        if (!await _leases.TryAcquireAsync(lease, owner, WorkLease, ct).ConfigureAwait(false))
        {
            return;
        }

        // The lease is short and renewed while the work runs, so a replica that dies mid-call
        // holds up the release for at most one lease period.
        using var working = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewal = RenewLeaseAsync(lease, owner, working.Token);
        try
        {
            var fresh = await _store.GetAsync(release.Id, ct).ConfigureAwait(false) ?? release;
            await DoWorkUnderLeaseAsync(fresh, ct).ConfigureAwait(false);
        }
        finally
        {
            await working.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            await _leases.ReleaseAsync(lease, owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RollBackNowAsync(ReleaseId id)
    {
        try
        {
            if (await _store.GetAsync(id).ConfigureAwait(false) is { PendingDeployment.IsRollback: true } release)
            {
                await DoWorkAsync(release, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is StoreUnavailableException or ReleaseRuleException)
        {
            // The Work timer tries again.
            LogTimerRefused(id.ToString(), "rollback", ex.Message);
        }
    }

    private async Task RenewLeaseAsync(string lease, string owner, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(WorkLease / 3, _time, ct).ConfigureAwait(false);
                await _leases.TryAcquireAsync(lease, owner, WorkLease, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The work is done.
        }
        catch (StoreUnavailableException)
        {
            // The lease lapses; at worst another replica repeats an idempotent call.
        }
    }

    private async Task DoWorkUnderLeaseAsync(Release release, CancellationToken ct)
    {
        var id = release.Id;
        if (!release.ReadinessChecked && release.State is ReleaseState.Draft or ReleaseState.AwaitingApproval)
        {
            var results = await _readiness.VerifyAsync(PolicyOf(id.Service), ct).ConfigureAwait(false);
            release = (await MutateAsync(id, Actor.System, "verify readiness",
                r => r.RecordReadiness(results.Select(x => (x.ItemId, x.Passed, x.Evidence)).ToList(), _time.GetUtcNow()), ct).ConfigureAwait(false)).Next;
        }

        if (release.PendingDeployment is { } intent && release.State is not ReleaseState.Halted)
        {
            var request = new DeploymentRequest(id, intent, $"{id}:{release.Version}:{intent.Environment.Name()}:{intent.Percent}:{intent.IsRollback}");
            DeploymentResult result;
            if (intent.IsRollback)
            {
                ReleaseTelemetry.RecordRollbackCall(release, _time.GetUtcNow());
            }

            var watch = Stopwatch.StartNew();
            try
            {
                result = await _deployment.ApplyAsync(request, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                result = new DeploymentResult(false, $"{ex.GetType().Name}: {ex.Message}", watch.Elapsed);
            }

            RememberRouterStatus(id, result.Status);
            var detail = $"{_deployment.NameFor(id.Service)} → {(result.Succeeded ? "ok" : "failed")} in {result.Duration.TotalMilliseconds:0} ms: {result.Detail}";
            await _store.AppendAuditAsync(id, new AuditEntry(_time.GetUtcNow(), "shipbot", "deployment call", $"{intent.Describe()}: {detail}"), ct).ConfigureAwait(false);
            var change = await MutateAsync(id, Actor.System, "deployment result", r => r.RecordDeployment(intent, result.Succeeded, detail, _time.GetUtcNow()), ct).ConfigureAwait(false);
            release = change.Next;
            if (intent.IsRollback)
            {
                if (release.State == ReleaseState.RolledBack)
                {
                    await PublishAsync(release, ReleaseCards.AlertKey(id, "rollback"), ReleaseCards.RollbackAlert(release, PolicyOf(id.Service), detail, _time.GetUtcNow()), ct).ConfigureAwait(false);
                }
                else if (!result.Succeeded)
                {
                    await _scheduler.ScheduleAsync(id, TimerKind.Work, _time.GetUtcNow() + _settings.RetryDelay, ct).ConfigureAwait(false);
                }
            }
        }

        if (release.State == ReleaseState.Staging && release.StagingStep == StagingStep.SmokeChecking)
        {
            var smoke = await _deployment.RunSmokeChecksAsync(id, "staging", ct).ConfigureAwait(false);
            await _store.AppendAuditAsync(id, new AuditEntry(_time.GetUtcNow(), "shipbot", "smoke checks", $"staging: {(smoke.Succeeded ? "passed" : "failed")}: {smoke.Detail}"), ct).ConfigureAwait(false);
            await MutateAsync(id, Actor.System, "smoke checks", r => r.RecordSmokeChecks(smoke.Succeeded, smoke.Detail, _time.GetUtcNow()), ct).ConfigureAwait(false);
        }
    }

    private async Task PromoteIfDueAsync(Release release, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (!release.IsPromotionDue(now))
        {
            return;
        }

        if (await HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false) is not null)
        {
            return;
        }

        if (release.State == ReleaseState.Staging)
        {
            if (FreezeHolding(release) is { } freeze)
            {
                // Production traffic waits for the freeze to end; the tick promotes after it.
                await NoteFreezeHoldAsync(release, freeze, ct).ConfigureAwait(false);
                return;
            }

            var baseline = await CaptureBaselineAsync(release, ct).ConfigureAwait(false);
            await MutateAsync(release.Id, Actor.System, "promote", r => r.Promote(_time.GetUtcNow(), null, null, baseline), ct).ConfigureAwait(false);
            return;
        }

        // The evaluation promotes when the bake is over and health is green; a held promotion is retried
        // by every following evaluation, so no extra timer is needed.
        await EvaluateAndApplyAsync(release, ct).ConfigureAwait(false);
    }

    private async Task EvaluateAndApplyAsync(Release release, CancellationToken ct)
    {
        if (!release.IsUnderEvaluation)
        {
            return;
        }

        var (verdict, judged) = await EvaluateAsync(release, ct).ConfigureAwait(false);
        var policy = PolicyOf(release.Id.Service);
        var change = await MutateAsync(release.Id, release, Actor.System, HealthEvaluation, r => judged is not null
            ? r.ApplyJudgement(judged, policy.ConsultTimeout, _time.GetUtcNow(), policy.MaxInconclusive)
            : r.ApplyHealth(verdict, policy.ConsultTimeout, _time.GetUtcNow(), policy.MaxInconclusive), ct).ConfigureAwait(false);
        var next = change.Next;
        if (next.State == ReleaseState.Validating)
        {
            await TryCompleteValidationAsync(next, ct).ConfigureAwait(false);
        }
        else if (next.IsPromotionDue(_time.GetUtcNow()) && next.IsGreen(next.LastHealth)
            && await HaltOfAsync(next.Id.Service, ct).ConfigureAwait(false) is null)
        {
            if (FreezeHolding(next) is { } freeze)
            {
                // Held at this stage: health is still judged (and may roll back); the first evaluation after the freeze promotes.
                await NoteFreezeHoldAsync(next, freeze, ct).ConfigureAwait(false);
                return;
            }

            await MutateAsync(next.Id, Actor.System, "promote",
                r => r.IsPromotionDue(_time.GetUtcNow()) ? r.Promote(_time.GetUtcNow(), r.LastHealth, null) : new ReleaseChange(r, [], "Already promoted.") { Modified = false }, ct).ConfigureAwait(false);
        }
        else if (judged is { Result.MayPromoteEarly: true } && next.State.IsProductionStage() && next.Judge?.Verdict == JudgeVerdict.Safe
            && await HaltOfAsync(next.Id.Service, ct).ConfigureAwait(false) is null)
        {
            // Safe with the minimum samples and time met, and the service allows it: the normal promotion, before the bake ends.
            await MutateAsync(next.Id, Actor.System, "promote early", r => r.PromoteEarly(_time.GetUtcNow()), ct).ConfigureAwait(false);
        }
    }

    private async Task TryCompleteValidationAsync(Release release, CancellationToken ct)
    {
        if (release.State != ReleaseState.Validating || release.ValidationEndsAt > _time.GetUtcNow())
        {
            return;
        }

        var policy = PolicyOf(release.Id.Service);
        await MutateAsync(release.Id, Actor.System, "validation", r => r.CompleteValidation(_time.GetUtcNow(), r.LastHealth, policy.Runbook is not null), ct).ConfigureAwait(false);
    }

    private async Task CheckpointAsync(Release release, CancellationToken ct)
    {
        var policy = PolicyOf(release.Id.Service);
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

        var now = _time.GetUtcNow();
        var index = release.Outcomes.Count;
        if (index < policy.OutcomeCheckpoints.Count)
        {
            if (since + policy.OutcomeCheckpoints[index] > now)
            {
                await ReconcileTimersAsync(release, ct).ConfigureAwait(false);
                return;
            }

            // Judged against the targets the contract states, never against the looser rollback limits.
            var sample = await ReadHealthAsync(new HealthQuery(release.Id.Service, release.Id.Version, "operating", 100, OutcomeTargets.MeasuredMetrics), ct).ConfigureAwait(false);
            var measured = await MeasureOutcomesAsync(release, ct).ConfigureAwait(false);
            var lines = measured.Count == 0
                ? OutcomeTargets.Judge(sample, release.Baseline, policy.Thresholds)
                : [.. OutcomeTargets.Judge(sample, release.Baseline, policy.Thresholds), .. Core.Outcomes.OutcomeEvaluation.Report(index + 1, now, measured).Lines];
            var report = new OutcomeReport(index + 1, now, lines);
            var missed = measured.Where(m => m.IsMiss).ToList();
            // A missed target opens a signal, which keeps the release operating until the team fills it in.
            var last = index + 1 >= policy.OutcomeCheckpoints.Count && missed.Count == 0 && !await HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
            var change = await MutateAsync(release.Id, Actor.System, "outcome checkpoint", r => r.RecordOutcome(report, last, _time.GetUtcNow()), ct).ConfigureAwait(false);
            if (change.Modified && missed.Count > 0)
            {
                await OpenOutcomeSignalAsync(change.Next, report, missed, ct).ConfigureAwait(false);
            }

            if (change.Modified)
            {
                var card = new Card($"📈 Outcome report #{report.Checkpoint} — {release.Id}", $"+{policy.OutcomeCheckpoints[index]} after handoff", missed.Count > 0 ? CardTone.Warning : CardTone.Info,
                    [new TextBlock(string.Join("\n", lines.Select(l => "• " + l)))], [], $"Outcome report #{report.Checkpoint} for {release.Id}");
                await PublishAsync(change.Next, $"outcome:{release.Id}:{report.Checkpoint}", card, ct).ConfigureAwait(false);
            }

            release = change.Next;
        }

        await RemindAsync(release, policy, ct).ConfigureAwait(false);
        await CompleteIfDoneAsync(release.Id, ct).ConfigureAwait(false);
    }

    private async Task<bool> HasOpenSignalAsync(ReleaseId id, CancellationToken ct) =>
        (await _store.ListSignalsAsync(ct).ConfigureAwait(false)).Any(s => s.Open && s.Release == id.ToString());

    /// <summary>Completes an operating release whose checkpoints are all reported, flags removed and incident signal filled in.</summary>
    private async Task CompleteIfDoneAsync(ReleaseId id, CancellationToken ct)
    {
        var release = await _store.GetAsync(id, ct).ConfigureAwait(false);
        if (release is not { State: ReleaseState.Operating })
        {
            return;
        }

        var reported = release.Outcomes.Count >= PolicyOf(id.Service).OutcomeCheckpoints.Count && !await HasOpenSignalAsync(id, ct).ConfigureAwait(false);
        await MutateAsync(id, Actor.System, "complete", r => r.CompleteIfDone(reported, _time.GetUtcNow()), ct).ConfigureAwait(false);
    }

    private async Task RemindAsync(Release release, ServicePolicy policy, CancellationToken ct)
    {
        var reminders = new List<string>();
        if (release.State == ReleaseState.Operating && release.Outcomes.Count > 0 && release.FlagsToRemove.Count > 0)
        {
            reminders.Add($"feature flag(s) still in the code: {string.Join(", ", release.FlagsToRemove)} — mark each with `/ship flag-removed {release.Id} <flag>`");
        }

        var open = (await _store.ListSignalsAsync(ct).ConfigureAwait(false)).Where(s => s.Open && s.Release == release.Id.ToString()).ToList();
        if (open.Count > 0)
        {
            reminders.Add($"the post-incident signal is not filled in — `/ship signal incident {release.Id} <what happened>`");
        }

        if (reminders.Count == 0)
        {
            return;
        }

        var card = new Card($"⏰ Reminder for {release.Id}", null, CardTone.Warning, [new TextBlock(string.Join("\n", reminders.Select(r => "• " + r)))],
            [release.Requester.Id], $"Reminder for {release.Id}: {string.Join("; ", reminders)}");
        await PublishAsync(release, $"reminder:{release.Id}", card, ct).ConfigureAwait(false);
        if (release.State.IsTerminal() || (release.State == ReleaseState.Operating && release.Outcomes.Count >= policy.OutcomeCheckpoints.Count))
        {
            await _scheduler.ScheduleAsync(release.Id, TimerKind.OutcomeCheckpoint, _time.GetUtcNow() + _settings.ReminderInterval, ct).ConfigureAwait(false);
        }
    }

    // ================================================================ transitions

    /// <summary>
    /// Applies <paramref name="apply"/> to the stored release and stores the result with a
    /// compare-and-set, retrying on a conflict with the fresh release; then notifies and re-arms timers.
    /// </summary>
    internal Task<ReleaseChange> MutateAsync(ReleaseId id, Actor actor, string action, Func<Release, ReleaseChange> apply, CancellationToken ct) =>
        MutateAsync(id, null, actor, action, apply, ct);

    /// <param name="known">
    /// The release as the caller has just read it: the first attempt starts from it instead of reading
    /// it again (one round trip less); if it is no longer current, the compare-and-set fails and the
    /// next attempt reads it fresh.
    /// </param>
    private async Task<ReleaseChange> MutateAsync(ReleaseId id, Release? known, Actor actor, string action, Func<Release, ReleaseChange> apply, CancellationToken ct)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = (attempt == 0 ? known : null) ?? await _store.GetAsync(id, ct).ConfigureAwait(false)
                ?? throw new ReleaseRuleException($"There is no release {id}.");
            var change = apply(current);
            if (!change.Modified)
            {
                return change;
            }

            if (action == HealthEvaluation && LatestHealth.IsReadingsOnly(current, change))
            {
                if (await _store.SetLatestHealthAsync(id, current.Version, change.Next.LastHealth!, ct).ConfigureAwait(false))
                {
                    return await KeepReadingsAsync(current, change, ct).ConfigureAwait(false);
                }

                // The release moved on since it was read: judge the readings against it as it is now.
                continue;
            }

            var halt = change.Events.FirstOrDefault(e => e.Kind is ReleaseEventKind.RollbackStarted or ReleaseEventKind.StagingFailed) is { } stop
                ? new ServiceHalt(id.Service, $"{stop.Summary}", actor.Id, _time.GetUtcNow())
                : null;
            if (await _store.TrySaveAsync(change.Next, current.Version, Audit(change, actor.Id, action), halt, ct).ConfigureAwait(false))
            {
                _written.Value?.Value = true;
                ReleaseTelemetry.RecordTransition(change);
                await AfterTransitionAsync(current, change, ct).ConfigureAwait(false);
                return change;
            }
        }

        throw new ReleaseRuleException($"{id} is changing too fast to apply '{action}'; try again.");
    }

    /// <summary>
    /// An evaluation that changed only the readings, now kept beside the release: no new revision, no
    /// audit, no timers to move. The card (and any open decision's card) shows them; the release
    /// document is not written.
    /// </summary>
    private async Task<ReleaseChange> KeepReadingsAsync(Release current, ReleaseChange change, CancellationToken ct)
    {
        var shown = current with { LastHealth = change.Next.LastHealth };
        await PublishCardAsync(shown, ct).ConfigureAwait(false);
        await PublishDecisionCardsAsync(current, shown, PolicyOf(current.Id.Service), _time.GetUtcNow(), ct).ConfigureAwait(false);
        return new ReleaseChange(shown, [], change.Message) { Modified = false };
    }

    private async Task AfterTransitionAsync(Release previous, ReleaseChange change, CancellationToken ct)
    {
        var release = change.Next;
        var policy = PolicyOf(release.Id.Service);
        var now = _time.GetUtcNow();
        var timersChanged = previous.State != release.State || previous.PendingDeployment != release.PendingDeployment || previous.BakeEndsAt != release.BakeEndsAt
            || previous.Decision != release.Decision || previous.ValidationEndsAt != release.ValidationEndsAt || previous.StagingStep != release.StagingStep
            || previous.Outcomes.Count != release.Outcomes.Count || previous.AwaitingPromotionApproval != release.AwaitingPromotionApproval;
        var rollingBack = change.Events.Any(e => e.Kind == ReleaseEventKind.RollbackStarted);
        if (rollingBack && timersChanged)
        {
            // A rollback's deployment call must not wait for chat nor for a free scheduler thread: it
            // starts now, and the Work timer armed here is the safety net (the work lease lets one of them call).
            await ReconcileTimersAsync(release, ct).ConfigureAwait(false);
            if (_settings.StartRollbackAtOnce)
            {
                _ = Task.Run(() => RollBackNowAsync(release.Id), CancellationToken.None);
            }
        }

        await SyncRouterPauseAsync(previous, release, ct).ConfigureAwait(false);
        await PublishCardAsync(release, ct).ConfigureAwait(false);
        foreach (var e in change.Events)
        {
            switch (e.Kind)
            {
                case ReleaseEventKind.RollbackStarted:
                    // The rollback may already be done (a fast target): then its completion posts the alert, and a
                    // late "rolling back" must not overwrite it.
                    if (await _store.GetAsync(release.Id, ct).ConfigureAwait(false) is not { State: ReleaseState.RolledBack })
                    {
                        await PublishAsync(release, ReleaseCards.AlertKey(release.Id, "rollback"), ReleaseCards.RollbackAlert(release, policy, null, now), ct).ConfigureAwait(false);
                    }

                    break;
                case ReleaseEventKind.HealthInconclusive:
                    await PublishAsync(release, ReleaseCards.AlertKey(release.Id, "halt"), ReleaseCards.HaltAlert(
                        $"{release.Id} at {release.Where}: health unreadable",
                        $"{release.HaltReason}. ShipBot never takes an unreadable source as healthy, so the rollout is halted and waits for a human: fix the source and resume, or roll back.",
                        policy,
                        [
                            new CardAction("resume", "Resume", $"resume {release.Id}", ActionStyle.Primary) { Basis = ClickBasis.Revision(release).Token },
                            new CardAction("rollback", "Roll back…", $"rollback {release.Id}", ActionStyle.Danger, $"Roll back {release.Id}?", "Reason for the rollback") { Basis = ClickBasis.Revision(release).Token },
                        ]), ct).ConfigureAwait(false);
                    break;
                case ReleaseEventKind.StagingFailed:
                    await PublishAsync(release, ReleaseCards.AlertKey(release.Id, "halt"), ReleaseCards.HaltAlert(
                        $"{release.Id} at the staging gate",
                        $"{release.HaltReason}. It never reached production. {release.Id.Service} is halted: fix it, unhalt, then resume (re-runs the gate) or abort.",
                        policy,
                        [
                            new CardAction("unhalt", "Unhalt…", $"unhalt {release.Id.Service}", ActionStyle.Default, $"Unhalt {release.Id.Service}?", "Why is it safe to unhalt?"),
                            new CardAction("abort", "Abort…", $"abort {release.Id}", ActionStyle.Danger, $"Abort {release.Id}?", "Reason for aborting") { Basis = ClickBasis.Revision(release).Token },
                        ]), ct).ConfigureAwait(false);
                    break;
                case ReleaseEventKind.PromotionNeedsApproval:
                    await PublishAsync(release, ReleaseCards.AlertKey(release.Id, "promotion"), ReleaseCards.PromotionWaits(release, policy.Approvers), ct).ConfigureAwait(false);
                    break;
            }
        }

        if (previous.AwaitingPromotionApproval && !release.AwaitingPromotionApproval)
        {
            // The approvers' call to action is answered (or moot): its button must not stay live.
            await PublishToAsync(release.Conversation, ReleaseCards.AlertKey(release.Id, "promotion"), ReleaseCards.PromotionSettled(previous, release), ReleaseCards.CardKey(release.Id), ct).ConfigureAwait(false);
        }

        await PublishDecisionCardsAsync(previous, release, policy, now, ct).ConfigureAwait(false);

        if (timersChanged && !rollingBack)
        {
            await ReconcileTimersAsync(release, ct).ConfigureAwait(false);
        }

        await NotifyObserversAsync(previous, change, ct).ConfigureAwait(false);
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
                await PublishToAsync(release.Conversation, DecisionKey(release.Id, decision.Id), card, ReleaseCards.CardKey(release.Id), ct).ConfigureAwait(false);
            }
            else
            {
                await PublishAsync(release, DecisionKey(release.Id, decision.Id), card, ct).ConfigureAwait(false);
            }
        }

        foreach (var ended in previous.OpenDecisions.Where(d => !release.OpenDecisions.Any(o => o.Id == d.Id)))
        {
            var record = release.DecisionHistory.LastOrDefault(r => r.Id == ended.Id)
                ?? new DecisionRecord(ended.Id, ended.Breach.Metric, ended.Stage, $"closed: {release.Id} is now {ReleaseSituation.Describe(release)}", null, now);
            await PublishAsync(release, DecisionKey(release.Id, ended.Id), ReleaseCards.DecisionClosed(release, record), ct).ConfigureAwait(false);
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

    /// <summary>Arms exactly the timers the release's state needs; used after transitions and at recovery.</summary>
    private async Task ReconcileTimersAsync(Release r, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (r.State.IsTerminal())
        {
            _armed.TryRemove(r.Id, out _);
            foreach (var kind in Enum.GetValues<TimerKind>())
            {
                await _scheduler.CancelAsync(r.Id, kind, ct).ConfigureAwait(false);
            }

            if (r.Kind != ReleaseKind.Standard && await HasOpenSignalAsync(r.Id, ct).ConfigureAwait(false))
            {
                await _scheduler.ScheduleAsync(r.Id, TimerKind.OutcomeCheckpoint, now + _settings.ReminderInterval, ct).ConfigureAwait(false);
            }

            return;
        }

        _armed[r.Id] = 0;
        if (NeedsWork(r))
        {
            await _scheduler.ScheduleAsync(r.Id, TimerKind.Work, now, ct).ConfigureAwait(false);
        }

        if (r.BakeEndsAt is { } end && r.PendingDeployment is null)
        {
            await _scheduler.ScheduleAsync(r.Id, TimerKind.Promotion, end, ct).ConfigureAwait(false);
        }
        else
        {
            await _scheduler.CancelAsync(r.Id, TimerKind.Promotion, ct).ConfigureAwait(false);
        }

        // The recurring tick runs for every active release: it evaluates health where there is
        // production traffic and is the safety net for every other timer (see TickAsync).
        await _scheduler.ScheduleRecurringAsync(r.Id, TimerKind.HealthEvaluation, _settings.EvaluationInterval, ct).ConfigureAwait(false);

        if (r.Decision is { } d)
        {
            await _scheduler.ScheduleAsync(r.Id, TimerKind.DecisionTimeout, d.AutoRollbackAt, ct).ConfigureAwait(false);
        }
        else
        {
            await _scheduler.CancelAsync(r.Id, TimerKind.DecisionTimeout, ct).ConfigureAwait(false);
        }

        if (r.State == ReleaseState.Validating && r.ValidationEndsAt is { } v)
        {
            await _scheduler.ScheduleAsync(r.Id, TimerKind.ValidationEnd, v, ct).ConfigureAwait(false);
        }

        if (r.State == ReleaseState.Operating && r.OperatingSince is { } since)
        {
            var policy = PolicyOf(r.Id.Service);
            var due = r.Outcomes.Count < policy.OutcomeCheckpoints.Count
                ? since + policy.OutcomeCheckpoints[r.Outcomes.Count]
                : now + _settings.ReminderInterval;
            await _scheduler.ScheduleAsync(r.Id, TimerKind.OutcomeCheckpoint, due, ct).ConfigureAwait(false);
        }
    }

    // ================================================================ helpers

    /// <summary>
    /// One health evaluation. A service judged by the threshold rule gets today's verdict. A service
    /// with <c>Judge: Sequential</c>, at a partial stage, also reads the canary's and the baseline's
    /// counts since the stage's traffic started, and the sequential judge decides (its step is
    /// returned to be stored with the release); the 100 % stage has no baseline left and keeps the
    /// threshold rule.
    /// </summary>
    private async Task<(HealthVerdict Verdict, JudgeStep? Judged)> EvaluateAsync(Release release, CancellationToken ct)
    {
        var policy = PolicyOf(release.Id.Service);
        var stage = release.CurrentStage;
        var metrics = HealthPolicy.MetricsFor(stage?.Kind, policy.Thresholds);
        var query = new HealthQuery(release.Id.Service, release.Id.Version, stage?.Kind.ToString() ?? "staging", stage?.Percent ?? 0, metrics);
        var judge = JudgeOf(release, policy);
        if (judge is not null)
        {
            query = query with { CountsSince = judge.StartedAt, CountMetrics = [.. judge.Metrics.Select(m => m.Metric)] };
        }

        var sample = await ReadHealthAsync(query, ct).ConfigureAwait(false);
        if (judge is null)
        {
            var verdict = HealthPolicy.Evaluate(sample, metrics, release.Baseline, policy.Thresholds, _time.GetUtcNow());
            ReleaseTelemetry.RecordEvaluation(verdict);
            return (verdict, null);
        }

        var step = SequentialJudge.Observe(judge, JudgeObservation.From(sample, _time.GetUtcNow()));
        var judged = step.Result.ToHealthVerdict();
        ReleaseTelemetry.RecordEvaluation(judged);
        return (judged, step);
    }

    /// <summary>
    /// The judge state to continue with: the release's own when it is about the current stage, else a
    /// fresh one whose counts start when the stage's traffic was confirmed (its bake's start). Null
    /// when the service uses the threshold rule or the stage has no baseline to compare with.
    /// </summary>
    private JudgeState? JudgeOf(Release release, ServicePolicy policy)
    {
        if (policy.Judge.Kind != JudgeKind.Sequential || release.CurrentStage is not { Percent: < 100 } stage)
        {
            return null;
        }

        if (release.JudgesCurrentStage(release.Judge))
        {
            return release.Judge;
        }

        var now = _time.GetUtcNow();
        var started = release.BakeEndsAt is { } end ? end - stage.Bake : now;
        if (release.PhaseStartedAt is { } phase && started < phase)
        {
            started = phase;
        }

        if (started > now)
        {
            started = now;
        }

        var partial = release.Plan.Stages.Where(s => s.Percent < 100).ToList();
        var index = release.Plan.Stages.Take(release.StageIndex).Count(s => s.Percent < 100);
        return SequentialJudge.Start(policy.Judge, stage.Kind.ToString(), index, partial.Count, started);
    }

    private async Task<IReadOnlyDictionary<string, double>> CaptureBaselineAsync(Release release, CancellationToken ct)
    {
        var sample = await ReadHealthAsync(new HealthQuery(release.Id.Service, release.Id.Version, "baseline", 0, HealthPolicy.BaselineMetricsFor(PolicyOf(release.Id.Service).Thresholds)), ct).ConfigureAwait(false);
        if (sample.Error is not null)
        {
            // Without a baseline, relative thresholds judge against zero: stricter, never looser.
            LogBaselineFailed(release.Id.ToString(), sample.Error);
        }

        var baseline = sample.Readings.Where(r => double.IsFinite(r.Value)).GroupBy(r => r.Metric).ToDictionary(g => g.Key, g => g.Last().Value);
        foreach (var (key, value) in await CaptureOutcomeBaselineAsync(release, ct).ConfigureAwait(false))
        {
            baseline[key] = value;
        }

        return baseline;
    }

    /// <summary>Reads a health source; a source that throws or times out gives a failed sample, which is never taken as healthy.</summary>
    private async Task<HealthSample> ReadHealthAsync(HealthQuery query, CancellationToken ct)
    {
        try
        {
            return await _health.ReadAsync(query, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return HealthSample.Failed($"{_health.Name}: {ex.Message}");
        }
    }

    private async Task<ServiceHalt?> HaltOfAsync(string service, CancellationToken ct)
    {
        var halts = await _store.GetHaltsAsync(ct).ConfigureAwait(false);
        return halts.FirstOrDefault(h => h.Service == service) ?? halts.FirstOrDefault(h => h.IsFreeze);
    }

    /// <summary>"demo@1.0.0", or a bare service name meaning its one active release; unknown or ambiguous names list the candidates.</summary>
    private async Task<Release> ResolveAsync(string name, CancellationToken ct)
    {
        if (ReleaseId.TryParse(name, out var id))
        {
            if (await _store.GetAsync(id.Value, ct).ConfigureAwait(false) is { } found)
            {
                return found;
            }

            var known = await _store.ListByServiceAsync(id.Value.Service, ct).ConfigureAwait(false);
            if (known.Count == 0 && !_access.Services.ContainsKey(id.Value.Service))
            {
                throw new ReleaseRuleException($"There is no release {id}: unknown service '{id.Value.Service}'. Configured services: {string.Join(", ", _access.Services.Keys)}.") { Kind = RefusalKind.NotFound };
            }

            throw new ReleaseRuleException($"There is no release {id}." + (known.Count > 0 ? $" Releases of {id.Value.Service}: {string.Join(", ", known.Take(10).Select(r => r.Id))}." : string.Empty)) { Kind = RefusalKind.NotFound };
        }

        var service = name.ToLowerInvariant();
        var releases = await _store.ListByServiceAsync(service, ct).ConfigureAwait(false);
        var active = releases.Where(r => !r.State.IsTerminal()).ToList();
        if (active.Count == 1)
        {
            return active[0];
        }

        if (active.Count > 1)
        {
            // Never a guess, but say which one is rolling out: on a bad day that is usually the one meant.
            var rollout = ActiveRelease.Of(active)!;
            throw new ReleaseRuleException(
                $"'{name}' is ambiguous: {string.Join(", ", active.Select(r => $"{r.Id} ({(r.Id == rollout.Id ? "the active release, " : string.Empty)}{ReleaseSituation.Describe(r)})"))}. Name the release as service@version, for example {rollout.Id}.");
        }

        if (releases.Count > 0)
        {
            throw new ReleaseRuleException($"{service} has no active release. Recent: {string.Join(", ", releases.Take(5).Select(r => r.Id))}.");
        }

        if (_access.Services.ContainsKey(service))
        {
            throw new ReleaseRuleException($"{service} has no release yet. Start one with `/ship start {service} <version>`.");
        }

        var all = await _store.ListActiveIdsAsync(ct).ConfigureAwait(false);
        throw new ReleaseRuleException(
            $"'{name}' is not a release (service@version) nor a configured service. Configured services: {string.Join(", ", _access.Services.Keys)}. " +
            $"Active: {(all.Count == 0 ? "none" : string.Join(", ", all.Take(20)))}.");
    }

    /// <summary>The service's active release (<see cref="ActiveRelease"/>), read from the service's own active index.</summary>
    private async Task<Release?> ActiveReleaseOfAsync(string service, CancellationToken ct)
    {
        var releases = new List<Release>();
        foreach (var id in await _store.ListActiveIdsOfServiceAsync(service, ct).ConfigureAwait(false))
        {
            if (await _store.GetAsync(id, ct).ConfigureAwait(false) is { } release)
            {
                releases.Add(release);
            }
        }

        return ActiveRelease.Of(releases);
    }

    private ReleaseRuleException UnknownService(string service) =>
        new($"Unknown service '{service}'. Configured services: {string.Join(", ", _access.Services.Keys)}.") { Kind = RefusalKind.NotFound };

    private static bool IsRequester(Release release, Actor actor) => string.Equals(release.Requester.Id, actor.Id, StringComparison.OrdinalIgnoreCase);

    private ServicePolicy PolicyOf(string service) =>
        _access.Services.TryGetValue(service, out var policy) ? policy : throw UnknownService(service);

    private void Require(Actor actor, string service, string verb, Role[] roles)
    {
        if (_access.HasAny(actor, service, roles) || (_access.IsAdmin(actor) && roles.Contains(Role.Admin)))
        {
            return;
        }

        var needed = string.Join(" or ", roles.Select(AccessPolicy.Describe));
        throw new ReleaseRuleException($"{actor.Mention} cannot {verb} for {service}: that needs the {needed} role.") { Kind = RefusalKind.Forbidden };
    }

    private static Person PersonOf(Actor actor) => new(actor.Id, actor.DisplayName);

    private static CommandReply Outcome(ReleaseChange change) => CommandReply.Private(change.Message) with { Changed = change.Modified };

    private IReadOnlyList<AuditEntry> Audit(ReleaseChange change, string actor, string action)
    {
        var now = _time.GetUtcNow();
        var entries = change.Events.Select(e => new AuditEntry(now, actor, e.Kind.ToString(), e.Summary)).ToList();
        if (entries.Count == 0 && change.Modified && action != HealthEvaluation)
        {
            // A health evaluation that changed nothing but the readings is not an audit event.
            entries.Add(new AuditEntry(now, actor, action, change.Message));
        }

        return entries;
    }

    private async Task PublishCardAsync(Release release, CancellationToken ct)
    {
        var halt = await HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false);
        await PublishToAsync(release.Conversation, ReleaseCards.CardKey(release.Id), ReleaseCards.Release(release, halt, _time.GetUtcNow(), await CardContextAsync(release, ct).ConfigureAwait(false)), null, ct).ConfigureAwait(false);
    }

    private async Task<ReleaseCardContext> CardContextAsync(Release release, CancellationToken ct)
    {
        var approvers = _access.Services.TryGetValue(release.Id.Service, out var policy) ? policy.Approvers : [];
        var owes = release.Kind != ReleaseKind.Standard && await HasOpenSignalAsync(release.Id, ct).ConfigureAwait(false);
        return new ReleaseCardContext(approvers, owes) { Router = RouterStatusOf(release.Id), Freeze = FreezeLine(release), Records = RecordsLine(), JudgeChartUrl = await JudgeChartAsync(release, ct).ConfigureAwait(false) };
    }

    /// <summary>The evidence chart of the stage being judged; a chart that cannot be drawn or stored leaves the card with its numbers only.</summary>
    private async Task<string?> JudgeChartAsync(Release release, CancellationToken ct)
    {
        if (JudgeCharts is null || release.Judge is not { Looks: > 0 } judge || !release.JudgesCurrentStage(judge) || release.State.IsTerminal())
        {
            return null;
        }

        try
        {
            return await JudgeCharts.LinkAsync(release.Id, judge, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogChartFailed(release.Id.ToString(), ex.Message);
            return null;
        }
    }

    private async Task PublishAsync(Release release, string key, Card card, CancellationToken ct)
    {
        await PublishToAsync(release.Conversation, key, card, ReleaseCards.CardKey(release.Id), ct).ConfigureAwait(false);
        if (key != ReleaseCards.CardKey(release.Id))
        {
            // Every alert, decision, outcome and reminder post is audited; the release card's own
            // in-place updates mirror transitions that are audited already.
            await _store.AppendAuditAsync(release.Id, new AuditEntry(_time.GetUtcNow(), "shipbot", "chat post", $"{card.Title}"), ct).ConfigureAwait(false);
        }
    }

    private async Task PublishToAsync(Conversation conversation, string key, Card card, string? threadKey, CancellationToken ct)
    {
        if (!_notifiers.TryGetValue(conversation.Platform, out var notifier))
        {
            LogNoNotifier(conversation.Platform);
            return;
        }

        try
        {
            await notifier.PublishAsync(conversation, key, card, threadKey, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException)
        {
            // A chat outage must not undo or block a committed transition; the next update carries the state.
            LogChatFailed(conversation.Platform, key, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "State store unavailable: {Reason}")]
    private partial void LogStoreUnavailable(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Kind} of {Release} refused: {Reason}")]
    private partial void LogTimerRefused(string release, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not capture the baseline of {Release}: {Reason}")]
    private partial void LogBaselineFailed(string release, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Release observer {Observer} failed for {Release}: {Reason}")]
    private partial void LogObserverFailed(string observer, string release, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the judge's chart of {Release}: {Reason}")]
    private partial void LogChartFailed(string release, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No chat notifier for platform {Platform}")]
    private partial void LogNoNotifier(string platform);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat post {Key} on {Platform} failed: {Reason}")]
    private partial void LogChatFailed(string platform, string key, string reason);
}
