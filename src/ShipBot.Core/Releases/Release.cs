using System.Text.Json.Serialization;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases.Events;
using ShipBot.Core.Settings;
using ShipBot.Core.Text;

namespace ShipBot.Core.Releases;

/// <summary>
/// The release aggregate: an immutable snapshot whose guarded methods return the next snapshot and
/// the events of the transition (<see cref="ReleaseChange"/>). Every change increments
/// <see cref="Version"/>, which the store compares-and-sets. An illegal command throws
/// <see cref="ReleaseRuleException"/> naming the current state; a command that finds its work
/// already done returns an unchanged release and says by whom.
/// </summary>
public sealed record Release : IJsonOnDeserialized
{
    private TimeSpan? _remainingBake;
    private TimeSpan? _remainingValidation;

    public required ReleaseId Id { get; init; }

    public ReleaseKind Kind { get; init; }

    public string? HotfixReason { get; init; }

    /// <summary>The change freeze this hotfix was let through, by whom and why; null for a release started outside a freeze.</summary>
    public Freezes.FreezeBypass? FreezeBypass { get; init; }

    public required Person Requester { get; init; }

    public required Conversation Conversation { get; init; }

    public required ReleaseContract Contract { get; init; }

    /// <summary>The commit, pull requests and pipeline run the release came from; null when none was given (and in documents stored before it existed).</summary>
    public ReleaseProvenance? Provenance { get; init; }

    public required StagePlan Plan { get; init; }

    public required IReadOnlyList<ChecklistItem> Checklist { get; init; }

    public int RequiredApprovals { get; init; } = 1;

    // Collections stay empty, never null, when a stored document predates them: the store's
    // source-generated reader passes null for an init-only property that is absent.
    public IReadOnlyList<Approval> Approvals { get; init => field = value ?? []; } = [];

    public ReleaseState State { get; init; }

    /// <summary>Where Paused or Halted returns to.</summary>
    public ReleaseState? ResumeState { get; init; }

    /// <summary>Index into <see cref="StagePlan.Stages"/>; -1 before production traffic.</summary>
    public int StageIndex { get; init; } = -1;

    public StagingStep StagingStep { get; init; }

    /// <summary>A traffic change decided but not yet confirmed by the deployment target.</summary>
    public DeploymentIntent? PendingDeployment { get; init; }

    public string? LastDeploymentError { get; init; }

    public DateTimeOffset? PhaseStartedAt { get; init; }

    /// <summary>When the current bake (staging or stage) ends; null while a deployment is pending or the clock is stopped.</summary>
    public DateTimeOffset? BakeEndsAt { get; init; }

    /// <summary>Bake time (staging or a stage) left when the clock was stopped (Paused, Halted); null when no bake clock is stopped.</summary>
    [JsonIgnore]
    public TimeSpan? RemainingBake { get => _remainingBake; init => _remainingBake = value; }

    /// <summary>Validation window left when the release was stopped while validating (Paused, Halted); null otherwise.</summary>
    [JsonIgnore]
    public TimeSpan? RemainingValidation { get => _remainingValidation; init => _remainingValidation = value; }

    /// <summary>
    /// The stored form of whichever clock was stopped, under the name it has always had
    /// (<c>remainingBake</c>): a release stops one clock at a time, and <see cref="ResumeState"/> says
    /// which (Validating: the validation window). Keeping one name keeps every stored document,
    /// and a rolled-back ShipBot, reading it as before. Use <see cref="RemainingBake"/> and
    /// <see cref="RemainingValidation"/> in code.
    /// </summary>
    [JsonPropertyName("remainingBake")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public TimeSpan? StoppedClockLeft { get => _remainingValidation ?? _remainingBake; init => _remainingBake = value; }

    public bool AwaitingPromotionApproval { get; init; }

    public IReadOnlyDictionary<string, double> Baseline { get; init => field = value ?? new Dictionary<string, double>(); } = new Dictionary<string, double>();

    public HealthVerdict? LastHealth { get; init; }

    /// <summary>
    /// The sequential judge's state for the stage it judges (services with <c>Judge: Sequential</c>):
    /// its parameters, the counts and bounds so far and the chart's trace. Null for threshold-judged
    /// services and until the first judged look. Optional in the stored format (added with the judge).
    /// </summary>
    public JudgeState? Judge { get; init; }

    /// <summary>How many evaluations in a row could not read health (inconclusive); reset by a conclusive one and by resume.</summary>
    public int InconclusiveStreak { get; init; }

    /// <summary>The consult decision waiting for on-call's answer (at most one at a time); it times out into a rollback.</summary>
    public PendingDecision? Decision { get; init; }

    /// <summary>Decisions on-call chose to hold: each keeps the release at its stage, without a timeout, until continued or rolled back.</summary>
    public IReadOnlyList<PendingDecision> HeldDecisions { get; init => field = value ?? []; } = [];

    /// <summary>How many decisions this release has opened (their ids are "d1", "d2", …).</summary>
    public int DecisionsOpened { get; init; }

    /// <summary>How each decision ended (the most recent 50).</summary>
    public IReadOnlyList<DecisionRecord> DecisionHistory { get; init => field = value ?? []; } = [];

    /// <summary>Consult breaches on-call chose to continue past (stored as "metric@stage").</summary>
    public IReadOnlyList<BreachKey> AcknowledgedBreaches { get; init => field = value ?? []; } = [];

    public RollbackRecord? Rollback { get; init; }

    public string? HaltReason { get; init; }

    public string? Rejection { get; init; }

    /// <summary>Why and by whom the release was aborted: "reason (@name)".</summary>
    public string? AbortReason { get; init; }

    public DateTimeOffset? ValidationEndsAt { get; init; }

    public IReadOnlyList<HandoffCheck> Handoff { get; init => field = value ?? []; } = [];

    public IReadOnlyList<StageRecord> History { get; init => field = value ?? []; } = [];

    public IReadOnlyList<OutcomeReport> Outcomes { get; init => field = value ?? []; } = [];

    /// <summary>Outcome targets measured on request (<c>start … --outcome &lt;name&gt;</c>) on top of the service's always-measured ones. Default none.</summary>
    public IReadOnlyList<string> RequestedOutcomes { get; init => field = value ?? []; } = [];

    public IReadOnlyList<string> FlagsRemoved { get; init => field = value ?? []; } = [];

    public DateTimeOffset? OperatingSince { get; init; }

    /// <summary>Whether ShipBot has run its own readiness checks (health URL, HTTPS) for this release.</summary>
    public bool ReadinessChecked { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// The stored revision: every save is a compare-and-set on it and takes the next one. Not the release's semantic
    /// version (that is <see cref="ReleaseId.Version"/>); stored as <c>version</c>, as it always was.
    /// </summary>
    [System.Text.Json.Serialization.JsonPropertyName("version")]
    public long Revision { get; init; }

    /// <summary>
    /// The revision of what the release card shows: bumped by every meaningful change, but not by a
    /// quiet health reading, a checklist tick, a partial approval or a confirmed deployment call.
    /// Forward buttons carry it (<see cref="RevisionBasis"/>). Documents stored before it existed read 0.
    /// </summary>
    public long CardRevision { get; init; }

    /// <summary>The last meaningful change, in words ("demo@1.0.0 promoted to GA 50 % (…)"), for replies to stale clicks.</summary>
    public string? LastChange { get; init; }

    /// <summary>Every open decision: the one waiting for an answer, then the held ones.</summary>
    [JsonIgnore]
    public IEnumerable<PendingDecision> OpenDecisions => Decision is null ? HeldDecisions : HeldDecisions.Prepend(Decision);

    [JsonIgnore]
    public Stage? CurrentStage => StageIndex >= 0 && StageIndex < Plan.Stages.Count ? Plan.Stages[StageIndex] : null;

    /// <summary>The name of where the release is, for messages: "Canary 5 %", "Staging".</summary>
    [JsonIgnore]
    public string Where
    {
        get
        {
            var effective = State is ReleaseState.Paused or ReleaseState.Halted && ResumeState is { } r ? r : State;
            return CurrentStage is { } s && (effective.IsProductionStage() || effective is ReleaseState.RollingBack or ReleaseState.RolledBack)
                ? s.Label
                : effective.Display();
        }
    }

    /// <summary>
    /// Whether a verdict lets the release move on: healthy, or breached only by consult-mode checks
    /// that on-call already chose to continue past at this stage. Unknown is never green.
    /// </summary>
    public bool IsGreen(HealthVerdict? verdict) =>
        verdict is not null
        && (verdict.Status == HealthStatus.Healthy
            || (verdict.Status == HealthStatus.Breached
                && verdict.Checks.All(c => c.Status == CheckStatus.Pass
                    || (c.Status == CheckStatus.Breach && c.Action == BreachAction.Consult && AcknowledgedBreaches.Contains(new BreachKey(c.Metric, Where))))));

    [JsonIgnore]
    public IEnumerable<ChecklistItem> BlockingItems => Checklist.Where(i =>
        !i.IsDone && i.Id is not ChecklistCatalog.Approved and not ChecklistCatalog.UserFacingVerified);

    public static ReleaseChange Create(
        ReleaseId id,
        ReleaseKind kind,
        Person requester,
        Conversation conversation,
        ServicePolicy policy,
        ReleaseContract contract,
        string? hotfixReason,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var plan = kind == ReleaseKind.Standard ? policy.Plan : StagePlan.Hotfix(policy.Plan, kind, policy.HotfixMaxBake);
        var problems = plan.Validate(kind);
        if (problems.Count > 0)
        {
            throw new ReleaseRuleException($"The stage plan of {id.Service} is not allowed: {string.Join("; ", problems)}.");
        }

        if (kind != ReleaseKind.Standard && string.IsNullOrWhiteSpace(hotfixReason))
        {
            throw new ReleaseRuleException("A hotfix needs a reason.");
        }

        var release = new Release
        {
            Id = id,
            Kind = kind,
            HotfixReason = hotfixReason,
            Requester = requester,
            Conversation = conversation,
            Contract = contract,
            Plan = plan,
            Checklist = ChecklistCatalog.For(kind),
            RequiredApprovals = Math.Max(1, policy.RequiredApprovals),
            State = ReleaseState.Draft,
            CreatedAt = now,
            UpdatedAt = now,
            Revision = 1,
        };
        return new ReleaseChange(
            release,
            [new Created(id, requester, kind)],
            $"Started {id}.");
    }

    // ---------------------------------------------------------------- checklist and approval

    /// <summary>A person ticks items. Release items: Draft / AwaitingApproval; the validation item: Validating.</summary>
    /// <param name="evidence">What shows the items are done (a test report's link, a pipeline's summary), kept in each item's detail; null: none given.</param>
    public ReleaseChange Confirm(Person by, IReadOnlyList<string> itemIds, DateTimeOffset now, string? evidence = null)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        if (itemIds.Count == 0)
        {
            throw new ReleaseRuleException("Name at least one checklist item.");
        }

        var items = Checklist.ToList();
        var events = new List<ReleaseEvent>();
        var notes = new List<string>();
        foreach (var raw in itemIds.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var index = IndexOfItem(raw);
            var item = items[index];
            if (item.SettledBy == ItemSettledBy.ShipBot)
            {
                throw new ReleaseRuleException($"'{item.Id}' ({item.Label}) is ticked by ShipBot itself.");
            }

            if (item.Id == ChecklistCatalog.UserFacingVerified)
            {
                RequireState("verify user-facing functionality", ReleaseState.Validating);
            }
            else
            {
                RequireState("tick checklist items", ReleaseState.Draft, ReleaseState.AwaitingApproval);
            }

            if (item.IsDone)
            {
                notes.Add($"{item.Id} already {item.State.ToString().ToLowerInvariant()}{(item.By is null ? string.Empty : $" by @{item.By}")}");
                continue;
            }

            var detail = item.State == ChecklistItemState.Failed ? $"confirmed by {by.Mention} over a failed check: {item.Detail}" : $"by {by.Mention}";
            if (!string.IsNullOrWhiteSpace(evidence))
            {
                detail += $" — evidence: {evidence.Trim()}";
            }

            items[index] = item with { State = ChecklistItemState.Confirmed, By = by.Name, Detail = detail, At = now };
            events.Add(new ItemSettled(Id, item.Id, item.Label, Settlement.Confirmed, by));
            notes.Add($"{item.Id} confirmed");
        }

        if (events.Count == 0)
        {
            return Unchanged($"Nothing changed: {string.Join("; ", notes)}.");
        }

        var next = this with { Checklist = items };
        return next.AfterChecklistChange(events, now, $"{string.Join("; ", notes)}.");
    }

    /// <summary>ShipBot records its own check of an item (evidence either way).</summary>
    public ReleaseChange RecordVerification(string itemId, bool passed, string evidence, DateTimeOffset now)
    {
        var index = IndexOfItem(itemId);
        var item = Checklist[index];
        if (State is not (ReleaseState.Draft or ReleaseState.AwaitingApproval) || item.IsDone)
        {
            return Unchanged($"{item.Id} is already settled.");
        }

        var items = Checklist.ToList();
        items[index] = item with
        {
            State = passed ? ChecklistItemState.Verified : ChecklistItemState.Failed,
            By = Actor.System.Id,
            Detail = evidence,
            At = now,
        };
        var verb = passed ? "verified" : "could not verify";
        var events = new List<ReleaseEvent> { new ItemSettled(Id, item.Id, item.Label, passed ? Settlement.Verified : Settlement.NotVerified, Person.System, evidence) };
        return (this with { Checklist = items }).AfterChecklistChange(events, now, $"{item.Id} {verb}.");
    }

    /// <summary>ShipBot's own readiness checks ran; each result verifies or fails its item (unknown items are ignored).</summary>
    public ReleaseChange RecordReadiness(IReadOnlyList<(string ItemId, bool Passed, string Evidence)> results, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (ReadinessChecked)
        {
            return Unchanged("Readiness was already checked.");
        }

        var release = this with { ReadinessChecked = true };
        var events = new List<ReleaseEvent>();
        foreach (var (itemId, passed, evidence) in results)
        {
            if (!release.Checklist.Any(i => string.Equals(i.Id, itemId, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var change = release.RecordVerification(itemId, passed, evidence, now);
            release = change.Next with { Revision = release.Revision };
            events.AddRange(change.Events);
        }

        return Changed(release, events, now, $"Readiness checked: {events.Count} item(s).");
    }

    /// <summary>ShipBot ticks an item it owns (on-call notified).</summary>
    public ReleaseChange TickBySystem(string itemId, string evidence, DateTimeOffset now)
    {
        var index = IndexOfItem(itemId);
        var item = Checklist[index];
        if (item.IsDone || State.IsTerminal())
        {
            return Unchanged($"{item.Id} is already settled.");
        }

        var items = Checklist.ToList();
        items[index] = item with { State = ChecklistItemState.Verified, By = Actor.System.Id, Detail = evidence, At = now };
        var events = new List<ReleaseEvent> { new ItemSettled(Id, item.Id, item.Label, Settlement.Ticked, Person.System, evidence) };
        return (this with { Checklist = items }).AfterChecklistChange(events, now, $"{item.Id} ticked.");
    }

    /// <summary>An approver waives an item with a reason; floor items can never be waived.</summary>
    public ReleaseChange Waive(Person by, string itemId, string reason, DateTimeOffset now)
    {
        RequireState("waive checklist items", ReleaseState.Draft, ReleaseState.AwaitingApproval);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ReleaseRuleException("A waiver needs a reason.");
        }

        var index = IndexOfItem(itemId);
        var item = Checklist[index];
        if (IsRequester(by))
        {
            throw new ReleaseRuleException($"{by.Mention} requested {Id} and cannot waive its checklist items (separation of duties).");
        }

        if (item.Floor)
        {
            throw new ReleaseRuleException(
                $"'{item.Id}' ({item.Label}) is part of the minimum viable production floor and can never be waived.");
        }

        if (item.Mandatory)
        {
            throw new ReleaseRuleException(
                $"'{item.Id}' ({item.Label}) is a mandatory security item on a hotfix and cannot be waived on the expedited path.");
        }

        if (item.SettledBy == ItemSettledBy.ShipBot || item.Id == ChecklistCatalog.UserFacingVerified)
        {
            throw new ReleaseRuleException($"'{item.Id}' ({item.Label}) cannot be waived.");
        }

        if (item.IsDone)
        {
            return Unchanged($"Nothing changed: {item.Id} is already {item.State.ToString().ToLowerInvariant()} by @{item.By}.");
        }

        var items = Checklist.ToList();
        items[index] = item with { State = ChecklistItemState.Waived, By = by.Name, Detail = $"\"{reason}\" ({by.Mention})", At = now };
        var events = new List<ReleaseEvent> { new ItemSettled(Id, item.Id, item.Label, Settlement.Waived, by, reason) };
        return (this with { Checklist = items }).AfterChecklistChange(events, now, $"{item.Id} waived.");
    }

    public ReleaseChange Approve(Person by, DateTimeOffset now)
    {
        if (Approvals.FirstOrDefault(a => a.By.Id == by.Id) is { } mine)
        {
            return Unchanged($"Nothing changed: {Id} is already approved by {mine.By.Mention}.");
        }

        if (State != ReleaseState.AwaitingApproval && Approvals.Count >= RequiredApprovals)
        {
            return Unchanged($"Nothing changed: {Id} is already approved by {string.Join(", ", Approvals.Select(a => a.By.Mention))}.");
        }

        if (State == ReleaseState.Draft)
        {
            var pending = BlockingItems.Select(i => i.Id).ToList();
            throw new ReleaseRuleException(
                $"Cannot approve {Id}: it is Draft — {pending.Count} checklist item(s) still pending: {string.Join(", ", pending)}.");
        }

        RequireState("approve", ReleaseState.AwaitingApproval);
        if (IsRequester(by))
        {
            throw new ReleaseRuleException($"{by.Mention} requested {Id} and cannot approve it (separation of duties).");
        }

        var approvals = Approvals.Append(new Approval(by, now)).ToList();
        var events = new List<ReleaseEvent> { new Approved(Id, by, approvals.Count, RequiredApprovals) };
        if (approvals.Count < RequiredApprovals)
        {
            return Changed(this with { Approvals = approvals }, events, now, $"Approved ({approvals.Count} of {RequiredApprovals}).");
        }

        var index = IndexOfItem(ChecklistCatalog.Approved);
        var items = Checklist.ToList();
        items[index] = items[index] with
        {
            State = ChecklistItemState.Confirmed,
            By = by.Name,
            Detail = $"approved by {string.Join(", ", approvals.Select(a => a.By.Mention))}",
            At = now,
        };
        events.Add(new StagingStarted(Id));
        var next = this with
        {
            Approvals = approvals,
            Checklist = items,
            State = ReleaseState.Staging,
            StagingStep = StagingStep.Deploying,
            PendingDeployment = new DeploymentIntent(DeploymentEnvironment.Staging, 100),
            PhaseStartedAt = now,
            BakeEndsAt = null,
            History = [.. History, new StageRecord("Staging", now, null)],
        };
        return Changed(next, events, now, $"Approved by {by.Mention}; {Id} goes to staging.");
    }

    public ReleaseChange Reject(Person by, string reason, DateTimeOffset now)
    {
        if (State == ReleaseState.Rejected)
        {
            return Unchanged($"Nothing changed: {Id} is already rejected ({Rejection}).");
        }

        RequireState("reject", ReleaseState.Draft, ReleaseState.AwaitingApproval);
        RequireReason(reason, "A rejection");
        var next = this with { State = ReleaseState.Rejected, Rejection = $"{reason} ({by.Mention})" };
        return Changed(next, [new Rejected(Id, by, reason)], now, $"Rejected {Id}.");
    }

    /// <summary>Abandons a release that has not reached production traffic.</summary>
    public ReleaseChange Abort(Person by, string reason, DateTimeOffset now)
    {
        if (State == ReleaseState.Aborted)
        {
            return Unchanged($"Nothing changed: {Id} is already aborted.");
        }

        var preProduction = StageIndex < 0 && State is ReleaseState.Draft or ReleaseState.AwaitingApproval or ReleaseState.Staging
            or ReleaseState.Halted or ReleaseState.Paused;
        if (!preProduction)
        {
            throw new ReleaseRuleException(
                $"Cannot abort {Id}: it is {State.Display()}{(StageIndex >= 0 ? " and has production traffic — roll it back instead" : string.Empty)}.");
        }

        RequireReason(reason, "An abort");
        var next = this with { State = ReleaseState.Aborted, PendingDeployment = null, BakeEndsAt = null, HaltReason = null, AbortReason = $"{reason} ({by.Mention})" };
        return Changed(next, [new Aborted(Id, by, reason)], now, $"Aborted {Id}.");
    }

    // ---------------------------------------------------------------- staging and promotion

    /// <summary>The deployment target answered for <paramref name="intent"/>; a stale answer changes nothing.</summary>
    public ReleaseChange RecordDeployment(DeploymentIntent intent, bool succeeded, string detail, DateTimeOffset now)
    {
        if (PendingDeployment != intent)
        {
            return Unchanged("That deployment is no longer pending.");
        }

        if (intent.IsRollback)
        {
            if (!succeeded)
            {
                var failed = this with { LastDeploymentError = detail };
                return Changed(failed, [new DeploymentFailed(Id, intent, detail)], now, "Rollback failed; retrying.");
            }

            var rolledBack = this with
            {
                State = ReleaseState.RolledBack,
                PendingDeployment = null,
                LastDeploymentError = null,
                History = CloseHistory(now),
            };
            return Changed(rolledBack, [new RolledBack(Id, detail)], now, $"{Id} rolled back.");
        }

        if (!succeeded)
        {
            if (intent.Environment == DeploymentEnvironment.Staging)
            {
                return StagingFailure($"staging deployment failed: {detail}", now);
            }

            return BeginRollback($"deployment to {intent.Percent} % failed: {detail}", Actor.System.Id, [], now);
        }

        var events = new List<ReleaseEvent> { new DeploymentSucceeded(Id, intent, detail) };
        if (intent.Environment == DeploymentEnvironment.Staging)
        {
            return Changed(this with { PendingDeployment = null, LastDeploymentError = null, StagingStep = StagingStep.SmokeChecking }, events, now, "Deployed to staging.");
        }

        var bake = CurrentStage?.Bake ?? TimeSpan.Zero;
        if (State is ReleaseState.Paused or ReleaseState.Halted)
        {
            return Changed(this with { PendingDeployment = null, LastDeploymentError = null, RemainingBake = bake }, events, now, "Deployed.");
        }

        return Changed(this with { PendingDeployment = null, LastDeploymentError = null, BakeEndsAt = now + bake }, events, now, "Deployed.");
    }

    /// <summary>Staging smoke checks finished; a failure halts the release (Jidoka).</summary>
    public ReleaseChange RecordSmokeChecks(bool passed, string detail, DateTimeOffset now)
    {
        if (State != ReleaseState.Staging || StagingStep != StagingStep.SmokeChecking)
        {
            return Unchanged("Smoke checks are not running.");
        }

        if (!passed)
        {
            return StagingFailure($"staging smoke checks failed: {detail}", now);
        }

        var next = this with { StagingStep = StagingStep.Baking, BakeEndsAt = now + Plan.StagingBake };
        return Changed(next, [new SmokeChecksPassed(Id, detail)], now, "Smoke checks passed.");
    }

    /// <summary>Whether the current bake is over and nothing else blocks an automatic promotion.</summary>
    public bool IsPromotionDue(DateTimeOffset now) =>
        PendingDeployment is null && Decision is null && HeldDecisions.Count == 0 && !AwaitingPromotionApproval && BakeEndsAt is { } end && end <= now
        && (State.IsProductionStage() || (State == ReleaseState.Staging && StagingStep == StagingStep.Baking));

    /// <summary>
    /// Moves to the next stage (or from 100 % to validation). Automatic promotion needs the bake to be
    /// over; <paramref name="manualBy"/> (an approver's "promote now") skips the rest of the bake.
    /// Health must be green either way. <paramref name="baseline"/> is captured when leaving staging.
    /// The requester can never promote their own release early nor approve a stage of it
    /// (separation of duties); an early promotion is audited with what it skipped and why.
    /// </summary>
    public ReleaseChange Promote(DateTimeOffset now, HealthVerdict? health, Person? manualBy, IReadOnlyDictionary<string, double>? baseline = null, string? reason = null) =>
        PromoteCore(now, health, manualBy, baseline, reason, null);

    /// <summary>Whether <paramref name="judge"/> is about the stage the release is at now (a state left from an earlier stage is not).</summary>
    public bool JudgesCurrentStage(JudgeState? judge) =>
        judge is not null && CurrentStage is { } stage && StageIndex >= 0 && stage.Percent < 100
        && string.Equals(judge.Stage, stage.Kind.ToString(), StringComparison.Ordinal)
        && (PhaseStartedAt is not { } phase || judge.StartedAt >= phase);

    /// <summary>
    /// Records one look of the sequential judge: keeps its state with the release and applies its
    /// verdict through the health gate's usual rules (<see cref="ApplyHealth"/>): harm is a breach
    /// with the metric's action, no data is inconclusive (never green), continue and safe are
    /// healthy. The judge's numbers go into the breach's audit entry. A judgement about another
    /// stage (the release moved on meanwhile) changes nothing.
    /// </summary>
    public ReleaseChange ApplyJudgement(JudgeStep step, TimeSpan consultTimeout, DateTimeOffset now, int maxInconclusive = 0)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!JudgesCurrentStage(step.State))
        {
            return Unchanged("That judgement is about another stage.");
        }

        var change = (this with { Judge = step.State }).ApplyHealth(step.Result.ToHealthVerdict(), consultTimeout, now, maxInconclusive);
        if (step.Result.Verdict != JudgeVerdict.Harm)
        {
            return change;
        }

        var finding = new JudgeFinding(step.Result.Elapsed, [.. step.Result.Harmed.Select(m => m.Describe())]);
        return change with
        {
            Events = [.. change.Events.Select(e => e switch
            {
                BreachDetected b => b with { Judge = finding },
                ConsultRequested c => c with { Judge = finding },
                _ => e,
            })],
        };
    }

    /// <summary>
    /// Promotes before the bake ends because the sequential judge found the current stage safe and
    /// the service allows early promotion: the normal promotion (an approval stage still waits for
    /// its approver, health must be green), audited as an early promotion with the judge's numbers.
    /// Anything else (no judge, not safe, a decision open, a deployment pending) changes nothing.
    /// </summary>
    public ReleaseChange PromoteEarly(DateTimeOffset now)
    {
        if (!State.IsProductionStage() || Judge is not { EarlyPromotion: true, Verdict: JudgeVerdict.Safe } judge || !JudgesCurrentStage(judge))
        {
            return Unchanged($"Nothing changed: the sequential judge has not found {Where} safe.");
        }

        if (PendingDeployment is not null || Decision is not null || HeldDecisions.Count > 0 || AwaitingPromotionApproval || BakeEndsAt is not { } end)
        {
            return Unchanged($"Nothing changed: {Id} cannot promote early now.");
        }

        if (end <= now)
        {
            return PromoteCore(now, LastHealth, null, null, null, null);
        }

        var result = SequentialJudge.Explain(judge, now);
        var evidence = new JudgedPromotion(result.Elapsed, end - now, [.. result.Metrics.Select(m => m.Describe())]);
        return PromoteCore(now, LastHealth, null, null, null, evidence);
    }

    private ReleaseChange PromoteCore(DateTimeOffset now, HealthVerdict? health, Person? manualBy, IReadOnlyDictionary<string, double>? baseline, string? reason, JudgedPromotion? earlyEvidence)
    {
        var verb = manualBy is null ? "promote" : "promote now";
        RequireState(verb, ReleaseState.Staging, ReleaseState.Canary, ReleaseState.EarlyAdopters, ReleaseState.GeneralAvailability, ReleaseState.Full);
        if (PendingDeployment is not null)
        {
            return Unchanged($"Nothing changed: {Id} is still waiting for {PendingDeployment.Describe()} to be applied.");
        }

        if (State == ReleaseState.Staging && StagingStep != StagingStep.Baking)
        {
            return Unchanged($"Nothing changed: {Id} has not passed its staging smoke checks yet.");
        }

        if (manualBy is not null && IsRequester(manualBy))
        {
            var what = AwaitingPromotionApproval ? "approve a stage of it" : "promote it early";
            throw new ReleaseRuleException($"{manualBy.Mention} requested {Id} and cannot {what} (separation of duties): another approver must.");
        }

        if (Decision is not null)
        {
            throw new ReleaseRuleException($"Cannot promote {Id}: on-call has a decision pending about {Decision.About} ({Decision.Id}).");
        }

        if (HeldDecisions.FirstOrDefault() is { } held)
        {
            throw new ReleaseRuleException($"Cannot promote {Id}: @{held.HeldBy} is holding it on {held.About} (decision {held.Id}) until on-call continues or rolls back.");
        }

        if (manualBy is null && earlyEvidence is null && !AwaitingPromotionApproval && (BakeEndsAt is null || BakeEndsAt > now))
        {
            return Unchanged($"Nothing changed: {Id} bakes until {BakeEndsAt:HH:mm:ss} UTC.");
        }

        if (manualBy is null && AwaitingPromotionApproval)
        {
            return Unchanged($"Nothing changed: promotion of {Id} waits for an approver.");
        }

        if (CurrentStage is { NeedsApproval: true } && manualBy is null)
        {
            var waiting = this with { AwaitingPromotionApproval = true };
            return Changed(waiting, [new PromotionNeedsApproval(Id, Where)], now, "Promotion needs an approver.");
        }

        if (State != ReleaseState.Staging && !IsGreen(health))
        {
            var why = health is null ? "no health reading yet" : $"health is {health.Status.ToString().ToLowerInvariant()}: {health.Summary}";
            if (manualBy is not null)
            {
                throw new ReleaseRuleException($"Cannot promote {Id}: {why}.");
            }

            return Unchanged($"Nothing changed: {Id} holds at {Where} because {why}.");
        }

        var manual = manualBy is not null ? ManualPromotionBy(manualBy, now, reason) : null;
        var from = Where;
        var history = CloseHistory(now);
        if (State == ReleaseState.Staging)
        {
            var first = Plan.Stages[0];
            var next = this with
            {
                State = first.State,
                StageIndex = 0,
                PendingDeployment = new DeploymentIntent(DeploymentEnvironment.Production, first.Percent),
                BakeEndsAt = null,
                PhaseStartedAt = now,
                AwaitingPromotionApproval = false,
                Baseline = baseline ?? Baseline,
                History = [.. history, new StageRecord(first.Label, now, null)],
            };
            return Changed(next, [new Promoted(Id, from, first.Label, FromStaging: true, manual, earlyEvidence)], now, $"{Id} promoted to {first.Label}.");
        }

        if (StageIndex == Plan.Stages.Count - 1)
        {
            var validating = this with
            {
                State = ReleaseState.Validating,
                BakeEndsAt = null,
                AwaitingPromotionApproval = false,
                PhaseStartedAt = now,
                ValidationEndsAt = now + Plan.ValidationWindow,
                History = [.. history, new StageRecord("Validation", now, null)],
            };
            // An approver's "promote now" out of 100 % is audited like any other: who, how much of the bake it skipped, why.
            ReleaseEvent[] events = manual is null
                ? [new ValidationStarted(Id, now + Plan.ValidationWindow)]
                : [new Promoted(Id, from, "Validation", FromStaging: false, manual), new ValidationStarted(Id, now + Plan.ValidationWindow)];
            return Changed(validating, events, now, $"{Id} is validating.");
        }

        var stage = Plan.Stages[StageIndex + 1];
        var promoted = this with
        {
            State = stage.State,
            StageIndex = StageIndex + 1,
            PendingDeployment = new DeploymentIntent(DeploymentEnvironment.Production, stage.Percent),
            BakeEndsAt = null,
            PhaseStartedAt = now,
            AwaitingPromotionApproval = false,
            History = [.. history, new StageRecord(stage.Label, now, null)],
        };
        return Changed(promoted, [new Promoted(Id, from, stage.Label, FromStaging: false, manual, earlyEvidence)], now, $"{Id} promoted to {stage.Label}.");
    }

    /// <summary>
    /// Ends validation and hands the release over to operations when the window is over, health is
    /// green and a human verified user-facing functionality; otherwise nothing changes.
    /// </summary>
    public ReleaseChange CompleteValidation(DateTimeOffset now, HealthVerdict? health, bool hasRunbook)
    {
        if (State != ReleaseState.Validating)
        {
            return Unchanged($"Nothing changed: {Id} is {State.Display()}, not validating.");
        }

        if (OpenDecisions.FirstOrDefault() is { } open)
        {
            // Handing over is a promotion too: a question put to on-call is answered first.
            return Unchanged($"Validation waits for on-call's decision {open.Id} about {open.About}.");
        }

        var ufv = Checklist.First(i => i.Id == ChecklistCatalog.UserFacingVerified);
        if (ValidationEndsAt > now || !ufv.IsDone || !IsGreen(health))
        {
            return Unchanged("Validation continues.");
        }

        var checks = new List<HandoffCheck>
        {
            new("Release contract approved", Approvals.Count >= RequiredApprovals, string.Join(", ", Approvals.Select(a => a.By.Mention))),
            new("Every stage done", true, string.Join(" → ", Plan.Stages.Select(s => s.Label))),
            new("Post-deployment validation passed", true, $"{health!.Summary}; user-facing functionality verified {ufv.Detail}"),
            new("Outcome measurement dates set", true, "checkpoints scheduled"),
            new(hasRunbook ? "Runbook linked" : "No runbook configured (not applicable)", true, hasRunbook ? "linked on the alert cards" : "the service has none"),
            new("On-call informed", Checklist.Any(i => i.Id == ChecklistCatalog.OnCallNotified && i.IsDone), "notified at start"),
        };
        var next = this with
        {
            State = ReleaseState.Operating,
            Handoff = checks,
            OperatingSince = now,
            PhaseStartedAt = now,
            History = CloseHistory(now),
        };
        return Changed(next, [new HandedOver(Id)], now, $"{Id} is operating.");
    }

    // ---------------------------------------------------------------- health, consult, rollback

    /// <summary>
    /// Records a health evaluation. A rollback-action breach starts a rollback at once; a consult
    /// breach asks on-call (unless they already chose to continue past it); otherwise the verdict is kept.
    /// </summary>
    /// <param name="maxInconclusive">How many inconclusive evaluations in a row halt the release for a human; 0 never halts.</param>
    public ReleaseChange ApplyHealth(HealthVerdict verdict, TimeSpan consultTimeout, DateTimeOffset now, int maxInconclusive = 0)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (!IsUnderEvaluation)
        {
            return Unchanged($"{Id} is not under health evaluation.");
        }

        var stage = Where;
        if (verdict.Status == HealthStatus.Unknown)
        {
            // An unreadable source is never healthy: the bake clock does not promote on it, and after
            // too many in a row a human must look (Jidoka), because the release is flying blind.
            var streak = InconclusiveStreak + 1;
            var seen = this with { LastHealth = verdict, InconclusiveStreak = streak };
            if (maxInconclusive > 0 && streak >= maxInconclusive && State is not (ReleaseState.Halted or ReleaseState.Paused))
            {
                var inconclusive = new HealthInconclusive(Id, stage, streak, verdict.Error ?? verdict.Summary);
                var halted = seen.Halt(inconclusive.Reason, Actor.System.Id, now);
                return halted with { Events = [inconclusive, .. halted.Events] };
            }

            var unknown = new HealthChanged(Id, stage, verdict, streak);
            return LastHealth?.Status != verdict.Status
                ? Changed(seen, [unknown], now, unknown.Summary)
                : Changed(seen, [], now, unknown.Summary);
        }

        if (InconclusiveStreak > 0)
        {
            return (this with { InconclusiveStreak = 0 }).ApplyHealth(verdict, consultTimeout, now, maxInconclusive);
        }
        if (verdict.RequiresRollback)
        {
            var evidence = verdict.Breaches.Where(b => b.Action == BreachAction.Rollback).ToList();
            var reason = string.Join("; ", evidence.Select(b => b.DescribeBreach()));
            var change = (this with { LastHealth = verdict }).BeginRollback($"automatic: {reason}", Actor.System.Id, evidence, now);
            return change with { Events = [new BreachDetected(Id, stage, evidence), .. change.Events] };
        }

        // One decision per breach: a breach on-call continued past, holds, or is already asked about opens none.
        var consult = verdict.Breaches.FirstOrDefault(b =>
            !AcknowledgedBreaches.Contains(new BreachKey(b.Metric, stage)) && !OpenDecisions.Any(d => d.BreachKey == new BreachKey(b.Metric, stage)));
        if (consult is not null && Decision is null)
        {
            var opened = DecisionsOpened + 1;
            var decision = new PendingDecision(consult, stage, now, now + consultTimeout) { Id = $"d{opened}" };
            var next = this with { LastHealth = verdict, Decision = decision, DecisionsOpened = opened };
            return Changed(next, [new ConsultRequested(Id, decision.Id, stage, consult)], now, "On-call consulted.");
        }

        var changedStatus = LastHealth?.Status != verdict.Status;
        var recorded = this with { LastHealth = verdict };
        var reading = new HealthChanged(Id, stage, verdict, 0);
        return changedStatus
            ? Changed(recorded, [reading], now, reading.Summary)
            : Changed(recorded, [], now, reading.Summary);
    }

    /// <summary>Whether health evaluations run: production traffic is exposed and the release is not done.</summary>
    [JsonIgnore]
    public bool IsUnderEvaluation => StageIndex >= 0 && PendingDeployment is null
        && (State.IsProductionStage() || State is ReleaseState.Validating or ReleaseState.Paused or ReleaseState.Halted);

    /// <summary>
    /// On-call answers a decision: <paramref name="decisionId"/> names it (a click on its card always
    /// does); without one, the decision waiting for an answer, or the only held one. A decision id that
    /// is no longer open changes nothing.
    /// </summary>
    public ReleaseChange Decide(Person by, DecisionChoice choice, DateTimeOffset now, string? decisionId = null)
    {
        ArgumentNullException.ThrowIfNull(by);
        var target = decisionId is not null
            ? OpenDecisions.FirstOrDefault(d => string.Equals(d.Id, decisionId, StringComparison.OrdinalIgnoreCase))
            : Decision ?? (HeldDecisions.Count == 1 ? HeldDecisions[0] : null);
        if (target is null)
        {
            if (decisionId is not null)
            {
                var ended = DecisionHistory.LastOrDefault(d => string.Equals(d.Id, decisionId, StringComparison.OrdinalIgnoreCase));
                throw new ReleaseRuleException(ended is null
                    ? $"{Id} has no decision {decisionId}."
                    : $"Decision {ended.Id} of {Id} ({ended.About}) already ended — {ended.Outcome}.");
            }

            if (State is ReleaseState.RollingBack or ReleaseState.RolledBack)
            {
                return Unchanged($"Nothing changed: {Id} is already {State.Display().ToLowerInvariant()} ({Rollback?.Reason}).");
            }

            if (HeldDecisions.Count > 1)
            {
                throw new ReleaseRuleException(
                    $"{Id} has {HeldDecisions.Count} held decisions ({string.Join("; ", HeldDecisions.Select(h => $"{h.Id}: {h.About}"))}): use the buttons on their cards, or `/ship decide {Id} {choice.ToString().ToLowerInvariant()} <decision id>`.");
            }

            throw new ReleaseRuleException($"No decision is pending for {Id}: it is {State.Display()}.");
        }

        var about = target.About;
        var answered = this with
        {
            Decision = Decision?.Id == target.Id ? null : Decision,
            HeldDecisions = HeldDecisions.Where(h => h.Id != target.Id).ToList(),
        };
        switch (choice)
        {
            case DecisionChoice.Rollback:
                var rb = answered.WithDecisionRecord(target, $"rolled back by {by.Mention}", by.Name, now)
                    .BeginRollback($"{by.Mention} decided to roll back: {target.Breach.DescribeBreach()}", by.Name, [target.Breach], now);
                return rb with { Events = [new Decided(Id, by, DecisionChoice.Rollback, target.Id, target.BreachKey), .. rb.Events] };
            case DecisionChoice.Hold:
                if (target.IsHeld)
                {
                    return Unchanged($"Nothing changed: decision {target.Id} ({about}) is already held by @{target.HeldBy}.");
                }

                // The release stays where it is; its stage state is untouched, so continuing needs no resume.
                var held = answered with { HeldDecisions = [.. answered.HeldDecisions, target with { HeldBy = by.Name, HeldAt = now }] };
                return Changed(held,
                    [new Decided(Id, by, DecisionChoice.Hold, target.Id, target.BreachKey)],
                    now,
                    $"Holding {Id} at {target.Stage}: no promotion and no automatic rollback for {Metrics.Label(target.Breach.Metric)} until on-call continues or rolls back.");
            default:
                var cont = answered.WithDecisionRecord(target, $"continue by {by.Mention}", by.Name, now) with
                {
                    AcknowledgedBreaches = [.. AcknowledgedBreaches, target.BreachKey],
                };
                return Changed(cont, [new Decided(Id, by, DecisionChoice.Continue, target.Id, target.BreachKey)], now, "Continuing.");
        }
    }

    /// <summary>The consult waited too long: roll back (a decision nobody makes is not a yes). A held decision never times out.</summary>
    public ReleaseChange DecisionTimedOut(DateTimeOffset now)
    {
        if (Decision is null || Decision.AutoRollbackAt > now)
        {
            return Unchanged("No decision has timed out.");
        }

        var decision = Decision;
        return (this with { Decision = null })
            .WithDecisionRecord(decision, "timed out: nobody answered within the consult window", null, now)
            .BeginRollback($"no decision within the consult window: {decision.Breach.DescribeBreach()}", Actor.System.Id, [decision.Breach], now);
    }

    /// <summary>Starts a rollback (manual with a reason, or automatic with evidence). Needs production traffic.</summary>
    public ReleaseChange BeginRollback(string reason, string by, IReadOnlyList<CheckResult> evidence, DateTimeOffset now)
    {
        if (State is ReleaseState.RollingBack or ReleaseState.RolledBack)
        {
            return Unchanged($"Nothing changed: {Id} is already {State.Display().ToLowerInvariant()} ({Rollback?.Reason}, by @{Rollback?.By}).");
        }

        if (StageIndex < 0 || State.IsTerminal())
        {
            var hint = StageIndex < 0 && !State.IsTerminal() ? " and has no production traffic — abort it instead" : string.Empty;
            throw new ReleaseRuleException($"Cannot roll back {Id}: it is {State.Display()}{hint}.");
        }

        RequireReason(reason, "A rollback");
        var where = Where;
        var next = this with
        {
            State = ReleaseState.RollingBack,
            ResumeState = null,
            PendingDeployment = new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true),
            BakeEndsAt = null,
            RemainingBake = null,
            RemainingValidation = null,
            AwaitingPromotionApproval = false,
            Rollback = new RollbackRecord(reason, by, where, evidence, now),
        };
        return Changed(next, [new RollbackStarted(Id, reason, by, where, evidence)], now, $"Rolling back {Id}.");
    }

    // ---------------------------------------------------------------- pause, halt, resume

    public ReleaseChange Pause(Person by, DateTimeOffset now)
    {
        if (State == ReleaseState.Paused)
        {
            return Unchanged($"Nothing changed: {Id} is already paused.");
        }

        RequireState("pause", ReleaseState.Staging, ReleaseState.Canary, ReleaseState.EarlyAdopters, ReleaseState.GeneralAvailability, ReleaseState.Full, ReleaseState.Validating);
        var next = StopClock(ReleaseState.Paused, now);
        return Changed(next, [new Paused(Id, by, Where)], now, $"Paused {Id}; the promotion clock is stopped.");
    }

    /// <summary>Stops the line for this release (a service halt, a change freeze, a red staging gate).</summary>
    public ReleaseChange Halt(string reason, string by, DateTimeOffset now)
    {
        if (State == ReleaseState.Halted)
        {
            return Unchanged($"Nothing changed: {Id} is already halted ({HaltReason}).");
        }

        RequireState("halt", ReleaseState.Staging, ReleaseState.Canary, ReleaseState.EarlyAdopters, ReleaseState.GeneralAvailability, ReleaseState.Full, ReleaseState.Validating, ReleaseState.Paused);
        var next = StopClock(ReleaseState.Halted, now) with { HaltReason = reason };
        return Changed(next, [new Halted(Id, Where, by, reason)], now, $"Halted {Id}.");
    }

    /// <summary>Restarts the clock of a paused or halted release. A halted service must be unhalted first.</summary>
    public ReleaseChange Resume(Person by, bool serviceHalted, DateTimeOffset now)
    {
        if (ResumeState is null || State is not (ReleaseState.Paused or ReleaseState.Halted))
        {
            if (State.IsProductionStage() || State is ReleaseState.Staging or ReleaseState.Validating)
            {
                return Unchanged($"Nothing changed: {Id} is not paused; it is {State.Display()}.");
            }

            throw new ReleaseRuleException($"Cannot resume {Id}: it is {State.Display()}.");
        }

        if (serviceHalted)
        {
            throw new ReleaseRuleException($"Cannot resume {Id}: {Id.Service} is halted — on-call must unhalt it first.");
        }

        var target = ResumeState.Value;
        var next = this with { State = target, ResumeState = null, HaltReason = null, RemainingBake = null, RemainingValidation = null, InconclusiveStreak = 0 };
        if (target == ReleaseState.Staging && (StagingStep == StagingStep.NotStarted))
        {
            // A red staging gate: resuming runs the whole gate again.
            next = next with { StagingStep = StagingStep.Deploying, PendingDeployment = new DeploymentIntent(DeploymentEnvironment.Staging, 100) };
        }
        else if (target == ReleaseState.Validating)
        {
            next = next with { ValidationEndsAt = now + (RemainingValidation ?? TimeSpan.Zero) };
        }
        else if (RemainingBake is { } left && PendingDeployment is null)
        {
            next = next with { BakeEndsAt = now + left };
        }

        return Changed(next, [new Resumed(Id, by, next.Where)], now, $"Resumed {Id}.");
    }

    // ---------------------------------------------------------------- operating

    public ReleaseChange RecordOutcome(OutcomeReport report, bool lastCheckpoint, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (State != ReleaseState.Operating)
        {
            return Unchanged($"{Id} is not operating.");
        }

        if (Outcomes.Any(o => o.Checkpoint == report.Checkpoint))
        {
            return Unchanged($"Checkpoint {report.Checkpoint} is already reported.");
        }

        var next = this with { Outcomes = [.. Outcomes, report] };
        var events = new List<ReleaseEvent> { new OutcomeRecorded(Id, report) };
        return next.MaybeComplete(lastCheckpoint, events, now);
    }

    [JsonIgnore]
    public IReadOnlyList<string> FlagsToRemove => Contract.Flags.Except(FlagsRemoved, StringComparer.OrdinalIgnoreCase).ToList();

    public ReleaseChange MarkFlagRemoved(Person by, string flag, bool checkpointsDone, DateTimeOffset now)
    {
        var match = Contract.Flags.FirstOrDefault(f => string.Equals(f, flag, StringComparison.OrdinalIgnoreCase))
            ?? throw new ReleaseRuleException($"{Id} has no feature flag '{flag}'. Its flags: {(Contract.Flags.Count == 0 ? "none" : string.Join(", ", Contract.Flags))}.");
        if (FlagsRemoved.Contains(match, StringComparer.OrdinalIgnoreCase))
        {
            return Unchanged($"Nothing changed: flag {match} is already marked removed.");
        }

        if (State is not (ReleaseState.Operating or ReleaseState.Validating or ReleaseState.Full))
        {
            throw new ReleaseRuleException($"Cannot mark flag {match} removed: {Id} is {State.Display()}; flags are cleaned up after full rollout.");
        }

        var next = this with { FlagsRemoved = [.. FlagsRemoved, match] };
        return next.MaybeComplete(checkpointsDone, [new FlagRemoved(Id, by, match)], now);
    }

    /// <summary>Completes an operating release once every checkpoint is reported and nothing is left to remind about.</summary>
    public ReleaseChange CompleteIfDone(bool everythingReported, DateTimeOffset now)
    {
        if (State != ReleaseState.Operating || !everythingReported || FlagsToRemove.Count > 0)
        {
            return Unchanged($"{Id} is not ready to complete.");
        }

        return MaybeComplete(true, [], now);
    }

    private ReleaseChange MaybeComplete(bool checkpointsDone, List<ReleaseEvent> events, DateTimeOffset now)
    {
        if (State == ReleaseState.Operating && checkpointsDone && FlagsToRemove.Count == 0)
        {
            events.Add(new Completed(Id));
            return Changed(this with { State = ReleaseState.Completed }, events, now, $"{Id} completed.");
        }

        return events.Count == 0 ? Unchanged("Nothing to complete.") : Changed(this, events, now, events[^1].Summary);
    }

    // ---------------------------------------------------------------- helpers

    private ReleaseChange StagingFailure(string reason, DateTimeOffset now)
    {
        var next = this with
        {
            State = ReleaseState.Halted,
            ResumeState = ReleaseState.Staging,
            StagingStep = StagingStep.NotStarted,
            PendingDeployment = null,
            BakeEndsAt = null,
            HaltReason = reason,
        };
        return Changed(next, [new StagingFailed(Id, reason)], now, $"{Id} halted: {reason}.");
    }

    private Release StopClock(ReleaseState state, DateTimeOffset now)
    {
        var resume = State is ReleaseState.Paused or ReleaseState.Halted ? ResumeState : State;
        var bakeLeft = RemainingBake;
        var validationLeft = RemainingValidation;
        if (State == ReleaseState.Validating && ValidationEndsAt is { } v)
        {
            validationLeft = v > now ? v - now : TimeSpan.Zero;
        }
        else if (BakeEndsAt is { } end)
        {
            bakeLeft = end > now ? end - now : TimeSpan.Zero;
        }

        return this with { State = state, ResumeState = resume, RemainingBake = bakeLeft, RemainingValidation = validationLeft, BakeEndsAt = null };
    }

    /// <summary>A stored document keeps one stopped clock (<see cref="StoppedClockLeft"/>): a release stopped while validating stopped the validation window.</summary>
    void IJsonOnDeserialized.OnDeserialized()
    {
        if (ResumeState == ReleaseState.Validating && _remainingValidation is null && _remainingBake is { } left)
        {
            _remainingValidation = left;
            _remainingBake = null;
        }
    }

    private IReadOnlyList<StageRecord> CloseHistory(DateTimeOffset now) =>
        History.Count == 0 || History[^1].EndedAt is not null
            ? History
            : [.. History.Take(History.Count - 1), History[^1] with { EndedAt = now }];

    private ReleaseChange AfterChecklistChange(List<ReleaseEvent> events, DateTimeOffset now, string message)
    {
        var next = this;
        if (State == ReleaseState.Draft && !BlockingItems.Any())
        {
            next = this with { State = ReleaseState.AwaitingApproval };
            events.Add(new ReadyForApproval(Id, RequiredApprovals));
            message += " The checklist is complete: waiting for approval.";
        }

        return Changed(next, events, now, message);
    }

    private int IndexOfItem(string itemId)
    {
        for (var i = 0; i < Checklist.Count; i++)
        {
            if (string.Equals(Checklist[i].Id, itemId, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new ReleaseRuleException($"{Id} has no checklist item '{itemId}'. Items: {string.Join(", ", Checklist.Select(c => c.Id))}.");
    }

    private void RequireState(string action, params ReleaseState[] allowed)
    {
        if (!allowed.Contains(State))
        {
            throw new ReleaseRuleException(
                $"Cannot {action} {Id}: it is {State.Display()} (allowed in {string.Join(", ", allowed.Select(s => s.Display()))}).");
        }
    }

    private static void RequireReason(string reason, string what)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ReleaseRuleException($"{what} needs a reason.");
        }
    }

    private ReleaseChange Unchanged(string message) => new(this, [], message) { Modified = false };

    /// <summary>
    /// Every change goes through here: a finished release never changes again; decisions that no
    /// longer apply end (and say why); the card revision moves only for meaningful changes.
    /// </summary>
    private ReleaseChange Changed(Release next, IReadOnlyList<ReleaseEvent> events, DateTimeOffset now, string message)
    {
        if (State.IsTerminal())
        {
            throw new ReleaseRuleException($"{Id} is {ReleaseSituation.Describe(this)}: a finished release never changes again.");
        }

        var all = events.ToList();
        next = next.CloseDecisionsThatNoLongerApply(all, now);
        var meaningful = all.LastOrDefault(IsMeaningful);
        next = next with
        {
            Revision = Revision + 1,
            UpdatedAt = now,
            CardRevision = meaningful is null ? next.CardRevision : CardRevision + 1,
            LastChange = meaningful?.Summary ?? next.LastChange,
        };

        // The aggregate says when the line stops for the whole service, and why: the coordinator stores the halt with the change.
        var halt = all.FirstOrDefault(e => e.HaltsService) is { } stop ? new ServiceHaltRequest(Id.Service, stop.Summary) : null;
        return new(next, all, message) { Modified = true, Halt = halt };
    }

    /// <summary>Whether an event changes what a forward button was shown for. Readings, ticks, partial approvals and confirmed calls do not.</summary>
    private static bool IsMeaningful(ReleaseEvent e) => e.Kind is not (ReleaseEventKind.HealthChanged or ReleaseEventKind.ItemSettled
        or ReleaseEventKind.Approved or ReleaseEventKind.DeploymentSucceeded or ReleaseEventKind.OutcomeRecorded or ReleaseEventKind.FlagRemoved);

    /// <summary>A decision applies while the release is still at the stage it was opened at, with production traffic and not rolling back.</summary>
    private bool StillApplies(PendingDecision d) =>
        !State.IsTerminal() && State is not (ReleaseState.RollingBack or ReleaseState.Operating) && StageIndex >= 0 && Where == d.Stage;

    private Release CloseDecisionsThatNoLongerApply(List<ReleaseEvent> events, DateTimeOffset now)
    {
        var ending = OpenDecisions.Where(d => !StillApplies(d)).ToList();
        if (ending.Count == 0)
        {
            return this;
        }

        var situation = ReleaseSituation.Describe(this with { Decision = null, HeldDecisions = [] });
        var why = $"{Id} is now {situation}";
        var next = this with
        {
            Decision = Decision is { } d && ending.Contains(d) ? null : Decision,
            HeldDecisions = HeldDecisions.Where(h => !ending.Contains(h)).ToList(),
        };
        foreach (var closed in ending)
        {
            next = next.WithDecisionRecord(closed, $"closed: {why}", null, now);
            events.Add(new DecisionClosed(Id, closed.Id, closed.BreachKey, situation));
        }

        return next;
    }

    private Release WithDecisionRecord(PendingDecision decision, string outcome, string? by, DateTimeOffset now) =>
        this with { DecisionHistory = [.. DecisionHistory.TakeLast(49), new DecisionRecord(decision.Id, decision.Breach.Metric, decision.Stage, outcome, by, now)] };

    private bool IsRequester(Person person) => string.Equals(person.Id, Requester.Id, StringComparison.OrdinalIgnoreCase);

    private ManualPromotion ManualPromotionBy(Person by, DateTimeOffset now, string? reason)
    {
        var why = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        var total = State == ReleaseState.Staging ? Plan.StagingBake : CurrentStage?.Bake ?? TimeSpan.Zero;
        var left = BakeEndsAt is { } end && end > now ? end - now : TimeSpan.Zero;
        return new ManualPromotion(by, AwaitingPromotionApproval, left, total, why);
    }
}
