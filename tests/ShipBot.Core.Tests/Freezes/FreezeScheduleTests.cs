using ShipBot.Core.Freezes;

namespace ShipBot.Core.Tests.Freezes;

public sealed class FreezeScheduleTests
{
    private static readonly TimeSpan Cet = TimeSpan.FromHours(1);

    // Friday 16:00 to Monday 08:00 (Berlin, winter), global; then Monday is a holiday for checkout only.
    private static readonly FreezeWindow Weekend = new("Weekend freeze", new(2026, 11, 6, 16, 0, 0, Cet), new(2026, 11, 9, 8, 0, 0, Cet), null, "company") { TimeZone = "Europe/Berlin" };

    private static readonly FreezeWindow Holiday = new("Team day", new(2026, 11, 9, 0, 0, 0, Cet), new(2026, 11, 10, 0, 0, 0, Cet), "checkout", "checkout-team") { TimeZone = "Europe/Berlin", AllDay = true };

    private static readonly FreezeWindow NextWeekend = Weekend with { Start = Weekend.Start.AddDays(7), End = Weekend.End.AddDays(7) };

    private static readonly FreezeWindow[] Windows = [NextWeekend, Holiday, Weekend];

    [Fact]
    public void ActiveAt_InsideAGlobalWindow_HoldsEveryService()
    {
        var at = new DateTimeOffset(2026, 11, 7, 12, 0, 0, Cet);

        Assert.Equal([Weekend], FreezeSchedule.ActiveAt(Windows, "checkout", at));
        Assert.Equal([Weekend], FreezeSchedule.ActiveAt(Windows, "search", at));
    }

    [Fact]
    public void ActiveAt_StartIsInclusiveAndEndExclusive()
    {
        Assert.Equal([Weekend], FreezeSchedule.ActiveAt(Windows, "search", Weekend.Start));
        Assert.Empty(FreezeSchedule.ActiveAt(Windows, "search", Weekend.End));
        Assert.Empty(FreezeSchedule.ActiveAt(Windows, "search", Weekend.Start.AddTicks(-1)));
    }

    [Fact]
    public void ActiveAt_ServiceWindow_HoldsOnlyThatService()
    {
        var at = new DateTimeOffset(2026, 11, 9, 12, 0, 0, Cet);

        Assert.Equal([Holiday], FreezeSchedule.ActiveAt(Windows, "Checkout", at));
        Assert.Empty(FreezeSchedule.ActiveAt(Windows, "search", at));
    }

    [Fact]
    public void FrozenUntil_WindowsThatOverlap_ChainToTheLastEnd()
    {
        var saturday = new DateTimeOffset(2026, 11, 7, 12, 0, 0, Cet);

        Assert.Equal(Holiday.End, FreezeSchedule.FrozenUntil(Windows, "checkout", saturday));
        Assert.Equal(Weekend.End, FreezeSchedule.FrozenUntil(Windows, "search", saturday));
        Assert.Null(FreezeSchedule.FrozenUntil(Windows, "search", Weekend.End));
    }

    [Fact]
    public void FrozenUntil_WindowThatStartsExactlyAtTheEnd_Chains()
    {
        var first = new FreezeWindow("a", Weekend.Start, Weekend.End, null, "x");
        var second = new FreezeWindow("b", Weekend.End, Weekend.End.AddHours(2), null, "x");

        Assert.Equal(second.End, FreezeSchedule.FrozenUntil([second, first], "search", Weekend.Start));
    }

    [Fact]
    public void Next_AfterAnInstant_IsTheFirstWindowThatOpensLater()
    {
        Assert.Equal(Weekend, FreezeSchedule.Next(Windows, "search", Weekend.Start.AddDays(-1)));
        Assert.Equal(Holiday, FreezeSchedule.Next(Windows, "checkout", Weekend.Start));
        Assert.Equal(NextWeekend, FreezeSchedule.Next(Windows, "search", Weekend.Start));
        Assert.Null(FreezeSchedule.Next(Windows, "search", NextWeekend.Start));
    }

    [Fact]
    public void StateAt_Frozen_ExplainsTheWindowAndUntilWhenInItsOwnZone()
    {
        var state = FreezeSchedule.StateAt(Windows, "checkout", new DateTimeOffset(2026, 11, 7, 12, 0, 0, Cet));

        Assert.True(state.IsFrozen);
        Assert.Equal(Holiday.End, state.Until);
        Assert.Equal(NextWeekend, state.Next);
        Assert.Equal("checkout is in the change freeze 'Weekend freeze' (global) until Tue 10 Nov 2026 00:00 +01:00 Europe/Berlin.", state.Explain());
    }

    [Fact]
    public void StateAt_NotFrozen_HasNoExplanationAndTheNextWindow()
    {
        var state = FreezeSchedule.StateAt(Windows, "search", new DateTimeOffset(2026, 11, 4, 12, 0, 0, Cet));

        Assert.False(state.IsFrozen);
        Assert.Null(state.Until);
        Assert.Null(state.Explain());
        Assert.Equal(Weekend, state.Next);
    }

    [Fact]
    public void Describe_Window_SaysScopeAndEnd()
    {
        Assert.Equal("Weekend freeze (global) until Mon 9 Nov 2026 08:00 +01:00 Europe/Berlin", Weekend.Describe());
        Assert.Equal("Team day (checkout) until Tue 10 Nov 2026 00:00 +01:00 Europe/Berlin", Holiday.Describe());
        Assert.Equal("Mon 9 Nov 2026 07:00 UTC", FreezeSchedule.FormatInstant(Weekend.End.ToUniversalTime(), "Europe/Berlin"));
    }

    [Fact]
    public void SourceStatus_Failed_SaysItUsesTheLastGoodCalendar()
    {
        var ok = new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);
        var status = new FreezeSourceStatus("holidays", null, "https://calendar.example/holidays.ics", ok, ok.AddMinutes(15), "HTTP 503", 12);

        Assert.True(status.IsStale);
        Assert.Equal("holidays: last refreshed 2026-11-02 09:00 UTC; last refresh failed at 2026-11-02 09:15 UTC (HTTP 503): using the last good calendar", status.Describe());
        Assert.Equal("holidays: last refreshed 2026-11-02 09:00 UTC, 12 window(s) known", (status with { LastError = null }).Describe());
    }
}
