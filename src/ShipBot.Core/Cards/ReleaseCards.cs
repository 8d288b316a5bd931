using System.Globalization;
using System.Text;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Core.Cards;

/// <summary>
/// Renders releases into platform-neutral cards (CARDS.md): one release card updated in place,
/// and separate alert and decision cards that mention on-call. Pure: time comes in as a value.
/// </summary>
public static class ReleaseCards
{
    public static string CardKey(ReleaseId id) => $"card:{id}";

    public static string AlertKey(ReleaseId id, string kind) => $"alert:{id}:{kind}";

    public static Card Release(Release release, ServiceHalt? halt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        var id = release.Id.ToString();
        var blocks = new List<CardBlock>
        {
            new TextBlock(StatusLine(release, halt, now), Emphasis: true),
            new ProgressBlock(Progress(release, now)),
        };

        var facts = new List<CardFact>();
        if (release.LastHealth is { } health && release.StageIndex >= 0)
        {
            facts.Add(new CardFact("Health", $"{HealthIcon(health.Status)} {health.Summary} (as of {Clock(health.At)})"));
        }

        if (release.Kind != Plans.ReleaseKind.Standard)
        {
            facts.Add(new CardFact("Hotfix", $"{(release.Kind == Plans.ReleaseKind.HotfixP0 ? "P0" : "P1")}: {release.HotfixReason}"));
        }

        facts.Add(new CardFact("Changes", release.Contract.Changes.Count == 0 ? "(none listed)" : string.Join("; ", release.Contract.Changes)));
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
            facts.Add(new CardFact("Decision pending", $"{decision.Breach.DescribeBreach()} — auto-rollback at {Clock(decision.AutoRollbackAt)}"));
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

        blocks.Add(new ContextBlock($"Contract: /ship contract {id} · Notes: /ship notes {id} · Audit: /ship status {id} --audit · updated {Clock(release.UpdatedAt)} (v{release.Version})"));

        var approved = release.Approvals.Count > 0 ? $" · approved by {string.Join(", ", release.Approvals.Select(a => a.By.Mention))}" : string.Empty;
        var title = $"{Icon(release)} {id} — {TitleState(release)}";
        return new Card(title, $"requested by {release.Requester.Mention}{approved}", Tone(release), blocks, [], $"{title}: {StatusLine(release, halt, now)}");
    }

    /// <summary>Rollback alert (breach or manual): the trigger with its numbers, what was done, and the halt.</summary>
    public static Card RollbackAlert(Release release, ServicePolicy policy, string? deploymentDetail, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(policy);
        var rb = release.Rollback ?? new RollbackRecord("unknown", "shipbot", release.Where, [], now);
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

    /// <summary>Consult mode (Hō-Ren-Sō): on-call decides roll back now / hold here / continue.</summary>
    public static Card Decision(Release release, ServicePolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(policy);
        var mention = Mention(policy) ?? "on-call";
        if (release.Decision is not { } d)
        {
            return new Card($"🟠 {release.Id}: decision closed", null, CardTone.Neutral, [new TextBlock($"No decision is pending any more; the release is {release.Where}.")], [], $"{release.Id}: decision closed");
        }

        var breach = d.Breach;
        var title = $"🟠 {release.Id} at {d.Stage}: {breach.DescribeBreach()}";
        var waited = now - d.RaisedAt;
        var blocks = new List<CardBlock>
        {
            new TextBlock($"Policy: consult. {mention}, decide:"),
            new ActionsBlock(
            [
                new("decide-rollback", "Roll back now", $"decide {release.Id} rollback", ActionStyle.Danger, $"Roll back {release.Id} now?"),
                new("decide-hold", "Hold here", $"decide {release.Id} hold", ActionStyle.Default),
                new("decide-continue", "Continue", $"decide {release.Id} continue", ActionStyle.Primary),
            ]),
            new ContextBlock($"waiting {Minutes(waited)} · auto-rollback at {Clock(d.AutoRollbackAt)} if no one answers"),
        };
        return new Card(title, null, CardTone.Warning, blocks, policy.OnCall, $"{title}. {mention}, decide: roll back, hold or continue.");
    }

    /// <summary>A closed decision card: what was chosen, by whom.</summary>
    public static Card DecisionClosed(Release release, string summary) =>
        new($"🟠 {release.Id}: decided", null, CardTone.Neutral, [new TextBlock(summary)], [], summary);

    public static Card List(IReadOnlyList<Release> releases, IReadOnlyList<ServiceHalt> halts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(releases);
        var facts = releases.Select(r => new CardFact(r.Id.ToString(), $"{Icon(r)} {TitleState(r)} — {StatusLine(r, null, now)}")).ToList();
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

    internal static string StatusLine(Release r, ServiceHalt? halt, DateTimeOffset now)
    {
        var blocking = r.BlockingItems.ToList();
        return r.State switch
        {
            ReleaseState.Draft => $"Checklist: {blocking.Count} item(s) to settle ({string.Join(", ", blocking.Select(i => i.Id))}), then {r.RequiredApprovals} approval(s).",
            ReleaseState.AwaitingApproval => $"Checklist complete. Waiting for approval ({r.Approvals.Count} of {r.RequiredApprovals}); the requester cannot approve.",
            ReleaseState.Staging => r.StagingStep switch
            {
                StagingStep.Deploying => $"Staging gate: deploying to staging…{Retrying(r)}",
                StagingStep.SmokeChecking => "Staging gate: running smoke checks…",
                _ => $"Staging gate: smoke checks passed, baking {Bake(r, now)}.{Blocked(halt)}",
            },
            _ when r.State.IsProductionStage() => r.PendingDeployment is { } p
                ? $"{r.Where}: applying {p.Describe()}…{Retrying(r)}"
                : r.AwaitingPromotionApproval
                    ? $"{r.Where}: bake done, health green — promotion waits for an approver."
                    : r.Decision is not null
                        ? $"{r.Where}: holding — on-call decides about {Metrics.Label(r.Decision.Breach.Metric)}."
                        : $"{r.Where}: baking {Bake(r, now)}{HoldReason(r, now)}.{Blocked(halt)}",
            ReleaseState.Validating => $"At 100 %: post-deployment validation until {Clock(r.ValidationEndsAt ?? now)}" +
                (r.Checklist.Any(i => i.Id == ChecklistCatalog.UserFacingVerified && !i.IsDone) ? " — needs a human to verify user-facing functionality." : "."),
            ReleaseState.Operating => $"Handed over to operations at {Clock(r.OperatingSince ?? now)}. Outcome checkpoints: {r.Outcomes.Count} reported." +
                (r.FlagsToRemove.Count > 0 ? $" Flags to clean up: {string.Join(", ", r.FlagsToRemove)}." : string.Empty),
            ReleaseState.Completed => "Completed: every outcome checkpoint reported and every flag removed.",
            ReleaseState.Rejected => $"Rejected: {r.Rejection}.",
            ReleaseState.Aborted => "Aborted before production traffic.",
            ReleaseState.RollingBack => $"Rolling back from {r.Rollback?.Stage}: {r.Rollback?.Reason}.{Retrying(r)}",
            ReleaseState.RolledBack => $"Rolled back from {r.Rollback?.Stage}: {r.Rollback?.Reason}. {r.Id.Service} is halted until on-call unhalts it.",
            ReleaseState.Halted => $"Halted at {r.Where}: {r.HaltReason}. Needs a human: resume{(r.StageIndex >= 0 ? ", roll back" : " (re-runs the gate), abort")}." + (halt is not null ? $" ({(halt.IsFreeze ? "change freeze" : halt.Service + " halted")} — unhalt first.)" : string.Empty),
            ReleaseState.Paused => $"Paused at {r.Where} with {Minutes(r.RemainingBake ?? TimeSpan.Zero)} of bake left.",
            _ => r.State.Display(),
        };
    }

    private static string HoldReason(Release r, DateTimeOffset now) =>
        r.BakeEndsAt is { } end && end <= now && !r.IsGreen(r.LastHealth)
            ? $" — holding: health {r.LastHealth?.Status.ToString().ToLowerInvariant() ?? "not read yet"}"
            : string.Empty;

    private static string Blocked(ServiceHalt? halt) =>
        halt is null ? string.Empty : $" Promotion is blocked: {(halt.IsFreeze ? "change freeze" : $"{halt.Service} is halted")} ({halt.Reason}).";

    private static string Retrying(Release r) => r.LastDeploymentError is { } e ? $" (last attempt failed: {e}; retrying)" : string.Empty;

    private static string Bake(Release r, DateTimeOffset now)
    {
        if (r.BakeEndsAt is not { } end)
        {
            return string.Empty;
        }

        var total = r.State == ReleaseState.Staging ? r.Plan.StagingBake : r.CurrentStage?.Bake ?? TimeSpan.Zero;
        var elapsed = total - (end - now);
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        if (elapsed > total)
        {
            elapsed = total;
        }

        return $"{Span(elapsed, total)}, promotes at {Clock(end)}";
    }

    private static IReadOnlyList<StageProgress> Progress(Release r, DateTimeOffset now)
    {
        var failedAt = r.State is ReleaseState.RollingBack or ReleaseState.RolledBack ? r.Rollback?.Stage : null;
        var afterFull = failedAt is "Validating" or "Operating";
        var stages = new List<StageProgress>();
        var stagingStatus = r.StageIndex >= 0 || r.State is ReleaseState.Validating or ReleaseState.Operating or ReleaseState.Completed
            ? StageStatus.Done
            : IsAt(r, ReleaseState.Staging)
                ? (r.State == ReleaseState.Halted ? StageStatus.Failed : StageStatus.Current)
                : StageStatus.Pending;
        stages.Add(new StageProgress("Staging", stagingStatus, stagingStatus == StageStatus.Current ? Bake(r, now) : null));
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
                status = StageStatus.Pending;
            }

            var detail = status == StageStatus.Current && r.BakeEndsAt is not null ? Bake(r, now) : $"{Minutes(s.Bake)}{(s.NeedsApproval ? ", needs approval" : string.Empty)}";
            stages.Add(new StageProgress(s.Label, status, detail));
        }

        var validation = r.State is ReleaseState.Operating or ReleaseState.Completed || failedAt == "Operating"
            ? StageStatus.Done
            : failedAt == "Validating" ? StageStatus.Failed
            : IsAt(r, ReleaseState.Validating) ? StageStatus.Current : StageStatus.Pending;
        stages.Add(new StageProgress("Validation", validation, validation == StageStatus.Current && r.ValidationEndsAt is { } v ? $"until {Clock(v)}" : Minutes(r.Plan.ValidationWindow)));
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
                    actions.Add(new CardAction("check", validationOnly ? "Verified" : "Confirm", $"check {id} {i.Id}", ActionStyle.Primary));
                    if (!i.Floor && !validationOnly)
                    {
                        actions.Add(new CardAction("waive", "Waive…", $"waive {id} {i.Id}", ActionStyle.Default, $"Waive '{i.Label}'? This is recorded.", "Reason for the waiver"));
                    }
                }

                var detail = i.Detail ?? (i.Floor ? "minimum viable production — never waivable" : null);
                return new ChecklistRow(i.Id, i.Label, i.State.ToString().ToLowerInvariant(), detail, i.Floor, actions);
            }).ToList()))
            .ToList();
    }

    private static string ChecklistSummary(Release r)
    {
        var items = r.Checklist.Where(i => i.Group != ChecklistGroup.Validation).ToList();
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
        var rollback = new CardAction("rollback", "Roll back…", $"rollback {id}", ActionStyle.Danger, $"Roll back {id}? Traffic returns to the previous version.", "Reason for the rollback");
        var abort = new CardAction("abort", "Abort…", $"abort {id}", ActionStyle.Danger, $"Abort {id}? It will not reach production.", "Reason for aborting");
        var pause = new CardAction("pause", "Pause", $"pause {id}");
        var resume = new CardAction("resume", "Resume", $"resume {id}", ActionStyle.Primary);
        var actions = new List<CardAction>();
        switch (r.State)
        {
            case ReleaseState.Draft:
            case ReleaseState.AwaitingApproval:
                if (r.State == ReleaseState.AwaitingApproval)
                {
                    actions.Add(new CardAction("approve", "Approve", $"approve {id}", ActionStyle.Primary));
                }

                actions.Add(new CardAction("reject", "Reject…", $"reject {id}", ActionStyle.Danger, $"Reject {id}?", "Reason for the rejection"));
                actions.Add(abort);
                break;
            case ReleaseState.Staging:
                actions.Add(pause);
                actions.Add(abort);
                break;
            case var s when s.IsProductionStage():
                if (r.Decision is null && r.PendingDeployment is null)
                {
                    actions.Add(new CardAction("promote", r.AwaitingPromotionApproval ? "Approve promotion" : "Promote now", $"promote {id}", ActionStyle.Primary));
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
                    actions.Add(new CardAction("flag-removed", $"Flag {flag} removed", $"flag-removed {id} {flag}"));
                }

                actions.Add(rollback);
                break;
        }

        if (r.Decision is not null)
        {
            actions.InsertRange(0,
            [
                new("decide-rollback", "Roll back now", $"decide {id} rollback", ActionStyle.Danger, $"Roll back {id} now?"),
                new("decide-hold", "Hold here", $"decide {id} hold"),
                new("decide-continue", "Continue", $"decide {id} continue", ActionStyle.Primary),
            ]);
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
        _ when r.Decision is not null => CardTone.Warning,
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
