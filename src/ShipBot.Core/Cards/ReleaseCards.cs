using System.Globalization;
using System.Text;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Core.Text;

namespace ShipBot.Core.Cards;

/// <summary>
/// What a release card needs to know beyond the release: who approves its promotions (named when a
/// stage waits for them), and whether a hotfix still owes its post-incident signal.
/// </summary>
public sealed record ReleaseCardContext(IReadOnlyList<string> Approvers, bool OwesIncidentSignal)
{
    /// <summary>Where the sequential judge's evidence chart of the current stage is served, when there is one. Default none.</summary>
    public string? JudgeChartUrl { get; init; }

    public static ReleaseCardContext None { get; } = new([], false);

    /// <summary>What the service's traffic router (or Flagger) last reported, shown as facts; null (the default) shows nothing.</summary>
    public TargetStatus? Router { get; init; }

    /// <summary>The change freeze holding the release's promotions ("Frozen until …"); null when none holds it.</summary>
    public string? Freeze { get; init; }

    /// <summary>How writing the release records goes, shown only when it fails; null when all is well or records are off.</summary>
    public string? Records { get; init; }
}

/// <summary>
/// Renders releases into platform-neutral cards (CARDS.md): one release card updated in place,
/// and separate alert and decision cards that mention on-call. Pure: time comes in as a value.
/// Every button carries its <see cref="ClickBasis"/>, so a click acts only on what the card showed.
/// </summary>
public static partial class ReleaseCards
{
    /// <summary>How many changes the card lists before "and N more" (the contract keeps them all).</summary>
    public const int MaxChangesShown = 5;

    public static string CardKey(ReleaseId id) => $"card:{id}";

    /// <summary>Where a release came from, on one line: "commit 0123456789ab · PRs … · run …".</summary>
    public static string Source(ReleaseProvenance source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parts = new List<string>();
        if (source.ShortCommit is { } commit)
        {
            parts.Add($"commit {commit}");
        }

        if (source.PullRequests.Count > 0)
        {
            parts.Add($"{(source.PullRequests.Count == 1 ? "PR" : "PRs")} {string.Join(", ", source.PullRequests)}");
        }

        if (source.PipelineRun is { } run)
        {
            parts.Add($"run {run}");
        }

        return string.Join(" · ", parts);
    }

    public static string AlertKey(ReleaseId id, string kind) => $"alert:{id}:{kind}";

    public static Card Release(Release release, ServiceHalt? halt, DateTimeOffset now, ReleaseCardContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(release);
        context ??= ReleaseCardContext.None;
        var id = release.Id.ToString();
        var status = StatusLine(release, halt, now, context);
        var blocks = new List<CardBlock>
        {
            new TextBlock(status, Emphasis: true),
            new ProgressBlock(Progress(release, halt, now)),
        };

        var facts = new List<CardFact>();
        if (release.LastHealth is { } health && release.StageIndex >= 0)
        {
            facts.Add(new CardFact("Health", $"{HealthIcon(health.Status)} {health.Summary} (as of {Clock(health.At)})"));
        }

        if (context.Router is { } router)
        {
            facts.AddRange(RouterFacts(router));
        }

        if (release.Kind != Plans.ReleaseKind.Standard)
        {
            facts.Add(new CardFact("Hotfix", $"{(release.Kind == Plans.ReleaseKind.HotfixP0 ? "P0" : "P1")}: {release.HotfixReason}"));
        }

        if (context.Freeze is { } freeze && !release.State.IsTerminal())
        {
            facts.Add(new CardFact("Freeze", freeze));
        }

        if (release.FreezeBypass is { } bypass)
        {
            facts.Add(new CardFact("Freeze bypassed", $"'{bypass.Window}' by @{bypass.By} at {Clock(bypass.At)} (until {Freezes.FreezeSchedule.FormatInstant(bypass.Until, null)}): {bypass.Reason}"));
        }

        if (context.Records is { } records)
        {
            facts.Add(new CardFact("Records", records));
        }

        facts.Add(new CardFact("Changes", Changes(release)));
        if (release.Provenance is { IsEmpty: false } source)
        {
            facts.Add(new CardFact("Source", Source(source)));
        }

        if (release.Contract.Flags.Count > 0)
        {
            facts.Add(new CardFact("Feature flags", string.Join(", ", release.Contract.Flags.Select(f =>
                release.FlagsRemoved.Contains(f, StringComparer.OrdinalIgnoreCase) ? $"{f} (removed)" : f))));
        }

        if (release.Rollback is { } rb)
        {
            facts.Add(new CardFact("Rollback", $"{rb.Reason} — at {rb.Stage}, {Clock(rb.At)}"));
        }

        if (release.Rejection is not null)
        {
            facts.Add(new CardFact("Rejected", release.Rejection));
        }

        if (release.Decision is { } decision)
        {
            facts.Add(new CardFact($"Decision {decision.Id} pending", $"{decision.Breach.DescribeBreach()} — waiting {Minutes(now - decision.RaisedAt)}; auto-rollback at {Clock(decision.AutoRollbackAt)} if no one answers"));
        }

        foreach (var held in release.HeldDecisions)
        {
            facts.Add(new CardFact($"Held ({held.Id})", $"{held.Breach.DescribeBreach()} — held by @{held.HeldBy} since {Clock(held.HeldAt ?? held.RaisedAt)}: no promotion and no automatic rollback for it until on-call continues or rolls back"));
        }

        if (release.Kind != Plans.ReleaseKind.Standard && context.OwesIncidentSignal)
        {
            facts.Add(new CardFact("Post-incident signal", $"still owed — `/ship signal incident {id} <what happened>`"));
        }

        if (release.Handoff.Count > 0)
        {
            facts.Add(new CardFact("Handoff", string.Join(" · ", release.Handoff.Select(h => $"{(h.Met ? "✓" : "✗")} {h.Criterion}"))));
        }

        if (release.Outcomes.Count > 0)
        {
            var last = release.Outcomes[^1];
            facts.Add(new CardFact($"Outcome #{last.Checkpoint}", string.Join("; ", last.Lines)));
        }

        blocks.Add(new FactsBlock(facts));
        blocks.AddRange(JudgeBlocks(release, now, context.JudgeChartUrl));

        if (release.State is ReleaseState.Draft or ReleaseState.AwaitingApproval)
        {
            blocks.Add(new ChecklistBlock(ChecklistSections(release, validationOnly: false)));
        }
        else
        {
            blocks.Add(new TextBlock(ChecklistSummary(release)));
            if (release.State == ReleaseState.Validating)
            {
                blocks.Add(new ChecklistBlock(ChecklistSections(release, validationOnly: true)));
            }
        }

        var actions = Actions(release, halt);
        if (actions.Count > 0)
        {
            blocks.Add(new ActionsBlock(actions));
        }

        // The revision shown is the card's (meaningful changes), so a quiet health reading does not bump it.
        blocks.Add(new ContextBlock($"Contract: /ship contract {id} · Notes: /ship notes {id} · Audit: /ship status {id} --audit · updated {Clock(release.UpdatedAt)} (rev {release.CardRevision})"));

        var approved = release.Approvals.Count > 0 ? $" · approved by {string.Join(", ", release.Approvals.Select(a => a.By.Mention))}" : string.Empty;
        var title = $"{Icon(release)} {id} — {TitleState(release)}";
        IReadOnlyList<string> mentions = release.AwaitingPromotionApproval && release.State.IsProductionStage() ? context.Approvers : [];
        return new Card(title, $"requested by {release.Requester.Mention}{approved}", Tone(release), blocks, mentions, $"{title}: {status}");
    }

    /// <summary>
    /// The sequential judge's explanation of the current stage, while the release is there: the
    /// stage's verdict, one line per metric (rates with their counts, the ratio's lower bound against
    /// the harm line, the difference's upper bound against the margin, the metric's verdict) and,
    /// when one is published, the evidence chart.
    /// </summary>
    internal static IEnumerable<CardBlock> JudgeBlocks(Release release, DateTimeOffset now, string? chartUrl)
    {
        if (release.Judge is not { } judge || !release.JudgesCurrentStage(judge) || release.State.IsTerminal())
        {
            yield break;
        }

        var result = Judging.SequentialJudge.Explain(judge, judge.LastLookAt ?? now);
        var verdict = result.Verdict switch
        {
            Judging.JudgeVerdict.Harm => "harm",
            Judging.JudgeVerdict.Safe => judge.EarlyPromotion ? "safe: promotes before the bake ends" : "safe (early promotion is off)",
            Judging.JudgeVerdict.NoData => "no data: inconclusive, never a pass",
            _ => "continue: keep watching",
        };
        var lines = string.Join("\n", result.Metrics.Select(m => $"• {m.Describe()} ({(m.Confidence * 100).ToString("0.##", CultureInfo.InvariantCulture)} % confidence)"));
        yield return new TextBlock($"**Sequential judge at {release.Where}**: {verdict} · {judge.Looks} looks over {Minutes(result.Elapsed)}\n{lines}");
        if (chartUrl is not null)
        {
            yield return new ImageBlock(chartUrl, $"Evidence at {release.Where}: canary against baseline per metric over the stage, with the harm and safe lines. {string.Join(" ", result.Metrics.Select(m => $"{m.Metric}: {m.Verdict}."))}");
        }
    }

    /// <summary>A stage waits for an approver: names them, with the button (the requester cannot approve it).</summary>
    public static Card PromotionWaits(Release release, IReadOnlyList<string> approvers)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(approvers);
        var who = approvers.Count == 0 ? "an approver" : string.Join(", ", approvers.Select(MentionOf));
        var title = $"⏳ {release.Id}: promotion out of {release.Where} waits for {who}";
        var text = $"The {release.Where} bake is done and health is green. {who}: approve the promotion on the release card or here; {release.Requester.Mention} requested it and cannot.";
        var approve = new CardAction("promote", "Approve promotion", $"promote {release.Id}", ActionStyle.Primary, $"Approve the promotion of {release.Id} out of {release.Where}?")
        {
            Basis = ClickBasis.Revision(release).Token,
        };
        return new Card(title, null, CardTone.Info, [new TextBlock(text), new ActionsBlock([approve])], approvers, $"{title}.");
    }

    /// <summary>Rollback alert (breach or manual): the trigger with its numbers, what was done, and the halt.</summary>
    public static Card RollbackAlert(Release release, ServicePolicy policy, string? deploymentDetail, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(policy);
        var rb = release.Rollback ?? new RollbackRecord("unknown", Actor.System.Id, release.Where, [], now);
        var done = release.State == ReleaseState.RolledBack;
        var mention = Mention(policy);
        var title = $"🔴 {(done ? "Rolled back" : "Rolling back")} {release.Id} at {rb.Stage}{(mention is null ? string.Empty : $" — {mention}")}";
        var facts = new List<CardFact>();
        if (rb.Evidence.Count > 0)
        {
            foreach (var e in rb.Evidence)
            {
                var baseline = e.Baseline is { } b ? $", baseline {Metrics.Format(e.Metric, b)}" : string.Empty;
                facts.Add(new CardFact("Trigger", $"{e.DescribeBreach()}{baseline} ({e.Source}, {Clock(rb.At)})"));
            }
        }
        else
        {
            facts.Add(new CardFact("Reason", $"{rb.Reason} (by @{rb.By}, {Clock(rb.At)})"));
        }

        if (release.Judge is { Verdict: Judging.JudgeVerdict.Harm } judge)
        {
            var judged = Judging.SequentialJudge.Explain(judge, judge.LastLookAt ?? now);
            foreach (var m in judged.Harmed)
            {
                facts.Add(new CardFact("Sequential judge", $"{m.DescribeHarm()} — {m.Describe()}"));
            }
        }

        var action = done
            ? $"rolled back: {deploymentDetail ?? "done"}"
            : release.LastDeploymentError is { } err ? $"rollback call failed, retrying: {err}" : "rollback call issued";
        facts.Add(new CardFact("Action", $"{action}; {release.Id.Service} is halted until on-call unhalts it"));
        if (policy.Runbook is not null)
        {
            facts.Add(new CardFact("Runbook", policy.Runbook));
        }

        var actions = new List<CardAction>
        {
            new("unhalt", "Unhalt…", $"unhalt {release.Id.Service}", ActionStyle.Default, $"Unhalt {release.Id.Service}? New releases and promotions will be allowed again.", "Why is it safe to unhalt?"),
            new("signal", "Record incident signal", $"signal incident {release.Id}", ActionStyle.Default, null, "What happened?"),
        };
        return new Card(title, null, CardTone.Danger, [new FactsBlock(facts), new ActionsBlock(actions)], policy.OnCall, $"{title}: {rb.Reason}");
    }

    /// <summary>The line is stopped: a red staging gate, a service halt or a change freeze.</summary>
    public static Card HaltAlert(string subject, string reason, ServicePolicy? policy, IReadOnlyList<CardAction> actions)
    {
        var mention = policy is null ? null : Mention(policy);
        var title = $"⛔ {subject} halted{(mention is null ? string.Empty : $" — {mention}")}";
        return new Card(title, null, CardTone.Danger, [new TextBlock(reason), new ActionsBlock(actions)], policy?.OnCall ?? [], $"{title}: {reason}");
    }

    /// <summary>The approvers' call to action once the release no longer waits for them: no live button, and what happened.</summary>
    public static Card PromotionSettled(Release waited, Release now)
    {
        ArgumentNullException.ThrowIfNull(waited);
        ArgumentNullException.ThrowIfNull(now);
        var title = $"⏳ {now.Id}: promotion out of {waited.Where} — no longer waiting";
        var text = $"{now.Id} is now {ReleaseSituation.Describe(now)}{(now.LastChange is { } last ? $" ({last})" : string.Empty)}.";
        return new Card(title, null, CardTone.Neutral, [new TextBlock(text)], [], $"{title}: {text}");
    }

    /// <summary>Consult mode (Hō-Ren-Sō): on-call decides roll back now / hold here / continue about one breach.</summary>
    public static Card Decision(Release release, ServicePolicy policy, DateTimeOffset now) =>
        release?.Decision is { } d ? Decision(release, d, policy, now) : DecisionGone(release!);

    /// <summary>
    /// The card of one decision. Its buttons carry the decision's id, so a late click can never answer
    /// a later breach. A held decision offers Roll back now and Continue, and never times out.
    /// </summary>
    public static Card Decision(Release release, PendingDecision d, ServicePolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(policy);
        var mention = Mention(policy) ?? "on-call";
        var breach = d.Breach;
        var title = $"🟠 {release.Id} at {d.Stage}: {breach.DescribeBreach()}";
        var actions = DecisionActions(release, d, labelled: false);
        if (d.IsHeld)
        {
            var heldFor = now - (d.HeldAt ?? d.RaisedAt);
            return new Card(title, $"decision {d.Id}", CardTone.Warning,
            [
                new TextBlock($"Held by @{d.HeldBy}: {release.Id} stays at {d.Stage} — no promotion and no automatic rollback for {Metrics.Label(breach.Metric)} until on-call continues or rolls back."),
                new ActionsBlock(actions),
                new ContextBlock($"held {Minutes(heldFor)} (since {Clock(d.HeldAt ?? d.RaisedAt)}) · raised {Clock(d.RaisedAt)}"),
            ], [], $"{title}: held by @{d.HeldBy}.");
        }

        var left = d.AutoRollbackAt - now;
        var blocks = new List<CardBlock>
        {
            new TextBlock($"Policy: consult. {mention}, decide:"),
            new ActionsBlock(actions),
            new ContextBlock($"waiting {Minutes(now - d.RaisedAt)} · auto-rollback at {Clock(d.AutoRollbackAt)}{(left > TimeSpan.Zero ? $" (in {Minutes(left)})" : string.Empty)} if no one answers"),
        };
        return new Card(title, $"decision {d.Id}", CardTone.Warning, blocks, policy.OnCall, $"{title}. {mention}, decide: roll back, hold or continue.");
    }

    /// <summary>A decision that ended: what happened and why, without buttons.</summary>
    public static Card DecisionClosed(Release release, DecisionRecord record)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(record);
        var answered = record.By is not null;
        var title = $"🟠 {release.Id}: decision {record.Id} {(answered ? "decided" : "closed")} — {record.About}";
        var text = $"{record.About}: {record.Outcome} ({Clock(record.At)}).";
        return new Card(title, null, CardTone.Neutral, [new TextBlock(text)], [], $"{title}: {record.Outcome}");
    }

    /// <summary>A closed decision card: what was chosen, by whom.</summary>
    public static Card DecisionClosed(Release release, string summary) =>
        new($"🟠 {release.Id}: decided", null, CardTone.Neutral, [new TextBlock(summary)], [], summary);

    private static Card DecisionGone(Release release) =>
        new($"🟠 {release.Id}: decision closed", null, CardTone.Neutral, [new TextBlock($"No decision is pending any more; the release is {ReleaseSituation.Describe(release)}.")], [], $"{release.Id}: decision closed");

    private static List<CardAction> DecisionActions(Release release, PendingDecision d, bool labelled)
    {
        var id = release.Id.ToString();
        var basis = ClickBasis.Decision(d).Token;
        var suffix = labelled ? $" ({Metrics.Label(d.Breach.Metric)})" : string.Empty;
        var actions = new List<CardAction>
        {
            new("decide-rollback", $"Roll back now{suffix}", $"decide {id} rollback {d.Id}", ActionStyle.Danger, $"Roll back {id} now ({d.About})?") { Basis = basis },
        };
        if (!d.IsHeld)
        {
            actions.Add(new("decide-hold", $"Hold here{suffix}", $"decide {id} hold {d.Id}") { Basis = basis });
        }

        actions.Add(new("decide-continue", $"Continue{suffix}", $"decide {id} continue {d.Id}", ActionStyle.Primary) { Basis = basis });
        return actions;
    }

    public static Card List(IReadOnlyList<Release> releases, IReadOnlyList<ServiceHalt> halts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(releases);
        var facts = releases.Select(r => new CardFact(r.Id.ToString(), $"{Icon(r)} {TitleState(r)} — {StatusLine(r, null, now, ReleaseCardContext.None)}")).ToList();
        var blocks = new List<CardBlock>();
        blocks.Add(facts.Count == 0 ? new TextBlock("No active releases.") : new FactsBlock(facts));
        if (halts.Count > 0)
        {
            blocks.Add(new TextBlock(string.Join("\n", halts.Select(h => $"⛔ {(h.IsFreeze ? "change freeze (every service)" : h.Service)} halted by @{h.By} at {Clock(h.At)}: {h.Reason}"))));
        }

        var title = $"📋 Active releases ({releases.Count})";
        return new Card(title, null, CardTone.Neutral, blocks, [], $"{title}: {string.Join(", ", releases.Select(r => $"{r.Id} {r.State.Display()}"))}");
    }

    public static Card Audit(Release release, IReadOnlyList<AuditEntry> audit)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var lines = audit.TakeLast(40).Select(a => $"{Clock(a.At)} @{a.Actor} {a.Action}: {a.Detail}");
        var more = audit.Count > 40 ? $"(last 40 of {audit.Count}; the API has all: GET /api/releases/{release.Id})\n" : string.Empty;
        return new Card($"🧾 Audit trail of {release.Id}", null, CardTone.Neutral, [new TextBlock(more + string.Join("\n", lines))], [], $"Audit trail of {release.Id}");
    }

    // ---------------------------------------------------------------- parts

    /// <summary>The card's first line: where the release is and what it waits for. It never repeats the title.</summary>
    internal static string StatusLine(Release r, ServiceHalt? halt, DateTimeOffset now, ReleaseCardContext context)
    {
        var blocking = r.BlockingItems.ToList();
        return r.State switch
        {
            ReleaseState.Draft => $"Checklist {r.Checklist.Count(i => i.IsDone)}/{r.Checklist.Count}: {blocking.Count} item(s) to settle ({string.Join(", ", blocking.Select(i => i.Id))}), then {r.RequiredApprovals} approval(s).",
            ReleaseState.AwaitingApproval => $"Checklist complete. Waiting for approval ({r.Approvals.Count} of {r.RequiredApprovals}) from {Approvers(context)}; the requester cannot approve.",
            ReleaseState.Staging => r.StagingStep switch
            {
                StagingStep.Deploying => $"Staging gate: deploying to staging…{Retrying(r)}",
                StagingStep.SmokeChecking => "Staging gate: running smoke checks…",
                _ => $"Staging gate: smoke checks passed, {Baking(r, now)} {Bake(r, halt, now)}.{Blocked(halt)}",
            },
            _ when r.State.IsProductionStage() => r.PendingDeployment is { } p
                ? $"{r.Where}: applying {p.Describe()}…{Retrying(r)}"
                : r.Decision is { } d
                    ? $"{r.Where}: holding — decision {d.Id} about {d.About} waits for on-call ({Minutes(now - d.RaisedAt)} so far; auto-rollback at {Clock(d.AutoRollbackAt)})."
                    : r.HeldDecisions.FirstOrDefault() is { } h
                        ? $"{r.Where}: held by @{h.HeldBy} on {Metrics.Label(h.Breach.Metric)} — no promotion until on-call continues or rolls back."
                        : r.AwaitingPromotionApproval
                            ? $"{r.Where}: bake done, health green — the promotion waits for {Approvers(context)} (not the requester).{Blocked(halt)}"
                            : $"{r.Where}: {Baking(r, now)} {Bake(r, halt, now)}{HoldReason(r, now)}.{Blocked(halt)}",
            ReleaseState.Validating => Validation(r, now),
            ReleaseState.Operating => $"Handed over to operations at {Clock(r.OperatingSince ?? now)}. Outcome checkpoints: {r.Outcomes.Count} reported." +
                (r.FlagsToRemove.Count > 0 ? $" Flags to clean up: {string.Join(", ", r.FlagsToRemove)}." : string.Empty),
            ReleaseState.Completed => "Every outcome checkpoint reported and every flag removed.",
            ReleaseState.Rejected => $"The contract was not approved: {r.Rejection}.",
            ReleaseState.Aborted => $"Abandoned before production traffic{(r.AbortReason is { } why ? $": {why}" : string.Empty)}.",
            ReleaseState.RollingBack => $"Traffic is going back to the previous version.{Retrying(r)}",
            ReleaseState.RolledBack => $"Traffic is back on the previous version. {r.Id.Service} is halted until on-call unhalts it.",
            ReleaseState.Halted => $"Stopped: {r.HaltReason}. Needs a human: resume{(r.StageIndex >= 0 ? ", roll back" : " (re-runs the gate), abort")}." + (halt is not null ? $" ({(halt.IsFreeze ? "change freeze" : halt.Service + " halted")} — unhalt first.)" : string.Empty),
            ReleaseState.Paused => r.ResumeState == ReleaseState.Validating
                ? $"The validation clock is stopped with {Minutes(r.RemainingValidation ?? TimeSpan.Zero)} of the window left; resume when ready."
                : $"The promotion clock is stopped with {Minutes(r.RemainingBake ?? TimeSpan.Zero)} of bake left; resume when ready.",
            _ => r.State.Display(),
        };
    }

    private static string Validation(Release r, DateTimeOffset now)
    {
        var ufvPending = r.Checklist.Any(i => i.Id == ChecklistCatalog.UserFacingVerified && !i.IsDone);
        if (r.ValidationEndsAt is { } end && end > now)
        {
            return $"At 100 %: post-deployment validation until {Clock(end)}" + (ufvPending ? " — needs a human to verify user-facing functionality." : ".");
        }

        // The window is over: say what the handover still waits for, never a time in the past as if it were ahead.
        var waits = new List<string>();
        if (ufvPending)
        {
            waits.Add("a human to verify user-facing functionality");
        }

        if (r.OpenDecisions.FirstOrDefault() is { } d)
        {
            waits.Add($"on-call's decision {d.Id} about {d.About}");
        }

        if (!r.IsGreen(r.LastHealth))
        {
            waits.Add($"green health (now {r.LastHealth?.Status.ToString().ToLowerInvariant() ?? "not read yet"})");
        }

        return waits.Count == 0
            ? "At 100 %: validation window over — handing over to operations…"
            : $"At 100 %: validation window over{(r.ValidationEndsAt is { } ended ? $" at {Clock(ended)}" : string.Empty)}; the handover waits for {string.Join(" and ", waits)}.";
    }

    private static string Approvers(ReleaseCardContext context) =>
        context.Approvers.Count == 0 ? "an approver" : string.Join(", ", context.Approvers.Select(MentionOf));

    private static string MentionOf(string entry) => entry.StartsWith("group:", StringComparison.Ordinal) ? $"@{entry[6..]}" : $"@{entry}";

    private static string Changes(Release r)
    {
        var changes = r.Contract.Changes;
        if (changes.Count == 0)
        {
            return "(none listed)";
        }

        return changes.Count <= MaxChangesShown
            ? string.Join("; ", changes)
            : $"{string.Join("; ", changes.Take(MaxChangesShown))} and {changes.Count - MaxChangesShown} more (all of them: /ship contract {r.Id})";
    }

    private static string Baking(Release r, DateTimeOffset now) => r.BakeEndsAt is { } end && end <= now ? "bake" : "baking";

    private static string HoldReason(Release r, DateTimeOffset now) =>
        r.BakeEndsAt is { } end && end <= now && !r.IsGreen(r.LastHealth)
            ? $" — holding: health {r.LastHealth?.Status.ToString().ToLowerInvariant() ?? "not read yet"}"
            : string.Empty;

    private static string Blocked(ServiceHalt? halt) =>
        halt is null ? string.Empty : $" Promotion is blocked: {(halt.IsFreeze ? "change freeze" : $"{halt.Service} is halted")} ({halt.Reason}).";

    private static string Retrying(Release r) => r.LastDeploymentError is { } e ? $" (last attempt failed: {e}; retrying)" : string.Empty;

    /// <summary>"3 of 10 s, promotes at 09:00:10 UTC"; once the bake is over, when it ended (never a promotion time in the past).</summary>
    private static string Bake(Release r, ServiceHalt? halt, DateTimeOffset now)
    {
        if (r.BakeEndsAt is not { } end)
        {
            return string.Empty;
        }

        var total = r.State == ReleaseState.Staging ? r.Plan.StagingBake : r.CurrentStage?.Bake ?? TimeSpan.Zero;
        if (end <= now)
        {
            return $"done at {Clock(end)}";
        }

        var elapsed = total - (end - now);
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        var next = halt is not null
            ? $"bake ends at {Clock(end)}"
            : r.OpenDecisions.Any()
                ? $"bake ends at {Clock(end)}; the promotion waits for on-call's decision"
            : r.State.IsProductionStage() && r.CurrentStage is { NeedsApproval: true }
                ? $"bake ends at {Clock(end)}, then an approver promotes"
                : $"promotes at {Clock(end)} if health is green";
        return $"{Span(elapsed, total)}, {next}";
    }

    private static IReadOnlyList<StageProgress> Progress(Release r, ServiceHalt? halt, DateTimeOffset now)
    {
        var failedAt = r.State is ReleaseState.RollingBack or ReleaseState.RolledBack ? r.Rollback?.Stage : null;
        var afterFull = failedAt is "Validating" or "Operating";
        var stages = new List<StageProgress>();
        var stagingStatus = r.StageIndex >= 0 || r.State is ReleaseState.Validating or ReleaseState.Operating or ReleaseState.Completed
            ? StageStatus.Done
            : IsAt(r, ReleaseState.Staging)
                ? (r.State == ReleaseState.Halted ? StageStatus.Failed : StageStatus.Current)
                : r.State.IsTerminal() ? StageStatus.Skipped : StageStatus.Pending;
        stages.Add(new StageProgress("Staging", stagingStatus, stagingStatus == StageStatus.Current ? Bake(r, halt, now) : null));
        var finished = r.State is ReleaseState.Validating or ReleaseState.Operating or ReleaseState.Completed || IsAt(r, ReleaseState.Validating) || afterFull;
        for (var i = 0; i < r.Plan.Stages.Count; i++)
        {
            var s = r.Plan.Stages[i];
            StageStatus status;
            if (failedAt == s.Label)
            {
                status = StageStatus.Failed;
            }
            else if (finished || i < r.StageIndex)
            {
                status = StageStatus.Done;
            }
            else if (i == r.StageIndex && !r.State.IsTerminal() && r.State != ReleaseState.RollingBack)
            {
                status = StageStatus.Current;
            }
            else
            {
                // A finished release never reaches the rest of its plan: those stages are skipped, not pending.
                status = r.State.IsTerminal() ? StageStatus.Skipped : StageStatus.Pending;
            }

            var detail = status == StageStatus.Current && r.BakeEndsAt is not null ? Bake(r, halt, now) : $"{Minutes(s.Bake)}{(s.NeedsApproval ? ", needs approval" : string.Empty)}";
            stages.Add(new StageProgress(s.Label, status, detail));
        }

        var validation = r.State is ReleaseState.Operating or ReleaseState.Completed || failedAt == "Operating"
            ? StageStatus.Done
            : failedAt == "Validating" ? StageStatus.Failed
            : IsAt(r, ReleaseState.Validating) ? StageStatus.Current
            : r.State.IsTerminal() ? StageStatus.Skipped : StageStatus.Pending;
        var validationDetail = validation == StageStatus.Current && r.ValidationEndsAt is { } v
            ? (v > now ? $"until {Clock(v)}" : $"window over at {Clock(v)}")
            : Minutes(r.Plan.ValidationWindow);
        stages.Add(new StageProgress("Validation", validation, validationDetail));
        return stages;
    }

    private static bool IsAt(Release r, ReleaseState state) =>
        r.State == state || (r.State is ReleaseState.Paused or ReleaseState.Halted && r.ResumeState == state);

    private static IReadOnlyList<ChecklistSection> ChecklistSections(Release r, bool validationOnly)
    {
        var id = r.Id.ToString();
        var editable = r.State is ReleaseState.Draft or ReleaseState.AwaitingApproval;
        return r.Checklist
            .Where(i => validationOnly ? i.Group == ChecklistGroup.Validation : i.Group != ChecklistGroup.Validation)
            .GroupBy(i => i.Group == ChecklistGroup.PreDeployment || i.Group == ChecklistGroup.Validation ? ChecklistCatalog.GroupTitle(i.Group) : "Ship checklist")
            .Select(g => new ChecklistSection(g.Key, g.Select(i =>
            {
                var actions = new List<CardAction>();
                var canAct = validationOnly ? r.State == ReleaseState.Validating : editable;
                if (canAct && !i.IsDone && i.SettledBy == ItemSettledBy.Human)
                {
                    // An item's buttons carry the item and its state, so ticking several rows of one card in a row works.
                    var basis = ClickBasis.Item(i).Token;
                    actions.Add(new CardAction("check", validationOnly ? "Verified" : "Confirm", $"check {id} {i.Id}", ActionStyle.Primary) { Basis = basis });
                    if (!i.Floor && !i.Mandatory && !validationOnly)
                    {
                        actions.Add(new CardAction("waive", "Waive…", $"waive {id} {i.Id}", ActionStyle.Default, $"Waive '{i.Label}'? This is recorded.", "Reason for the waiver") { Basis = basis });
                    }
                }

                var detail = i.Detail ?? (i.Floor ? "minimum viable production — never waivable" : i.Mandatory ? "mandatory security item on a hotfix — not waivable" : null);
                return new ChecklistRow(i.Id, i.Label, i.State.ToString().ToLowerInvariant(), detail, i.Floor, actions) { Mandatory = i.Mandatory };
            }).ToList()))
            .ToList();
    }

    /// <summary>"Checklist 15/16 …": every item counts, the validation item included.</summary>
    private static string ChecklistSummary(Release r)
    {
        var items = r.Checklist;
        var done = items.Count(i => i.IsDone);
        var waived = items.Where(i => i.State == ChecklistItemState.Waived).ToList();
        var text = new StringBuilder($"Checklist {done}/{items.Count} {(done == items.Count ? "✓" : "…")}");
        if (waived.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" — {waived.Count} waived: {string.Join("; ", waived.Select(w => $"{w.Label} {w.Detail}"))}");
        }

        return text.ToString();
    }

    private static List<CardAction> Actions(Release r, ServiceHalt? halt)
    {
        var id = r.Id.ToString();

        // Every button of the release must find it exactly as shown (quiet readings and ticks do not count).
        var basis = ClickBasis.Revision(r).Token;
        var rollback = new CardAction("rollback", "Roll back…", $"rollback {id}", ActionStyle.Danger, $"Roll back {id}? Traffic returns to the previous version.", "Reason for the rollback") { Basis = basis };
        var abort = new CardAction("abort", "Abort…", $"abort {id}", ActionStyle.Danger, $"Abort {id}? It will not reach production.", "Reason for aborting") { Basis = basis };
        var pause = new CardAction("pause", "Pause", $"pause {id}") { Basis = basis };
        var resume = new CardAction("resume", "Resume", $"resume {id}", ActionStyle.Primary) { Basis = basis };
        var actions = new List<CardAction>();
        switch (r.State)
        {
            case ReleaseState.Draft:
            case ReleaseState.AwaitingApproval:
                if (r.State == ReleaseState.AwaitingApproval)
                {
                    actions.Add(new CardAction("approve", "Approve", $"approve {id}", ActionStyle.Primary) { Basis = basis });
                }

                actions.Add(new CardAction("reject", "Reject…", $"reject {id}", ActionStyle.Danger, $"Reject {id}?", "Reason for the rejection") { Basis = basis });
                actions.Add(abort);
                break;
            case ReleaseState.Staging:
                actions.Add(pause);
                actions.Add(abort);
                break;
            case var s when s.IsProductionStage():
                if (!r.OpenDecisions.Any() && r.PendingDeployment is null)
                {
                    actions.Add(r.AwaitingPromotionApproval
                        ? new CardAction("promote", "Approve promotion", $"promote {id}", ActionStyle.Primary, $"Approve the promotion of {id} out of {r.Where}?") { Basis = basis }
                        : new CardAction("promote", "Promote now", $"promote {id}", ActionStyle.Primary, $"Promote {id} now, skipping the rest of the {r.Where} bake? This is recorded.", "Why promote early?") { Basis = basis });
                }

                actions.Add(pause);
                actions.Add(rollback);
                break;
            case ReleaseState.Validating:
                actions.Add(pause);
                actions.Add(rollback);
                break;
            case ReleaseState.Paused:
            case ReleaseState.Halted:
                if (halt is null)
                {
                    actions.Add(resume);
                }

                actions.Add(r.StageIndex >= 0 ? rollback : abort);
                break;
            case ReleaseState.Operating:
                foreach (var flag in r.FlagsToRemove)
                {
                    actions.Add(new CardAction("flag-removed", $"Flag {flag} removed", $"flag-removed {id} {flag}") { Basis = basis });
                }

                actions.Add(rollback);
                break;
        }

        var open = r.OpenDecisions.ToList();
        if (open.Count > 0)
        {
            actions.InsertRange(0, open.SelectMany(d => DecisionActions(r, d, labelled: open.Count > 1)));
            actions.RemoveAll(a => a.Id == "rollback");
        }

        return actions;
    }

    private static string Icon(Release r) => r.State switch
    {
        ReleaseState.Draft => "📝",
        ReleaseState.AwaitingApproval => "⏳",
        ReleaseState.Staging => "🧪",
        ReleaseState.Validating => "🔎",
        ReleaseState.Operating or ReleaseState.Completed => "✅",
        ReleaseState.RollingBack or ReleaseState.RolledBack => "⏪",
        ReleaseState.Halted => "⛔",
        ReleaseState.Paused => "⏸",
        ReleaseState.Rejected or ReleaseState.Aborted => "✖",
        _ => "🚀",
    };

    private static string TitleState(Release r) => r.State switch
    {
        ReleaseState.Paused or ReleaseState.Halted => $"{r.State.Display()} at {r.Where}",
        ReleaseState.RollingBack or ReleaseState.RolledBack => $"{r.State.Display()} from {r.Rollback?.Stage}",
        _ when r.State.IsProductionStage() => r.Where,
        _ => r.State.Display(),
    };

    private static CardTone Tone(Release r) => r.State switch
    {
        ReleaseState.RollingBack or ReleaseState.RolledBack or ReleaseState.Halted or ReleaseState.Rejected => CardTone.Danger,
        ReleaseState.Paused => CardTone.Warning,
        _ when r.OpenDecisions.Any() => CardTone.Warning,
        ReleaseState.Operating or ReleaseState.Completed => CardTone.Success,
        ReleaseState.Aborted => CardTone.Neutral,
        _ => CardTone.Info,
    };

    private static string HealthIcon(HealthStatus s) => s switch
    {
        HealthStatus.Healthy => "🟢",
        HealthStatus.Breached => "🔴",
        _ => "⚪",
    };

    public static string? Mention(ServicePolicy policy) =>
        policy.OnCallMention is { } m ? (m.StartsWith("group:", StringComparison.Ordinal) ? $"@{m[6..]}" : $"@{m}") : null;

    /// <summary>
    /// The router's report as card facts: a heading naming the router, what was read and when, then
    /// each fact as the router stated it ("Weights: canary 25 % · stable 75 %").
    /// </summary>
    public static IReadOnlyList<CardFact> RouterFacts(TargetStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var facts = new List<CardFact> { new(status.Router, $"{status.Resource} (as of {Clock(status.At)})".TrimStart()) };
        facts.AddRange(status.Facts.Select(f => new CardFact(Capitalized(f.Label), f.Value)));
        return facts;
    }

    /// <summary>"weights" → "Weights"; a name ("new1", "be/srv") is left as the router spelled it.</summary>
    private static string Capitalized(string label)
    {
        var firstWord = label.Split(' ', 2)[0];
        return firstWord.Length > 0 && firstWord.All(char.IsLetter) ? char.ToUpperInvariant(label[0]) + label[1..] : label;
    }

    public static string Clock(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    private static string Span(TimeSpan elapsed, TimeSpan total) =>
        total < TimeSpan.FromMinutes(2)
            ? $"{(int)elapsed.TotalSeconds} of {(int)total.TotalSeconds} s"
            : total < TimeSpan.FromHours(2)
                ? $"{(int)elapsed.TotalMinutes} of {(int)total.TotalMinutes} min"
                : $"{elapsed.TotalHours:0.#} of {total.TotalHours:0.#} h";

    internal static string Minutes(TimeSpan t) =>
        t < TimeSpan.FromMinutes(2) ? $"{(int)t.TotalSeconds} s" : t < TimeSpan.FromHours(2) ? $"{(int)t.TotalMinutes} min" : $"{t.TotalHours:0.#} h";
}
