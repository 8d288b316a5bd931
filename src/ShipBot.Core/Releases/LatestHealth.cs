using ShipBot.Core.Health;

namespace ShipBot.Core.Releases;

/// <summary>
/// Readings that change nothing but numbers are not a new revision of a release. A health
/// evaluation whose verdict, breaches and judge state are what the stored release already says is
/// kept beside the release (see <c>IReleaseStore.SetLatestHealthAsync</c>) instead of rewriting it,
/// and shown on top of it when it is read.
/// </summary>
public static class LatestHealth
{
    /// <summary>
    /// True when <paramref name="change"/> (an evaluation applied to <paramref name="current"/>)
    /// differs from it only in the readings of <see cref="Release.LastHealth"/>: same status, the
    /// same checks in the same states, no event, and every other field as it was.
    /// </summary>
    public static bool IsReadingsOnly(Release current, ReleaseChange change)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(change);
        if (!change.Modified || change.Events.Count > 0 || current.LastHealth is not { } stored || change.Next.LastHealth is not { } fresh
            || !SameVerdict(stored, fresh))
        {
            return false;
        }

        // Everything but the readings and the revision bookkeeping must be exactly as stored; a field
        // the evaluation touched (a streak, a judge's state, a decision) makes it a real change.
        return change.Next with { LastHealth = stored, Revision = current.Revision, UpdatedAt = current.UpdatedAt } == current;
    }

    /// <summary>The same status, error and checks (metric, state, action) in the same order; values may differ.</summary>
    public static bool SameVerdict(HealthVerdict a, HealthVerdict b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Status == b.Status && a.Error == b.Error && a.Checks.Count == b.Checks.Count
            && a.Checks.Zip(b.Checks).All(p => p.First.Metric == p.Second.Metric && p.First.Status == p.Second.Status && p.First.Action == p.Second.Action);
    }

    /// <summary>The release with <paramref name="latest"/> as its <see cref="Release.LastHealth"/> when those readings are newer.</summary>
    public static Release Overlay(Release release, HealthVerdict? latest)
    {
        ArgumentNullException.ThrowIfNull(release);
        return latest is not null && (release.LastHealth is null || latest.At > release.LastHealth.At) ? release with { LastHealth = latest } : release;
    }
}
