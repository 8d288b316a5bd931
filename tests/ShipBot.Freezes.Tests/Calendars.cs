namespace ShipBot.Freezes.Tests;

/// <summary>iCalendar documents for the tests, written as calendar programs write them (CRLF line ends).</summary>
internal static class Calendars
{
    /// <summary>Every Friday 16:00 to Monday 08:00 in Berlin from 16 Oct 2026, except 30 Oct; 6 Nov starts at 12:00 instead.</summary>
    public const string WeekendFreeze = """
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//ShipBot tests//EN
        BEGIN:VTIMEZONE
        TZID:Europe/Berlin
        BEGIN:DAYLIGHT
        TZOFFSETFROM:+0100
        TZOFFSETTO:+0200
        TZNAME:CEST
        DTSTART:19700329T020000
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
        END:DAYLIGHT
        BEGIN:STANDARD
        TZOFFSETFROM:+0200
        TZOFFSETTO:+0100
        TZNAME:CET
        DTSTART:19701025T030000
        RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
        END:STANDARD
        END:VTIMEZONE
        BEGIN:VEVENT
        UID:weekend@shipbot.test
        DTSTAMP:20260901T000000Z
        SUMMARY:Weekend freeze
        DTSTART;TZID=Europe/Berlin:20261016T160000
        DTEND;TZID=Europe/Berlin:20261019T080000
        RRULE:FREQ=WEEKLY;BYDAY=FR
        EXDATE;TZID=Europe/Berlin:20261030T160000
        END:VEVENT
        BEGIN:VEVENT
        UID:weekend@shipbot.test
        DTSTAMP:20260901T000000Z
        RECURRENCE-ID;TZID=Europe/Berlin:20261106T160000
        SUMMARY:Weekend freeze (early)
        DTSTART;TZID=Europe/Berlin:20261106T120000
        DTEND;TZID=Europe/Berlin:20261109T080000
        END:VEVENT
        END:VCALENDAR
        """;

    /// <summary>All-day public holidays: Christmas every year, and 1 Nov 2026 (the day New York's clocks go back).</summary>
    public static string Holidays(string? calendarZone = null) => $"""
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//ShipBot tests//EN
        {(calendarZone is null ? "X-WR-CALNAME:Holidays" : $"X-WR-TIMEZONE:{calendarZone}")}
        BEGIN:VEVENT
        UID:christmas@shipbot.test
        DTSTAMP:20260901T000000Z
        SUMMARY:Christmas Day
        DTSTART;VALUE=DATE:20261225
        DTEND;VALUE=DATE:20261226
        RRULE:FREQ=YEARLY
        END:VEVENT
        BEGIN:VEVENT
        UID:allsaints@shipbot.test
        DTSTAMP:20260901T000000Z
        SUMMARY:All Saints
        DTSTART;VALUE=DATE:20261101
        END:VEVENT
        BEGIN:VEVENT
        UID:cancelled@shipbot.test
        DTSTAMP:20260901T000000Z
        SUMMARY:Cancelled holiday
        STATUS:CANCELLED
        DTSTART;VALUE=DATE:20261102
        DTEND;VALUE=DATE:20261103
        END:VEVENT
        END:VCALENDAR
        """;

    /// <summary>One event in an arbitrary time zone.</summary>
    public static string Single(string summary, string start, string end, string? tzid = null) => $"""
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//ShipBot tests//EN
        BEGIN:VEVENT
        UID:{Guid.NewGuid():N}@shipbot.test
        DTSTAMP:20260901T000000Z
        SUMMARY:{summary}
        DTSTART{(tzid is null ? string.Empty : $";TZID={tzid}")}:{start}
        DTEND{(tzid is null ? string.Empty : $";TZID={tzid}")}:{end}
        END:VEVENT
        END:VCALENDAR
        """;

    public static string Crlf(string text) => text.ReplaceLineEndings("\r\n");
}
