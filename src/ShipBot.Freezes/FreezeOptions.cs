namespace ShipBot.Freezes;

/// <summary>
/// Freeze calendars (<c>ShipBot:Freezes</c>): global calendars under <c>Calendars</c>, and each
/// service's own under <c>ShipBot:Services:&lt;name&gt;:Freezes:Calendars</c> (collected into
/// <see cref="ServiceCalendars"/>). Every calendar is read at start-up and refreshed on a schedule.
/// </summary>
public sealed class FreezeOptions
{
    public const string Section = "ShipBot:Freezes";

    /// <summary>Calendars whose windows freeze every service. Default none.</summary>
    public List<FreezeCalendarOptions> Calendars { get; set; } = [];

    /// <summary>Each service's own calendars (from <c>ShipBot:Services:&lt;name&gt;:Freezes:Calendars</c>).</summary>
    public Dictionary<string, List<FreezeCalendarOptions>> ServiceCalendars { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How often a calendar is read again (files and URLs). Default 15 minutes; at least 10 s.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How soon a calendar that failed is tried again (never later than <see cref="RefreshInterval"/>). Default 1 minute.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one download may take. Default 30 s. Start-up waits at most this long for the first read.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How far ahead windows are known (<c>/ship freezes</c> lists nothing later). Default 400 days.</summary>
    public TimeSpan Horizon { get; set; } = TimeSpan.FromDays(400);

    /// <summary>The longest window expected: a window that opened longer ago than this before the moment asked about may be missed. Default 60 days.</summary>
    public TimeSpan MaxWindowLength { get; set; } = TimeSpan.FromDays(60);

    /// <summary>The largest calendar accepted, in bytes. Default 5 MB.</summary>
    public long MaxBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>
    /// A folder where the last good copy of each URL calendar is kept, so a restart while the URL
    /// fails still knows its windows. Default none (the last good copy lives in memory only).
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Every calendar with its configuration key, global ones first.</summary>
    public IEnumerable<(string Key, string? Service, FreezeCalendarOptions Calendar)> All()
    {
        for (var i = 0; i < Calendars.Count; i++)
        {
            yield return ($"{Section}:Calendars:{i}", null, Calendars[i]);
        }

        foreach (var (service, calendars) in ServiceCalendars.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
        {
            for (var i = 0; i < calendars.Count; i++)
            {
                yield return ($"ShipBot:Services:{service}:Freezes:Calendars:{i}", service.ToLowerInvariant(), calendars[i]);
            }
        }
    }
}

/// <summary>One iCalendar (RFC 5545) source: a file or a URL (set exactly one).</summary>
public sealed class FreezeCalendarOptions
{
    /// <summary>A name for messages and the card. Default: the file name, or the URL's host and path.</summary>
    public string? Name { get; set; }

    /// <summary>A local <c>.ics</c> file (relative paths are relative to the working directory).</summary>
    public string? Path { get; set; }

    /// <summary>
    /// An <c>https</c> URL of an <c>.ics</c> feed (plain <c>http</c> only to a loopback address).
    /// A query string is treated as a secret (private calendar links carry their key there): it is
    /// never logged or shown. Put such a URL in an environment variable.
    /// </summary>
    public Uri? Url { get; set; }

    /// <summary>The zone of floating times and all-day dates (IANA or Windows id). Default: the calendar's X-WR-TIMEZONE, else UTC.</summary>
    public string? TimeZone { get; set; }

    /// <summary>This calendar's refresh interval. Default <see cref="FreezeOptions.RefreshInterval"/>.</summary>
    public TimeSpan? RefreshInterval { get; set; }

    /// <summary>The name used when none is configured.</summary>
    public string EffectiveName =>
        !string.IsNullOrWhiteSpace(Name) ? Name.Trim()
        : Path is { Length: > 0 } p ? System.IO.Path.GetFileNameWithoutExtension(p)
        : Url is { } u ? $"{u.Host}{u.AbsolutePath}"
        : "calendar";

    /// <summary>Where it is read from, safe to show: the path, or the URL without its query string.</summary>
    public string Location =>
        Path is { Length: > 0 } p ? p
        : Url is { } u ? u.GetLeftPart(UriPartial.Path) + (string.IsNullOrEmpty(u.Query) ? string.Empty : "?…")
        : "(nowhere)";
}
