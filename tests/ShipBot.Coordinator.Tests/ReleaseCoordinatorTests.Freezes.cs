using ShipBot.Core.Cards;
using ShipBot.Core.Freezes;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Change-freeze windows from calendars: starts refused, rollouts held and resumed, the hotfix bypass, <c>/ship freezes</c>.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    private static (CoordinatorHarness Sut, FakeFreezeCalendar Calendar) CreateFrozenSut()
    {
        var calendar = new FakeFreezeCalendar();
        return (new CoordinatorHarness(freezes: calendar), calendar);
    }

    private static FreezeWindow Window(string name, DateTimeOffset start, TimeSpan length, string? service = null) =>
        new(name, start, start + length, service, "test-calendar") { TimeZone = "UTC" };

    private static string CardText(Card card) =>
        string.Join("\n", card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts).Select(f => $"{f.Label}: {f.Value}"));

    [Fact]
    public async Task HandleAsync_StartInsideFreezeWindow_RefusedNamingTheWindowAndItsEnd()
    {
        var (sut, calendar) = CreateFrozenSut();
        calendar.Add(Window("Weekend freeze", Start - TimeSpan.FromHours(1), TimeSpan.FromHours(3)));

        var reply = await sut.SendAsync(Alice, "/ship start demo 1.0.0 new checkout flow");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("Not started", reply.Text, StringComparison.Ordinal);
        Assert.Contains("'Weekend freeze' (global)", reply.Text, StringComparison.Ordinal);
        Assert.Contains("Mon 2 Jun 2025 11:00 UTC", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Demo));
    }

    [Fact]
    public async Task HandleAsync_StartOutsideAnyWindowOrInAnotherServicesWindow_Starts()
    {
        var (sut, calendar) = CreateFrozenSut();
        calendar.Add(Window("Payments freeze", Start - TimeSpan.FromHours(1), TimeSpan.FromHours(3), service: "payments"));
        calendar.Add(Window("Later", Start + TimeSpan.FromDays(1), TimeSpan.FromHours(3)));

        var id = await sut.StartAsync();

        Assert.Null((await sut.GetAsync(id)).FreezeBypass);
    }

    [Fact]
    public async Task OnTimerAsync_CanaryBakeEndsInsideWindow_HoldsAtStageSaysUntilWhenAndPromotesAfterTheWindow()
    {
        var (sut, calendar) = CreateFrozenSut();
        var id = await sut.ToCanaryBakeAsync();
        var opens = sut.Time.GetUtcNow() + TimeSpan.FromSeconds(2);
        calendar.Add(Window("Friday freeze", opens, TimeSpan.FromMinutes(10)));

        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.FireAsync(id, TimerKind.Work);

        var held = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, held.State);
        Assert.True(held.IsPromotionDue(sut.Time.GetUtcNow()));
        Assert.Contains("🧊 Frozen until", CardText(sut.LastCard(id).Card), StringComparison.Ordinal);
        Assert.Contains("'Friday freeze'", CardText(sut.LastCard(id).Card), StringComparison.Ordinal);
        var audit = await sut.AuditAsync(id);
        Assert.Single(audit, a => a.Action == "held by change freeze");

        // a manual promotion waits too
        var promote = await sut.SendAsync(Bob, $"/ship promote {id} looks fine");
        Assert.Contains("Cannot promote", promote.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);

        // later evaluations inside the window keep holding, and say it once
        await sut.AdvanceAndFireAsync(TimeSpan.FromMinutes(1), id, TimerKind.HealthEvaluation);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
        Assert.Single(await sut.AuditAsync(id), a => a.Action == "held by change freeze");

        // the first evaluation after the window promotes
        sut.Time.Advance(opens + TimeSpan.FromMinutes(10) - sut.Time.GetUtcNow());
        await sut.FireAsync(id, TimerKind.HealthEvaluation);
        await sut.FireAsync(id, TimerKind.Work);

        var after = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.EarlyAdopters, after.State);
        Assert.DoesNotContain("Frozen until", CardText(sut.LastCard(id).Card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTimerAsync_BreachInsideWindow_RollsBackAnyway()
    {
        var (sut, calendar) = CreateFrozenSut();
        var id = await sut.ToCanaryBakeAsync();
        calendar.Add(Window("Friday freeze", sut.Time.GetUtcNow(), TimeSpan.FromHours(1)));
        sut.BreachErrorRate();

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);

        Assert.Contains((await sut.GetAsync(id)).State, new[] { ReleaseState.RollingBack, ReleaseState.RolledBack });
    }

    [Fact]
    public async Task OnTimerAsync_StagingBakeEndsInsideWindow_NoProductionTrafficUntilTheWindowEnds()
    {
        var (sut, calendar) = CreateFrozenSut();
        var id = await sut.ToStagingBakeAsync();
        calendar.Add(Window("Release freeze", sut.Time.GetUtcNow(), TimeSpan.FromMinutes(5), service: "demo"));

        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);

        Assert.Equal(ReleaseState.Staging, (await sut.GetAsync(id)).State);
        Assert.DoesNotContain(sut.DeploymentRequests(), r => r.Intent.Environment == DeploymentEnvironment.Production);

        await sut.AdvanceAndFireAsync(TimeSpan.FromMinutes(5), id, TimerKind.HealthEvaluation);
        await sut.FireAsync(id, TimerKind.Work);

        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task HandleAsync_HotfixInsideWindowWithoutBypass_RefusedWithTheWayThrough()
    {
        var (sut, calendar) = CreateFrozenSut();
        calendar.Add(Window("Weekend freeze", Start - TimeSpan.FromHours(1), TimeSpan.FromHours(3)));

        var reply = await sut.SendAsync(Carol, "/ship hotfix demo 1.0.1 p0 checkout down");

        Assert.Contains("--bypass-freeze", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Id("1.0.1")));
    }

    [Fact]
    public async Task HandleAsync_HotfixBypassByRequesterWithoutOnCall_Refused()
    {
        var (sut, calendar) = CreateFrozenSut();
        calendar.Add(Window("Weekend freeze", Start - TimeSpan.FromHours(1), TimeSpan.FromHours(3)));

        var reply = await sut.SendAsync(Alice, "/ship hotfix demo 1.0.1 p0 checkout down --bypass-freeze \"cannot wait\"");

        Assert.Contains("bypass a change freeze", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Id("1.0.1")));
    }

    [Fact]
    public async Task HandleAsync_HotfixBypassByOnCallOrAdmin_StartsAuditedAndIsNotHeld()
    {
        var (sut, calendar) = CreateFrozenSut();
        calendar.Add(Window("Weekend freeze", Start - TimeSpan.FromHours(1), TimeSpan.FromHours(3)));

        var reply = await sut.SendAsync(Carol, "/ship hotfix demo 1.0.1 p0 checkout down --bypass-freeze \"customers cannot pay\" --notes Fixes checkout");
        var admin = await sut.SendAsync(Dave, "/ship hotfix demo 1.0.2 p1 search down --bypass-freeze \"admin says go\"");

        Assert.StartsWith("Started demo@1.0.1", reply.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(Id("1.0.1"));
        Assert.Equal(new FreezeBypass("carol", "customers cannot pay", "Weekend freeze", Start + TimeSpan.FromHours(2), Start), release.FreezeBypass);
        Assert.Equal("Fixes checkout", release.Contract.ReleaseNotes);
        var audit = await sut.AuditAsync(release.Id);
        Assert.Contains(audit, a => a.Action == "freeze bypass" && a.Actor == "carol" && a.Detail.Contains("customers cannot pay", StringComparison.Ordinal));
        var card = CardText(sut.LastCard(release.Id).Card);
        Assert.Contains("Freeze bypassed: 'Weekend freeze' by @carol", card, StringComparison.Ordinal);
        Assert.DoesNotContain("Frozen until", card, StringComparison.Ordinal);

        // the admin's hotfix passed the freeze check (one rollout per service refuses it afterwards)
        Assert.DoesNotContain("freeze", admin.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task HandleAsync_Freezes_ListsWindowsNowAndNextAndCalendarsThatFailed()
    {
        var (sut, calendar) = CreateFrozenSut();
        calendar.Add(Window("Weekend freeze", Start - TimeSpan.FromHours(1), TimeSpan.FromHours(3)));
        calendar.Add(Window("Christmas Day", Start + TimeSpan.FromDays(3), TimeSpan.FromDays(1), service: "demo"));
        calendar.Sources = [new FreezeSourceStatus("holidays", null, "https://calendar.example/h.ics", Start - TimeSpan.FromHours(2), Start, "HTTP 503", 4)];

        var all = await sut.SendAsync(Alice, "/ship freezes");
        var demo = await sut.SendAsync(Alice, "/ship freezes demo");
        var unknown = await sut.SendAsync(Alice, "/ship freezes nope");

        Assert.Equal(ReplyVisibility.InChannel, all.Visibility);
        Assert.Contains("In force now (1)", all.Text, StringComparison.Ordinal);
        Assert.Contains("Weekend freeze (global) until Mon 2 Jun 2025 11:00 UTC", all.Text, StringComparison.Ordinal);
        Assert.Contains("Christmas Day (demo) from Thu 5 Jun 2025 09:00 UTC", all.Text, StringComparison.Ordinal);
        Assert.Contains("using the last good calendar", all.Text, StringComparison.Ordinal);
        Assert.Contains("demo is in the change freeze 'Weekend freeze'", demo.Text, StringComparison.Ordinal);
        Assert.Contains("Unknown service", unknown.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_FreezesWithoutCalendars_SaysNoneConfigured()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Alice, "/ship freezes");

        Assert.Contains("No freeze calendar is configured", reply.Text, StringComparison.Ordinal);
    }
}
