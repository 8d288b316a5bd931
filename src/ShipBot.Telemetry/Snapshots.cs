using System.Diagnostics.Metrics;
using ShipBot.Core.Releases;

namespace ShipBot.Telemetry;

/// <summary>
/// The latest count of active releases by state, refreshed by a background service from the store
/// (not at scrape time: a scrape never reads the store). Every replica reports the same global
/// counts; aggregate with <c>max without (instance)</c>.
/// </summary>
public static class ReleaseStateSnapshot
{
    private static volatile IReadOnlyDictionary<ReleaseState, long>? _counts;

    /// <summary>When the snapshot was last refreshed, or null before the first refresh.</summary>
    public static DateTimeOffset? TakenAt { get; private set; }

    /// <summary>Replaces the snapshot. States missing from <paramref name="releases"/> report 0.</summary>
    public static void Update(IEnumerable<Release> releases, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(releases);
        var counts = Enum.GetValues<ReleaseState>().Where(s => !s.IsTerminal()).ToDictionary(s => s, _ => 0L);
        foreach (var release in releases)
        {
            counts[release.State] = counts.GetValueOrDefault(release.State) + 1;
        }

        _counts = counts;
        TakenAt = now;
    }

    internal static IEnumerable<Measurement<long>> Observe() =>
        _counts is { } counts
            ? counts.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.State, c.Key.ToString())))
            : [];
}

/// <summary>The latest result of each readiness check, published periodically by the host.</summary>
public static class ReadinessSnapshot
{
    private static volatile IReadOnlyDictionary<string, double>? _checks;

    /// <summary>Replaces the snapshot: check name → 1 healthy, 0.5 degraded, 0 unhealthy.</summary>
    public static void Update(IReadOnlyDictionary<string, double> checks) => _checks = checks;

    internal static IEnumerable<Measurement<double>> Observe() =>
        _checks is { } checks
            ? checks.Select(c => new Measurement<double>(c.Value, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Check, c.Key)))
            : [];
}
