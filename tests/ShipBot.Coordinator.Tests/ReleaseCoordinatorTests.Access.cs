using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Roles and separation of duties, one rollout per service, and what a bad command gets back.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    private static readonly Dictionary<string, Actor> People = new(StringComparer.Ordinal)
    {
        ["alice"] = Alice,
        ["bob"] = Bob,
        ["carol"] = Carol,
        ["dave"] = Dave,
        ["mallory"] = Mallory,
        ["erin"] = Erin,
    };

    // ================================================================ roles

    [Fact]
    public async Task HandleAsync_RequesterApprovesOwnRelease_RefusedForSeparationOfDuties()
    {
        // alice is an approver of demo too, so only separation of duties stops her
        var sut = CreateSut(p => p with { Approvers = ["bob", "alice"] });
        var id = await sut.ToAwaitingApprovalAsync();
        var before = await sut.GetAsync(id);

        var reply = await sut.SendAsync(Alice, $"/ship approve {id}");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("separation of duties", reply.Text, StringComparison.Ordinal);
        var after = await sut.GetAsync(id);
        Assert.Equal(before.Revision, after.Revision);
        Assert.Equal(ReleaseState.AwaitingApproval, after.State);
        Assert.Empty(after.Approvals);
    }

    [Fact]
    public async Task HandleAsync_RequesterApprovesOwnReleaseWithoutApproverRole_RefusedForSeparationOfDuties()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        var before = await sut.GetAsync(id);

        var reply = await sut.SendAsync(Alice, $"/ship approve {id}");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("@Alice requested demo@1.0.0 and cannot approve it (separation of duties)", reply.Text, StringComparison.Ordinal);
        Assert.Equal(before.Revision, (await sut.GetAsync(id)).Revision);
    }

    [Fact]
    public async Task HandleAsync_OnCallOnlyApproves_RefusedNamingTheApproverRole()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        var before = await sut.GetAsync(id);
        var posts = sut.Publications.Count;

        var reply = await sut.SendAsync(Carol, $"/ship approve {id}");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("@Carol cannot approve for demo: that needs the approver role", reply.Text, StringComparison.Ordinal);
        var after = await sut.GetAsync(id);
        Assert.Equal(before.Revision, after.Revision);
        Assert.Empty(after.Approvals);
        Assert.Equal(posts, sut.Publications.Count);
    }

    [Fact]
    public async Task HandleAsync_ApproverStarts_RefusedNamingTheRequesterRoleAndCreatesNothing()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Bob, "/ship start demo 1.0.0 something");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("needs the requester role", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.ListByServiceAsync("demo"));
        Assert.Empty(sut.Publications);
        Assert.Empty(sut.Scheduled);
    }

    [Theory]
    [InlineData("mallory", "/ship pause demo@1.0.0", "requester or approver or on-call")]
    [InlineData("mallory", "/ship rollback demo@1.0.0 I do not like it", "requester or approver or on-call or admin")]
    [InlineData("erin", "/ship promote demo@1.0.0", "approver")]
    [InlineData("bob", "/ship decide demo@1.0.0 continue", "on-call or admin")]
    [InlineData("alice", "/ship halt demo something is off", "on-call or admin")]
    [InlineData("carol", "/ship abort demo@1.0.0 not needed", "requester or approver")]
    [InlineData("mallory", "/ship flag-removed demo@1.0.0 beta", "requester or approver")]
    public async Task HandleAsync_ActorWithoutTheRole_EphemeralDenialNamingTheRoleAndNothingChanges(string who, string text, string roles)
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        var before = await sut.GetAsync(id);
        var audit = (await sut.AuditAsync(id)).Count;

        var reply = await sut.SendAsync(People[who], text);

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains($"that needs the {roles} role", reply.Text, StringComparison.Ordinal);
        var after = await sut.GetAsync(id);
        Assert.Equal(before.Revision, after.Revision);
        Assert.Equal(ReleaseState.Canary, after.State);
        var added = (await sut.AuditAsync(id)).Skip(audit).ToList();
        if (text.StartsWith("/ship halt", StringComparison.Ordinal))
        {
            Assert.Empty(added); // a service-level command: nothing is written to the release's trail
        }
        else
        {
            var refused = Assert.Single(added);
            Assert.StartsWith("refused ", refused.Action, StringComparison.Ordinal);
            Assert.Equal(who, refused.Actor);
        }
        Assert.Empty(await sut.Store.GetHaltsAsync());
    }

    [Fact]
    public async Task HandleAsync_GroupMemberApproves_RoleGrantedThroughGroup()
    {
        var sut = CreateSut(p => p with { Approvers = ["group:release-approvers"] });
        var id = await sut.ToAwaitingApprovalAsync();
        var frank = new Actor("frank", "Frank", ["release-approvers"]);

        var reply = await sut.SendAsync(frank, $"/ship approve {id}");

        Assert.Contains("goes to staging", reply.Text, StringComparison.Ordinal);
        Assert.Equal("frank", Assert.Single((await sut.GetAsync(id)).Approvals).By.Id);
    }

    [Fact]
    public async Task HandleAsync_ApproveWhileDraft_RefusedListingPendingItems()
    {
        var sut = CreateSut();
        var id = await sut.StartAsync();
        var before = await sut.GetAsync(id);

        var reply = await sut.SendAsync(Bob, $"/ship approve {id}");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("it is Draft", reply.Text, StringComparison.Ordinal);
        Assert.Contains("qa", reply.Text, StringComparison.Ordinal);
        Assert.Equal(before.Revision, (await sut.GetAsync(id)).Revision);
    }

    [Fact]
    public async Task HandleAsync_WaiveFloorItem_RefusedButOtherItemsWaivedWithReason()
    {
        var sut = CreateSut();
        var id = await sut.StartAsync();

        var floor = await sut.SendAsync(Bob, $"/ship waive {id} https we are internal only");
        var waived = await sut.SendAsync(Bob, $"/ship waive {id} dashboards dashboards ship next sprint");

        Assert.Contains("can never be waived", floor.Text, StringComparison.Ordinal);
        var item = (await sut.GetAsync(id)).Checklist.Single(i => i.Id == "dashboards");
        Assert.Contains("dashboards waived", waived.Text, StringComparison.Ordinal);
        Assert.Equal("Bob", item.By);
        Assert.Contains("dashboards ship next sprint", item.Detail, StringComparison.Ordinal);
        Assert.Contains(await sut.AuditAsync(id), a => a.Actor == "bob" && a.Detail.Contains("waived dashboards", StringComparison.Ordinal));
    }

    // ================================================================ one rollout per service

    [Fact]
    public async Task HandleAsync_SecondStartForBusyService_RefusedWithTheActiveReleaseName()
    {
        var sut = CreateSut();
        await sut.StartAsync();

        var reply = await sut.SendAsync(Alice, "/ship start demo 2.0.0 another thing");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("demo@1.0.0", reply.Text, StringComparison.Ordinal);
        Assert.Contains("already has an active release", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Id("2.0.0")));
    }

    [Fact]
    public async Task HandleAsync_SecondStartDuringRollout_RefusedWithTheActiveReleaseAndItsStage()
    {
        var sut = CreateSut();
        await sut.ToCanaryBakeAsync();

        var reply = await sut.SendAsync(Alice, "/ship start demo 2.0.0 another thing");

        Assert.Contains("demo@1.0.0 (Canary 5 %)", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.Store.GetAsync(Id("2.0.0")));
    }

    [Fact]
    public async Task HandleAsync_StartAgainAfterReject_NameAlreadyExistsButNewVersionWorks()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();
        var rejected = await sut.SendAsync(Bob, $"/ship reject {id} missing migration plan");
        Assert.Equal(ReleaseState.Rejected, (await sut.GetAsync(id)).State);
        Assert.Contains("Rejected", rejected.Text, StringComparison.Ordinal);

        var same = await sut.SendAsync(Alice, "/ship start demo 1.0.0 again");
        var next = await sut.SendAsync(Alice, "/ship start demo 1.0.1 again");

        Assert.Contains("demo@1.0.0 already exists (Rejected)", same.Text, StringComparison.Ordinal);
        Assert.StartsWith("Started demo@1.0.1", next.Text, StringComparison.Ordinal);
    }

    // ================================================================ bad input and names

    [Theory]
    [InlineData("/ship frobnicate demo")]
    [InlineData("/ship approve")]
    [InlineData("/ship start demo")]
    [InlineData("/ship start Not/A/Service 1.0.0")]
    [InlineData("/ship check demo@1.0.0")]
    [InlineData("/ship rollback demo@1.0.0")]
    [InlineData("/ship decide demo@1.0.0 maybe")]
    [InlineData("/ship hotfix demo 1.0.1 p7 broken")]
    [InlineData("/ship simulate demo error_rate lots")]
    public async Task HandleAsync_UnknownVerbOrMalformedArguments_EphemeralUsage(string text)
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Alice, text);

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("Usage", reply.Text, StringComparison.Ordinal);
        Assert.Contains("/ship", reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await sut.Store.ListActiveAsync());
    }

    [Fact]
    public async Task HandleAsync_UnknownService_ListsConfiguredServices()
    {
        var sut = CreateSut(extraServices: [DemoPolicy("web")]);

        var reply = await sut.SendAsync(Alice, "/ship start nosuch 1.0.0 x");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("Unknown service 'nosuch'", reply.Text, StringComparison.Ordinal);
        Assert.Contains("Configured services: demo, web", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_StatusOfUnknownRelease_EphemeralError()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Mallory, "/ship status nosuch@1.0");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("There is no release nosuch@1.0", reply.Text, StringComparison.Ordinal);
        Assert.Null(reply.Card);
    }

    [Fact]
    public async Task HandleAsync_StatusOfUnknownVersion_ListsTheServicesReleases()
    {
        var sut = CreateSut();
        await sut.StartAsync();

        var reply = await sut.SendAsync(Mallory, "/ship status demo@9.9.9");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("There is no release demo@9.9.9. Releases of demo: demo@1.0.0.", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_UnknownBareName_ListsActiveReleases()
    {
        var sut = CreateSut();
        await sut.StartAsync();

        var reply = await sut.SendAsync(Mallory, "/ship status nosuch");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("'nosuch' is not a release", reply.Text, StringComparison.Ordinal);
        Assert.Contains("Active: demo@1.0.0", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_BareServiceNameWithOneActiveRelease_ResolvesToIt()
    {
        var sut = CreateSut();
        await sut.ToCanaryBakeAsync();

        var reply = await sut.SendAsync(Mallory, "/ship status demo");

        Assert.Equal(ReplyVisibility.InChannel, reply.Visibility);
        Assert.NotNull(reply.Card);
        Assert.Contains("demo@1.0.0 — Canary 5 %", reply.Card.Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_AmbiguousBareServiceName_ListsTheCandidates()
    {
        var sut = CreateSut();
        // an Operating release no longer holds the service lock, so a second release can be active beside it
        var operating = Release.Create(Id("0.9.0"), ReleaseKind.Standard, new Person("alice", "Alice"), Channel, sut.Policy,
            new ReleaseContract([], "notes", "rollback", [], []), null, Start - TimeSpan.FromDays(2)).Next with
        { State = ReleaseState.Operating, StageIndex = 3, OperatingSince = Start - TimeSpan.FromDays(1) };
        Assert.Equal(CreateOutcome.Created, (await sut.Store.TryCreateAsync(operating, [])).Outcome);
        await sut.StartAsync();

        var reply = await sut.SendAsync(Mallory, "/ship status demo");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("ambiguous", reply.Text, StringComparison.Ordinal);
        Assert.Contains("demo@0.9.0", reply.Text, StringComparison.Ordinal);
        Assert.Contains("demo@1.0.0", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_StatusWithAudit_ShowsTheAuditTrail()
    {
        var sut = CreateSut();
        var id = await sut.ToAwaitingApprovalAsync();

        var reply = await sut.SendAsync(Mallory, $"/ship status {id} --audit");

        Assert.Equal(ReplyVisibility.InChannel, reply.Visibility);
        Assert.NotNull(reply.Card);
        var text = Assert.Single(reply.Card.Blocks.OfType<TextBlock>()).Text;
        Assert.Contains("@alice Created", text, StringComparison.Ordinal);
        Assert.Contains("ReadyForApproval", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_Help_ListsVerbsAndServicesPrivately()
    {
        var sut = CreateSut();

        var reply = await sut.SendAsync(Mallory, "/ship help");

        Assert.Equal(ReplyVisibility.Ephemeral, reply.Visibility);
        Assert.Contains("/ship start <service> <version>", reply.Text, StringComparison.Ordinal);
        Assert.Contains("Services: demo", reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("simulate", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_List_ShowsActiveReleasesAndHalts()
    {
        var sut = CreateSut(extraServices: [DemoPolicy("web")]);
        await sut.StartAsync();
        await sut.SendAsync(Carol, "/ship halt web dependency outage");

        var reply = await sut.SendAsync(Mallory, "/ship list");

        Assert.Equal(ReplyVisibility.InChannel, reply.Visibility);
        Assert.NotNull(reply.Card);
        Assert.Contains("Active releases (1)", reply.Card.Title, StringComparison.Ordinal);
        Assert.Contains(reply.Card.Blocks.OfType<FactsBlock>().SelectMany(b => b.Facts), f => f.Label == "demo@1.0.0");
        Assert.Contains(reply.Card.Blocks.OfType<TextBlock>(), b => b.Text.Contains("web halted by @carol", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandleAsync_ContractAndNotes_RenderTheContract()
    {
        var sut = CreateSut();
        var id = await sut.StartAsync();

        var contract = await sut.SendAsync(Mallory, $"/ship contract {id}");
        var notes = await sut.SendAsync(Mallory, $"/ship notes {id}");
        var outcome = await sut.SendAsync(Mallory, $"/ship outcome {id}");

        Assert.Contains("2025-06-02-demo-1.0.0.md", contract.Text, StringComparison.Ordinal);
        Assert.Contains("# Release contract: demo@1.0.0", contract.Text, StringComparison.Ordinal);
        Assert.Contains("new checkout flow", contract.Text, StringComparison.Ordinal);
        Assert.Contains("Release notes for demo@1.0.0", notes.Text, StringComparison.Ordinal);
        Assert.Equal(ReplyVisibility.Ephemeral, outcome.Visibility);
        Assert.Contains("No outcome report", outcome.Text, StringComparison.Ordinal);
        await sut.Notifier.DidNotReceive().PublishAsync(Arg.Any<Conversation>(), Arg.Is<string>(k => k.StartsWith("outcome:", StringComparison.Ordinal)),
            Arg.Any<Card>(), Arg.Any<string?>(), Arg.Any<CancellationToken>());
    }
}
