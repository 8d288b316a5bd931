using CsCheck;
using ShipBot.Core.Checklists;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

public sealed class ClickBasisTests
{
    [Fact]
    public void Revision_AfterAPromotion_IsOutOfDateAndSaysWhereTheReleaseIsNow()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);
        var basis = ClickBasis.Revision(sut.Release);

        sut.Do((r, now) => r.Promote(now, Verdicts.Healthy(now), People.Bob));

        var stale = basis.StaleReason(sut.Release);
        Assert.NotNull(stale);
        Assert.StartsWith("This card is out of date: checkout@1.4.2 is now at Early adopters 25 %", stale, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", stale, StringComparison.Ordinal);
    }

    [Fact]
    public void Revision_QuietHealthReadingsAndFlappingStatus_NeverMakeTheCardStale()
    {
        var sut = ReleaseScenario.In(ReleaseState.Canary);
        var basis = ClickBasis.Revision(sut.Release);

        for (var i = 0; i < 5; i++)
        {
            sut.Advance(TimeSpan.FromSeconds(30));
            sut.Do((r, now) => r.ApplyHealth(i % 2 == 0 ? Verdicts.Unknown(now) : Verdicts.Healthy(now), TimeSpan.FromMinutes(15), now));
        }

        Assert.True(sut.Release.Revision > 5);
        Assert.Null(basis.StaleReason(sut.Release));
    }

    [Fact]
    public void Item_SeveralItemsTickedInARowFromOneCard_EachClickStillCurrent()
    {
        var sut = ReleaseScenario.Create();
        var shown = sut.Release.Checklist.Where(i => i.SettledBy == ItemSettledBy.Human && i.Id != ChecklistCatalog.UserFacingVerified)
            .Select(i => (i.Id, Basis: ClickBasis.Item(i))).ToList();

        foreach (var (id, basis) in shown)
        {
            Assert.Null(basis.StaleReason(sut.Release));
            sut.Do((r, now) => r.Confirm(People.Alice, [id], now));
        }

        Assert.All(shown, s => Assert.Equal(ChecklistItemState.Confirmed, sut.Release.Checklist.Single(i => i.Id == s.Id).State));
        var again = shown[0].Basis.StaleReason(sut.Release);
        Assert.Contains("qa is already confirmed by @alice", again, StringComparison.Ordinal);
    }

    [Fact]
    public void Decision_AnsweredThenANewOneOpens_TheOldButtonSaysHowItEndedAndWhatIsOpenNow()
    {
        var sut = ReleaseScenario.In(ReleaseState.GeneralAvailability);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));
        var first = ClickBasis.Decision(sut.Release.Decision!);
        Assert.Null(first.StaleReason(sut.Release));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Continue, now, sut.Release.Decision!.Id));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.BusinessConsult(now), TimeSpan.FromMinutes(15), now));

        var stale = first.StaleReason(sut.Release);

        Assert.Contains("decision d1 (user feedback at GA 50 %) ended — continue by @olga", stale, StringComparison.Ordinal);
        Assert.Contains("checkout@1.4.2 is now at GA 50 %, decision d2 pending about business metric at GA 50 %", stale, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(stale!, "decision d2"));
    }

    [Fact]
    public void Token_AnyBasis_ParsesBackToItself()
    {
        var revision = Gen.Select(Gen.Long[0, long.MaxValue], Gen.Enum<ReleaseState>(), Gen.Int[-1, 9], (r, s, i) => (ClickBasis)new RevisionBasis(r, s, i));
        var decision = Gen.Int[0, 100_000].Select(n => (ClickBasis)new DecisionBasis($"d{n}"));
        var item = Gen.Select(Gen.OneOf("qa", "https", "ufv", "ratelimit"), Gen.Enum<ChecklistItemState>(), (i, s) => (ClickBasis)new ItemBasis(i, s));

        Gen.OneOf(revision, decision, item).Sample(basis =>
        {
            Assert.True(ClickBasis.TryParse(basis.Token, out var parsed));
            Assert.Equal(basis, parsed);
            Assert.DoesNotContain('|', basis.Token);
            Assert.DoesNotContain(' ', basis.Token);
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("r12")]
    [InlineData("r12.Canary")]
    [InlineData("rx.Canary.0")]
    [InlineData("r1.Nowhere.0")]
    [InlineData("r1.3.0")]
    [InlineData("r1.Canary.-2")]
    [InlineData("d.")]
    [InlineData("i.qa.Maybe")]
    [InlineData("s.Canary.0")]
    public void TryParse_NotABasis_ReturnsFalse(string? token)
    {
        Assert.False(ClickBasis.TryParse(token, out _));
    }
}
