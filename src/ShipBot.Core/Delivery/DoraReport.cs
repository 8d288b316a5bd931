using ShipBot.Core.Releases;

namespace ShipBot.Core.Delivery;

/// <summary>
/// The four DORA keys of one scope over a period [<see cref="From"/>, <see cref="To"/>), with
/// weekly buckets for charts. Definitions (as computed by <see cref="DoraCalculator"/>):
/// <list type="bullet">
/// <item><b>Deployments</b>: releases that reached 100 % of traffic in the period.</item>
/// <item><b>Lead time</b>: for each of those, from the commit (when known) or from <c>start</c> until 100 %; median.</item>
/// <item><b>Changes</b>: releases that first received production traffic in the period; <b>failed</b> ones
/// were rolled back, or were followed by a hotfix of the same service, before <see cref="To"/>.</item>
/// <item><b>Time to restore</b>: from a rollback or a halt of the service (not a freeze, not a red staging
/// gate) until the next release of that service reaches 100 %, or until the service is unhalted,
/// whichever is first; incidents that began in the period; median of those restored.</item>
/// </list>
/// </summary>
public sealed record DoraReport(
    DeliveryScope Scope,
    DateTimeOffset From,
    DateTimeOffset To,
    int Deployments,
    IReadOnlyList<LeadTimeSample> LeadTimes,
    int Changes,
    IReadOnlyList<ChangeFailure> Failures,
    IReadOnlyList<RestoreIncident> Incidents,
    IReadOnlyList<DoraWeek> Weeks)
{
    /// <summary>The length of the period in days (fractional when it is not whole days).</summary>
    public double Days => (To - From).TotalDays;

    /// <summary>Deployments per 7 days over the period.</summary>
    public double DeploymentsPerWeek => Days <= 0 ? 0 : Deployments * 7 / Days;

    /// <summary>Deployments per day over the period.</summary>
    public double DeploymentsPerDay => Days <= 0 ? 0 : Deployments / Days;

    /// <summary>The median lead time for changes; null without deployments.</summary>
    public TimeSpan? LeadTimeMedian => DoraCalculator.Median(LeadTimes.Select(l => l.LeadTime));

    /// <summary>How many lead times were measured from a commit (the others from <c>start</c>).</summary>
    public int LeadTimesFromCommit => LeadTimes.Count(l => l.FromCommit);

    public int FailedChanges => Failures.Count;

    /// <summary>Failed changes / changes, between 0 and 1; null without changes.</summary>
    public double? ChangeFailureRate => Changes == 0 ? null : (double)FailedChanges / Changes;

    /// <summary>The median time to restore of the incidents that were restored; null when none was.</summary>
    public TimeSpan? TimeToRestoreMedian => DoraCalculator.Median(Incidents.Where(i => i.RestoredAt is not null).Select(i => i.TimeToRestore!.Value));

    public int RestoredIncidents => Incidents.Count(i => i.RestoredAt is not null);

    /// <summary>Incidents not restored by <see cref="To"/> (left out of the median).</summary>
    public int OpenIncidents => Incidents.Count(i => i.RestoredAt is null);
}

/// <summary>One deployment's lead time.</summary>
/// <param name="Release">The release that reached 100 %.</param>
/// <param name="From">The commit time, or the release's creation (<c>start</c>).</param>
/// <param name="FullAt">When it reached 100 %.</param>
/// <param name="FromCommit">Whether <paramref name="From"/> is a commit time.</param>
public sealed record LeadTimeSample(ReleaseId Release, DateTimeOffset From, DateTimeOffset FullAt, bool FromCommit)
{
    /// <summary>The lead time; never negative (a commit time after 100 % counts as zero).</summary>
    public TimeSpan LeadTime => FullAt > From ? FullAt - From : TimeSpan.Zero;
}

public enum FailureCause
{
    /// <summary>The release was rolled back.</summary>
    RolledBack,

    /// <summary>A hotfix of the same service followed the release.</summary>
    FollowedByHotfix,
}

/// <summary>A change that failed: how and when that became known.</summary>
/// <param name="Release">The failed change.</param>
/// <param name="Cause">Rolled back, or followed by a hotfix (a rollback wins when both happened).</param>
/// <param name="ProductionAt">When it first received production traffic (which bucket it counts in).</param>
/// <param name="At">When the rollback began or the hotfix was started.</param>
/// <param name="Hotfix">The hotfix that followed it, for <see cref="FailureCause.FollowedByHotfix"/>.</param>
public sealed record ChangeFailure(ReleaseId Release, FailureCause Cause, DateTimeOffset ProductionAt, DateTimeOffset At, ReleaseId? Hotfix = null);

public enum IncidentCause
{
    Rollback,
    Halt,
}

/// <summary>A stretch of time in which a service was failed: from a rollback or a halt until it was restored.</summary>
/// <param name="Service">The service.</param>
/// <param name="Cause">What opened it.</param>
/// <param name="StartedAt">When the rollback began or the halt was set.</param>
/// <param name="RestoredAt">When the next release reached 100 % or the service was unhalted; null if not by the end of the period.</param>
/// <param name="Release">The rolled-back release, for <see cref="IncidentCause.Rollback"/>.</param>
public sealed record RestoreIncident(string Service, IncidentCause Cause, DateTimeOffset StartedAt, DateTimeOffset? RestoredAt, ReleaseId? Release = null)
{
    public TimeSpan? TimeToRestore => RestoredAt - StartedAt;
}

/// <summary>
/// One week of a report, Monday 00:00 UTC to the next Monday, clipped to the report's period (the
/// first and last weeks may be shorter: <see cref="Days"/> says how long).
/// </summary>
public sealed record DoraWeek(
    DateTimeOffset Start,
    DateTimeOffset End,
    int Deployments,
    int Changes,
    int FailedChanges,
    TimeSpan? LeadTimeMedian,
    TimeSpan? TimeToRestoreMedian)
{
    public double Days => (End - Start).TotalDays;

    public double? ChangeFailureRate => Changes == 0 ? null : (double)FailedChanges / Changes;
}
