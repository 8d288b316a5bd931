using System.Globalization;

namespace ShipBot.Core.Freezes;

/// <summary>
/// One change-freeze window: one occurrence of a calendar event, from <see cref="Start"/>
/// (inclusive) to <see cref="End"/> (exclusive). <see cref="Start"/> and <see cref="End"/> carry the
/// UTC offset of the window's own time zone at that instant, so they read as people wrote them
/// ("Friday 16:00 +02:00"); comparisons are by instant.
/// </summary>
/// <param name="Name">The event's summary, for example "Weekend freeze" or "Christmas Day".</param>
/// <param name="Start">When the window opens (inclusive).</param>
/// <param name="End">When the window closes (exclusive); after <paramref name="Start"/>.</param>
/// <param name="Service">The service the window applies to, or null for a global window that applies to every service.</param>
/// <param name="Source">The name of the calendar the window comes from.</param>
public sealed record FreezeWindow(string Name, DateTimeOffset Start, DateTimeOffset End, string? Service, string Source)
{
    /// <summary>The time zone the window was written in (an IANA or Windows id, or "UTC"); null when unknown.</summary>
    public string? TimeZone { get; init; }

    /// <summary>Whether the window is a whole-day event (a public holiday).</summary>
    public bool AllDay { get; init; }

    /// <summary>Whether the window applies to every service.</summary>
    public bool IsGlobal => Service is null;

    /// <summary>Whether <paramref name="at"/> lies inside the window (start inclusive, end exclusive).</summary>
    public bool Contains(DateTimeOffset at) => Start <= at && at < End;

    /// <summary>Whether the window applies to <paramref name="service"/> (its own, or global).</summary>
    public bool AppliesTo(string service) => Service is null || string.Equals(Service, service, StringComparison.OrdinalIgnoreCase);

    /// <summary>"Weekend freeze (global) until Mon 26 Oct 2026 08:00 +01:00 Europe/Berlin".</summary>
    public string Describe() =>
        $"{Name} ({(IsGlobal ? "global" : Service)}) until {FreezeSchedule.FormatInstant(End, TimeZone)}";

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} [{Start:u} – {End:u}] {(IsGlobal ? "global" : Service)} from {Source}");
}
