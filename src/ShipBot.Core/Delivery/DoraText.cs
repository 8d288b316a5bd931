using System.Globalization;

namespace ShipBot.Core.Delivery;

/// <summary>The DORA keys as text: the lines of <c>/ship stats</c> and of the card under the chart.</summary>
public static class DoraText
{
    /// <summary>
    /// A heading and one line per key, for example
    /// "Deployment frequency: 2.5 per week (10 deployments in 28 days)".
    /// </summary>
    public static IReadOnlyList<string> Lines(DoraReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = CultureInfo.InvariantCulture;
        var days = Number(report.Days);
        var lines = new List<string>
        {
            $"Delivery of {report.Scope.Describe()}, {days} days to {report.To.UtcDateTime.ToString("yyyy-MM-dd HH:mm", c)} UTC",
            $"Deployment frequency: {report.DeploymentsPerWeek.ToString("0.#", c)} per week ({report.Deployments} deployment(s) to 100 % in {days} days)",
        };

        lines.Add(report.LeadTimeMedian is { } lead
            ? $"Lead time for changes: median {Duration(lead)} ({report.LeadTimes.Count} release(s): {report.LeadTimesFromCommit} from the commit, {report.LeadTimes.Count - report.LeadTimesFromCommit} from start)"
            : "Lead time for changes: no release reached 100 %");

        if (report.ChangeFailureRate is { } rate)
        {
            var rolledBack = report.Failures.Count(f => f.Cause == FailureCause.RolledBack);
            var hotfixed = report.FailedChanges - rolledBack;
            lines.Add($"Change failure rate: {(rate * 100).ToString("0.#", c)} % ({report.FailedChanges} of {report.Changes} change(s): {rolledBack} rolled back, {hotfixed} followed by a hotfix)");
        }
        else
        {
            lines.Add("Change failure rate: no change reached production");
        }

        var open = report.OpenIncidents > 0 ? $"; {report.OpenIncidents} not restored yet" : string.Empty;
        lines.Add(report.TimeToRestoreMedian is { } restore
            ? $"Time to restore: median {Duration(restore)} ({report.RestoredIncidents} incident(s) restored{open})"
            : report.Incidents.Count == 0 ? "Time to restore: no incident" : $"Time to restore: no incident restored yet ({report.OpenIncidents} open)");
        return lines;
    }

    /// <summary>"3 d 4 h", "2 h 5 min", "45 min", "30 s": the two largest units.</summary>
    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero)
        {
            t = TimeSpan.Zero;
        }

        if (t.TotalDays >= 1)
        {
            return t.Hours == 0 ? $"{(int)t.TotalDays} d" : $"{(int)t.TotalDays} d {t.Hours} h";
        }

        if (t.TotalHours >= 1)
        {
            return t.Minutes == 0 ? $"{(int)t.TotalHours} h" : $"{(int)t.TotalHours} h {t.Minutes} min";
        }

        return t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min" : $"{(int)t.TotalSeconds} s";
    }

    private static string Number(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
