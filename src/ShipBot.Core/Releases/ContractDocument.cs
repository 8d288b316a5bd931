using System.Globalization;
using System.Text;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Settings;
using ShipBot.Core.Text;

namespace ShipBot.Core.Releases;

/// <summary>
/// The release contract as Markdown (changes, stages, rollback, notes, flags, outcome targets,
/// checklist) and the default release notes. Durations read as people write them ("5 s", "+1 day")
/// and everything a person typed is escaped, so it renders as text and never as Markdown.
/// </summary>
public static class ContractDocument
{
    /// <summary><c>YYYY-MM-DD-&lt;service&gt;-&lt;version&gt;.md</c>, dated by the release's creation.</summary>
    public static string FileName(Release release) =>
        $"{release.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}-{release.Id.Service}-{release.Id.Version}.md";

    public static string Markdown(Release release, ServicePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(release);
        ArgumentNullException.ThrowIfNull(policy);
        var t = policy.Thresholds;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Release contract: {release.Id}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Requested by: {E(release.Requester.Mention)} on {release.CreatedAt:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Kind: {release.Kind}{(release.HotfixReason is null ? string.Empty : $" — {E(release.HotfixReason)}")}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- State: {release.State.Display()}");
        if (release.Provenance is { IsEmpty: false } source)
        {
            if (source.Commit is not null)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- Commit: `{source.Commit}`");
            }

            foreach (var pr in source.PullRequests)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- Pull request: <{pr}>");
            }

            if (source.PipelineRun is not null)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- Pipeline run: <{source.PipelineRun}>");
            }
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"- Approvers: {string.Join(", ", policy.Approvers.Select(a => E("@" + a)))} ({release.RequiredApprovals} required); approved by: {(release.Approvals.Count == 0 ? "nobody yet" : string.Join(", ", release.Approvals.Select(a => E(a.By.Mention))))}");
        md.AppendLine();
        md.AppendLine("## Changes");
        foreach (var change in release.Contract.Changes.DefaultIfEmpty("(none listed)"))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {(release.Contract.Changes.Count == 0 ? change : E(change))}");
        }

        md.AppendLine();
        md.AppendLine("## Progressive rollout");
        md.AppendLine(CultureInfo.InvariantCulture, $"0. Staging (never skipped): deploy, smoke checks, bake {Durations.Humanise(release.Plan.StagingBake)}");
        for (var i = 0; i < release.Plan.Stages.Count; i++)
        {
            var s = release.Plan.Stages[i];
            var checks = string.Join(", ", HealthPolicy.MetricsFor(s.Kind).Select(Metrics.Label));
            md.AppendLine(CultureInfo.InvariantCulture, $"{i + 1}. {s.Label} — monitor for {Durations.Humanise(s.Bake)}; health: {checks}{(s.NeedsApproval ? "; promotion needs an approver" : string.Empty)}");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"- Post-deployment validation window: {Durations.Humanise(release.Plan.ValidationWindow)}");
        md.AppendLine();
        md.AppendLine("## Rollback");
        md.AppendLine(release.Contract.RollbackProcedure);
        md.AppendLine();
        md.AppendLine("Automatic rollback triggers:");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Error rate more than {t.MaxErrorRateIncrease * 100:0.##} points above baseline");
        md.AppendLine(CultureInfo.InvariantCulture, $"- p99 latency above 2 × target ({2 * t.LatencyTargetMs:0} ms)");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Resource usage above {t.MaxCpu * 100:0} %");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Health-check failures on more than {t.MaxProbeFailureRatio * 100:0} % of instances");
        md.AppendLine("- Critical security alert; data-integrity alert");
        md.AppendLine();
        md.AppendLine("Manual rollback triggers: customer reports of broken functionality, business metric degradation, regulatory concern.");
        md.AppendLine();
        md.AppendLine("## Release notes");
        md.AppendLine(E(release.Contract.ReleaseNotes));
        md.AppendLine();
        md.AppendLine("## Feature flags");
        md.AppendLine(release.Contract.Flags.Count == 0 ? "None." : string.Join("\n", release.Contract.Flags.Select(f => $"- {E(f)} (cleanup reminders until removed)")));
        md.AppendLine();
        md.AppendLine("## Outcome targets");
        foreach (var target in release.Contract.OutcomeTargets)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {E(target)}");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"- Measurement schedule: {string.Join(", ", policy.OutcomeCheckpoints.Select(c => "+" + Durations.Humanise(c)))} after handoff");
        md.AppendLine();
        md.AppendLine("## Checklist");
        foreach (var item in release.Checklist)
        {
            var box = item.IsDone ? "x" : " ";
            md.AppendLine(CultureInfo.InvariantCulture, $"- [{box}] `{item.Id}` {item.Label} — {item.State.ToString().ToLowerInvariant()}{(item.Detail is null ? string.Empty : $" ({E(item.Detail)})")}{(item.Floor ? " · floor" : item.Mandatory ? " · mandatory security item" : string.Empty)}");
        }

        return md.ToString();
    }

    public static string DefaultNotes(ReleaseId id, IReadOnlyList<string> changes) =>
        changes.Count == 0
            ? $"{id.Service} {id.Version}: improvements and fixes."
            : $"{id.Service} {id.Version}: {string.Join("; ", changes)}.";

    /// <summary>A hotfix's notes when none were given: a neutral line for customers, never the incident reason.</summary>
    public static string HotfixNotes(ReleaseId id) => $"{id.Service} {id.Version}: a fix that improves reliability.";

    private static string E(string text) => MarkdownText.Escape(text);
}
