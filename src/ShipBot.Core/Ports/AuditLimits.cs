namespace ShipBot.Core.Ports;

/// <summary>
/// How much audit one release keeps. A rollout writes tens of entries; only a flood (refused
/// commands, reminders) reaches the cap, and then the oldest entries go first. Both stores apply
/// the same cap, and a read of a trimmed trail starts with a marker saying how many were dropped.
/// </summary>
public static class AuditLimits
{
    /// <summary>The default cap per release: 1,000 entries.</summary>
    public const int DefaultMaxEntries = 1000;

    /// <summary>The action of the marker that starts a trimmed audit trail.</summary>
    public const string TrimmedAction = "audit trimmed";

    /// <summary>The marker entry put first when a read finds the cap has dropped entries (<paramref name="dropped"/> null when the store cannot count them).</summary>
    public static AuditEntry TrimmedMarker(DateTimeOffset firstKeptAt, long? dropped, int cap) =>
        new(firstKeptAt, Settings.Actor.System.Id, TrimmedAction,
            $"{(dropped is { } n ? $"{n:N0}" : "Some")} earlier entries were dropped: a release keeps its last {cap:N0} audit entries.");
}
