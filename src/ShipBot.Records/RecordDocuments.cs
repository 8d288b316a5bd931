using System.Globalization;
using System.Text;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Records;

/// <summary>
/// The layout of the records repository and the Markdown of each file. Every file is rendered
/// whole from the latest snapshot, so writing the same milestone twice changes nothing.
/// <list type="bullet">
/// <item><c>releases/YYYY-MM-DD-&lt;service&gt;-&lt;version&gt;.md</c>: the release contract, then the rollout as it happened, then the outcome reports.</item>
/// <item><c>signals/YYYY-MM-DD-&lt;id&gt;.md</c>: one signal.</item>
/// <item><c>STATUS.md</c>: the releases that are active or operating.</item>
/// </list>
/// </summary>
public static class RecordDocuments
{
    public const string StatusPath = "STATUS.md";

    public static string ReleasePath(Release release) => $"releases/{ContractDocument.FileName(release)}";

    public static string SignalPath(Signal signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        var safe = new string(signal.Id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray()).Trim('.');
        return $"signals/{signal.At.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}-{(safe.Length == 0 ? "signal" : safe)}.md";
    }

    /// <summary>The contract (as <see cref="ContractDocument"/> writes it), then the rollout log and the outcome reports.</summary>
    public static string ReleaseMarkdown(Release release, ServicePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(release);
        var md = new StringBuilder(ContractDocument.Markdown(release, policy));
        md.AppendLine();
        md.AppendLine("## Rollout");
        if (release.History.Count == 0)
        {
            md.AppendLine("Not started.");
        }
        else
        {
            md.AppendLine("| Stage | Started (UTC) | Ended (UTC) |");
            md.AppendLine("| --- | --- | --- |");
            foreach (var stage in release.History)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {stage.Name} | {Time(stage.StartedAt)} | {(stage.EndedAt is { } end ? Time(end) : "—")} |");
            }
        }

        if (release.Rollback is { } rollback)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Rolled back at {rollback.Stage} on {Time(rollback.At)} UTC by @{rollback.By}: {rollback.Reason}");
            foreach (var evidence in rollback.Evidence)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {evidence.DescribeBreach()}");
            }
        }

        if (release.Handoff.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Handed over to operations on {Time(release.OperatingSince ?? release.UpdatedAt)} UTC:");
            foreach (var check in release.Handoff)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- [{(check.Met ? "x" : " ")}] {check.Criterion}{(string.IsNullOrEmpty(check.Detail) ? string.Empty : $" — {check.Detail}")}");
            }
        }

        foreach (var report in release.Outcomes.OrderBy(o => o.Checkpoint))
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## Outcome report {report.Checkpoint} — {Time(report.At)} UTC");
            foreach (var line in report.Lines)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
            }
        }

        return md.ToString();
    }

    public static string SignalMarkdown(Signal signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Signal {signal.Id}: {signal.Kind.ToString().ToLowerInvariant()}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Release: {signal.Release ?? "none"}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Recorded by: @{signal.By} on {Time(signal.At)} UTC");
        md.AppendLine(CultureInfo.InvariantCulture, $"- State: {(signal.Open ? "open (waiting to be filled in)" : "recorded")}");
        md.AppendLine();
        md.AppendLine(signal.Text);
        return md.ToString();
    }

    /// <summary>The active and operating releases, oldest first, each with a link to its record.</summary>
    public static string StatusMarkdown(IReadOnlyCollection<Release> releases, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(releases);
        var md = new StringBuilder();
        md.AppendLine("# Release status");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Updated by ShipBot on {Time(now)} UTC.");
        var active = releases.Where(r => !r.State.IsTerminal() && r.State != ReleaseState.Operating).OrderBy(r => r.CreatedAt).ToList();
        var operating = releases.Where(r => r.State == ReleaseState.Operating).OrderBy(r => r.OperatingSince ?? r.CreatedAt).ToList();
        md.AppendLine();
        md.AppendLine("## Active");
        md.AppendLine();
        if (active.Count == 0)
        {
            md.AppendLine("None.");
        }
        else
        {
            md.AppendLine("| Release | State | Where | Requested by | Started (UTC) |");
            md.AppendLine("| --- | --- | --- | --- | --- |");
            foreach (var r in active)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| [{r.Id}]({ReleasePath(r)}) | {r.State.Display()}{(r.HaltReason is null ? string.Empty : $" ({Cell(r.HaltReason)})")} | {r.Where} | {r.Requester.Mention} | {Time(r.CreatedAt)} |");
            }
        }

        md.AppendLine();
        md.AppendLine("## Operating");
        md.AppendLine();
        if (operating.Count == 0)
        {
            md.AppendLine("None.");
        }
        else
        {
            md.AppendLine("| Release | Operating since (UTC) | Outcome reports |");
            md.AppendLine("| --- | --- | --- |");
            foreach (var r in operating)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| [{r.Id}]({ReleasePath(r)}) | {Time(r.OperatingSince ?? r.UpdatedAt)} | {r.Outcomes.Count} |");
            }
        }

        return md.ToString();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
