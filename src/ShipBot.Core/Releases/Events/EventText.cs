using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Settings;
using ShipBot.Core.Text;

namespace ShipBot.Core.Releases.Events;

/// <summary>
/// Events in words: the one place their English lives. The audit trail keeps this text, replies to
/// stale clicks quote it and the cards show it, so a wording change here is a change everyone sees.
/// </summary>
public static class EventText
{
    public static string Render(ReleaseEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e switch
        {
            Created c => $"{c.By.Mention} started {What(c.ReleaseKind)} {c.Release}",
            ItemSettled i => Settled(i),
            ReadyForApproval r => $"{r.Release} checklist complete; awaiting {r.RequiredApprovals} approval(s)",
            Approved a => $"{a.By.Mention} approved {a.Release} ({a.Count} of {a.Required})",
            Rejected r => $"{r.By.Mention} rejected {r.Release}: {r.Reason}",
            Aborted a => $"{a.By.Mention} aborted {a.Release}: {a.Reason}",
            StagingStarted s => $"{s.Release} enters the staging gate",
            DeploymentSucceeded d => $"{d.Release} deployed to {d.Intent.Describe()}: {d.Detail}",
            DeploymentFailed d => d.Intent.IsRollback
                ? $"rollback of {d.Release} failed: {d.Detail}"
                : $"deployment of {d.Release} to {d.Intent.Describe()} failed: {d.Detail}",
            SmokeChecksPassed s => $"staging smoke checks passed: {s.Detail}",
            StagingFailed s => $"{s.Release} halted at the staging gate: {s.Reason}",
            Promoted p => p.FromStaging
                ? $"{p.Release} passed staging and starts {p.To} ({How(p)})"
                : $"{p.Release} promoted to {p.To} ({How(p)})",
            PromotionNeedsApproval p => $"promotion out of {p.Stage} waits for an approver",
            ValidationStarted v => $"{v.Release} is at 100 %; post-deployment validation until {v.Until:HH:mm:ss} UTC",
            HandedOver h => $"{h.Release} handed over to operations",
            HealthChanged h => h.Verdict.Status == HealthStatus.Unknown
                ? $"health inconclusive at {h.Stage} ({h.InconclusiveStreak} in a row): {h.Verdict.Summary}"
                : $"health {h.Verdict.Status.ToString().ToLowerInvariant()} at {h.Stage}: {h.Verdict.Summary}",
            HealthInconclusive h => $"{h.Release} halted at {h.Stage}: {h.Reason}",
            BreachDetected b => $"breach at {b.Stage}: {string.Join("; ", b.Breaches.Select(c => c.DescribeBreach()))}{Judged(b.Judge)}",
            ConsultRequested c => $"breach at {c.Stage} needs a decision ({c.DecisionId}): {c.Breach.DescribeBreach()}{Judged(c.Judge)}",
            Decided d => d.Choice switch
            {
                DecisionChoice.Rollback => $"{d.By.Mention} chose roll back ({About(d.Breach)}, decision {d.DecisionId})",
                DecisionChoice.Hold => $"{d.By.Mention} chose hold here ({About(d.Breach)}, decision {d.DecisionId}): no promotion and no automatic rollback for this breach until on-call continues or rolls back",
                _ => $"{d.By.Mention} chose continue ({About(d.Breach)}, decision {d.DecisionId})",
            },
            DecisionClosed d => $"decision {d.DecisionId} ({About(d.Breach)}) closed: {d.Release} is now {d.Situation}",
            RollbackStarted r => $"{(r.IsAutomatic ? Actor.System.DisplayName : $"@{r.By}")} started rolling back {r.Release} at {r.Stage}: {r.Reason}",
            RolledBack r => $"{r.Release} rolled back: {r.Detail}",
            Halted h => $"{h.Release} halted at {h.Stage} by @{h.By}: {h.Reason}",
            Paused p => $"{p.By.Mention} paused {p.Release} at {p.Stage}",
            Resumed r => $"{r.By.Mention} resumed {r.Release} at {r.Stage}",
            OutcomeRecorded o => $"outcome checkpoint {o.Report.Checkpoint} of {o.Release}: {string.Join("; ", o.Report.Lines)}",
            FlagRemoved f => $"{f.By.Mention} marked flag {f.Flag} removed",
            Completed c => $"{c.Release} completed: every outcome checkpoint reported, every flag removed",
            _ => throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "An event without words."),
        };
    }

    /// <summary>"user feedback at Early adopters 25 %".</summary>
    public static string About(BreachKey breach) => $"{Metrics.Label(breach.Metric)} at {breach.Stage}";

    private static string What(ReleaseKind kind) => kind switch
    {
        ReleaseKind.Standard => "release",
        ReleaseKind.HotfixP0 => "P0 hotfix",
        _ => "P1 hotfix",
    };

    private static string Settled(ItemSettled i) => i.How switch
    {
        Settlement.Confirmed => $"{i.By.Mention} confirmed {i.ItemId} ({i.Label})",
        Settlement.Verified => $"{i.By.Name} verified {i.ItemId}: {i.Note}",
        Settlement.NotVerified => $"{i.By.Name} could not verify {i.ItemId}: {i.Note}",
        Settlement.Ticked => $"{i.By.Name} ticked {i.ItemId}: {i.Note}",
        _ => $"{i.By.Mention} waived {i.ItemId}: {i.Note}",
    };

    /// <summary>Why the release moved on, in the promotion's parentheses.</summary>
    private static string How(Promoted p)
    {
        if (p.Manual is { } m)
        {
            var why = string.IsNullOrWhiteSpace(m.Reason) ? string.Empty : $": {m.Reason}";
            if (m.ApprovedWaitingStage)
            {
                return $"{m.By.Mention} approved the promotion{why}";
            }

            return m.Skipped > TimeSpan.Zero
                ? $"{m.By.Mention} promoted early, skipping {Durations.Humanise(m.Skipped)} of the {Durations.Humanise(m.Bake)} bake{why}"
                : $"{m.By.Mention} promoted{why}";
        }

        return p.Judged is { } j
            ? $"early: the sequential judge found {p.From} safe after {j.Elapsed.TotalMinutes:0.#} min, {j.Skipped.TotalMinutes:0.#} min of bake skipped: {string.Join("; ", j.Metrics)}"
            : "bake time over, health green";
    }

    private static string Judged(JudgeFinding? judge) =>
        judge is null ? string.Empty : $" — sequential judge after {judge.Elapsed.TotalMinutes:0.#} min: {string.Join("; ", judge.Metrics)}";
}
