using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Issue 11: a click acts only on what the person saw; decisions, halts, rollbacks, help and reports on a bad day.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    /// <summary>A click on <paramref name="button"/> of the card published under <paramref name="key"/>, as an adapter delivers it.</summary>
    private static InboundCommand ClickOf(Actor actor, string key, CardAction button, string? input = null) =>
        InboundCommand.Click(ClickKeys.For("console", key, button.Id, button.Basis, button.Value, input), actor, Channel,
            input is null ? button.Value : $"{button.Value} {input}", button.Basis);

    private static CardAction Button(Publication card, string id) =>
        card.Card.Blocks.OfType<ActionsBlock>().SelectMany(b => b.Actions).First(a => a.Id == id);

    // ================================================================ clicks

    [Fact]
    public async Task Click_PromoteNowAgainAfterTheFirstActed_ChangesNothingAndSaysWhereTheReleaseIsNow()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        var promote = Button(sut.LastCard(id), "promote");
        var click = ClickOf(Bob, $"card:{id}", promote);

        var first = await sut.Coordinator.HandleAsync(click);
        var doubleClick = await sut.Coordinator.HandleAsync(click);
        await sut.FireAsync(id, TimerKind.Work);
        sut.Time.Advance(TimeSpan.FromSeconds(2));
        var late = await sut.Coordinator.HandleAsync(click);

        Assert.Contains("promoted to Early adopters 25 %", first.Text, StringComparison.Ordinal);
        Assert.Equal(first, doubleClick);
        Assert.StartsWith("This card is out of date: demo@1.0.0 is now at Early adopters 25 %", late.Text, StringComparison.Ordinal);
        Assert.False(late.Changed);
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.EarlyAdopters, release.State);
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "stale click: promote" && a.Actor == "bob");
    }

    [Fact]
    public async Task Click_TwoApproversRacingOnTheSameCard_OnePromotionTheOtherToldItIsOutOfDate()
    {
        var sut = CreateSut(p => p with { Approvers = ["bob", "erin"] });
        var id = await sut.ToCanaryBakeAsync();
        var promote = Button(sut.LastCard(id), "promote");

        var replies = await Task.WhenAll(
            Task.Run(() => sut.Coordinator.HandleAsync(ClickOf(Bob, $"card:{id}", promote))),
            Task.Run(() => sut.Coordinator.HandleAsync(ClickOf(Erin, $"card:{id}", promote))));

        Assert.Single(replies, r => r.Changed);
        Assert.Single(replies, r => r.Text.Contains("out of date", StringComparison.Ordinal));
        Assert.Single((await sut.AuditAsync(id)), a => a.Action == nameof(ReleaseEventKind.Promoted) && a.Detail.Contains("Early adopters", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Click_WaiveWithoutReasonThenWithOne_TheTypedInputMakesItAnotherClick()
    {
        var sut = CreateSut();
        var id = await sut.StartAsync();
        var waive = sut.LastCard(id).Card.Blocks.OfType<ChecklistBlock>().SelectMany(b => b.Groups).SelectMany(g => g.Items)
            .Single(i => i.Id == "qa").Actions.Single(a => a.Id == "waive");

        var bare = await sut.Coordinator.HandleAsync(ClickOf(Bob, $"card:{id}", waive));
        var reasoned = await sut.Coordinator.HandleAsync(ClickOf(Bob, $"card:{id}", waive, "covered by canary"));

        Assert.Contains("reason", bare.Text, StringComparison.Ordinal);
        Assert.True(reasoned.Changed);
        Assert.Equal(Core.Checklists.ChecklistItemState.Waived, (await sut.GetAsync(id)).Checklist.Single(i => i.Id == "qa").State);
    }

    [Fact]
    public async Task Click_WithAnUnreadableBasis_ChangesNothing()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        var before = await sut.GetAsync(id);

        var reply = await sut.Coordinator.HandleAsync(InboundCommand.Click("k", Bob, Channel, $"approve {id}", "garbage"));

        Assert.Contains("cannot read", reply.Text, StringComparison.Ordinal);
        Assert.Equal(before.Revision, (await sut.GetAsync(id)).Revision);
    }

    [Fact]
    public async Task HandleAsync_AnotherPersonsRequestId_IsTheirOwnRequest()
    {
        var sut = CreateSut();

        var alice = await sut.SendAsync(Alice, "/ship start demo 6.0.0", "shared");
        var bob = await sut.SendAsync(Bob, "/ship status demo@6.0.0", "shared");

        Assert.StartsWith("Started demo@6.0.0", alice.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Started", bob.Text, StringComparison.Ordinal);
        Assert.NotNull(bob.Card);
    }

    // ================================================================ decisions

    [Fact]
    public async Task Decisions_EachHasItsOwnCard_RefreshedWhileOpenAndClosedWithTheReasonWhenTheReleaseRollsBack()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);
        await sut.SendAsync(Carol, $"/ship decide {id} hold");
        sut.SetMetric(Metrics.UserFeedback, 2);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(30), id, TimerKind.HealthEvaluation);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(60), id, TimerKind.HealthEvaluation);

        var d1 = sut.PublicationsWithKey($"alert:{id}:decision:d1");
        var d2 = sut.PublicationsWithKey($"alert:{id}:decision:d2");
        Assert.Contains("held", d1[^1].Card.Fallback, StringComparison.Ordinal);
        Assert.Contains("user feedback", d2[0].Card.Title, StringComparison.Ordinal);
        Assert.Contains("waiting 60 s", d2[^1].Card.Blocks.OfType<ContextBlock>().Single().Text, StringComparison.Ordinal);

        await sut.SendAsync(Carol, $"/ship rollback {id} customers complain");

        foreach (var key in new[] { "d1", "d2" })
        {
            var closed = sut.PublicationsWithKey($"alert:{id}:decision:{key}")[^1].Card;
            Assert.Empty(closed.Blocks.OfType<ActionsBlock>());
            Assert.Contains("rolling back", closed.Fallback, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Decide_AnAdminInAnEmergency_MayAnswerAndRollBack()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.Business, 0.8);
        await sut.FireAsync(id, TimerKind.HealthEvaluation);

        var decided = await sut.SendAsync(Dave, $"/ship decide {id} hold");
        var rolledBack = await sut.SendAsync(Dave, $"/ship rollback {id} on-call unreachable");

        Assert.True(decided.Changed, decided.Text);
        Assert.True(rolledBack.Changed, rolledBack.Text);
        Assert.Equal("Dave", (await sut.GetAsync(id)).Rollback!.By);
    }

    // ================================================================ halt, rollback, alerts: the active release

    [Theory]
    [InlineData("carol", "/ship halt demo", "A halt needs a reason: `/ship halt demo <reason>`.")]
    [InlineData("carol", "/ship halt payments", "Unknown service 'payments'. Configured services: demo.")]
    [InlineData("mallory", "/ship halt payments outage in EU", "Unknown service 'payments'.")]
    [InlineData("mallory", "/ship unhalt payments fixed", "Unknown service 'payments'.")]
    [InlineData("carol", "/ship unhalt demo", "An unhalt needs a reason")]
    [InlineData("carol", "/ship halt all", "A change freeze needs a reason.")]
    public async Task Halt_MistypedOrUnknown_IsAnErrorBeforeAnyRoleCheckAndHaltsNothing(string who, string text, string expected)
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(who == "carol" ? Carol : Mallory, text);

        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.GetHaltsAsync());
    }

    [Fact]
    public async Task RollbackAndAlerts_AnOlderOperatingReleaseWhileANewerOneExists_AreRefusedOrIgnored()
    {
        var sut = CreateSut();
        var old = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, old);
        var next = await sut.ToCanaryBakeAsync("1.1.0");
        var calls = sut.DeploymentRequests().Count;

        var refused = await sut.SendAsync(Carol, $"/ship rollback {old} revert");
        var alert = await sut.Coordinator.OnAlertAsync(new ExternalAlert("demo", "1.0.0", "HighErrorRate", "critical", "burning", "alertmanager", sut.Time.GetUtcNow(), "f1"));

        Assert.Contains($"not demo's active release — {next} is (at Canary 5 %)", refused.Text, StringComparison.Ordinal);
        Assert.Equal(AlertOutcome.NoRollout, alert.Outcome);
        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(old)).State);
        Assert.Equal(calls, sut.DeploymentRequests().Count);

        // An alert naming no version acts on the active release.
        var acted = await sut.Coordinator.OnAlertAsync(new ExternalAlert("demo", null, "HighErrorRate", "critical", "burning", "alertmanager", sut.Time.GetUtcNow(), "f2"));
        Assert.Equal((AlertOutcome.Acted, (ReleaseId?)next), (acted.Outcome, acted.Release));
        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(old)).State);
    }

    [Fact]
    public async Task BareServiceName_WithAnOperatingReleaseAndANewerRollout_IsAmbiguousAndSaysWhichOneIsActive()
    {
        // Found driving the demo: mid-incident, "ambiguous" alone left on-call guessing which release to name.
        var sut = CreateSut();
        var old = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, old);
        var next = await sut.ToCanaryBakeAsync("1.1.0");

        var reply = await sut.SendAsync(Carol, "/ship rollback demo error budget burning");

        Assert.Contains($"{next} (the active release, at Canary 5 %)", reply.Text, StringComparison.Ordinal);
        Assert.Contains($"{old} (handed over to operations)", reply.Text, StringComparison.Ordinal);
        Assert.Contains($"for example {next}", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(next)).State);
    }

    // ================================================================ help, signals, hotfix notes, outcome targets

    [Theory]
    [InlineData("/ship help check", "`qa` (All quality evaluations passed)")]
    [InlineData("/ship help check", "`ufv`")]
    [InlineData("/ship help halt", "`/ship halt all <reason>` is a change freeze")]
    [InlineData("/ship help decide", "hold here")]
    [InlineData("/ship help deploy", "I don't know the verb 'deploy'. Verbs: start, hotfix")]
    public async Task Help_PerVerb_ShowsItsArgumentsAndAnUnknownVerbSaysSo(string text, string expected)
    {
        var reply = await CreateSut().SendAsync(Mallory, text);

        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signals_ListTheOpenPostIncidentSignalUntilItIsFilledIn()
    {
        var sut = CreateSut();
        await sut.SendAsync(Alice, "/ship hotfix demo 1.0.1 p0 payment outage in EU");

        var open = await sut.SendAsync(Mallory, "/ship signals");
        await sut.SendAsync(Carol, "/ship signal incident demo@1.0.1 expired certificate");
        var after = await sut.SendAsync(Mallory, "/ship signals");

        Assert.Contains("Open signals (1)", open.Text, StringComparison.Ordinal);
        Assert.Contains("incident for demo@1.0.1", open.Text, StringComparison.Ordinal);
        Assert.Contains("No open signals", after.Text, StringComparison.Ordinal);
        Assert.Contains("expired certificate", after.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hotfix_CustomerNotes_AreNeutralUnlessGivenAndNeverTheIncidentReason()
    {
        var sut = CreateSut();

        var started = await sut.SendAsync(Alice, "/ship hotfix demo 1.0.1 p0 payment outage in EU");
        var notes = await sut.SendAsync(Mallory, "/ship notes demo@1.0.1");
        var card = sut.LastCard(Id("1.0.1")).Card;

        Assert.Contains("--notes", started.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("outage", notes.Text, StringComparison.Ordinal);
        Assert.Contains(card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts), f => f.Label == "Post-incident signal");

        var sut2 = CreateSut();
        await sut2.SendAsync(Alice, "/ship hotfix demo 1.0.2 p1 checkout errors --notes Checkout works again");
        Assert.Contains("Checkout works again", (await sut2.SendAsync(Mallory, "/ship notes demo@1.0.2")).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutcomeCheckpoint_P99AboveTheContractTarget_ReportsAMissNotATick()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        sut.SetMetric(Metrics.LatencyP99, 450);
        await ToOperatingAsync(sut, id);

        await sut.AdvanceAndFireAsync(sut.Policy.OutcomeCheckpoints[0], id, TimerKind.OutcomeCheckpoint);

        var report = (await sut.GetAsync(id)).Outcomes.Single();
        Assert.Contains("p99 latency: actual 450 ms vs target p99 latency ≤ 300 ms ✗ missed", report.Lines);
        Assert.Contains("p99 latency ≤ 300 ms", (await sut.GetAsync(id)).Contract.OutcomeTargets);
    }

    [Fact]
    public async Task PromotionWaitsForAnApprover_TheCallToActionIsSettledOnceTheStageMoves()
    {
        var sut = CreateSut(p => p with { Plan = p.Plan with { Stages = [.. p.Plan.Stages.Select((s, i) => i == 0 ? s with { NeedsApproval = true } : s)] } });
        var id = await sut.ToCanaryBakeAsync();
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        var call = Assert.Single(sut.PublicationsWithKey($"alert:{id}:promotion"));
        var refused = await sut.Coordinator.HandleAsync(ClickOf(Alice, $"alert:{id}:promotion", Button(call, "promote")));

        var approved = await sut.Coordinator.HandleAsync(ClickOf(Bob, $"alert:{id}:promotion", Button(call, "promote")));

        Assert.Contains("separation of duties", refused.Text, StringComparison.Ordinal);
        Assert.True(approved.Changed, approved.Text);
        var settled = sut.PublicationsWithKey($"alert:{id}:promotion")[^1].Card;
        Assert.Empty(settled.Blocks.OfType<ActionsBlock>());
        Assert.Contains("no longer waiting", settled.Title, StringComparison.Ordinal);
        Assert.Contains(await sut.AuditAsync(id), a => a.Actor == "bob" && a.Detail.Contains("@Bob approved the promotion", StringComparison.Ordinal));
    }
}
