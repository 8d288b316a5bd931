using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Delivery;

/// <summary>
/// Computes the DORA keys (<see cref="DoraReport"/>) from the release history. Pure: the caller
/// passes the releases (every release it has of the services concerned, including those outside
/// the scope: a release of the service started in another channel still restores the service),
/// optional commit times, and the service halts and unhalts.
/// </summary>
public static class DoraCalculator
{
    /// <summary>
    /// The report of <paramref name="scope"/> over the <paramref name="days"/> days before
    /// <paramref name="to"/>. Events at or after <paramref name="to"/> are not known yet.
    /// </summary>
    /// <param name="releases">The releases, in any order.</param>
    /// <param name="scope">Whose keys: every release, a service's, or a channel's.</param>
    /// <param name="to">The end of the period (exclusive), usually now.</param>
    /// <param name="days">The length of the period in days; at least 1.</param>
    /// <param name="commitTimes">When each release's change was committed, where known; otherwise lead time starts at <c>start</c>.</param>
    /// <param name="halts">Service halts and unhalts, in any order.</param>
    public static DoraReport Compute(
        IEnumerable<Release> releases,
        DeliveryScope scope,
        DateTimeOffset to,
        int days,
        IReadOnlyDictionary<ReleaseId, DateTimeOffset>? commitTimes = null,
        IEnumerable<HaltEvent>? halts = null)
    {
        ArgumentNullException.ThrowIfNull(releases);
        var facts = releases.Select(r => ReleaseDeliveryFacts.From(r, commitTimes is not null && commitTimes.TryGetValue(r.Id, out var c) ? c : null)).ToList();
        return ComputeFromFacts(facts, scope, to, days, halts);
    }

    /// <summary>The same from facts already read (see <see cref="ReleaseDeliveryFacts.From"/>).</summary>
    public static DoraReport ComputeFromFacts(
        IReadOnlyList<ReleaseDeliveryFacts> releases,
        DeliveryScope scope,
        DateTimeOffset to,
        int days,
        IEnumerable<HaltEvent>? halts = null)
    {
        ArgumentNullException.ThrowIfNull(releases);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var from = to - TimeSpan.FromDays(days);
        bool InPeriod(DateTimeOffset? t) => t is { } v && v >= from && v < to;

        // What is known at `to`: later events are ignored, so a report for a past period does not change.
        var known = releases
            .Where(r => r.CreatedAt < to)
            .Select(r => r with
            {
                ProductionAt = r.ProductionAt < to ? r.ProductionAt : null,
                FullAt = r.FullAt < to ? r.FullAt : null,
                RollbackAt = r.RollbackAt < to ? r.RollbackAt : null,
            })
            .ToList();
        var inScope = known.Where(scope.Includes).ToList();

        var leadTimes = inScope
            .Where(r => InPeriod(r.FullAt))
            .Select(r => new LeadTimeSample(r.Id, r.CommitAt ?? r.CreatedAt, r.FullAt!.Value, r.CommitAt is not null))
            .OrderBy(l => l.FullAt)
            .ToList();

        var changes = inScope.Where(r => InPeriod(r.ProductionAt)).ToList();
        var failures = changes
            .Select(r => FailureOf(r, known))
            .OfType<ChangeFailure>()
            .OrderBy(f => f.ProductionAt)
            .ToList();

        var services = inScope.Select(r => r.Id.Service).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (scope.Kind == DeliveryScopeKind.Service && services.Count == 0)
        {
            services.Add(scope.Name!);
        }

        var haltList = (halts ?? []).Where(h => h.At < to).ToList();
        var incidents = services
            .SelectMany(s => IncidentsOf(s, known, inScope, haltList))
            .Where(i => InPeriod(i.StartedAt))
            .OrderBy(i => i.StartedAt)
            .ToList();

        var weeks = new List<DoraWeek>();
        for (var start = from; start < to;)
        {
            var monday = MondayOf(start);
            var end = monday.AddDays(7) < to ? monday.AddDays(7) : to;
            bool InWeek(DateTimeOffset? t) => t is { } v && v >= start && v < end;
            var weekChanges = changes.Count(c => InWeek(c.ProductionAt));
            weeks.Add(new DoraWeek(
                start,
                end,
                leadTimes.Count(l => InWeek(l.FullAt)),
                weekChanges,
                failures.Count(f => InWeek(f.ProductionAt)),
                Median(leadTimes.Where(l => InWeek(l.FullAt)).Select(l => l.LeadTime)),
                Median(incidents.Where(i => InWeek(i.StartedAt) && i.RestoredAt is not null).Select(i => i.TimeToRestore!.Value))));
            start = end;
        }

        return new DoraReport(scope, from, to, leadTimes.Count, leadTimes, changes.Count, failures, incidents, weeks);
    }

    /// <summary>The median (the mean of the two middle values for an even count); null when empty.</summary>
    public static TimeSpan? Median(IEnumerable<TimeSpan> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : sorted[mid - 1] + ((sorted[mid] - sorted[mid - 1]) / 2);
    }

    /// <summary>Monday 00:00 UTC of the week that contains <paramref name="t"/>.</summary>
    public static DateTimeOffset MondayOf(DateTimeOffset t)
    {
        var utc = t.ToUniversalTime();
        var daysSinceMonday = ((int)utc.DayOfWeek + 6) % 7;
        return new DateTimeOffset(utc.Date, TimeSpan.Zero).AddDays(-daysSinceMonday);
    }

    private static ChangeFailure? FailureOf(ReleaseDeliveryFacts release, IReadOnlyList<ReleaseDeliveryFacts> known)
    {
        if (release.RollbackAt is { } rolledBack)
        {
            return new ChangeFailure(release.Id, FailureCause.RolledBack, release.ProductionAt!.Value, rolledBack);
        }

        // A hotfix follows the change it fixes: the service's last release to reach production
        // traffic before the hotfix was started. Only hotfixes that reached production count, so a
        // hotfix started by mistake and aborted blames nobody.
        var hotfix = known
            .Where(h => h.Kind != ReleaseKind.Standard && h.ProductionAt is not null && h.Id != release.Id
                && string.Equals(h.Id.Service, release.Id.Service, StringComparison.OrdinalIgnoreCase)
                && h.CreatedAt >= release.ProductionAt)
            .OrderBy(h => h.CreatedAt)
            .FirstOrDefault(h => Followed(h, known) == release.Id);
        return hotfix is null ? null : new ChangeFailure(release.Id, FailureCause.FollowedByHotfix, release.ProductionAt!.Value, hotfix.CreatedAt, hotfix.Id);
    }

    private static ReleaseId? Followed(ReleaseDeliveryFacts hotfix, IReadOnlyList<ReleaseDeliveryFacts> known) =>
        known
            .Where(r => r.Id != hotfix.Id && r.ProductionAt is { } p && p <= hotfix.CreatedAt
                && string.Equals(r.Id.Service, hotfix.Id.Service, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(r => r.ProductionAt)
            .Select(r => (ReleaseId?)r.Id)
            .FirstOrDefault();

    private static IEnumerable<RestoreIncident> IncidentsOf(
        string service,
        IReadOnlyList<ReleaseDeliveryFacts> known,
        IReadOnlyList<ReleaseDeliveryFacts> inScope,
        IReadOnlyList<HaltEvent> halts)
    {
        bool Same(string s) => string.Equals(s, service, StringComparison.OrdinalIgnoreCase);

        // Failures of this service in scope open an incident; restorations come from any release of the service.
        var timeline = new List<(DateTimeOffset At, int Order, bool Opens, IncidentCause Cause, ReleaseId? Release)>();
        foreach (var r in inScope.Where(r => Same(r.Id.Service) && r.RollbackAt is not null))
        {
            timeline.Add((r.RollbackAt!.Value, 1, true, IncidentCause.Rollback, r.Id));
        }

        foreach (var h in halts.Where(h => h.Halted && !h.IsEverything && Same(h.Service) && h.Cause == HaltCause.Manual))
        {
            timeline.Add((h.At, 1, true, IncidentCause.Halt, null));
        }

        foreach (var r in known.Where(r => Same(r.Id.Service) && r.FullAt is not null))
        {
            timeline.Add((r.FullAt!.Value, 0, false, default, r.Id));
        }

        foreach (var h in halts.Where(h => !h.Halted && (h.IsEverything || Same(h.Service))))
        {
            timeline.Add((h.At, 0, false, default, null));
        }

        RestoreIncident? open = null;
        foreach (var e in timeline.OrderBy(e => e.At).ThenBy(e => e.Order))
        {
            if (e.Opens)
            {
                // A failure while the service is already failed belongs to the same incident.
                open ??= new RestoreIncident(service, e.Cause, e.At, null, e.Release);
            }
            else if (open is not null && e.At > open.StartedAt)
            {
                yield return open with { RestoredAt = e.At };
                open = null;
            }
        }

        if (open is not null)
        {
            yield return open;
        }
    }
}
