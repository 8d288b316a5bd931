using ShipBot.Core.Freezes;

namespace ShipBot.Freezes.Tests;

public sealed class IcsFreezeParserTests
{
    private static readonly DateTimeOffset From = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset To = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<FreezeWindow> Expand(string ics, string? zone = null, DateTimeOffset? from = null, DateTimeOffset? to = null, string? service = null) =>
        IcsFreezeParser.Expand(IcsFreezeParser.Load(Calendars.Crlf(ics)), "test", service, zone, from ?? From, to ?? To);

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0, int year = 2026) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Expand_WeeklyFridayToMonday_EveryOccurrenceHasItsWallClockTimes()
    {
        var windows = Expand(Calendars.WeekendFreeze);

        // 16 Oct, 23 Oct, (30 Oct excluded), 6 Nov (moved to 12:00), 13, 20, 27 Nov, 4, 11, 18, 25 Dec.
        Assert.Equal(10, windows.Count);
        Assert.All(windows, w => Assert.Equal(DayOfWeek.Monday, w.End.DayOfWeek));
        Assert.All(windows, w => Assert.Equal(8, w.End.Hour));
        Assert.All(windows, w => Assert.Equal("Europe/Berlin", w.TimeZone));
        Assert.Equal(Utc(10, 16, 14), windows[0].Start); // 16:00 CEST
        Assert.Equal(Utc(10, 19, 6), windows[0].End);    // 08:00 CEST
    }

    [Fact]
    public void Expand_WeeklyWindowAcrossTheAutumnClockChange_EndsAtEightInWinterTime()
    {
        // Berlin's clocks go back on Sunday 25 Oct 2026: the window opens at 16:00 CEST and closes at 08:00 CET.
        var window = Expand(Calendars.WeekendFreeze).Single(w => w.Start.Day == 23);

        Assert.Equal(Utc(10, 23, 14), window.Start);
        Assert.Equal(TimeSpan.FromHours(2), window.Start.Offset);
        Assert.Equal(Utc(10, 26, 7), window.End);
        Assert.Equal(TimeSpan.FromHours(1), window.End.Offset);
        Assert.Equal(TimeSpan.FromHours(65), window.End - window.Start);
    }

    [Fact]
    public void Expand_WeeklyWindowAcrossTheSpringClockChange_EndsAtEightInSummerTime()
    {
        // Berlin's clocks go forward on Sunday 29 Mar 2026: 16:00 CET to 08:00 CEST is 63 hours.
        var ics = Calendars.WeekendFreeze.Replace("20261016T160000", "20260320T160000", StringComparison.Ordinal).Replace("20261019T080000", "20260323T080000", StringComparison.Ordinal);
        var window = Expand(ics, from: Utc(3, 25, 0), to: Utc(4, 1, 0)).Single();

        Assert.Equal(Utc(3, 27, 15), window.Start);
        Assert.Equal(Utc(3, 30, 6), window.End);
        Assert.Equal(TimeSpan.FromHours(63), window.End - window.Start);
    }

    [Fact]
    public void Expand_ExdateAndRecurrenceId_SkipAndMoveOccurrences()
    {
        var windows = Expand(Calendars.WeekendFreeze);

        Assert.DoesNotContain(windows, w => w.Start.Month == 10 && w.Start.Day == 30);
        var moved = Assert.Single(windows, w => w.Start.Month == 11 && w.Start.Day == 6);
        Assert.Equal("Weekend freeze (early)", moved.Name);
        Assert.Equal(Utc(11, 6, 11), moved.Start); // 12:00 CET
        Assert.Equal(Utc(11, 9, 7), moved.End);
    }

    [Theory]
    [InlineData("Europe/Berlin", 24, 23, 25, 23)]
    [InlineData("America/New_York", 25, 5, 26, 5)]
    [InlineData("Asia/Tokyo", 24, 15, 25, 15)]
    [InlineData(null, 25, 0, 26, 0)]
    public void Expand_AllDayHoliday_IsTheWholeDayInTheCalendarsZone(string? zone, int startDay, int startHour, int endDay, int endHour)
    {
        var christmas = Expand(Calendars.Holidays(), zone).Single(w => w.Name == "Christmas Day");

        Assert.True(christmas.AllDay);
        Assert.Equal(Utc(12, startDay, startHour), christmas.Start);
        Assert.Equal(Utc(12, endDay, endHour), christmas.End);
        Assert.Equal(zone ?? "UTC", christmas.TimeZone);
    }

    [Fact]
    public void Expand_AllDayHolidayOnTheDayTheClocksGoBack_Lasts25Hours()
    {
        var allSaints = Expand(Calendars.Holidays(), "America/New_York").Single(w => w.Name == "All Saints");

        Assert.Equal(Utc(11, 1, 4), allSaints.Start);  // midnight EDT
        Assert.Equal(Utc(11, 2, 5), allSaints.End);    // midnight EST
        Assert.Equal(TimeSpan.FromHours(25), allSaints.End - allSaints.Start);
    }

    [Fact]
    public void Expand_NoConfiguredZone_UsesTheCalendarsXWrTimezone()
    {
        var christmas = Expand(Calendars.Holidays("Asia/Tokyo")).First(w => w.Name == "Christmas Day");

        Assert.Equal(Utc(12, 24, 15), christmas.Start);
        Assert.Equal("Asia/Tokyo", christmas.TimeZone);
    }

    [Fact]
    public void Expand_YearlyHoliday_RepeatsEveryYear()
    {
        var windows = Expand(Calendars.Holidays(), "UTC", to: Utc(1, 1, 0, year: 2029)).Where(w => w.Name == "Christmas Day");

        Assert.Equal([2026, 2027, 2028], windows.Select(w => w.Start.Year));
    }

    [Fact]
    public void Expand_CancelledEvent_IsNoWindow()
    {
        Assert.DoesNotContain(Expand(Calendars.Holidays()), w => w.Name == "Cancelled holiday");
    }

    [Fact]
    public void Expand_WindowsTimeZoneName_ResolvesAsOutlookMeansIt()
    {
        var window = Expand(Calendars.Single("Release train", "20261118T090000", "20261118T170000", "W. Europe Standard Time")).Single();

        Assert.Equal(Utc(11, 18, 8), window.Start);
        Assert.Equal(Utc(11, 18, 16), window.End);
    }

    [Fact]
    public void Expand_UtcTimes_AreTakenAsTheyAre()
    {
        var window = Expand(Calendars.Single("Migration", "20261118T220000Z", "20261119T020000Z")).Single();

        Assert.Equal(Utc(11, 18, 22), window.Start);
        Assert.Equal(Utc(11, 19, 2), window.End);
        Assert.Equal("UTC", window.TimeZone);
    }

    [Fact]
    public void Expand_FloatingTimes_AreInTheConfiguredZone()
    {
        var window = Expand(Calendars.Single("Month end", "20261130T180000", "20261130T235900"), "America/New_York").Single();

        Assert.Equal(Utc(11, 30, 23), window.Start);
    }

    [Fact]
    public void Expand_LocalTimeSkippedByTheClockChange_MovesForward()
    {
        // 02:30 does not exist in Berlin on 29 Mar 2026: it is read as 03:30 CEST.
        var window = Expand(Calendars.Single("Odd", "20260329T023000", "20260329T050000", "Europe/Berlin"), from: Utc(3, 1, 0), to: Utc(4, 1, 0)).Single();

        Assert.Equal(Utc(3, 29, 1, 30), window.Start);
        Assert.Equal(Utc(3, 29, 3), window.End);
    }

    [Fact]
    public void Expand_RangeInTheMiddleOfAWindow_IncludesTheWindow()
    {
        var windows = Expand(Calendars.WeekendFreeze, from: Utc(10, 24, 12), to: Utc(10, 24, 13));

        Assert.Equal(Utc(10, 23, 14), Assert.Single(windows).Start);
    }

    [Fact]
    public void Expand_Service_IsRecordedOnEveryWindow()
    {
        Assert.All(Expand(Calendars.WeekendFreeze, service: "checkout"), w => Assert.Equal("checkout", w.Service));
    }

    [Fact]
    public void Load_NotACalendar_ThrowsFormatExceptionSayingSo()
    {
        var e = Assert.Throws<FormatException>(() => IcsFreezeParser.Load("<html>login</html>"));

        Assert.Contains("not an iCalendar document", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expand_UnknownTimeZone_ThrowsNamingTheEvent()
    {
        var e = Assert.Throws<FormatException>(() => Expand(Calendars.Single("Launch", "20261118T090000", "20261118T170000", "Mars/Olympus_Mons")));

        Assert.Equal("event 'Launch' uses an unknown time zone 'Mars/Olympus_Mons'", e.Message);
    }
}
