using ShipBot.Core.Checklists;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Releases.Events;
using ShipBot.Core.Settings;
using ShipBot.Testing;

namespace ShipBot.Core.Tests.Releases;

/// <summary>
/// Release aggregate: creation, checklist, approval. The lifecycle walk, illegal transitions,
/// health and rollback are in the other parts of this partial class.
/// </summary>
public sealed partial class ReleaseTests
{
    private static ReleaseScenario CreateSut(ServicePolicy? policy = null, ReleaseKind kind = ReleaseKind.Standard) =>
        ReleaseScenario.Create(policy, kind);

    private static ServicePolicy PolicyWith(int requiredApprovals = 1, StagePlan? plan = null) =>
        ReleaseScenario.DefaultPolicy with { RequiredApprovals = requiredApprovals, Plan = plan ?? ReleaseScenario.SmallPlan };

    // ---------------------------------------------------------------- creation

    [Fact]
    public void Create_StandardRelease_IsDraftAtVersionOneWithStandardChecklist()
    {
        var change = Release.Create(
            ReleaseScenario.Id, ReleaseKind.Standard, People.Alice, new Conversation("slack", "C1"),
            ReleaseScenario.DefaultPolicy, ReleaseScenario.Contract, null, ReleaseScenario.Start);

        var release = change.Next;
        Assert.Equal(ReleaseState.Draft, release.State);
        Assert.Equal(1, release.Revision);
        Assert.Equal(-1, release.StageIndex);
        Assert.Null(release.CurrentStage);
        Assert.Equal(ReleaseScenario.Start, release.CreatedAt);
        Assert.Equal(ChecklistCatalog.For(ReleaseKind.Standard).Select(i => i.Id), release.Checklist.Select(i => i.Id));
        Assert.Same(ReleaseScenario.SmallPlan, release.Plan);
        var created = Assert.Single(change.Events);
        Assert.Equal(ReleaseEventKind.Created, created.Kind);
        Assert.Equal(new Created(new ReleaseId("checkout", "1.4.2"), People.Alice, ReleaseKind.Standard), created);
    }

    [Fact]
    public void Create_InvalidPlan_ThrowsNamingTheProblem()
    {
        var bigBang = new StagePlan(
            TimeSpan.FromMinutes(5),
            [new Stage(StageKind.Canary, 5, TimeSpan.FromMinutes(10)), new Stage(StageKind.Full, 100, TimeSpan.FromMinutes(10))],
            TimeSpan.FromMinutes(15));

        var ex = Assert.Throws<ReleaseRuleException>(() => CreateSut(PolicyWith(plan: bigBang)));

        Assert.Contains("checkout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no big-bang", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ReleaseKind.HotfixP0, "")]
    [InlineData(ReleaseKind.HotfixP1, "  ")]
    [InlineData(ReleaseKind.HotfixP1, null)]
    public void Create_HotfixWithoutReason_Throws(ReleaseKind kind, string? reason)
    {
        var ex = Assert.Throws<ReleaseRuleException>(() => Release.Create(
            ReleaseScenario.Id, kind, People.Alice, new Conversation("console", "releases"),
            ReleaseScenario.DefaultPolicy, ReleaseScenario.Contract, reason, ReleaseScenario.Start));

        Assert.Contains("reason", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_HotfixP0_UsesExpeditedPlanAndHotfixChecklist()
    {
        var release = CreateSut(kind: ReleaseKind.HotfixP0).Release;

        Assert.Equal([StageKind.Canary, StageKind.Full], release.Plan.Stages.Select(s => s.Kind));
        Assert.All(release.Plan.Stages, s => Assert.True(s.Bake <= ReleaseScenario.DefaultPolicy.HotfixMaxBake));
        Assert.Equal(ChecklistCatalog.For(ReleaseKind.HotfixP0).Select(i => i.Id), release.Checklist.Select(i => i.Id));
        Assert.Equal("payments are down", release.HotfixReason);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-3, 1)]
    [InlineData(2, 2)]
    public void Create_RequiredApprovals_IsAtLeastOne(int configured, int expected)
    {
        var release = CreateSut(PolicyWith(requiredApprovals: configured)).Release;

        Assert.Equal(expected, release.RequiredApprovals);
    }

    [Fact]
    public void Where_AtEachPlace_NamesStageOrState()
    {
        Assert.Equal("Draft", ReleaseScenario.In(ReleaseState.Draft).Release.Where);
        Assert.Equal("Staging", ReleaseScenario.In(ReleaseState.Staging).Release.Where);
        Assert.Equal("Canary 5 %", ReleaseScenario.In(ReleaseState.Canary).Release.Where);
        Assert.Equal("Early adopters 25 %", ReleaseScenario.In(ReleaseState.EarlyAdopters).Release.Where);
        Assert.Equal("GA 50 %", ReleaseScenario.In(ReleaseState.GeneralAvailability).Release.Where);
        Assert.Equal("Full 100 %", ReleaseScenario.In(ReleaseState.Full).Release.Where);
        Assert.Equal("Validating", ReleaseScenario.In(ReleaseState.Validating).Release.Where);
        Assert.Equal("Canary 5 %", ReleaseScenario.In(ReleaseState.Paused).Release.Where);
    }

    // ---------------------------------------------------------------- checklist

    [Fact]
    public void Confirm_AllBlockingItemsSettled_MovesDraftToAwaitingApproval()
    {
        var sut = CreateSut();
        sut.Do((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "notified", now));
        var human = sut.Release.BlockingItems.Select(i => i.Id).ToList();

        var change = sut.Apply((r, now) => r.Confirm(People.Alice, human, now));

        Assert.Equal(ReleaseState.AwaitingApproval, change.Next.State);
        Assert.Empty(change.Next.BlockingItems);
        Assert.Contains(change.Events, e => e.Kind == ReleaseEventKind.ReadyForApproval);
        Assert.Equal(human.Count, change.Events.Count(e => e.Kind == ReleaseEventKind.ItemSettled));
        Assert.All(change.Next.Checklist.Where(i => human.Contains(i.Id)), i =>
        {
            Assert.Equal(ChecklistItemState.Confirmed, i.State);
            Assert.Equal("alice", i.By);
        });
    }

    [Fact]
    public void Confirm_SomeItemsStillPending_StaysDraft()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.Confirm(People.Alice, ["https", "env"], now));

        Assert.Equal(ReleaseState.Draft, change.Next.State);
        Assert.DoesNotContain(change.Events, e => e.Kind == ReleaseEventKind.ReadyForApproval);
        Assert.DoesNotContain(change.Next.BlockingItems, i => i.Id is "https" or "env");
    }

    [Fact]
    public void Confirm_OnCallNotYetTicked_StaysDraftBecauseShipBotItemsBlockToo()
    {
        var sut = CreateSut();
        var human = sut.Release.BlockingItems.Where(i => i.SettledBy == ItemSettledBy.Human).Select(i => i.Id).ToList();

        var change = sut.Apply((r, now) => r.Confirm(People.Alice, human, now));

        Assert.Equal(ReleaseState.Draft, change.Next.State);
        Assert.Equal(ChecklistCatalog.OnCallNotified, Assert.Single(change.Next.BlockingItems).Id);
    }

    [Theory]
    [InlineData(ChecklistCatalog.Approved)]
    [InlineData(ChecklistCatalog.OnCallNotified)]
    public void Confirm_ShipBotOwnedItem_Throws(string itemId)
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Confirm(People.Alice, [itemId], sut.Now));

        Assert.Contains($"'{itemId}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ticked by ShipBot itself", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Confirm_UnknownItem_ThrowsListingTheIds()
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Confirm(People.Alice, ["nope"], sut.Now));

        Assert.Contains("no checklist item 'nope'", ex.Message, StringComparison.Ordinal);
        Assert.All(sut.Release.Checklist, i => Assert.Contains(i.Id, ex.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Confirm_NoItems_Throws()
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Confirm(People.Alice, [], sut.Now));

        Assert.Contains("at least one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Confirm_ItemIdInAnyCase_ConfirmsTheItem()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.Confirm(People.Alice, ["HTTPS", "https"], now));

        Assert.Equal(ChecklistItemState.Confirmed, change.Next.Checklist.Single(i => i.Id == "https").State);
        Assert.Single(change.Events);
    }

    [Fact]
    public void Confirm_AlreadyConfirmedItem_ReturnsUnchangedSayingByWhom()
    {
        var sut = CreateSut();
        sut.Do((r, now) => r.Confirm(People.Alice, ["qa"], now));

        var change = sut.ApplyUnchanged((r, now) => r.Confirm(People.Bob, ["qa"], now));

        Assert.Contains("qa already confirmed by @alice", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Confirm_ItemShipBotCouldNotVerify_RecordsHumanOverride()
    {
        var sut = CreateSut();
        sut.Do((r, now) => r.RecordVerification(ChecklistCatalog.HealthCheck, false, "health URL answered 503", now));
        Assert.Contains(sut.Release.BlockingItems, i => i.Id == ChecklistCatalog.HealthCheck);

        var change = sut.Apply((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.HealthCheck], now));

        var item = change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.HealthCheck);
        Assert.Equal(ChecklistItemState.Confirmed, item.State);
        Assert.Contains("over a failed check: health URL answered 503", item.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void RecordVerification_Passed_VerifiesWithEvidence()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.RecordVerification(ChecklistCatalog.Https, true, "https with a valid certificate", now));

        var item = change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.Https);
        Assert.Equal(ChecklistItemState.Verified, item.State);
        Assert.Equal("shipbot", item.By);
        Assert.Equal("https with a valid certificate", item.Detail);
        Assert.Equal(ReleaseEventKind.ItemSettled, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void RecordVerification_Failed_ItemStaysBlocking()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.RecordVerification(ChecklistCatalog.HealthCheck, false, "503", now));

        Assert.Equal(ChecklistItemState.Failed, change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.HealthCheck).State);
        Assert.Contains(change.Next.BlockingItems, i => i.Id == ChecklistCatalog.HealthCheck);
    }

    [Fact]
    public void RecordReadiness_SeveralResults_OneVersionAndUnknownItemsIgnored()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.RecordReadiness(
            [(ChecklistCatalog.HealthCheck, true, "200 in 41 ms"), (ChecklistCatalog.Https, true, "valid certificate"), ("nope", true, "ignored")],
            now));

        Assert.True(change.Next.ReadinessChecked);
        Assert.Equal(2, change.Events.Count);
        Assert.Equal(ChecklistItemState.Verified, change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.HealthCheck).State);
        Assert.Equal(ChecklistItemState.Verified, change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.Https).State);
        sut.ApplyUnchanged((r, now) => r.RecordReadiness([(ChecklistCatalog.Https, false, "expired")], now));
    }

    [Fact]
    public void TickBySystem_OnCall_VerifiesOnceThenUnchanged()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "mentioned @olga", now));

        Assert.Equal(ChecklistItemState.Verified, change.Next.Checklist.Single(i => i.Id == ChecklistCatalog.OnCallNotified).State);
        sut.ApplyUnchanged((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "again", now));
    }

    [Theory]
    [InlineData("https")]
    [InlineData("env")]
    [InlineData("errors")]
    [InlineData("health")]
    [InlineData("rollback")]
    public void Waive_FloorItem_ThrowsNeverWaivable(string itemId)
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Bob, itemId, "we are in a hurry", sut.Now));

        Assert.Contains("minimum viable production floor", ex.Message, StringComparison.Ordinal);
        Assert.Contains("never be waived", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https")]
    [InlineData("rollback")]
    public void Waive_FloorItemAwaitingApproval_StillThrows(string itemId)
    {
        var sut = CreateSut().ToAwaitingApproval();

        Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Bob, itemId, "confirmed already anyway", sut.Now));
    }

    [Theory]
    [InlineData(ReleaseKind.HotfixP0, "ratelimit")]
    [InlineData(ReleaseKind.HotfixP0, "https")]
    [InlineData(ReleaseKind.HotfixP1, "ratelimit")]
    [InlineData(ReleaseKind.HotfixP1, "https")]
    public void Waive_SecurityItemOfHotfix_ThrowsBecauseItStaysMandatory(ReleaseKind kind, string itemId)
    {
        var sut = CreateSut(kind: kind);

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Bob, itemId, "it is an emergency", sut.Now));

        // https is floor; rate limiting is a mandatory security item of the hotfix, and says so.
        Assert.Contains(itemId == "https" ? "never be waived" : "mandatory security item on a hotfix", ex.Message, StringComparison.Ordinal);
        Assert.Equal(itemId == "https", ex.Message.Contains("floor", StringComparison.Ordinal));
    }

    [Fact]
    public void Waive_RateLimitingOfStandardRelease_IsAllowed()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.Waive(People.Bob, "ratelimit", "internal only", now));

        Assert.Equal(ChecklistItemState.Waived, change.Next.Checklist.Single(i => i.Id == "ratelimit").State);
    }

    [Fact]
    public void Waive_NonFloorItem_RecordsReasonAndApprover()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.Waive(People.Bob, "db", "no database in this service", now));

        var item = change.Next.Checklist.Single(i => i.Id == "db");
        Assert.Equal(ChecklistItemState.Waived, item.State);
        Assert.Equal("bob", item.By);
        Assert.Equal(sut.Now, item.At);
        Assert.Contains("no database in this service", item.Detail, StringComparison.Ordinal);
        Assert.Contains("@bob", item.Detail, StringComparison.Ordinal);
        var settled = Assert.IsType<ItemSettled>(Assert.Single(change.Events));
        Assert.Equal(ReleaseEventKind.ItemSettled, settled.Kind);
        Assert.Equal(("db", Settlement.Waived, People.Bob, "no database in this service"), (settled.ItemId, settled.How, settled.By, settled.Note));
        Assert.DoesNotContain(change.Next.BlockingItems, i => i.Id == "db");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Waive_WithoutReason_Throws(string reason)
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Bob, "db", reason, sut.Now));

        Assert.Contains("needs a reason", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ChecklistCatalog.Approved)]
    [InlineData(ChecklistCatalog.OnCallNotified)]
    [InlineData(ChecklistCatalog.UserFacingVerified)]
    public void Waive_ShipBotOrValidationItem_Throws(string itemId)
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Bob, itemId, "just because", sut.Now));

        Assert.Contains("cannot be waived", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Waive_UnknownItem_ThrowsListingTheIds()
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Waive(People.Bob, "nope", "reason", sut.Now));

        Assert.Contains("Items: qa, approved, rollback", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Waive_AlreadyWaived_ReturnsUnchangedSayingByWhom()
    {
        var sut = CreateSut();
        sut.Do((r, now) => r.Waive(People.Bob, "db", "no database", now));

        var change = sut.ApplyUnchanged((r, now) => r.Waive(People.Carol, "db", "still no database", now));

        Assert.Contains("already waived by @bob", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Waive_LastBlockingItem_MovesDraftToAwaitingApproval()
    {
        var sut = CreateSut();
        sut.Do((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "notified", now));
        var allButDb = sut.Release.BlockingItems.Select(i => i.Id).Where(id => id != "db").ToList();
        sut.Do((r, now) => r.Confirm(People.Alice, allButDb, now));
        Assert.Equal(ReleaseState.Draft, sut.Release.State);

        var change = sut.Apply((r, now) => r.Waive(People.Bob, "db", "stateless service", now));

        Assert.Equal(ReleaseState.AwaitingApproval, change.Next.State);
        Assert.Contains(change.Events, e => e.Kind == ReleaseEventKind.ReadyForApproval);
    }

    [Fact]
    public void Confirm_HotfixChecklist_NeedsOnlyItsOwnItems()
    {
        var sut = CreateSut(kind: ReleaseKind.HotfixP1);

        sut.ToAwaitingApproval();

        Assert.Equal(ReleaseState.AwaitingApproval, sut.Release.State);
        Assert.DoesNotContain(sut.Release.Checklist, i => i.Id is "qa" or "db" or "dashboards");
    }

    // ---------------------------------------------------------------- approval

    [Fact]
    public void Approve_ByRequester_ThrowsSeparationOfDuties()
    {
        var sut = CreateSut().ToAwaitingApproval();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Approve(People.Alice, sut.Now));

        Assert.Contains("separation of duties", ex.Message, StringComparison.Ordinal);
        Assert.Contains("@alice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Approve_ByRequesterUnderAnotherDisplayName_StillThrows()
    {
        var sut = CreateSut().ToAwaitingApproval();
        var sameUser = new Person(People.Alice.Id.ToLowerInvariant(), "Alice (laptop)");

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Approve(sameUser, sut.Now));

        Assert.Contains("separation of duties", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Approve_InDraft_ThrowsListingPendingItems()
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Approve(People.Bob, sut.Now));

        Assert.Contains("it is Draft", ex.Message, StringComparison.Ordinal);
        Assert.Contains("https", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Approve_SingleApprovalConfigured_EntersStagingGate()
    {
        var sut = CreateSut().ToAwaitingApproval();

        var change = sut.Apply((r, now) => r.Approve(People.Bob, now));

        var next = change.Next;
        Assert.Equal(ReleaseState.Staging, next.State);
        Assert.Equal(StagingStep.Deploying, next.StagingStep);
        Assert.Equal(new DeploymentIntent(DeploymentEnvironment.Staging, 100), next.PendingDeployment);
        Assert.Equal(-1, next.StageIndex);
        var approved = next.Checklist.Single(i => i.Id == ChecklistCatalog.Approved);
        Assert.Equal(ChecklistItemState.Confirmed, approved.State);
        Assert.Contains("@bob", approved.Detail, StringComparison.Ordinal);
        Assert.Equal([ReleaseEventKind.Approved, ReleaseEventKind.StagingStarted], change.Events.Select(e => e.Kind));
        Assert.Equal("Staging", Assert.Single(next.History).Name);
        Assert.Equal(People.Bob, Assert.Single(next.Approvals).By);
    }

    [Fact]
    public void Approve_TwoApprovalsConfigured_NeedsTwoDistinctApprovers()
    {
        var sut = CreateSut(PolicyWith(requiredApprovals: 2)).ToAwaitingApproval();

        var first = sut.Apply((r, now) => r.Approve(People.Bob, now));
        Assert.Equal(ReleaseState.AwaitingApproval, first.Next.State);
        Assert.Contains("1 of 2", first.Message, StringComparison.Ordinal);
        Assert.Equal(ReleaseEventKind.Approved, Assert.Single(first.Events).Kind);
        Assert.Equal(ChecklistItemState.Pending, first.Next.Checklist.Single(i => i.Id == ChecklistCatalog.Approved).State);

        var second = sut.Apply((r, now) => r.Approve(People.Carol, now));
        Assert.Equal(ReleaseState.Staging, second.Next.State);
        Assert.Equal([People.Bob, People.Carol], second.Next.Approvals.Select(a => a.By));
    }

    [Fact]
    public void Approve_SamePersonTwice_ChangesNothingAndSaysAlreadyApprovedByBob()
    {
        var sut = CreateSut(PolicyWith(requiredApprovals: 2)).ToAwaitingApproval();
        sut.Do((r, now) => r.Approve(People.Bob, now));

        var change = sut.ApplyUnchanged((r, now) => r.Approve(People.Bob, now));

        Assert.Contains("already approved by @bob", change.Message, StringComparison.Ordinal);
        Assert.Single(change.Next.Approvals);
        Assert.Equal(ReleaseState.AwaitingApproval, change.Next.State);
    }

    [Fact]
    public void Approve_AfterThresholdReached_SaysAlreadyApproved()
    {
        var sut = CreateSut().ToAwaitingApproval();
        sut.Do((r, now) => r.Approve(People.Bob, now));

        var byCarol = sut.ApplyUnchanged((r, now) => r.Approve(People.Carol, now));
        var byBobAgain = sut.ApplyUnchanged((r, now) => r.Approve(People.Bob, now));

        Assert.Contains("already approved by @bob", byCarol.Message, StringComparison.Ordinal);
        Assert.Contains("already approved by @bob", byBobAgain.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reject_AwaitingApproval_RecordsReasonAndRejects()
    {
        var sut = CreateSut().ToAwaitingApproval();

        var change = sut.Apply((r, now) => r.Reject(People.Bob, "missing load test", now));

        Assert.Equal(ReleaseState.Rejected, change.Next.State);
        Assert.Contains("missing load test", change.Next.Rejection, StringComparison.Ordinal);
        Assert.Contains("@bob", change.Next.Rejection, StringComparison.Ordinal);
        Assert.Equal(ReleaseEventKind.Rejected, Assert.Single(change.Events).Kind);
    }

    [Fact]
    public void Reject_Draft_Rejects()
    {
        var sut = CreateSut();

        var change = sut.Apply((r, now) => r.Reject(People.Bob, "wrong service", now));

        Assert.Equal(ReleaseState.Rejected, change.Next.State);
    }

    [Fact]
    public void Reject_WithoutReason_Throws()
    {
        var sut = CreateSut().ToAwaitingApproval();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Reject(People.Bob, " ", sut.Now));

        Assert.Contains("needs a reason", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reject_Twice_SaysAlreadyRejected()
    {
        var sut = CreateSut().ToAwaitingApproval();
        sut.Do((r, now) => r.Reject(People.Bob, "missing load test", now));

        var change = sut.ApplyUnchanged((r, now) => r.Reject(People.Carol, "also bad", now));

        Assert.Contains("already rejected (missing load test (@bob))", change.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Abort_WithoutReason_Throws()
    {
        var sut = CreateSut();

        var ex = Assert.Throws<ReleaseRuleException>(() => sut.Release.Abort(People.Alice, "", sut.Now));

        Assert.Contains("needs a reason", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Abort_Twice_SaysAlreadyAborted()
    {
        var sut = ReleaseScenario.In(ReleaseState.Aborted);

        var change = sut.ApplyUnchanged((r, now) => r.Abort(People.Bob, "again", now));

        Assert.Contains("already aborted", change.Message, StringComparison.Ordinal);
    }
}
