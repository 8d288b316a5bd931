using System.Globalization;

namespace ShipBot.Core.Freezes;

/// <summary>
/// The pure questions asked of a set of freeze windows: which windows hold a service at an instant,
/// which comes next, and until when a service stays frozen when windows overlap or follow each
/// other without a gap (a weekend freeze running into a public holiday on Monday).
/// </summary>
public static class FreezeSchedule
{
    /// <summary>The windows that apply to <paramref name="service"/> and contain <paramref name="at"/>, ending soonest first.</summary>
    public static IReadOnlyList<FreezeWindow> ActiveAt(IEnumerable<FreezeWindow> windows, string service, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return windows.Where(w => w.AppliesTo(service) && w.Contains(at))
            .OrderBy(w => w.End).ThenBy(w => w.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The first window that applies to <paramref name="service"/> and opens after <paramref name="after"/> (strictly), or null.</summary>
    public static FreezeWindow? Next(IEnumerable<FreezeWindow> windows, string service, DateTimeOffset after)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return windows.Where(w => w.AppliesTo(service) && w.Start > after)
            .OrderBy(w => w.Start).ThenBy(w => w.End).ThenBy(w => w.Name, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>
    /// Until when <paramref name="service"/> stays frozen from <paramref name="at"/>: the end of the
    /// chain of applicable windows that contain <paramref name="at"/> or open before the previous one
    /// closes. Null when no window contains <paramref name="at"/>.
    /// </summary>
    public static DateTimeOffset? FrozenUntil(IEnumerable<FreezeWindow> windows, string service, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var applicable = windows.Where(w => w.AppliesTo(service)).ToList();
        DateTimeOffset? until = null;
        var probe = at;
        while (true)
        {
            var holding = applicable.Where(w => w.Contains(probe)).ToList();
            if (holding.Count == 0)
            {
                return until;
            }

            var end = holding.Max(w => w.End);
            if (until is { } known && end <= known)
            {
                return until;
            }

            until = end;
            probe = end;
        }
    }

    /// <summary>
    /// What a service's freeze looks like at an instant: the windows holding it, until when (chained),
    /// and the next window after that.
    /// </summary>
    public static FreezeState StateAt(IEnumerable<FreezeWindow> windows, string service, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var list = windows as IReadOnlyCollection<FreezeWindow> ?? windows.ToList();
        var active = ActiveAt(list, service, at);
        var until = FrozenUntil(list, service, at);
        var next = Next(list, service, until ?? at);
        return new FreezeState(service, at, active, until, next);
    }

    /// <summary>
    /// An instant as a person reads it: "Mon 26 Oct 2026 08:00 +01:00 Europe/Berlin" in the offset
    /// the instant carries; the zone name is appended when known and not UTC.
    /// </summary>
    public static string FormatInstant(DateTimeOffset instant, string? timeZone)
    {
        var text = instant.ToString("ddd d MMM yyyy HH:mm", CultureInfo.InvariantCulture);
        if (instant.Offset == TimeSpan.Zero)
        {
            return $"{text} UTC";
        }

        var offset = instant.ToString("zzz", CultureInfo.InvariantCulture);
        return string.IsNullOrEmpty(timeZone) || string.Equals(timeZone, "UTC", StringComparison.OrdinalIgnoreCase)
            ? $"{text} {offset}"
            : $"{text} {offset} {timeZone}";
    }
}

/// <summary>A service's freeze at one instant.</summary>
/// <param name="Service">The service asked about.</param>
/// <param name="At">The instant asked about.</param>
/// <param name="Active">The windows holding the service at <paramref name="At"/>, ending soonest first (empty when not frozen).</param>
/// <param name="Until">When the service is free again (the end of the chain of windows); null when not frozen.</param>
/// <param name="Next">The next window to open after <paramref name="Until"/> (or after <paramref name="At"/> when not frozen), if any is known.</param>
public sealed record FreezeState(string Service, DateTimeOffset At, IReadOnlyList<FreezeWindow> Active, DateTimeOffset? Until, FreezeWindow? Next)
{
    public bool IsFrozen => Active.Count > 0;

    /// <summary>The window that names the freeze in messages: the one that lasts longest.</summary>
    public FreezeWindow? Governing => Active.Count == 0 ? null : Active.MaxBy(w => w.End);

    /// <summary>
    /// The sentence a refused start or a held rollout shows: "checkout is in the change freeze
    /// 'Weekend freeze' (global) until Mon 26 Oct 2026 08:00 +01:00 Europe/Berlin." Null when not frozen.
    /// </summary>
    public string? Explain()
    {
        if (Governing is not { } window || Until is not { } until)
        {
            return null;
        }

        var others = Active.Count > 1 ? $" (and {Active.Count - 1} more window(s))" : string.Empty;
        return $"{Service} is in the change freeze '{window.Name}' ({(window.IsGlobal ? "global" : window.Service)}){others} until {FreezeSchedule.FormatInstant(until.ToOffset(window.End.Offset), window.TimeZone)}.";
    }
}
