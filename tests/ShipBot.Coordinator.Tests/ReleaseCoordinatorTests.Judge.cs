using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>The sequential judge in the health gate: each verdict mapped to what the release does.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    private static readonly TimeSpan JudgedBake = TimeSpan.FromMinutes(30);

    /// <summary>A Sequential service with 30-minute bakes (so looks 30 s apart stay within a stage).</summary>
    private static CoordinatorHarness CreateJudged(bool earlyPromotion = false, Func<JudgeSettings, JudgeSettings>? tune = null) =>
        CreateSut(p => p with
        {
            Plan = new StagePlan(
                StagingBake,
                [
                    new Stage(StageKind.Canary, 5, JudgedBake),
                    new Stage(StageKind.EarlyAdopters, 25, JudgedBake),
                    new Stage(StageKind.GeneralAvailability, 50, JudgedBake),
                    new Stage(StageKind.Full, 100, JudgedBake),
                ],
                ValidationWindow),
            Judge = (tune ?? (j => j))(new JudgeSettings
            {
                Kind = JudgeKind.Sequential,
                EarlyPromotion = earlyPromotion,
                MinimumTime = TimeSpan.FromMinutes(1),
            }),
        });

    /// <summary>The health source answers with these counts for every count metric asked (no readings: the judge decides alone).</summary>
    private static List<HealthQuery> CountsAre(CoordinatorHarness sut, Func<string, MetricCounts?> counts)
    {
        var queries = new List<HealthQuery>();
        sut.Health.ReadAsync(Arg.Any<HealthQuery>(), Arg.Any<CancellationToken>()).Returns(ci =>
        {
            var query = ci.ArgAt<HealthQuery>(0);
            lock (queries)
            {
                queries.Add(query);
            }

            var found = query.CountMetrics.Select(counts).OfType<MetricCounts>().ToList();
            return Task.FromResult(new HealthSample([]) { Counts = found });
        });
        return queries;
    }

    private static MetricCounts Counts(string metric, double canary, double canaryEvents, double baseline, double baselineEvents) =>
        new(metric, canary, canaryEvents, baseline, baselineEvents, Start, Start, "fake-health");

    [Fact]
    public async Task HealthEvaluation_SequentialJudgeFindsHarm_RollsBackWithTheJudgesNumbersOnTheAlertAndInTheAudit()
    {
        var sut = CreateJudged();
        var id = await sut.ToCanaryBakeAsync();
        var queries = CountsAre(sut, m => m == CountMetrics.Errors
            ? Counts(m, 2000, 60, 38000, 114)
            : Counts(m, 2000, 20, 38000, 380));

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Equal(JudgeVerdict.Harm, release.Judge!.Verdict);
        var query = queries.Last();
        Assert.Equal(release.Judge.StartedAt, query.CountsSince);
        Assert.Equal([CountMetrics.Errors, CountMetrics.SlowRequests], query.CountMetrics);
        var evidence = Assert.Single(release.Rollback!.Evidence);
        Assert.Equal(CountMetrics.Errors, evidence.Metric);
        Assert.Contains("at least", evidence.Threshold, StringComparison.Ordinal);
        var audit = await sut.AuditAsync(id);
        var breach = Assert.Single(audit, a => a.Action == nameof(ReleaseEventKind.BreachDetected));
        Assert.Contains("sequential judge", breach.Detail, StringComparison.Ordinal);
        Assert.Contains("canary 3 % (60 of 2,000) vs baseline 0.3 % (114 of 38,000)", breach.Detail, StringComparison.Ordinal);
        var alert = sut.PublicationsWithKey("alert:demo@1.0.0:rollback").Last().Card;
        var judged = Assert.Single(alert.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts), f => f.Label == "Sequential judge");
        Assert.Contains("errors 3 % vs baseline 0.3 %: at least", judged.Value, StringComparison.Ordinal);
        Assert.Contains("(60 of 2,000)", judged.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthEvaluation_SequentialJudgeHarmOnAConsultMetric_AsksOnCallInsteadOfRollingBack()
    {
        var sut = CreateJudged(tune: j => j with
        {
            Metrics = [j.Metrics[0], j.Metrics[1] with { Critical = false, Action = BreachAction.Consult }],
        });
        var id = await sut.ToCanaryBakeAsync();
        CountsAre(sut, m => m == CountMetrics.Errors
            ? Counts(m, 2000, 6, 38000, 114)
            : Counts(m, 2000, 200, 38000, 380));

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.NotNull(release.Decision);
        Assert.Equal(CountMetrics.SlowRequests, release.Decision.Breach.Metric);
        var asked = Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.ConsultRequested));
        Assert.Contains("slow requests: canary 10 % (200 of 2,000)", asked.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthEvaluation_SequentialJudgeSafeWithEarlyPromotion_PromotesBeforeTheBakeEndsAuditedAsEarly()
    {
        var sut = CreateJudged(earlyPromotion: true);
        var id = await sut.ToCanaryBakeAsync();
        var bakeEnds = (await sut.GetAsync(id)).BakeEndsAt!.Value;
        CountsAre(sut, m => Counts(m, 100_000, 300, 1_900_000, 5_700));

        await sut.AdvanceAndFireAsync(TimeSpan.FromMinutes(2), id, TimerKind.HealthEvaluation);

        var release = await sut.GetAsync(id);
        Assert.True(sut.Time.GetUtcNow() < bakeEnds);
        Assert.Equal(ReleaseState.EarlyAdopters, release.State);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Production, 25), release.PendingDeployment);
        var promoted = Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.Promoted) && a.Detail.Contains("Early adopters", StringComparison.Ordinal));
        Assert.Contains("early: the sequential judge found Canary 5 % safe after 2 min, 28 min of bake skipped", promoted.Detail, StringComparison.Ordinal);
        Assert.Contains("errors: canary 0.3 % (300 of 100,000)", promoted.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthEvaluation_SequentialJudgeSafeWithoutEarlyPromotion_WaitsForTheBakeThenPromotes()
    {
        var sut = CreateJudged(earlyPromotion: false);
        var id = await sut.ToCanaryBakeAsync();
        var looks = 0;
        CountsAre(sut, m => Counts(m, 100_000 * ++looks, 300 * looks, 1_900_000 * looks, 5_700 * looks));

        await sut.AdvanceAndFireAsync(TimeSpan.FromMinutes(2), id, TimerKind.HealthEvaluation);
        var waiting = await sut.GetAsync(id);
        var card = ShipBotText(sut.LastCard(id).Card);
        await sut.AdvanceAndFireAsync(JudgedBake, id, TimerKind.Promotion);

        Assert.Equal(ReleaseState.Canary, waiting.State);
        Assert.Equal(JudgeVerdict.Safe, waiting.Judge!.Verdict);
        Assert.Contains("safe (early promotion is off)", card, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.EarlyAdopters, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task PromotionTimer_SequentialJudgeHasNoData_HoldsAtTheEndOfTheBakeAndNeverPasses()
    {
        var sut = CreateJudged(earlyPromotion: true);
        var id = await sut.ToCanaryBakeAsync();
        CountsAre(sut, _ => null);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        await sut.AdvanceAndFireAsync(JudgedBake, id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Equal(HealthStatus.Unknown, release.LastHealth!.Status);
        Assert.Equal(JudgeVerdict.NoData, release.Judge!.Verdict);
        Assert.Equal(2, release.InconclusiveStreak);
    }

    [Fact]
    public async Task HealthEvaluation_SequentialJudgeOverSeveralLooks_KeepsItsStateAndStartsAfreshAtTheNextStage()
    {
        var sut = CreateJudged();
        var id = await sut.ToCanaryBakeAsync();
        var canaryStarted = (await sut.GetAsync(id)).BakeEndsAt!.Value - JudgedBake;
        var look = 0;
        CountsAre(sut, m => Counts(m, 500 * ++look, 1.5 * look, 9500 * look, 28.5 * look));

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        var canary = await sut.GetAsync(id);
        await sut.AdvanceAndFireAsync(JudgedBake, id, TimerKind.Promotion);
        await sut.FireAsync(id, TimerKind.Work);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        var early = await sut.GetAsync(id);

        Assert.Equal("Canary", canary.Judge!.Stage);
        Assert.Equal(canaryStarted, canary.Judge.StartedAt);
        Assert.Equal(2, canary.Judge.Looks);
        Assert.Equal(0.005 / 2, canary.Judge.Metrics[0].Alpha, 12);
        Assert.Equal(ReleaseState.EarlyAdopters, early.State);
        Assert.Equal("EarlyAdopters", early.Judge!.Stage);
        Assert.Equal(1, early.Judge.Looks);
        Assert.Equal(0.0025 / 2, early.Judge.Metrics[0].Alpha, 12);
    }

    [Fact]
    public async Task PromoteNow_MomentsAfterAJudgedLook_UsesTheJudgesLastVerdictInsteadOfAnEmptyLook()
    {
        var sut = CreateJudged();
        var id = await sut.ToCanaryBakeAsync();
        CountsAre(sut, m => Counts(m, 2000, 6, 38000, 114));
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);

        var reply = await sut.SendAsync(Bob, $"/ship promote {id}");

        Assert.Contains("promoted to Early adopters", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.EarlyAdopters, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task HealthEvaluation_ThresholdJudge_ReadsNoCountsAndKeepsNoJudgeState()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        var queries = CountsAre(sut, m => Counts(m, 2000, 60, 38000, 114));

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);

        Assert.All(queries, q => Assert.Null(q.CountsSince));
        Assert.Null((await sut.GetAsync(id)).Judge);
    }

    [Fact]
    public async Task ReleaseCard_SequentialJudgeWithACharts_ExplainsEachMetricAndShowsTheChart()
    {
        var charts = Substitute.For<IJudgeCharts>();
        charts.LinkAsync(Arg.Any<ReleaseId>(), Arg.Any<JudgeState>(), Arg.Any<CancellationToken>()).Returns("/charts/abc.png");
        var sut = CreateJudged();
        var coordinator = new ReleaseCoordinator(sut.ReleaseStore, sut.Store, sut.Store, sut.Scheduler, sut.Deployment, sut.Health, sut.Readiness, [sut.Notifier], sut.Access, sut.Settings, sut.Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ReleaseCoordinator>.Instance)
        { JudgeCharts = charts };
        var id = await sut.ToCanaryBakeAsync();
        CountsAre(sut, m => Counts(m, 1000, 3, 19000, 57));

        sut.Time.Advance(TimeSpan.FromSeconds(30));
        await coordinator.OnTimerAsync(id, TimerKind.HealthEvaluation);

        var card = sut.LastCard(id).Card;
        var text = ShipBotText(card);
        Assert.Contains("Sequential judge at Canary 5 %", text, StringComparison.Ordinal);
        Assert.Contains("errors: canary 0.3 % (3 of 1,000) vs baseline 0.3 % (57 of 19,000)", text, StringComparison.Ordinal);
        Assert.Contains("(safe within + 1 pt) · continue", text, StringComparison.Ordinal);
        var image = Assert.Single(card.Blocks.OfType<ImageBlock>());
        Assert.Equal("/charts/abc.png", image.Url);
        Assert.Contains("error_rate: Continue", image.AltText, StringComparison.Ordinal);
    }

    private static string ShipBotText(Card card) =>
        string.Join("\n", card.Blocks.Select(b => b switch
        {
            TextBlock t => t.Text,
            FactsBlock f => string.Join("\n", f.Facts.Select(x => $"{x.Label}: {x.Value}")),
            ContextBlock c => c.Text,
            _ => string.Empty,
        }));
}
