using ShipBot.Core.Freezes;

namespace ShipBot.Core.Ports;

/// <summary>
/// The change-freeze windows that apply to services: each service's own calendars and the global
/// ones. Answers come from memory (calendars are read and refreshed in the background), so the
/// methods are synchronous and cheap enough for every start and every promotion. A calendar that
/// could not be read contributes its last good copy, or nothing if it was never read;
/// <see cref="Sources"/> says which.
/// </summary>
public interface IFreezeCalendar
{
    /// <summary>The windows that apply to <paramref name="service"/> and contain <paramref name="at"/>, ending soonest first; empty when not frozen.</summary>
    IReadOnlyList<FreezeWindow> ActiveAt(string service, DateTimeOffset at);

    /// <summary>The next window that applies to <paramref name="service"/> and opens strictly after <paramref name="after"/>, or null when none is known within the horizon.</summary>
    FreezeWindow? Next(string service, DateTimeOffset after);

    /// <summary>
    /// The windows that overlap [<paramref name="from"/>, <paramref name="to"/>), by start. With
    /// <paramref name="service"/> null: every window of every calendar (for <c>/ship freezes</c>
    /// without a service); otherwise the service's own and the global ones.
    /// </summary>
    IReadOnlyList<FreezeWindow> Between(string? service, DateTimeOffset from, DateTimeOffset to);

    /// <summary>The state of each configured calendar (last refresh, last error), global ones first.</summary>
    IReadOnlyList<FreezeSourceStatus> Sources { get; }
}

/// <summary>What the application layer asks of a freeze calendar in one call.</summary>
public static class FreezeCalendarExtensions
{
    /// <summary>
    /// The freeze of <paramref name="service"/> at <paramref name="at"/>: active windows, until when
    /// (following windows that overlap or touch, looking ahead at most <paramref name="lookAhead"/>,
    /// default 60 days) and the next window.
    /// </summary>
    public static FreezeState StateAt(this IFreezeCalendar calendar, string service, DateTimeOffset at, TimeSpan? lookAhead = null)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var horizon = at + (lookAhead ?? TimeSpan.FromDays(60));
        var windows = calendar.Between(service, at, horizon);
        var state = FreezeSchedule.StateAt(windows, service, at);
        return state.Next is not null ? state : state with { Next = calendar.Next(service, state.Until ?? at) };
    }
}
