using ShipBot.Core.Plans;
using ShipBot.Core.Settings;

namespace ShipBot.Core.Tests.Settings;

public sealed class AccessPolicyTests
{
    private static readonly Actor Alice = new("U01ALICE", "alice", []);
    private static readonly Actor Bob = new("U02BOB", "bob", ["S-approvers"]);
    private static readonly Actor Olga = new("U04OLGA", "olga", ["S-oncall"]);
    private static readonly Actor Root = new("U09ROOT", "root", []);
    private static readonly Actor Stranger = new("U99", "stranger", ["S-other"]);

    private static AccessPolicy CreateSut()
    {
        var checkout = new ServicePolicy
        {
            Name = "checkout",
            Requesters = ["U01ALICE"],
            Approvers = ["group:s-approvers", "U03CAROL"],
            OnCall = ["group:S-oncall"],
        };
        var search = new ServicePolicy { Name = "search", Requesters = ["U02BOB"], Approvers = ["U01ALICE"] };
        return new AccessPolicy(new Dictionary<string, ServicePolicy> { ["checkout"] = checkout, ["search"] = search }, ["U09ROOT"]);
    }

    [Fact]
    public void Has_UserListedById_True()
    {
        Assert.True(CreateSut().Has(Alice, "checkout", Role.Requester));
    }

    [Fact]
    public void Has_UserIdInOtherCase_True()
    {
        Assert.True(CreateSut().Has(Alice with { Id = "u01alice" }, "checkout", Role.Requester));
    }

    [Fact]
    public void Has_GroupEntry_MatchesActorsGroupIgnoringCase()
    {
        var sut = CreateSut();

        Assert.True(sut.Has(Bob, "checkout", Role.Approver));
        Assert.True(sut.Has(Olga, "checkout", Role.OnCall));
        Assert.False(sut.Has(Stranger, "checkout", Role.Approver));
    }

    [Fact]
    public void Has_RolePerService_NotAcrossServices()
    {
        var sut = CreateSut();

        Assert.False(sut.Has(Alice, "checkout", Role.Approver));
        Assert.True(sut.Has(Alice, "search", Role.Approver));
        Assert.False(sut.Has(Bob, "checkout", Role.Requester));
        Assert.True(sut.Has(Bob, "search", Role.Requester));
    }

    [Fact]
    public void Has_UnknownService_False()
    {
        Assert.False(CreateSut().Has(Alice, "billing", Role.Requester));
    }

    [Fact]
    public void Has_Admin_IsGlobal()
    {
        var sut = CreateSut();

        Assert.True(sut.Has(Root, "billing", Role.Admin));
        Assert.True(sut.IsAdmin(Root));
        Assert.False(sut.IsAdmin(Alice));
        Assert.False(sut.Has(Root, "checkout", Role.Approver));
    }

    [Fact]
    public void HasAny_OneOfTheRoles_True()
    {
        var sut = CreateSut();

        Assert.True(sut.HasAny(Olga, "checkout", Role.Requester, Role.Approver, Role.OnCall));
        Assert.False(sut.HasAny(Stranger, "checkout", Role.Requester, Role.Approver, Role.OnCall, Role.Admin));
    }

    [Fact]
    public void RolesOf_Actor_EveryRoleOnceInOrder()
    {
        var sut = CreateSut();

        Assert.Equal([Role.Requester, Role.Approver], sut.RolesOf(Alice));
        Assert.Equal([Role.Requester, Role.Approver], sut.RolesOf(Bob));
        Assert.Equal([Role.OnCall], sut.RolesOf(Olga));
        Assert.Equal([Role.Admin], sut.RolesOf(Root));
        Assert.Empty(sut.RolesOf(Stranger));
    }

    [Theory]
    [InlineData(Role.Requester, "requester")]
    [InlineData(Role.Approver, "approver")]
    [InlineData(Role.OnCall, "on-call")]
    [InlineData(Role.Admin, "admin")]
    public void Describe_Role_ReadsAsInTheSpec(Role role, string text)
    {
        Assert.Equal(text, AccessPolicy.Describe(role));
    }

    [Fact]
    public void Has_NullActor_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => CreateSut().Has(null!, "checkout", Role.Requester));
    }

    [Fact]
    public void ServicePolicy_Defaults_MatchTheSpec()
    {
        var policy = new ServicePolicy { Name = "checkout" };

        Assert.Equal(1, policy.RequiredApprovals);
        Assert.Same(StagePlan.Default, policy.Plan);
        Assert.Equal(TimeSpan.FromMinutes(15), policy.ConsultTimeout);
        Assert.Equal([TimeSpan.FromDays(1), TimeSpan.FromDays(7), TimeSpan.FromDays(30)], policy.OutcomeCheckpoints);
        Assert.Equal(TimeSpan.FromMinutes(10), policy.HotfixMaxBake);
        Assert.Equal("releases", policy.Channel);
        Assert.Null(policy.OnCallMention);
        Assert.Equal("group:x", (policy with { OnCall = ["group:x", "U1"] }).OnCallMention);
    }

    [Fact]
    public void Actor_System_IsShipBot()
    {
        Assert.Equal("shipbot", Actor.System.Id);
        Assert.Equal("@ShipBot", Actor.System.Mention);
    }
}
