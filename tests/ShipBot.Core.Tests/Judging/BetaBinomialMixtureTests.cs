using ShipBot.Core.Judging;

namespace ShipBot.Core.Tests.Judging;

/// <summary>
/// Known values. Howard, Ramdas, McAuliffe and Sekhon (2021) publish their boundaries with a
/// reference implementation (the confseq package); its test suite pins values computed
/// independently in R for the worked settings of the paper's mixture boundaries: intrinsic time
/// v = 100, tuned for vOpt = 100 at α = 0.05, and a Bernoulli stream with null rate 0.2 (so
/// v = 0.2 × 0.8 × 625 trials). We reproduce those numbers from our own implementation.
/// </summary>
public sealed class BetaBinomialMixtureTests
{
    private const double Tolerance = 1e-5;

    // Intrinsic time v = p(1 − p) n = 100 with p = 0.2 means n = 625 trials; a centred sum s = S − np = 10 means S = 135.
    private const double Trials = 625;

    [Fact]
    public void BestRho_PaperTuning_MatchesReference() =>
        Assert.Equal(12.60056, BetaBinomialMixture.BestRho(100, 0.05), Tolerance);

    [Fact]
    public void LogEvidence_TwoSidedAtCentredSumTen_MatchesReference() =>
        Assert.Equal(-0.6941012, BetaBinomialMixture.LogEvidence(135, Trials, 0.2, 100, 0.05, MixtureSide.TwoSided), Tolerance);

    [Fact]
    public void LogEvidence_OneSidedAtCentredSumTen_MatchesReference() =>
        Assert.Equal(-0.07134019, BetaBinomialMixture.LogEvidence(135, Trials, 0.2, 100, 0.05, MixtureSide.Above), Tolerance);

    [Theory]
    [InlineData(MixtureSide.TwoSided, 31.4308)]
    [InlineData(MixtureSide.Above, 28.41238)]
    public void LogEvidence_AtReferenceBoundary_EqualsThreshold(MixtureSide side, double boundary) =>
        Assert.Equal(Math.Log(1 / 0.05), BetaBinomialMixture.LogEvidence(125 + boundary, Trials, 0.2, 100, 0.05, side), 1e-4);

    [Theory]
    [InlineData(700, 1000, 100, 0.651629, 0.745949)]
    [InlineData(15, 50, 50, 0.129556, 0.511896)]
    [InlineData(5, 50, 50, 0.013021, 0.269264)]
    [InlineData(1, 50, 50, 0.0, 0.13489)]
    [InlineData(100, 200, 1, 0.328923, 0.671076)]
    public void Bounds_TwoSidedBernoulliConfidenceInterval_MatchReference(double successes, double trials, double trialsOpt, double lower, double upper)
    {
        Assert.Equal(lower, BetaBinomialMixture.LowerBound(successes, trials, 0.05, trialsOpt, 0.05, MixtureSide.TwoSided), Tolerance);
        Assert.Equal(upper, BetaBinomialMixture.UpperBound(successes, trials, 0.05, trialsOpt, 0.05, MixtureSide.TwoSided), Tolerance);
    }

    [Fact]
    public void LogEvidence_AboveAndBelow_PointTheirOwnWay()
    {
        // 30 yeses in 100 against a null of 10 %: strong evidence the rate is higher, none that it is lower.
        Assert.True(BetaBinomialMixture.LogEvidence(30, 100, 0.1, 9, 0.05, MixtureSide.Above) > Math.Log(20));
        Assert.True(BetaBinomialMixture.LogEvidence(30, 100, 0.1, 9, 0.05, MixtureSide.Below) < 0);
    }
}
