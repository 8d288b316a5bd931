using ShipBot.Core.Cards;
using ShipBot.Core.Checklists;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Testing;
using static ShipBot.Core.Releases.ReleaseState;

namespace ShipBot.Core.Tests.Cards;

public sealed class ReleaseCardsTests
{
    private const string Rel = "checkout@1.4.2";

    private static readonly string[] DangerousIds = ["rollback", "reject", "waive", "abort"];

    private static ServiceHalt CheckoutHalt(DateTimeOffset at) => new("checkout", "incident in payments", "olga", at);

    private static Card CreateSut(ReleaseScenario scenario, ServiceHalt? halt = null) => ReleaseCards.Release(scenario.Release, halt, scenario.Now);

    private static List<CardAction> Buttons(Card card) => card.Blocks.OfType<ActionsBlock>().SelectMany(b => b.Actions).ToList();

    private static HashSet<string> ButtonIds(Card card) => Buttons(card).Select(a => a.Id).ToHashSet(StringComparer.Ordinal);

    private static List<ChecklistRow> ChecklistRows(Card card) =>
        card.Blocks.OfType<ChecklistBlock>().SelectMany(b => b.Groups).SelectMany(g => g.Items).ToList();

    private static IReadOnlyList<StageProgress> Progress(Card card) => Assert.Single(card.Blocks.OfType<ProgressBlock>()).Stages;

    private static string StatusLine(Card card) => Assert.IsType<TextBlock>(card.Blocks[0]).Text;

    private static string Fact(Card card, string label) =>
        card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).First(f => f.Label == label).Value;

    public static TheoryData<ReleaseState> EveryState() => ReleaseScenario.AllStates();

    // ---------------------------------------------------------------- buttons per state

    [Theory]
    [MemberData(nameof(EveryState))]
    public void Release_AnyState_ButtonsOnlyWhereTheyMakeSense(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var ids = ButtonIds(CreateSut(sut));

        var production = state.IsProductionStage();
        Assert.Equal(state == AwaitingApproval, ids.Contains("approve"));
        Assert.Equal(state is Draft or AwaitingApproval, ids.Contains("reject"));
        Assert.Equal(production, ids.Contains("promote"));
        Assert.Equal(state is Staging or Validating || production, ids.Contains("pause"));
        Assert.Equal(state is Paused or Halted, ids.Contains("resume"));
        Assert.Equal(state is Draft or AwaitingApproval or Staging, ids.Contains("abort"));
        Assert.Equal(
            state is Validating or Operating or Paused or Halted || production,
            ids.Contains("rollback"));
        Assert.Equal(state == Operating, ids.Contains("flag-removed"));
        Assert.DoesNotContain("decide-rollback", ids);
        if (state.IsTerminal())
        {
            Assert.Empty(ids);
        }
    }

    [Theory]
    [InlineData(Paused)]
    [InlineData(Halted)]
    public void Release_PausedOrHaltedWhileServiceHalted_HasNoResume(ReleaseState state)
    {
        var sut = ReleaseScenario.In(state);

        var card = CreateSut(sut, CheckoutHalt(sut.Now));

        Assert.DoesNotContain("resume", ButtonIds(card));
        Assert.Contains("rollback", ButtonIds(card));
    }

    [Fact]
    public void Release_HaltedWhileServiceHalted_StatusSaysUnhaltFirst()
    {
        var sut = ReleaseScenario.In(Halted);

        Assert.Contains("checkout halted — unhalt first", StatusLine(CreateSut(sut, CheckoutHalt(sut.Now))), StringComparison.Ordinal);
        Assert.Contains("change freeze — unhalt first", StatusLine(CreateSut(sut, CheckoutHalt(sut.Now) with { Service = ServiceHalt.Everything })), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_HaltedAtRedStagingGate_OffersResumeAndAbortNotRollback()
    {
        var sut = ReleaseScenario.Create().ToStaging(StagingStep.SmokeChecking).Do((r, now) => r.RecordSmokeChecks(false, "login 500", now));

        var card = CreateSut(sut);

        Assert.Equal(["resume", "abort"], Buttons(card).Select(a => a.Id));
        Assert.Contains("re-runs the gate", StatusLine(card), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_DeploymentPending_NoPromoteButton()
    {
        var sut = ReleaseScenario.In(Canary).Advance(TimeSpan.FromMinutes(10));
        sut.Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        var card = CreateSut(sut);

        Assert.DoesNotContain("promote", ButtonIds(card));
        Assert.Contains("applying production at 25 %", StatusLine(card), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_AwaitingPromotionApproval_PromoteReadsApprovePromotion()
    {
        var policy = ReleaseScenario.DefaultPolicy with
        {
            Plan = ReleaseScenario.SmallPlan with { Stages = [ReleaseScenario.SmallPlan.Stages[0] with { NeedsApproval = true }, .. ReleaseScenario.SmallPlan.Stages.Skip(1)] },
        };
        var sut = ReleaseScenario.Create(policy).ToStage(0).Advance(TimeSpan.FromMinutes(10));
        sut.Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null));

        var card = CreateSut(sut);

        Assert.Equal("Approve promotion", Buttons(card).Single(a => a.Id == "promote").Label);
        Assert.Contains("promotion waits for an approver", StatusLine(card), StringComparison.Ordinal);
    }

    [Fact]
    public void Release_DecisionPending_ShowsDecisionButtonsInsteadOfPromoteAndRollback()
    {
        var sut = ReleaseScenario.In(EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));

        var card = CreateSut(sut);

        var ids = Buttons(card).Select(a => a.Id).ToList();
        Assert.Equal(["decide-rollback", "decide-hold", "decide-continue"], ids.Take(3));
        Assert.DoesNotContain("promote", ids);
        Assert.DoesNotContain("rollback", ids);
        Assert.Equal(CardTone.Warning, card.Tone);
        Assert.Contains("user feedback", card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts).Single(f => f.Label.StartsWith("Decision d", StringComparison.Ordinal) && f.Label.EndsWith("pending", StringComparison.Ordinal)).Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_Operating_OffersOneButtonPerFlagToRemove()
    {
        var sut = ReleaseScenario.In(Operating);

        var flag = Assert.Single(Buttons(CreateSut(sut)), a => a.Id == "flag-removed");

        Assert.Equal($"flag-removed {Rel} {ReleaseScenario.Flag}", flag.Value);
        sut.Do((r, now) => r.MarkFlagRemoved(People.Alice, ReleaseScenario.Flag, false, now));
        Assert.DoesNotContain("flag-removed", ButtonIds(CreateSut(sut)));
        Assert.Contains("new-cart (removed)", Fact(CreateSut(sut), "Feature flags"), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- dangerous actions

    private static IEnumerable<CardAction> AllButtonsAcrossStates()
    {
        foreach (var state in Enum.GetValues<ReleaseState>())
        {
            var card = CreateSut(ReleaseScenario.In(state));
            foreach (var action in Buttons(card).Concat(ChecklistRows(card).SelectMany(r => r.Actions)))
            {
                yield return action;
            }
        }

        var draft = CreateSut(ReleaseScenario.Create());
        foreach (var action in ChecklistRows(draft).SelectMany(r => r.Actions))
        {
            yield return action;
        }
    }

    [Fact]
    public void Release_DangerousActions_AskForConfirmationAndAReason()
    {
        var dangerous = AllButtonsAcrossStates()
            .Where(a => DangerousIds.Contains(a.Id))
            .Where(a => a.Label != "Retry rollback")
            .ToList();

        Assert.Equal(DangerousIds.Order(), dangerous.Select(a => a.Id).Distinct().Order());
        Assert.All(dangerous, a =>
        {
            Assert.False(string.IsNullOrWhiteSpace(a.Confirm), $"{a.Id} has no confirmation");
            Assert.False(string.IsNullOrWhiteSpace(a.Input), $"{a.Id} has no reason prompt");
        });
        Assert.All(dangerous.Where(a => a.Id != "waive"), a => Assert.Equal(ActionStyle.Danger, a.Style));
    }

    [Fact]
    public void Release_RollingBack_OffersNoButtonsBecauseShipBotRetriesTheRollbackItself()
    {
        var card = CreateSut(ReleaseScenario.In(RollingBack));

        Assert.Empty(Buttons(card));
        Assert.Contains("Rolling back", card.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_EveryButton_RunsACommandTheParserAccepts()
    {
        foreach (var action in AllButtonsAcrossStates())
        {
            var text = action.Input is null ? action.Value : $"{action.Value} because reasons";

            var result = CommandParser.Parse(text);

            Assert.True(result.Success, $"button {action.Id} runs '{text}': {result.Error}");
            Assert.Equal(action.Value.Split(' ')[0], result.Command!.Verb);
        }
    }

    // ---------------------------------------------------------------- checklist

    [Fact]
    public void Release_Draft_ChecklistButtonsOnlyForPendingHumanItemsAndNeverWaiveOnFloor()
    {
        var sut = ReleaseScenario.Create()
            .Do((r, now) => r.Confirm(People.Alice, ["qa", "https"], now))
            .Do((r, now) => r.Waive(People.Bob, "db", "stateless", now))
            .Do((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "notified", now));

        var rows = ChecklistRows(CreateSut(sut));

        Assert.Equal(sut.Release.Checklist.Where(i => i.Group != ChecklistGroup.Validation).Select(i => i.Id), rows.Select(r => r.Id));
        foreach (var row in rows)
        {
            var item = sut.Release.Checklist.Single(i => i.Id == row.Id);
            var actionable = !item.IsDone && item.SettledBy == ItemSettledBy.Human;
            Assert.Equal(actionable, row.Actions.Any(a => a.Id == "check"));
            Assert.Equal(actionable && !item.Floor, row.Actions.Any(a => a.Id == "waive"));
            Assert.Equal(item.Floor, row.Floor);
            Assert.Equal(item.State.ToString().ToLowerInvariant(), row.State);
            if (actionable)
            {
                Assert.Equal($"check {Rel} {item.Id}", row.Actions.Single(a => a.Id == "check").Value);
            }
        }

        Assert.Empty(rows.Single(r => r.Id == ChecklistCatalog.Approved).Actions);
        Assert.Contains("never waivable", rows.Single(r => r.Id == "env").Detail, StringComparison.Ordinal);
        Assert.Contains("stateless", rows.Single(r => r.Id == "db").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_Draft_GroupsPreDeploymentAndShipChecklist()
    {
        var card = CreateSut(ReleaseScenario.Create());

        var groups = Assert.Single(card.Blocks.OfType<ChecklistBlock>()).Groups;

        Assert.Equal(["Pre-deployment checks", "Ship checklist"], groups.Select(g => g.Title));
        Assert.DoesNotContain(groups.SelectMany(g => g.Items), r => r.Id == ChecklistCatalog.UserFacingVerified);
    }

    [Fact]
    public void Release_FailedVerificationOfFloorItem_ConfirmButNoWaive()
    {
        var sut = ReleaseScenario.Create().Do((r, now) => r.RecordVerification(ChecklistCatalog.HealthCheck, false, "503", now));

        var row = ChecklistRows(CreateSut(sut)).Single(r => r.Id == ChecklistCatalog.HealthCheck);

        Assert.Equal("failed", row.State);
        Assert.Equal(["check"], row.Actions.Select(a => a.Id));
    }

    [Fact]
    public void Release_Validating_OnlyTheUserFacingItemWithVerifiedButton()
    {
        var sut = ReleaseScenario.In(Validating);

        var card = CreateSut(sut);

        var row = Assert.Single(ChecklistRows(card));
        Assert.Equal(ChecklistCatalog.UserFacingVerified, row.Id);
        var verify = Assert.Single(row.Actions);
        Assert.Equal(("Verified", $"check {Rel} ufv"), (verify.Label, verify.Value));
        Assert.Contains("needs a human to verify", StatusLine(card), StringComparison.Ordinal);

        sut.Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
        Assert.Empty(Assert.Single(ChecklistRows(CreateSut(sut))).Actions);
    }

    [Theory]
    [InlineData(Staging)]
    [InlineData(Canary)]
    [InlineData(Operating)]
    public void Release_AfterApproval_ChecklistIsASummaryLine(ReleaseState state)
    {
        var card = CreateSut(ReleaseScenario.In(state));

        Assert.Empty(card.Blocks.OfType<ChecklistBlock>());
        // Every item counts, the validation item included: it is still open until validation.
        var expected = state == Operating ? "Checklist 16/16 ✓" : "Checklist 15/16 …";
        Assert.Contains(card.Blocks.OfType<TextBlock>(), t => t.Text.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Release_WaivedItem_SummaryShowsWaiverAndReason()
    {
        var sut = ReleaseScenario.Create().Do((r, now) => r.Waive(People.Bob, "ratelimit", "internal only", now)).ToStaging();

        var card = CreateSut(sut);

        Assert.Contains(card.Blocks.OfType<TextBlock>(), t => t.Text.Contains("1 waived: Rate limiting configured \"internal only\" (@bob)", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- progress

    public static TheoryData<ReleaseState, StageStatus[]> ProgressByState() => new()
    {
        { Draft, [StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending] },
        { Staging, [StageStatus.Current, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending] },
        { Canary, [StageStatus.Done, StageStatus.Current, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending] },
        { GeneralAvailability, [StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Current, StageStatus.Pending, StageStatus.Pending] },
        { Full, [StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Current, StageStatus.Pending] },
        { Validating, [StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Current] },
        { Operating, [StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done] },
        { Completed, [StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done, StageStatus.Done] },
        { Paused, [StageStatus.Done, StageStatus.Current, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending] },
        { RollingBack, [StageStatus.Done, StageStatus.Failed, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending, StageStatus.Pending] },
        { RolledBack, [StageStatus.Done, StageStatus.Failed, StageStatus.Skipped, StageStatus.Skipped, StageStatus.Skipped, StageStatus.Skipped] },
    };

    [Theory]
    [MemberData(nameof(ProgressByState))]
    public void Release_Progress_HasStagingEachStageAndValidationWithStatuses(ReleaseState state, StageStatus[] expected)
    {
        var progress = Progress(CreateSut(ReleaseScenario.In(state)));

        Assert.Equal(["Staging", "Canary 5 %", "Early adopters 25 %", "GA 50 %", "Full 100 %", "Validation"], progress.Select(p => p.Name));
        Assert.Equal(expected, progress.Select(p => p.Status));
    }

    [Theory]
    [InlineData(Validating)]
    [InlineData(Operating)]
    public void Release_Progress_RollbackAfterFullRollout_KeepsStagesDone(ReleaseState from)
    {
        var sut = ReleaseScenario.In(from).Do((r, now) => r.BeginRollback("customer reports", People.Olga.Name, [], now));

        var progress = Progress(CreateSut(sut));

        Assert.All(progress.Take(5), p => Assert.Equal(StageStatus.Done, p.Status));
        Assert.Equal(from == Validating ? StageStatus.Failed : StageStatus.Done, progress[5].Status);
    }

    [Fact]
    public void Release_Progress_RedStagingGateIsFailed()
    {
        var sut = ReleaseScenario.Create().ToStaging(StagingStep.SmokeChecking).Do((r, now) => r.RecordSmokeChecks(false, "500", now));

        var progress = Progress(CreateSut(sut));

        Assert.Equal(StageStatus.Failed, progress[0].Status);
        Assert.All(progress.Skip(1), p => Assert.Equal(StageStatus.Pending, p.Status));
    }

    [Fact]
    public void Release_Progress_CurrentStageShowsBakeProgress()
    {
        var sut = ReleaseScenario.In(Canary).Advance(TimeSpan.FromMinutes(3));

        var card = CreateSut(sut);

        Assert.StartsWith("3 of 10 min, promotes at 09:", Progress(card)[1].Detail, StringComparison.Ordinal);
        Assert.Equal("20 min", Progress(card)[2].Detail);
        Assert.Contains("Canary 5 %: baking 3 of 10 min", StatusLine(card), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- header and facts

    [Fact]
    public void Release_Header_NamesStateRequesterAndApprovers()
    {
        var card = CreateSut(ReleaseScenario.In(Canary));

        Assert.Equal("🚀 checkout@1.4.2 — Canary 5 %", card.Title);
        Assert.Equal("requested by @alice · approved by @bob", card.Subtitle);
        Assert.Equal(CardTone.Info, card.Tone);
        Assert.StartsWith(card.Title, card.Fallback, StringComparison.Ordinal);
        Assert.StartsWith("🟢", Fact(card, "Health"), StringComparison.Ordinal);
        Assert.Equal("faster cart; fix tax rounding", Fact(card, "Changes"));
        Assert.Contains($"(rev {ReleaseScenario.In(Canary).Release.CardRevision})", Assert.IsType<ContextBlock>(card.Blocks[^1]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_Draft_StatusListsItemsToSettle()
    {
        var status = StatusLine(CreateSut(ReleaseScenario.Create()));

        Assert.StartsWith("Checklist 0/16: 14 item(s) to settle (qa, rollback,", status, StringComparison.Ordinal);
        Assert.EndsWith("then 1 approval(s).", status, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- alerts

    [Fact]
    public void RollbackAlert_AutomaticBreach_MentionsOnCallWithMetricValueThresholdAndBaseline()
    {
        var sut = ReleaseScenario.In(Canary);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.ErrorRateBreach(now), TimeSpan.FromMinutes(15), now));

        var card = ReleaseCards.RollbackAlert(sut.Release, sut.Policy, null, sut.Now);

        Assert.Equal("🔴 Rolling back checkout@1.4.2 at Canary 5 % — @U04OLGA", card.Title);
        Assert.Equal(sut.Policy.OnCall, card.Mentions);
        Assert.Equal(CardTone.Danger, card.Tone);
        var trigger = Fact(card, "Trigger");
        Assert.Contains("error rate 4.8 %", trigger, StringComparison.Ordinal);
        Assert.Contains("breaches limit baseline 0.3 % + 1 pt", trigger, StringComparison.Ordinal);
        Assert.Contains("baseline 0.3 %", trigger, StringComparison.Ordinal);
        Assert.Contains("prometheus", trigger, StringComparison.Ordinal);
        Assert.Contains("rollback call issued", Fact(card, "Action"), StringComparison.Ordinal);
        Assert.Contains("checkout is halted until on-call unhalts it", Fact(card, "Action"), StringComparison.Ordinal);
        Assert.Equal(sut.Policy.Runbook, Fact(card, "Runbook"));
        var unhalt = Buttons(card).Single(a => a.Id == "unhalt");
        Assert.False(string.IsNullOrWhiteSpace(unhalt.Confirm));
        Assert.False(string.IsNullOrWhiteSpace(unhalt.Input));
    }

    [Fact]
    public void RollbackAlert_RolledBack_SaysDoneWithTheTargetsAnswer()
    {
        var sut = ReleaseScenario.In(RolledBack);

        var card = ReleaseCards.RollbackAlert(sut.Release, sut.Policy, "webhook 200 in 340 ms", sut.Now);

        Assert.StartsWith("🔴 Rolled back checkout@1.4.2 at Canary 5 %", card.Title, StringComparison.Ordinal);
        Assert.Contains("rolled back: webhook 200 in 340 ms", Fact(card, "Action"), StringComparison.Ordinal);
        Assert.Contains("customer reports (by @olga", Fact(card, "Reason"), StringComparison.Ordinal);
    }

    [Fact]
    public void RollbackAlert_FailedRollbackCall_SaysRetrying()
    {
        var sut = ReleaseScenario.In(RollingBack);
        sut.Do((r, now) => r.RecordDeployment(r.PendingDeployment!, false, "webhook timeout", now));

        var card = ReleaseCards.RollbackAlert(sut.Release, sut.Policy, null, sut.Now);

        Assert.Contains("rollback call failed, retrying: webhook timeout", Fact(card, "Action"), StringComparison.Ordinal);
    }

    [Fact]
    public void RollbackAlert_OnCallGroup_MentionsTheGroup()
    {
        var sut = ReleaseScenario.In(RollingBack);
        var policy = sut.Policy with { OnCall = ["group:S0PAYMENTS"], Runbook = null };

        var card = ReleaseCards.RollbackAlert(sut.Release, policy, null, sut.Now);

        Assert.EndsWith("— @S0PAYMENTS", card.Title, StringComparison.Ordinal);
        Assert.Equal(["group:S0PAYMENTS"], card.Mentions);
        Assert.DoesNotContain(card.Blocks.OfType<FactsBlock>().SelectMany(f => f.Facts), f => f.Label == "Runbook");
    }

    [Fact]
    public void Decision_ConsultBreach_HasRollbackHoldContinueButtons()
    {
        var sut = ReleaseScenario.In(EarlyAdopters);
        sut.Do((r, now) => r.ApplyHealth(Verdicts.FeedbackConsult(now), TimeSpan.FromMinutes(15), now));
        sut.Advance(TimeSpan.FromMinutes(3));

        var card = ReleaseCards.Decision(sut.Release, sut.Policy, sut.Now);

        Assert.Equal("🟠 checkout@1.4.2 at Early adopters 25 %: user feedback 2.1/5 breaches minimum 3/5", card.Title);
        Assert.Equal(CardTone.Warning, card.Tone);
        Assert.Equal(sut.Policy.OnCall, card.Mentions);
        var buttons = Buttons(card);
        Assert.Equal(["decide-rollback", "decide-hold", "decide-continue"], buttons.Select(b => b.Id));
        Assert.Equal(["Roll back now", "Hold here", "Continue"], buttons.Select(b => b.Label));
        Assert.False(string.IsNullOrWhiteSpace(buttons[0].Confirm));
        var choices = buttons.Select(b => Assert.IsType<DecideCommand>(CommandParser.Parse(b.Value).Command)).ToList();
        Assert.All(choices, c => Assert.Equal(Rel, c.Release));
        Assert.Equal([DecisionChoice.Rollback, DecisionChoice.Hold, DecisionChoice.Continue], choices.Select(c => c.Choice));
        var context = Assert.Single(card.Blocks.OfType<ContextBlock>()).Text;
        Assert.Contains("waiting 3 min", context, StringComparison.Ordinal);
        Assert.Contains("auto-rollback at 09:", context, StringComparison.Ordinal);
        Assert.Contains("@U04OLGA, decide", card.Fallback, StringComparison.Ordinal);
    }

    [Fact]
    public void Decision_NothingPending_IsAClosedCardWithoutButtons()
    {
        var sut = ReleaseScenario.In(Canary);

        var card = ReleaseCards.Decision(sut.Release, sut.Policy, sut.Now);

        Assert.Contains("decision closed", card.Title, StringComparison.Ordinal);
        Assert.Empty(Buttons(card));
        Assert.Empty(card.Mentions);
    }

    [Fact]
    public void HaltAlert_Service_MentionsOnCall()
    {
        var card = ReleaseCards.HaltAlert("checkout", "staging smoke checks failed", ReleaseScenario.DefaultPolicy, []);

        Assert.Equal("⛔ checkout halted — @U04OLGA", card.Title);
        Assert.Equal(ReleaseScenario.DefaultPolicy.OnCall, card.Mentions);
        Assert.Equal(CardTone.Danger, card.Tone);
    }

    [Fact]
    public void List_ReleasesAndHalts_OneFactPerReleaseAndTheHalts()
    {
        var canary = ReleaseScenario.In(Canary);
        var draft = ReleaseScenario.Create();

        var card = ReleaseCards.List([canary.Release, draft.Release], [CheckoutHalt(canary.Now) with { Service = ServiceHalt.Everything }], canary.Now);

        Assert.Equal("📋 Active releases (2)", card.Title);
        Assert.Equal(2, card.Blocks.OfType<FactsBlock>().Single().Facts.Count);
        Assert.Contains(card.Blocks.OfType<TextBlock>(), t => t.Text.Contains("change freeze (every service)", StringComparison.Ordinal));
    }

    [Fact]
    public void List_Empty_SaysSo()
    {
        var card = ReleaseCards.List([], [], ReleaseScenario.Start);

        Assert.Equal("No active releases.", Assert.IsType<TextBlock>(Assert.Single(card.Blocks)).Text);
    }

    [Fact]
    public void Audit_ManyEntries_ShowsTheLastForty()
    {
        var release = ReleaseScenario.Create().Release;
        var audit = Enumerable.Range(1, 45).Select(i => new AuditEntry(ReleaseScenario.Start.AddSeconds(i), "alice", "click", $"entry {i}")).ToList();

        var text = Assert.IsType<TextBlock>(Assert.Single(ReleaseCards.Audit(release, audit).Blocks)).Text;

        Assert.StartsWith("(last 40 of 45", text, StringComparison.Ordinal);
        Assert.DoesNotContain("entry 5\n", text, StringComparison.Ordinal);
        Assert.Contains("entry 6\n", text, StringComparison.Ordinal);
        Assert.EndsWith("entry 45", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Clock_Time_IsUtcWithSuffix()
    {
        Assert.Equal("09:05:07 UTC", ReleaseCards.Clock(new DateTimeOffset(2025, 3, 3, 11, 5, 7, TimeSpan.FromHours(2))));
    }

    [Fact]
    public void Mention_NoOnCall_IsNull()
    {
        Assert.Null(ReleaseCards.Mention(ReleaseScenario.DefaultPolicy with { OnCall = [] }));
    }
}
