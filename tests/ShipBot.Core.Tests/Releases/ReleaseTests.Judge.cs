using System.Text.Json;
using System.Text.Json.Serialization;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Releases.Events;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>The sequential judge's verdicts on the release aggregate: kept per stage, and early promotion only on a safe verdict the service allows.</summary>
public sealed class ReleaseJudgeTests
{
    private static JudgeStep Look(Release release, DateTimeOffset now, double canaryErrors, bool earlyPromotion, double scale = 1)
    {
        var settings = new JudgeSettings { Kind = JudgeKind.Sequential, EarlyPromotion = earlyPromotion, MinimumTime = TimeSpan.FromMinutes(1) };
        var state = SequentialJudge.Start(settings, release.CurrentStage!.Kind.ToString(), 0, 3, release.PhaseStartedAt ?? now);
        return SequentialJudge.Observe(state, new JudgeObservation(now,
        [
            new MetricCounts(CountMetrics.Errors, 100_000 * scale, canaryErrors * scale, 1_900_000 * scale, 5_700 * scale, state.StartedAt, now, "test"),
            new MetricCounts(CountMetrics.SlowRequests, 100_000 * scale, 300 * scale, 1_900_000 * scale, 5_700 * scale, state.StartedAt, now, "test"),
        ]));
    }

    [Fact]
    public void PromoteEarly_SafeAndAllowed_PromotesBeforeTheBakeEndsSayingWhy()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        sut.Do((r, now) => r.ApplyJudgement(Look(r, now, 300, earlyPromotion: true), TimeSpan.FromMinutes(15), now));

        sut.Do((r, now) => r.PromoteEarly(now));

        Assert.Equal(ReleaseState.EarlyAdopters, sut.Release.State);
        var promoted = Assert.IsType<Promoted>(Assert.Single(sut.LastChange!.Events));
        Assert.Equal(ReleaseEventKind.Promoted, promoted.Kind);
        Assert.Equal(("Canary 5 %", "Early adopters 25 %", false), (promoted.From, promoted.To, promoted.FromStaging));
        Assert.Null(promoted.Manual);
        var judged = Assert.IsType<JudgedPromotion>(promoted.Judged);
        Assert.Equal(TimeSpan.FromMinutes(7), judged.Skipped);
        Assert.Equal(TimeSpan.FromMinutes(3), judged.Elapsed);
        Assert.NotEmpty(judged.Metrics);
    }

    [Fact]
    public void PromoteEarly_SafeButEarlyPromotionOff_ChangesNothing()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        sut.Do((r, now) => r.ApplyJudgement(Look(r, now, 300, earlyPromotion: false), TimeSpan.FromMinutes(15), now));

        var change = sut.Release.PromoteEarly(sut.Now);

        Assert.False(change.Modified);
        Assert.Equal(ReleaseState.Canary, change.Next.State);
    }

    [Fact]
    public void PromoteEarly_OnlyContinue_ChangesNothing()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        sut.Do((r, now) => r.ApplyJudgement(Look(r, now, 300, earlyPromotion: true, scale: 0.005), TimeSpan.FromMinutes(15), now));

        var change = sut.Release.PromoteEarly(sut.Now);

        Assert.Equal(JudgeVerdict.Continue, sut.Release.Judge!.Verdict);
        Assert.False(change.Modified);
    }

    [Fact]
    public void PromoteEarly_SafeAtAnApprovalStage_WaitsForTheApprover()
    {
        var plan = ReleaseScenario.SmallPlan with { Stages = [ReleaseScenario.SmallPlan.Stages[0] with { NeedsApproval = true }, .. ReleaseScenario.SmallPlan.Stages.Skip(1)] };
        var sut = ReleaseScenario.Create(ReleaseScenario.DefaultPolicy with { Plan = plan }).To(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        sut.Do((r, now) => r.ApplyJudgement(Look(r, now, 300, earlyPromotion: true), TimeSpan.FromMinutes(15), now));

        sut.Do((r, now) => r.PromoteEarly(now));

        Assert.Equal(ReleaseState.Canary, sut.Release.State);
        Assert.True(sut.Release.AwaitingPromotionApproval);
    }

    [Fact]
    public void ApplyJudgement_StateOfAnotherStage_ChangesNothing()
    {
        var sut = ReleaseScenario.In(ReleaseState.EarlyAdopters).Advance(TimeSpan.FromMinutes(3));
        var canaryLook = Look(sut.Release, sut.Now, 300, earlyPromotion: true);
        var stale = canaryLook with { State = canaryLook.State with { Stage = nameof(StageKind.Canary) } };

        var change = sut.Release.ApplyJudgement(stale, TimeSpan.FromMinutes(15), sut.Now);

        Assert.False(change.Modified);
        Assert.Null(change.Next.Judge);
    }

    [Fact]
    public void Serialize_ReleaseWithJudgeState_RoundTripsEveryNumber()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = { new JsonStringEnumConverter() } };
        var sut = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        sut.Do((r, now) => r.ApplyJudgement(Look(r, now, 900, earlyPromotion: true), TimeSpan.FromMinutes(15), now));

        var back = JsonSerializer.Deserialize<Release>(JsonSerializer.Serialize(sut.Release, options), options)!;

        Assert.Equal(JsonSerializer.Serialize(sut.Release.Judge, options), JsonSerializer.Serialize(back.Judge, options));
        Assert.Equal(JudgeVerdict.Harm, sut.Release.Judge!.Verdict);
        Assert.Equal(ReleaseState.RollingBack, sut.Release.State);
    }
}
