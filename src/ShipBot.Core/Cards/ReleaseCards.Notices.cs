using ShipBot.Core.Delivery;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Core.Cards;

/// <summary>The notices posted beside a release card: on-call's heads-up, the line-stopping alerts, outcome reports, reminders and the delivery stats.</summary>
public static partial class ReleaseCards
{
    /// <summary>On-call hears that a rollout starts, in the release's channel; <paramref name="mention"/> is <see cref="Mention"/> of the service.</summary>
    public static Card OnCallNotice(ReleaseId id, string requester, string mention, ServicePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new Card($"📣 {mention}: {id} is starting", null, CardTone.Info,
            [new TextBlock($"{requester} started {id}. You are on call for its rollout; breach and rollback alerts will mention you here.")],
            policy.OnCall, $"{mention}: {id} is starting");
    }

    /// <summary>A health source could not be read: the rollout is halted until someone resumes or rolls back (both buttons act only on this revision).</summary>
    public static Card HealthUnreadable(Release release, ServicePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(release);
        return HaltAlert(
            $"{release.Id} at {release.Where}: health unreadable",
            $"{release.HaltReason}. ShipBot never takes an unreadable source as healthy, so the rollout is halted and waits for a human: fix the source and resume, or roll back.",
            policy,
            [
                new CardAction("resume", "Resume", $"resume {release.Id}", ActionStyle.Primary) { Basis = ClickBasis.Revision(release).Token },
                new CardAction("rollback", "Roll back…", $"rollback {release.Id}", ActionStyle.Danger, $"Roll back {release.Id}?", "Reason for the rollback") { Basis = ClickBasis.Revision(release).Token },
            ]);
    }

    /// <summary>The staging gate failed: the service is halted; unhalt it, then resume (which re-runs the gate) or abort.</summary>
    public static Card StagingGateFailed(Release release, ServicePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(release);
        return HaltAlert(
            $"{release.Id} at the staging gate",
            $"{release.HaltReason}. It never reached production. {release.Id.Service} is halted: fix it, unhalt, then resume (re-runs the gate) or abort.",
            policy,
            [
                new CardAction("unhalt", "Unhalt…", $"unhalt {release.Id.Service}", ActionStyle.Default, $"Unhalt {release.Id.Service}?", "Why is it safe to unhalt?"),
                new CardAction("abort", "Abort…", $"abort {release.Id}", ActionStyle.Danger, $"Abort {release.Id}?", "Reason for aborting") { Basis = ClickBasis.Revision(release).Token },
            ]);
    }

    /// <summary>A service halted (or, with <paramref name="service"/> null, a change freeze of every service) by hand, with its unhalt button.</summary>
    public static Card LineStopped(string? service, string subject, string reason, ServicePolicy? policy) =>
        HaltAlert(subject, reason, policy,
            [new CardAction("unhalt", "Unhalt…", $"unhalt {service ?? "all"}", ActionStyle.Default, "Lift the halt?", "Why is it safe to unhalt?")]);

    /// <summary>One outcome checkpoint's report; a missed target makes it a warning.</summary>
    public static Card OutcomeReport(ReleaseId id, OutcomeReport report, TimeSpan afterHandoff, bool missed)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new Card($"📈 Outcome report #{report.Checkpoint} — {id}", $"+{afterHandoff} after handoff", missed ? CardTone.Warning : CardTone.Info,
            [new TextBlock(string.Join("\n", report.Lines.Select(l => "• " + l)))], [], $"Outcome report #{report.Checkpoint} for {id}");
    }

    /// <summary>What the requester still owes a release (flags to remove, the post-incident signal), one line each.</summary>
    public static Card Reminder(Release release, IReadOnlyList<string> reminders)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(reminders);
        return new Card($"⏰ Reminder for {release.Id}", null, CardTone.Warning, [new TextBlock(string.Join("\n", reminders.Select(r => "• " + r)))],
            [release.Requester.Id], $"Reminder for {release.Id}: {string.Join("; ", reminders)}");
    }

    /// <summary>The four delivery keys as a card, with the chart when one could be published (null: the numbers stand alone).</summary>
    public static Card Stats(DoraReport report, string? chart)
    {
        var lines = DoraText.Lines(report);
        var blocks = new List<CardBlock> { new TextBlock(string.Join("\n", lines.Skip(1))) };
        if (chart is not null)
        {
            // The console shows it inline; Slack and Teams fetch it when the link is absolute (ShipBot:Charts:PublicBaseUrl), else show the text.
            blocks.Add(new ImageBlock(chart, $"Weekly deployments and change failure rate, and the lead-time trend: {lines.FirstOrDefault()}"));
        }

        blocks.Add(new ContextBlock("Deployments: releases that reached 100 %. Lead time: from the commit when known, else from start. Failures: rollbacks and hotfixes that followed a release. `/ship stats <service> --days N` narrows it."));
        return new Card($"📊 {lines[0]}", null, CardTone.Info, blocks, [], string.Join("\n", lines) + (chart is null ? string.Empty : $"\nChart: {chart}"));
    }
}
