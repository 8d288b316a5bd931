using ShipBot.Core.Plans;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Tests.Plans;

public sealed class StagePlanTests
{
    private static readonly TimeSpan TenMinutes = TimeSpan.FromMinutes(10);

    private static Stage Canary(int percent = 5) => new(StageKind.Canary, percent, TimeSpan.FromMinutes(30));

    private static Stage EarlyAdopters(int percent = 25) => new(StageKind.EarlyAdopters, percent, TimeSpan.FromHours(2));

    private static Stage Ga(int percent = 50) => new(StageKind.GeneralAvailability, percent, TimeSpan.FromHours(4));

    private static Stage Full(int percent = 100) => new(StageKind.Full, percent, TimeSpan.FromMinutes(30));

    private static StagePlan CreateSut(params Stage[] stages) => new(TenMinutes, stages, TimeSpan.FromHours(1));

    [Fact]
    public void Default_MatchesSpec()
    {
        var plan = StagePlan.Default;

        Assert.Equal(
            [
                (StageKind.Canary, 5, TimeSpan.FromMinutes(30)),
                (StageKind.EarlyAdopters, 25, TimeSpan.FromHours(2)),
                (StageKind.GeneralAvailability, 50, TimeSpan.FromHours(4)),
                (StageKind.Full, 100, TimeSpan.FromMinutes(30)),
            ],
            plan.Stages.Select(s => (s.Kind, s.Percent, s.Bake)));
        Assert.All(plan.Stages, s => Assert.False(s.NeedsApproval));
        Assert.True(plan.StagingBake > TimeSpan.Zero);
        Assert.True(plan.ValidationWindow > TimeSpan.Zero);
    }

    [Theory]
    [InlineData(ReleaseKind.Standard)]
    [InlineData(ReleaseKind.HotfixP0)]
    [InlineData(ReleaseKind.HotfixP1)]
    public void Validate_DefaultPlan_HasNoProblems(ReleaseKind kind)
    {
        Assert.Empty(StagePlan.Default.Validate(kind));
    }

    [Theory]
    [InlineData(ReleaseKind.Standard)]
    [InlineData(ReleaseKind.HotfixP1)]
    public void Validate_OnePartialStage_RejectedAsBigBang(ReleaseKind kind)
    {
        var problem = Assert.Single(CreateSut(Canary(), Full()).Validate(kind));

        Assert.Contains("at least two partial stages", problem, StringComparison.Ordinal);
        Assert.Contains("this one has 1", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OnePartialStageForP0_IsAllowed()
    {
        Assert.Empty(CreateSut(Canary(), Full()).Validate(ReleaseKind.HotfixP0));
    }

    [Theory]
    [InlineData(ReleaseKind.Standard)]
    [InlineData(ReleaseKind.HotfixP0)]
    [InlineData(ReleaseKind.HotfixP1)]
    public void Validate_OnlyFull_RejectedForEveryKind(ReleaseKind kind)
    {
        var problems = CreateSut(Full()).Validate(kind);

        Assert.NotEmpty(problems);
    }

    [Fact]
    public void Validate_OnlyFullForP0_NeedsACanary()
    {
        Assert.Contains("even a P0 hotfix goes through a canary before 100 %", CreateSut(Full()).Validate(ReleaseKind.HotfixP0));
    }

    [Fact]
    public void Validate_NoStages_SaysSo()
    {
        Assert.Equal(["the plan has no production stages"], CreateSut().Validate(ReleaseKind.Standard));
    }

    [Fact]
    public void Validate_LastStageNotFull_Rejected()
    {
        Assert.Contains("the last stage must be Full at 100 %", CreateSut(Canary(), EarlyAdopters(), Ga()).Validate(ReleaseKind.Standard));
    }

    [Fact]
    public void Validate_FullBelowHundred_Rejected()
    {
        Assert.Contains("the last stage must be Full at 100 %", CreateSut(Canary(), EarlyAdopters(), Full(90)).Validate(ReleaseKind.Standard));
    }

    [Fact]
    public void Validate_TrafficNotIncreasing_Rejected()
    {
        var problems = CreateSut(Canary(30), EarlyAdopters(20), Full()).Validate(ReleaseKind.Standard);

        Assert.Contains("Early adopters must come after Canary with more traffic", problems);
    }

    [Fact]
    public void Validate_StagesOutOfOrder_Rejected()
    {
        var problems = CreateSut(EarlyAdopters(5), Canary(25), Full()).Validate(ReleaseKind.Standard);

        Assert.Contains("Canary must come after Early adopters with more traffic", problems);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(101)]
    public void Validate_PercentOutOfRange_Rejected(int percent)
    {
        var problems = CreateSut(Canary(percent), EarlyAdopters(), Full()).Validate(ReleaseKind.Standard);

        Assert.Contains($"Canary has {percent} %, which is not between 1 and 100", problems);
    }

    [Fact]
    public void Validate_HundredPercentBeforeLastStage_Rejected()
    {
        var problems = CreateSut(Canary(), Ga(100), Full()).Validate(ReleaseKind.Standard);

        Assert.Contains("GA reaches 100 % before the last stage", problems);
    }

    [Fact]
    public void Validate_NegativeTimes_Rejected()
    {
        var plan = new StagePlan(
            TimeSpan.FromMinutes(-1),
            [Canary() with { Bake = TimeSpan.FromMinutes(-1) }, EarlyAdopters(), Full()],
            TimeSpan.FromHours(1));

        var problems = plan.Validate(ReleaseKind.Standard);

        Assert.Contains("Canary has a negative bake time", problems);
        Assert.Contains("staging bake and validation window cannot be negative", problems);
    }

    [Fact]
    public void Validate_TwoPartialStagesSkippingEarlyAdopters_IsAllowed()
    {
        Assert.Empty(CreateSut(Canary(), Ga(), Full()).Validate(ReleaseKind.Standard));
    }

    [Fact]
    public void Hotfix_P0_IsCanaryThenFull()
    {
        var plan = StagePlan.Hotfix(StagePlan.Default, ReleaseKind.HotfixP0, TenMinutes);

        Assert.Equal([StageKind.Canary, StageKind.Full], plan.Stages.Select(s => s.Kind));
        Assert.Equal([5, 100], plan.Stages.Select(s => s.Percent));
        Assert.Empty(plan.Validate(ReleaseKind.HotfixP0));
    }

    [Fact]
    public void Hotfix_P1_IsCanaryThenGaThenFull()
    {
        var plan = StagePlan.Hotfix(StagePlan.Default, ReleaseKind.HotfixP1, TenMinutes);

        Assert.Equal([StageKind.Canary, StageKind.GeneralAvailability, StageKind.Full], plan.Stages.Select(s => s.Kind));
        Assert.Equal([5, 50, 100], plan.Stages.Select(s => s.Percent));
        Assert.Empty(plan.Validate(ReleaseKind.HotfixP1));
    }

    [Theory]
    [InlineData(ReleaseKind.HotfixP0)]
    [InlineData(ReleaseKind.HotfixP1)]
    public void Hotfix_BakesCappedAndValidationFifteenMinutes(ReleaseKind kind)
    {
        var plan = StagePlan.Hotfix(StagePlan.Default, kind, TenMinutes);

        Assert.All(plan.Stages, s => Assert.Equal(TenMinutes, s.Bake));
        Assert.Equal(TenMinutes, plan.StagingBake);
        Assert.Equal(TimeSpan.FromMinutes(15), plan.ValidationWindow);
    }

    [Fact]
    public void Hotfix_ShortBakes_AreKept()
    {
        var basePlan = new StagePlan(
            TimeSpan.FromMinutes(2),
            [new Stage(StageKind.Canary, 10, TimeSpan.FromMinutes(3)), Ga(), new Stage(StageKind.Full, 100, TimeSpan.FromMinutes(1))],
            TimeSpan.FromMinutes(5));

        var plan = StagePlan.Hotfix(basePlan, ReleaseKind.HotfixP1, TenMinutes);

        Assert.Equal([TimeSpan.FromMinutes(3), TenMinutes, TimeSpan.FromMinutes(1)], plan.Stages.Select(s => s.Bake));
        Assert.Equal(10, plan.Stages[0].Percent);
        Assert.Equal(TimeSpan.FromMinutes(2), plan.StagingBake);
        Assert.Equal(TimeSpan.FromMinutes(5), plan.ValidationWindow);
    }

    [Fact]
    public void Hotfix_BasePlanWithoutGa_UsesTheDefaultGaStage()
    {
        var basePlan = CreateSut(Canary(), EarlyAdopters(), Full());

        var plan = StagePlan.Hotfix(basePlan, ReleaseKind.HotfixP1, TenMinutes);

        Assert.Equal(50, plan.Stages.Single(s => s.Kind == StageKind.GeneralAvailability).Percent);
    }

    [Fact]
    public void Hotfix_StagesNeedingApproval_DoNotWait()
    {
        var basePlan = CreateSut(Canary() with { NeedsApproval = true }, Ga() with { NeedsApproval = true }, Full());

        var plan = StagePlan.Hotfix(basePlan, ReleaseKind.HotfixP1, TenMinutes);

        Assert.All(plan.Stages, s => Assert.False(s.NeedsApproval));
    }

    [Fact]
    public void Hotfix_StandardKind_Throws()
    {
        Assert.Throws<ArgumentException>(() => StagePlan.Hotfix(StagePlan.Default, ReleaseKind.Standard, TenMinutes));
    }

    [Theory]
    [InlineData(StageKind.Canary, ReleaseState.Canary, "Canary")]
    [InlineData(StageKind.EarlyAdopters, ReleaseState.EarlyAdopters, "Early adopters")]
    [InlineData(StageKind.GeneralAvailability, ReleaseState.GeneralAvailability, "GA")]
    [InlineData(StageKind.Full, ReleaseState.Full, "Full")]
    public void Stage_Kind_MapsToStateNameAndLabel(StageKind kind, ReleaseState state, string name)
    {
        var stage = new Stage(kind, 42, TenMinutes);

        Assert.Equal(state, stage.State);
        Assert.Equal(name, stage.Name);
        Assert.Equal($"{name} 42 %", stage.Label);
    }
}
