using System.Security.Claims;
using ShipBot.Core.Settings;

namespace ShipBot.Identity.Tests;

public sealed class SignedInActorMapperTests
{
    private static SignedInActorMapper CreateSut() => new(
        [new KnownUser("alice", "Alice A.", ["release-team"]), new KnownUser("carol@example.com", "Carol", [])],
        ["bob@example.com", "u-dave"],
        "groups");

    private static ClaimsPrincipal Principal(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "oidc"));

    [Fact]
    public void Map_SubIsAConfiguredUser_ThatUserWithTheirNameAndGroupsPlusTheClaims()
    {
        var actor = CreateSut().Map(Principal(("sub", "alice"), ("email", "a@example.com"), ("name", "Provider Name"), ("groups", "approvers")));

        Assert.Equal(("alice", "Alice A."), (actor!.Id, actor.DisplayName));
        Assert.Equal(["release-team", "approvers"], actor.Groups);
        Assert.Null(actor.Scopes);
    }

    [Fact]
    public void Map_EmailIsAConfiguredUser_ThatUser()
    {
        var actor = CreateSut().Map(Principal(("sub", "u-123"), ("email", "Carol@Example.com")));

        Assert.Equal("carol@example.com", actor!.Id);
    }

    [Fact]
    public void Map_EmailNamedInARoleList_TheEmail()
    {
        Assert.Equal("bob@example.com", CreateSut().Map(Principal(("sub", "u-bob"), ("email", "bob@example.com")))!.Id);
    }

    [Fact]
    public void Map_SubNamedInARoleList_TheSubEvenWithAnEmail()
    {
        Assert.Equal("u-dave", CreateSut().Map(Principal(("sub", "u-dave"), ("email", "dave@example.com")))!.Id);
    }

    [Fact]
    public void Map_EmailTheProviderSaysIsUnverified_NeverUsed()
    {
        var actor = CreateSut().Map(Principal(("sub", "u-evil"), ("email", "bob@example.com"), ("email_verified", "false")));

        Assert.Equal("u-evil", actor!.Id);
    }

    [Fact]
    public void Map_UnknownPerson_EmailThenNameClaim()
    {
        var actor = CreateSut().Map(Principal(("sub", "u-9"), ("email", "erin@example.com"), ("name", "Erin")));

        Assert.Equal(("erin@example.com", "Erin"), (actor!.Id, actor.DisplayName));
    }

    [Fact]
    public void Map_NoSub_Null()
    {
        Assert.Null(CreateSut().Map(Principal(("email", "bob@example.com"))));
    }

    [Fact]
    public void NamedIds_RoleListsAndAdmins_WithoutGroups()
    {
        var access = new AccessPolicy(
            new Dictionary<string, ServicePolicy> { ["demo"] = new() { Name = "demo", Requesters = ["alice"], Approvers = ["group:approvers", "bob"], OnCall = ["carol"] } },
            ["dave"]);

        Assert.Equal(["dave", "alice", "bob", "carol"], SignedInActorMapper.NamedIds(access));
    }
}
