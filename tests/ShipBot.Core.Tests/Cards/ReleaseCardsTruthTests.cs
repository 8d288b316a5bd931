using ShipBot.Core.Cards;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Testing;
using static ShipBot.Core.Releases.ReleaseState;

namespace ShipBot.Core.Tests.Cards;

/// <summary>Issue 11: a card tells the truth at every moment.</summary>
public sealed class ReleaseCardsTruthTests
{
    private static readonly TimeSpan ConsultTimeout = TimeSpan.FromMinutes(15);

    private static string StatusLine(Card card) => Assert.IsType<TextBlock>(card.Blocks[0]).Text;

    private static IEnumerable<CardAction> Buttons(Card card) =>
        card.Blocks.OfType<ActionsBlock>().SelectMany(b => b.Actions)
            .Concat(card.Blocks.OfType<ChecklistBlock>().SelectMany(b => b.Groups).SelectMany(g => g.Items).SelectMany(i => i.Actions));

    [Fact]
    public void Release_BakeOverButHealthNotGreen_SaysWhenTheBakeEndedNotAPromotionTimeInThePast()
    {
        var sut = ReleaseScenario.In(Canary).Advance(TimeSpan.FromMinutes(12));
        sut.Do((r, now) => r.ApplyHealth(Verdicts.Unknown(now), ConsultTimeout, now));

        var status = StatusLine(ReleaseCards.Release(sut.Release, null, sut.Now));

        Assert.DoesNotContain("promotes at", status, StringComparison.Ordinal);
        Assert.Contains("Canary 5 %: bake done at 09:15:00 UTC — holding: health unknown", status, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_DecisionOpenDuringTheBake_NeverSaysItPromotesAtTheEndOfTheBake()
    {
        // Found driving the demo: the stage bar said "promotes at …" while on-call held the release.
        var sut = ReleaseScenario.In(EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));

        var card = ReleaseCards.Release(sut.Release, null, sut.Now);

        var bar = card.Blocks.OfType<ProgressBlock>().Single().Stages.Single(s => s.Status == StageStatus.Current).Detail;
        Assert.DoesNotContain("promotes at", bar, StringComparison.Ordinal);
        Assert.Contains("waits for on-call's decision", bar, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_PausedDuringValidation_TalksAboutTheValidationWindowNotABake()
    {
        var sut = ReleaseScenario.In(Validating).Advance(TimeSpan.FromMinutes(5)).Do((r, now) => r.Pause(People.Olga, now));

        var status = StatusLine(ReleaseCards.Release(sut.Release, null, sut.Now));

        Assert.Equal("The validation clock is stopped with 10 min of the window left; resume when ready.", status);
    }

    [Theory]
    [InlineData(RolledBack)]
    [InlineData(Aborted)]
    [InlineData(Rejected)]
    public void Release_Finished_TheRestOfThePlanIsSkippedNotPending(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var stages = ReleaseCards.Release(sut.Release, null, sut.Now).Blocks.OfType<ProgressBlock>().Single().Stages;

        Assert.DoesNotContain(stages, s => s.Status == StageStatus.Pending);
        Assert.Equal(StageStatus.Skipped, stages[^1].Status);
    }

    [Fact]
    public void Release_ValidationWindowOver_SaysWhatTheHandoverWaitsFor()
    {
        var sut = ReleaseScenario.In(Validating).Advance(TimeSpan.FromMinutes(20));

        var card = ReleaseCards.Release(sut.Release, null, sut.Now);

        var status = StatusLine(card);
        Assert.DoesNotContain("validation until", status, StringComparison.Ordinal);
        Assert.Contains("validation window over at", status, StringComparison.Ordinal);
        Assert.Contains("waits for a human to verify user-facing functionality", status, StringComparison.Ordinal);
        Assert.Contains("window over at", card.Blocks.OfType<ProgressBlock>().Single().Stages.Single(s => s.Name == "Validation").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decision_WaitingTime_CountsUp()
    {
        var sut = ReleaseScenario.In(EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        var d = sut.Release.Decision!;

        var first = ReleaseCards.Decision(sut.Release, d, sut.Policy, sut.Now);
        sut.Advance(TimeSpan.FromMinutes(3));
        var later = ReleaseCards.Decision(sut.Release, d, sut.Policy, sut.Now);

        Assert.Contains("waiting 0 s", first.Blocks.OfType<ContextBlock>().Single().Text, StringComparison.Ordinal);
        Assert.Contains("waiting 3 min", later.Blocks.OfType<ContextBlock>().Single().Text, StringComparison.Ordinal);
        Assert.All(Buttons(later), b => Assert.Equal($"d.{d.Id}", b.Basis));
        Assert.All(Buttons(later), b => Assert.EndsWith($" {d.Id}", b.Value, StringComparison.Ordinal));
    }

    [Fact]
    public void Decision_Held_OffersRollBackAndContinueAndNeverTimesOut()
    {
        var sut = ReleaseScenario.In(EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.Decide(People.Olga, DecisionChoice.Hold, now));
        var held = sut.Release.HeldDecisions.Single();

        var card = ReleaseCards.Decision(sut.Release, held, sut.Policy, sut.Now);
        var release = ReleaseCards.Release(sut.Release, null, sut.Now);

        Assert.Equal(["decide-rollback", "decide-continue"], Buttons(card).Select(b => b.Id));
        Assert.DoesNotContain("auto-rollback", Terms(card), StringComparison.Ordinal);
        Assert.Contains("held by @olga", StatusLine(release), StringComparison.Ordinal);
        Assert.DoesNotContain(Buttons(release), b => b.Id == "promote");
    }

    [Fact]
    public void DecisionClosed_SaysHowItEndedWithoutButtons()
    {
        var sut = ReleaseScenario.In(EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), ConsultTimeout, now));
        sut.Do((r, now) => r.BeginRollback("customer reports", "olga", [], now));

        var card = ReleaseCards.DecisionClosed(sut.Release, sut.Release.DecisionHistory.Single());

        Assert.Empty(Buttons(card));
        Assert.Contains("closed", card.Title, StringComparison.Ordinal);
        Assert.Contains("rolling back", Terms(card), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_Aborted_SaysWhoAbortedAndWhy()
    {
        var sut = ReleaseScenario.Create().Do((r, now) => r.Abort(People.Bob, "wrong build", now));

        Assert.Contains("wrong build (@bob)", StatusLine(ReleaseCards.Release(sut.Release, null, sut.Now)), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_PromotionWaitsForAnApprover_NamesAndMentionsTheApprovers()
    {
        var sut = ReleaseScenario.In(EarlyAdopters);
        var waiting = sut.Release with { AwaitingPromotionApproval = true };
        var context = new ReleaseCardContext(sut.Policy.Approvers, false);

        var card = ReleaseCards.Release(waiting, null, sut.Now, context);
        var call = ReleaseCards.PromotionWaits(waiting, sut.Policy.Approvers);

        Assert.Contains("waits for @U02BOB, @U03CAROL (not the requester)", StatusLine(card), StringComparison.Ordinal);
        Assert.Equal(sut.Policy.Approvers, card.Mentions);
        Assert.Equal(sut.Policy.Approvers, call.Mentions);
        Assert.Equal("Approve promotion", Buttons(call).Single().Label);
    }

    [Theory]
    [InlineData(RolledBack)]
    [InlineData(RollingBack)]
    [InlineData(Completed)]
    [InlineData(Rejected)]
    [InlineData(Paused)]
    [InlineData(Halted)]
    public void Release_AnyState_FallbackNeverRepeatsTheTitle(ReleaseState state)
    {
        var card = ReleaseCards.Release(ReleaseScenario.In(state).Release, null, ReleaseScenario.In(state).Now);

        var title = card.Title[(card.Title.IndexOf('—', StringComparison.Ordinal) + 2)..];
        Assert.DoesNotContain($"{title}: {title}", card.Fallback, StringComparison.Ordinal);
        Assert.False(StatusLine(card).StartsWith(title, StringComparison.Ordinal), $"'{StatusLine(card)}' repeats '{title}'");
    }

    [Fact]
    public void Release_Checklist_CountsEveryItem()
    {
        var sut = ReleaseScenario.In(Canary);

        var summary = ReleaseCards.Release(sut.Release, null, sut.Now).Blocks.OfType<TextBlock>().Single(t => t.Text.StartsWith("Checklist", StringComparison.Ordinal)).Text;

        Assert.StartsWith($"Checklist {sut.Release.Checklist.Count(i => i.IsDone)}/{sut.Release.Checklist.Count} ", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_LongChangeList_IsCutWithAndNMoreWhileTheContractKeepsThemAll()
    {
        var changes = Enumerable.Range(1, 12).Select(i => $"change {i}").ToList();
        var sut = ReleaseScenario.Create(contract: ReleaseScenario.Contract with { Changes = changes });

        var fact = ReleaseCards.Release(sut.Release, null, sut.Now).Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).Single(f => f.Label == "Changes").Value;
        var contract = ContractDocument.Markdown(sut.Release, sut.Policy);

        Assert.StartsWith("change 1; change 2; change 3; change 4; change 5 and 7 more", fact, StringComparison.Ordinal);
        Assert.All(changes, c => Assert.Contains($"- {c}\n", contract.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal));
    }

    [Fact]
    public void Release_HotfixOwingItsIncidentSignal_SaysSo()
    {
        var sut = ReleaseScenario.Create(kind: ReleaseKind.HotfixP0);

        var owing = ReleaseCards.Release(sut.Release, null, sut.Now, new ReleaseCardContext([], OwesIncidentSignal: true));
        var filled = ReleaseCards.Release(sut.Release, null, sut.Now, new ReleaseCardContext([], OwesIncidentSignal: false));

        Assert.Contains(owing.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts), f => f.Label == "Post-incident signal");
        Assert.DoesNotContain(filled.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts), f => f.Label == "Post-incident signal");
    }

    [Fact]
    public void Release_HotfixRateLimit_IsAMandatorySecurityItemNotTheFloor()
    {
        var sut = ReleaseScenario.Create(kind: ReleaseKind.HotfixP1);

        var row = ReleaseCards.Release(sut.Release, null, sut.Now).Blocks.OfType<ChecklistBlock>().SelectMany(b => b.Groups).SelectMany(g => g.Items).Single(i => i.Id == "ratelimit");

        Assert.False(row.Floor);
        Assert.True(row.Mandatory);
        Assert.Equal("mandatory security item on a hotfix — not waivable", row.Detail);
        Assert.DoesNotContain(row.Actions, a => a.Id == "waive");
    }

    [Fact]
    public void Contract_DurationsAreHumanAndUserTextIsEscaped()
    {
        var sut = ReleaseScenario.Create(contract: ReleaseScenario.Contract with { Changes = ["[x] looks done", "# not a heading"] });

        var md = ContractDocument.Markdown(sut.Release, sut.Policy);

        Assert.Contains("bake 5 min", md, StringComparison.Ordinal);
        Assert.Contains("monitor for 10 min", md, StringComparison.Ordinal);
        Assert.Contains("+1 day, +7 days, +30 days", md, StringComparison.Ordinal);
        Assert.DoesNotContain("00:", md, StringComparison.Ordinal);
        Assert.Contains(@"- \[x\] looks done", md, StringComparison.Ordinal);
        Assert.Contains(@"- \# not a heading", md, StringComparison.Ordinal);
        Assert.DoesNotContain("\n- [x] looks", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_EveryButton_CarriesABasis()
    {
        foreach (var state in Enum.GetValues<ReleaseState>())
        {
            var sut = ReleaseScenario.In(state);
            Assert.All(Buttons(ReleaseCards.Release(sut.Release, null, sut.Now)), b => Assert.True(ClickBasis.TryParse(b.Basis, out _), $"{state}: {b.Id}"));
        }
    }

    private static string Terms(Card card) => string.Join(" ", card.Blocks.Select(b => b switch
    {
        TextBlock t => t.Text,
        ContextBlock c => c.Text,
        _ => string.Empty,
    })) + " " + card.Title;
}
