using Ical.Net;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using NodaTime;
using ShipBot.Core.Freezes;

namespace ShipBot.Freezes;

/// <summary>
/// Turns an iCalendar (RFC 5545) document into freeze windows with Ical.Net: every VEVENT is a
/// window, recurring ones (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) expanded over a range.
/// <list type="bullet">
/// <item>Times with a TZID are resolved in that zone (IANA names, Windows names as Outlook writes
/// them); UTC times as UTC; floating times and all-day dates (public holidays) in the calendar's
/// own zone: the configured one, else the calendar's <c>X-WR-TIMEZONE</c>, else UTC.</item>
/// <item>An occurrence ends at the same wall-clock time as the first one even across a
/// daylight-saving change ("Friday 16:00 to Monday 08:00" ends at 08:00 on the Monday after the
/// clocks change), as calendar applications show it. RFC 5545 strictly keeps the exact length of a
/// DTEND-defined event, which would end such a freeze an hour early or late; a DURATION-defined
/// event keeps RFC 5545's rule (days are nominal, hours exact).</item>
/// <item>A local time that does not exist (skipped by a daylight-saving change) moves forward by
/// the gap; one that exists twice is the first of the two (RFC 5545 §3.3.5).</item>
/// <item>Cancelled events (<c>STATUS:CANCELLED</c>) are not windows.</item>
/// </list>
/// </summary>
public static class IcsFreezeParser
{
    /// <summary>The most occurrences one calendar may produce in a range (a guard against a runaway rule).</summary>
    public const int MaxOccurrences = 20_000;

    /// <summary>Parses an iCalendar document. Throws <see cref="FormatException"/> with the reason when it is not one.</summary>
    public static Calendar Load(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.TrimStart('\uFEFF', ' ', '\r', '\n', '\t').StartsWith("BEGIN:VCALENDAR", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException("not an iCalendar document (it does not begin with BEGIN:VCALENDAR)");
        }

        try
        {
            return Calendar.Load(text) ?? throw new FormatException("the iCalendar document holds no calendar");
        }
        catch (Exception e) when (e is not FormatException and not OutOfMemoryException)
        {
            throw new FormatException($"the iCalendar document cannot be parsed: {e.Message}", e);
        }
    }

    /// <summary>The calendar's own zone for floating times and dates: <c>X-WR-TIMEZONE</c>, if set and known.</summary>
    public static string? CalendarTimeZone(Calendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var value = calendar.Properties.FirstOrDefault(p => string.Equals(p.Name, "X-WR-TIMEZONE", StringComparison.OrdinalIgnoreCase))?.Value as string;
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    /// <summary>
    /// The windows of <paramref name="calendar"/> that overlap [<paramref name="from"/>, <paramref name="to"/>).
    /// Throws <see cref="FormatException"/> when an event cannot be evaluated (an unknown time zone,
    /// an end before its start), naming the event.
    /// </summary>
    /// <param name="calendar">A parsed calendar (<see cref="Load"/>).</param>
    /// <param name="calendarName">The source's name, recorded on each window.</param>
    /// <param name="service">The service the calendar applies to; null for global.</param>
    /// <param name="defaultTimeZone">The zone of floating times and all-day dates, or null for the calendar's <c>X-WR-TIMEZONE</c>, else UTC.</param>
    /// <param name="from">The start of the range.</param>
    /// <param name="to">The end of the range (exclusive).</param>
    /// <param name="maxLength">Windows longer than this that began before <paramref name="from"/> may be missed (evaluation starts this much earlier). Default 60 days.</param>
    public static IReadOnlyList<FreezeWindow> Expand(
        Calendar calendar,
        string calendarName,
        string? service,
        string? defaultTimeZone,
        DateTimeOffset from,
        DateTimeOffset to,
        TimeSpan? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var fallbackId = defaultTimeZone ?? CalendarTimeZone(calendar) ?? "UTC";
        var fallback = ResolveZone(fallbackId) ?? throw new FormatException($"unknown time zone '{fallbackId}'");
        foreach (var e in calendar.Events)
        {
            foreach (var time in new[] { e.DtStart, e.DtEnd })
            {
                if (time is { IsFloating: false, IsUtc: false, TzId: { } tzid } && ResolveZone(tzid) is null)
                {
                    throw new FormatException($"event '{e.Summary ?? e.Uid}' uses an unknown time zone '{tzid}'");
                }
            }
        }

        var evaluationStart = from - (maxLength ?? TimeSpan.FromDays(60));
        var windows = new List<FreezeWindow>();
        IEnumerable<Occurrence> occurrences;
        try
        {
            occurrences = calendar.GetOccurrences<CalendarEvent>(new CalDateTime(evaluationStart.UtcDateTime.AddDays(-1), CalDateTime.UtcTzId));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or Ical.Net.Evaluation.EvaluationException)
        {
            throw new FormatException($"the calendar cannot be evaluated: {e.Message}", e);
        }

        var count = 0;
        using var enumerator = occurrences.GetEnumerator();
        while (true)
        {
            CalendarEvent? source = null;
            try
            {
                if (!enumerator.MoveNext())
                {
                    break;
                }

                source = (CalendarEvent)enumerator.Current.Source;
                if (++count > MaxOccurrences)
                {
                    throw new FormatException($"more than {MaxOccurrences} occurrences between {from:u} and {to:u}: check the recurrence rules");
                }

                if (string.Equals(source.Status, "CANCELLED", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var window = ToWindow(enumerator.Current, source, fallback, fallbackId, calendarName, service);

                // Occurrences come in start order with floating ones interleaved by their UTC reading, so
                // stop only well past the range.
                if (window.Start >= to && window.Start.UtcDateTime > to.UtcDateTime.AddDays(2))
                {
                    break;
                }

                if (window.End > from && window.Start < to)
                {
                    windows.Add(window);
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or Ical.Net.Evaluation.EvaluationException or OverflowException)
            {
                var name = source is null ? "an event" : $"event '{source.Summary ?? source.Uid}'";
                throw new FormatException($"{name} cannot be evaluated: {e.Message}", e);
            }
        }

        return windows.OrderBy(w => w.Start).ThenBy(w => w.End).ThenBy(w => w.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>A TZID as Ical.Net resolves it (IANA, Windows, and the spellings older calendar programs write); null when unknown.</summary>
    public static DateTimeZone? ResolveZone(string? tzId)
    {
        if (string.IsNullOrWhiteSpace(tzId))
        {
            return null;
        }

        if (string.Equals(tzId, "UTC", StringComparison.OrdinalIgnoreCase) || string.Equals(tzId, "Z", StringComparison.Ordinal))
        {
            return DateTimeZone.Utc;
        }

        return DefaultTimeZoneResolver.GetZone(tzId);
    }

    private static FreezeWindow ToWindow(Occurrence occurrence, CalendarEvent source, DateTimeZone fallback, string fallbackId, string calendarName, string? service)
    {
        var period = occurrence.Period;
        var startTime = period.StartTime;
        var (zone, zoneId) = ZoneOf(startTime, fallback, fallbackId);
        var startLocal = Local(startTime);
        var start = startLocal.InZoneLeniently(zone);
        ZonedDateTime end;
        if (!startTime.HasTime)
        {
            // All-day: the end is a date too; the length is counted in days, whatever the clocks do.
            var days = source.DtEnd is { HasTime: false } dtEndDate && source.DtStart is { } dtStartDate
                ? Math.Max(1, dtEndDate.Date.DayNumber - dtStartDate.Date.DayNumber)
                : source.Duration is { } d ? Math.Max(1, (d.Weeks ?? 0) * 7 + (d.Days ?? 0)) : 1;
            end = startLocal.PlusDays(days).InZoneLeniently(zone);
        }
        else if (source.DtStart is { HasTime: true } dtStart && source.DtEnd is { HasTime: true } dtEnd
            && (dtEnd.IsFloating || string.Equals(dtEnd.TzId, dtStart.TzId, StringComparison.OrdinalIgnoreCase))
            && HasEventLength(period, source))
        {
            // Same wall-clock length as the event as written (see the class remarks).
            var nominal = NodaTime.Period.Between(Local(dtStart), Local(dtEnd), PeriodUnits.AllUnits);
            end = startLocal.Plus(nominal).InZoneLeniently(zone);
        }
        else
        {
            var exact = (period.EffectiveEndTime ?? startTime).AsUtc - startTime.AsUtc;
            end = start.Plus(NodaTime.Duration.FromTimeSpan(exact));
        }

        if (end.ToInstant() <= start.ToInstant())
        {
            // A zero-length event (DTSTART only) holds nothing; keep it as a one-minute marker so it is visible.
            end = start.Plus(NodaTime.Duration.FromMinutes(1));
        }

        var name = string.IsNullOrWhiteSpace(source.Summary) ? $"Freeze {source.Uid}" : source.Summary.Trim();
        return new FreezeWindow(name, start.ToDateTimeOffset(), end.ToDateTimeOffset(), service, calendarName)
        {
            TimeZone = zoneId,
            AllDay = !startTime.HasTime,
        };
    }

    private static bool HasEventLength(Ical.Net.DataTypes.Period period, CalendarEvent source) =>
        period.Duration is not { } duration || duration.ToString() == source.EffectiveDuration.ToString();

    private static (DateTimeZone Zone, string Id) ZoneOf(CalDateTime time, DateTimeZone fallback, string fallbackId)
    {
        if (time.IsFloating || !time.HasTime)
        {
            return (fallback, fallbackId);
        }

        if (time.IsUtc)
        {
            return (DateTimeZone.Utc, "UTC");
        }

        var zone = ResolveZone(time.TzId) ?? throw new ArgumentException($"unknown time zone '{time.TzId}'");
        return (zone, time.TzId!);
    }

    private static LocalDateTime Local(CalDateTime time) =>
        LocalDateTime.FromDateTime(time.Date.ToDateTime(time.Time ?? TimeOnly.MinValue));
}
