using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Testing;
using static ShipBot.Core.Releases.ReleaseState;

namespace ShipBot.Core.Tests.Cards;

/// <summary>What the traffic router (or Flagger) reported, on the release card.</summary>
public sealed class ReleaseCardsRouterTests
{
    private static List<CardFact> Facts(Card card) => card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).ToList();

    [Fact]
    public void Release_ArgoStatus_ShowsStepWeightsReplicaSetsAndAnalysisAsTheRouterSaidThem()
    {
        var scenario = ReleaseScenario.In(Canary);
        var status = new TargetStatus("Argo Rollouts", "shop/checkout",
        [
            new TargetFact("phase", "Paused (CanaryPauseStep)"),
            new TargetFact("step", "2/6 (pause)"),
            new TargetFact("weights", "canary 5 % · stable 95 %"),
            new TargetFact("stable ReplicaSet", "checkout-6f9 4/4 available"),
            new TargetFact("canary ReplicaSet", "checkout-7c1 1/1 available"),
            new TargetFact("analysis", "checkout-7c1-2 Failed: Metric \"success-rate\" assessed Failed"),
        ], new DateTimeOffset(2025, 3, 3, 9, 41, 7, TimeSpan.Zero));

        var card = ReleaseCards.Release(scenario.Release, null, scenario.Now, ReleaseCardContext.None with { Router = status });

        var facts = Facts(card);
        Assert.Contains(new CardFact("Argo Rollouts", "shop/checkout (as of 09:41:07 UTC)"), facts);
        Assert.Contains(new CardFact("Step", "2/6 (pause)"), facts);
        Assert.Contains(new CardFact("Weights", "canary 5 % · stable 95 %"), facts);
        Assert.Contains(new CardFact("Stable ReplicaSet", "checkout-6f9 4/4 available"), facts);
        Assert.Contains(new CardFact("Analysis", "checkout-7c1-2 Failed: Metric \"success-rate\" assessed Failed"), facts);

        // In the router's order, right after the heading.
        var heading = facts.FindIndex(f => f.Label == "Argo Rollouts");
        Assert.Equal(["Phase", "Step", "Weights"], facts.Skip(heading + 1).Take(3).Select(f => f.Label));
    }

    [Fact]
    public void Release_RouteConditionsAndHAProxyServers_ShownPerFact()
    {
        var scenario = ReleaseScenario.In(EarlyAdopters);
        var route = new TargetStatus("Gateway API", "HTTPRoute shop/checkout",
            [new TargetFact("weights", "rule 1: canary 25 · stable 75"), new TargetFact("gateway shop/public", "Accepted True · ResolvedRefs True")], scenario.Now);
        var haproxy = new TargetStatus("HAProxy", "backend be_checkout",
            [new TargetFact("canary share", "25 %"), new TargetFact("new1", "weight 64 UP"), new TargetFact("stable1", "weight 96 DRAIN")], scenario.Now);

        var routeFacts = Facts(ReleaseCards.Release(scenario.Release, null, scenario.Now, ReleaseCardContext.None with { Router = route }));
        var haproxyFacts = Facts(ReleaseCards.Release(scenario.Release, null, scenario.Now, ReleaseCardContext.None with { Router = haproxy }));

        Assert.Contains(new CardFact("Gateway shop/public", "Accepted True · ResolvedRefs True"), routeFacts);
        Assert.Contains(new CardFact("Canary share", "25 %"), haproxyFacts);
        Assert.Contains(new CardFact("new1", "weight 64 UP"), haproxyFacts);
        Assert.Contains(new CardFact("stable1", "weight 96 DRAIN"), haproxyFacts);
    }

    [Fact]
    public void Release_NoRouterStatus_ShowsNoRouterFacts()
    {
        var scenario = ReleaseScenario.In(Canary);

        var facts = Facts(ReleaseCards.Release(scenario.Release, null, scenario.Now));

        Assert.DoesNotContain(facts, f => f.Label is "Argo Rollouts" or "Gateway API" or "HAProxy" or "Flagger");
    }
}
