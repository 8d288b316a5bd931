namespace ShipBot.Core.Freezes;

/// <summary>
/// How one freeze calendar is doing, for the card and <c>/ship freezes</c>: when it was last read
/// successfully, the last error, and whether the windows in use are from an older, last good copy.
/// </summary>
/// <param name="Name">The calendar's name (configured, or taken from the file or URL).</param>
/// <param name="Service">The service the calendar belongs to, or null for a global calendar.</param>
/// <param name="Location">Where it is read from: a file path, or the URL without its query string (which may hold a secret).</param>
/// <param name="LastSuccessAt">When the calendar was last read and parsed successfully; null if never.</param>
/// <param name="LastAttemptAt">When reading was last tried; null if never.</param>
/// <param name="LastError">The error of the last attempt, or null when it succeeded.</param>
/// <param name="WindowCount">How many windows of the calendar are known within the expansion horizon.</param>
public sealed record FreezeSourceStatus(
    string Name,
    string? Service,
    string Location,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? LastAttemptAt,
    string? LastError,
    int WindowCount)
{
    /// <summary>Whether ShipBot has windows from this calendar at all (read successfully at least once).</summary>
    public bool IsLoaded => LastSuccessAt is not null;

    /// <summary>Whether the last attempt failed, so the windows in use (if any) are the last good copy.</summary>
    public bool IsStale => LastError is not null;

    /// <summary>"holidays: last refreshed 09:00 UTC; last refresh failed at 09:15 UTC (HTTP 503): using the last good calendar".</summary>
    public string Describe()
    {
        var ok = LastSuccessAt is { } s ? $"last refreshed {s.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : "never loaded";
        if (LastError is null)
        {
            return $"{Name}: {ok}, {WindowCount} window(s) known";
        }

        var when = LastAttemptAt is { } a ? $" at {a.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : string.Empty;
        var fallback = IsLoaded ? "using the last good calendar" : "no windows from it are known";
        return $"{Name}: {ok}; last refresh failed{when} ({LastError}): {fallback}";
    }
}
