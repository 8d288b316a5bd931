using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.InMemory;

namespace ShipBot.Coordinator.Tests.Identity;

public sealed class ApiTokenServiceTests
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Dave = new("dave", "Dave", []);
    private static readonly Actor Alice = new("alice", "Alice", []);
    private readonly InMemoryTokenStore _store = new();

    private ApiTokenService CreateSut()
    {
        var services = new Dictionary<string, ServicePolicy>(StringComparer.Ordinal)
        {
            ["demo"] = new() { Name = "demo", Requesters = ["alice", "token:ci"], Approvers = ["bob"], OnCall = ["carol"] },
        };
        return new ApiTokenService(_store, new AccessPolicy(services, ["dave", "token:root"]), new FakeTimeProvider(T0), NullLogger<ApiTokenService>.Instance);
    }

    private static TokenCommand Create(string name, params string[] scopes) => new(TokenAction.Create, name, scopes);

    [Fact]
    public async Task HandleAsync_CreateByAdmin_ShowsTheTokenOnceAndStoresOnlyItsHash()
    {
        var sut = CreateSut();

        var reply = await sut.HandleAsync(Create("ci", TokenScopes.ReleasesRead, TokenScopes.ReleasesWrite), Dave);

        Assert.Equal(Coordinator.ReplyVisibility.Ephemeral, reply.Visibility);
        var token = System.Text.RegularExpressions.Regex.Match(reply.Text, "shipbot_[A-Za-z0-9_-]{43}").Value;
        Assert.True(ApiTokenService.LooksLikeToken(token));
        Assert.Contains("shown this once", reply.Text, StringComparison.Ordinal);
        var stored = Assert.Single(await _store.ListAsync());
        Assert.Equal("ci", stored.Name);
        Assert.Equal(ApiTokenService.Hash(token), stored.Hash);
        Assert.DoesNotContain(token, stored.ToString(), StringComparison.Ordinal);
        Assert.Equal("dave", stored.CreatedBy);
        Assert.Equal(T0, stored.CreatedAt);
    }

    [Fact]
    public async Task HandleAsync_CreateByNonAdmin_RefusedNamingTheAdminRole()
    {
        var reply = await CreateSut().HandleAsync(Create("ci", TokenScopes.Admin), Alice);

        Assert.Contains("needs the admin role", reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("shipbot_", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync());
    }

    [Fact]
    public async Task HandleAsync_TokenListedAsAdminButWithoutAdminScope_Refused()
    {
        var sut = CreateSut();
        var root = ApiTokenService.ActorOf(new StoredToken("root", "00", [TokenScopes.ReleasesWrite], "dave", T0));

        var reply = await sut.HandleAsync(Create("other", TokenScopes.ReleasesRead), root);

        Assert.Contains("needs the admin role", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync());
    }

    [Fact]
    public async Task HandleAsync_CreateTwiceWithOneName_SecondRefused()
    {
        var sut = CreateSut();
        await sut.HandleAsync(Create("ci", TokenScopes.ReleasesRead), Dave);

        var second = await sut.HandleAsync(Create("ci", TokenScopes.Admin), Dave);

        Assert.Contains("already a token named ci", second.Text, StringComparison.Ordinal);
        Assert.Equal([TokenScopes.ReleasesRead], Assert.Single(await _store.ListAsync()).Scopes);
    }

    [Fact]
    public async Task AuthenticateAsync_LiveToken_ActsAsItsPrincipalWithItsScopes()
    {
        var sut = CreateSut();
        var issued = await sut.CreateAsync("ci", [TokenScopes.ReleasesWrite], "dave");

        var actor = await sut.AuthenticateAsync(issued!.Value);

        Assert.NotNull(actor);
        Assert.Equal("token:ci", actor.Id);
        Assert.Equal([TokenScopes.ReleasesWrite], actor.Scopes);
    }

    [Fact]
    public async Task AuthenticateAsync_RevokedToken_Null()
    {
        var sut = CreateSut();
        var issued = await sut.CreateAsync("ci", [TokenScopes.ReleasesRead], "dave");

        var reply = await sut.HandleAsync(new TokenCommand(TokenAction.Revoke, "ci", []), Dave);

        Assert.Contains("revoked", reply.Text, StringComparison.Ordinal);
        Assert.Null(await sut.AuthenticateAsync(issued!.Value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("shipbot_short")]
    [InlineData("Bearer shipbot_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("shipbot_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!")]
    public async Task AuthenticateAsync_Malformed_NullWithoutAStoreCall(string? presented)
    {
        var store = Substitute.For<ITokenStore>();
        var sut = new ApiTokenService(store, new AccessPolicy(new Dictionary<string, ServicePolicy>(), []), TimeProvider.System, NullLogger<ApiTokenService>.Instance);

        Assert.Null(await sut.AuthenticateAsync(presented));
        await store.DidNotReceiveWithAnyArgs().FindByHashAsync(default!);
    }

    [Fact]
    public async Task AuthenticateAsync_WellFormedButUnknown_Null()
    {
        Assert.Null(await CreateSut().AuthenticateAsync("shipbot_" + new string('A', 43)));
    }

    [Fact]
    public async Task HandleAsync_List_ShowsNamesAndScopesNeverValuesOrHashes()
    {
        var sut = CreateSut();
        var issued = await sut.CreateAsync("ci", [TokenScopes.ReleasesRead], "dave");

        var reply = await sut.HandleAsync(new TokenCommand(TokenAction.List, null, []), Dave);

        Assert.Contains("ci (releases:read), created by dave", reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(issued!.Value, reply.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(issued.Stored.Hash, reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ForReplay_ReplyWithAToken_TokenBlanked()
    {
        var token = "shipbot_" + new string('x', 43);
        var reply = Coordinator.CommandReply.Private($"here: `{token}` keep it");

        var replay = ApiTokenService.ForReplay(reply);

        Assert.DoesNotContain(token, replay.Text, StringComparison.Ordinal);
        Assert.Contains("shown once", replay.Text, StringComparison.Ordinal);
        var plain = Coordinator.CommandReply.Private("nothing secret");
        Assert.Same(plain, ApiTokenService.ForReplay(plain));
    }

    [Fact]
    public void AccessPolicy_TokenScopes_CapConfiguredRoles()
    {
        var services = new Dictionary<string, ServicePolicy>(StringComparer.Ordinal)
        {
            ["demo"] = new() { Name = "demo", Requesters = ["token:ci"] },
        };
        var access = new AccessPolicy(services, ["token:ci"]);
        Actor With(params string[] scopes) => ApiTokenService.ActorOf(new StoredToken("ci", "00", scopes, "dave", T0));

        Assert.False(access.Has(With(TokenScopes.ReleasesRead), "demo", Role.Requester));
        Assert.True(access.Has(With(TokenScopes.ReleasesWrite), "demo", Role.Requester));
        Assert.False(access.IsAdmin(With(TokenScopes.ReleasesWrite)));
        Assert.True(access.IsAdmin(With(TokenScopes.Admin)));
        Assert.True(access.Has(With(TokenScopes.Admin), "demo", Role.Requester));
    }
}
