using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Records status on the card, signals passed on, and <c>/ship stats</c>.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    [Fact]
    public async Task HandleAsync_RecordsFailing_CardSaysSoAndTheReleaseGoesOn()
    {
        var records = Substitute.For<IReleaseRecordsStatus>();
        records.Current.Returns(new RecordsStatus(true, "/srv/records", null, null,
            "cannot write releases/2025-06-02-demo-1.0.0.md in /srv/records: Access denied", Start, 1, false, Start + TimeSpan.FromSeconds(5)));
        var sut = new CoordinatorHarness(records: records);

        var id = await sut.ToAwaitingApprovalAsync();

        var card = CardText(sut.LastCard(id).Card);
        Assert.Contains("Records: ⚠️ cannot write releases/2025-06-02-demo-1.0.0.md", card, StringComparison.Ordinal);
        Assert.Contains("retrying at 09:00:05 UTC (1 milestone(s) pending)", card, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.AwaitingApproval, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task HandleAsync_RecordsHealthy_CardSaysNothingAboutThem()
    {
        var records = Substitute.For<IReleaseRecordsStatus>();
        records.Current.Returns(new RecordsStatus(true, "/srv/records", Start, "3f2a1c0 demo@1.0.0: created", null, null, 0, false, null));
        var sut = new CoordinatorHarness(records: records);

        var id = await sut.StartAsync();

        Assert.DoesNotContain("Records", CardText(sut.LastCard(id).Card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_SignalRecordedAndIncidentOpened_PassedToSignalObserversEvenWhenOneThrows()
    {
        var failing = Substitute.For<ISignalObserver>();
        failing.OnSignalAsync(Arg.Any<Signal>(), Arg.Any<CancellationToken>()).Returns(Task.FromException(new IOException("disk full")));
        var seen = new List<Signal>();
        var observer = Substitute.For<ISignalObserver>();
        observer.OnSignalAsync(Arg.Do<Signal>(seen.Add), Arg.Any<CancellationToken>()).Returns(Task.CompletedTask);
        var sut = new CoordinatorHarness(signalObservers: [failing, observer]);

        await sut.SendAsync(Carol, "/ship hotfix demo 1.0.1 p0 checkout down");
        var reply = await sut.SendAsync(Alice, "/ship signal incident demo@1.0.1 the cache expired");

        Assert.Contains("signal recorded", reply.Text, StringComparison.Ordinal);
        Assert.Collection(seen,
            s => Assert.True(s.Open && s.Kind == Core.Commands.SignalKind.Incident),
            s => Assert.True(!s.Open && s.Text == "the cache expired"));
    }

    [Fact]
    public async Task HandleAsync_Stats_GivesTheKeysAsTextWithTheChartLink()
    {
        var charts = Substitute.For<IDeliveryCharts>();
        charts.LinkAsync(Arg.Any<DoraReport>(), Arg.Any<CancellationToken>()).Returns("https://shipbot.example/charts/abc.png");
        var sut = new CoordinatorHarness();
        var withChart = new CoordinatorHarness();
        var coordinator = new ReleaseCoordinator(withChart.ReleaseStore, withChart.Store, withChart.Store, withChart.Scheduler, withChart.Deployment, withChart.Health, withChart.Readiness,
            [withChart.Notifier], withChart.Access, withChart.Settings, withChart.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<ReleaseCoordinator>.Instance)
        { DeliveryCharts = charts };
        await sut.ToCanaryBakeAsync();

        // The report ends now (exclusive): the canary's first traffic must lie before it.
        sut.Time.Advance(TimeSpan.FromSeconds(1));

        var plain = await sut.SendAsync(Alice, "/ship stats demo --days 7");
        var charted = await coordinator.HandleAsync(new InboundCommand("r1", Alice, Channel, "/ship stats --days 7"));
        var unknown = await sut.SendAsync(Alice, "/ship stats nope");

        Assert.Equal(ReplyVisibility.InChannel, plain.Visibility);
        Assert.Contains("Delivery of demo, 7 days", plain.Card!.Title, StringComparison.Ordinal);
        Assert.Contains("Change failure rate: 0 % (0 of 1 change(s)", plain.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Chart", plain.Text, StringComparison.Ordinal);
        var image = Assert.Single(charted.Card!.Blocks.OfType<ImageBlock>());
        Assert.Equal("https://shipbot.example/charts/abc.png", image.Url);
        Assert.Contains("Deployment frequency", image.AltText + charted.Text, StringComparison.Ordinal);
        Assert.Contains("Unknown service 'nope'", unknown.Text, StringComparison.Ordinal);
    }
}
