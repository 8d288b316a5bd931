using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>A health evaluation whose verdict did not change writes no new revision, yet reads and the card show its readings.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    [Fact]
    public async Task OnTimerAsync_HealthyEvaluationVerdictUnchanged_NoNewVersionNoAuditButReadsAndCardShowTheReadings()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.SendAsync(Alice, $"/ship pause {id}");
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        var before = await sut.GetAsync(id);
        var audit = (await sut.AuditAsync(id)).Count;
        var cards = sut.PublicationsWithKey($"card:{id}").Count;
        sut.SetMetric(Metrics.ErrorRate, 0.004);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);

        var after = await sut.GetAsync(id);
        Assert.Equal(HealthStatus.Healthy, after.LastHealth!.Status);
        Assert.Equal(before.Revision, after.Revision);
        Assert.Equal(before.CardRevision, after.CardRevision);
        Assert.Equal(audit, (await sut.AuditAsync(id)).Count);
        Assert.Equal(sut.Time.GetUtcNow(), after.LastHealth.At);
        Assert.Contains(after.LastHealth.Checks, c => c.Metric == Metrics.ErrorRate && c.Value == 0.004);
        Assert.Equal(cards + 1, sut.PublicationsWithKey($"card:{id}").Count);
        var health = sut.LastCard(id).Card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).Single(f => f.Label == "Health");
        Assert.Contains(ReleaseCards.Clock(sut.Time.GetUtcNow()), health.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTimerAsync_VerdictChangesAfterQuietEvaluations_StoredWithANewVersion()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.SendAsync(Alice, $"/ship pause {id}");
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        var quiet = await sut.GetAsync(id);

        sut.BreachErrorRate();
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);

        var after = await sut.GetAsync(id);
        Assert.True(after.Revision > quiet.Revision);
        Assert.Equal(sut.Time.GetUtcNow(), after.LastHealth!.At);
        Assert.NotEqual(HealthStatus.Healthy, after.LastHealth.Status);
    }
}
