using ShipBot.Core.Settings;

namespace ShipBot.Identity.Tests;

public sealed class ShipBotClaimsTests
{
    [Fact]
    public void ActorOf_SessionPrincipal_SamePersonWithoutScopes()
    {
        var actor = new Actor("bob@example.com", "Bob", ["approvers"]);

        var back = ShipBotClaims.ActorOf(ShipBotClaims.Principal(actor, IdentitySchemes.Cookie, "u-bob"));

        Assert.Equal(("bob@example.com", "Bob"), (back!.Id, back.DisplayName));
        Assert.Equal(["approvers"], back.Groups);
        Assert.Null(back.Scopes);
    }

    [Fact]
    public void ActorOf_TokenPrincipal_KeepsItsScopes()
    {
        var token = new Actor("token:ci", "token:ci", []) { Scopes = ["releases:read"] };

        Assert.Equal(["releases:read"], ShipBotClaims.ActorOf(ShipBotClaims.Principal(token, IdentitySchemes.Token))!.Scopes);
    }

    [Fact]
    public void ActorOf_ScopeClaimsInASession_IgnoredSoACookieCannotClaimToBeAToken()
    {
        var forged = new Actor("mallory", "mallory", []) { Scopes = ["admin"] };

        Assert.Null(ShipBotClaims.ActorOf(ShipBotClaims.Principal(forged, IdentitySchemes.Cookie))!.Scopes);
    }

    [Theory]
    [InlineData(null, false, false, ConsoleMode.Demo)]
    [InlineData(null, true, false, ConsoleMode.Off)]
    [InlineData(null, true, true, ConsoleMode.SignIn)]
    [InlineData(null, false, true, ConsoleMode.SignIn)]
    [InlineData(ConsoleMode.Off, false, false, ConsoleMode.Off)]
    [InlineData(ConsoleMode.Demo, true, false, ConsoleMode.Demo)]
    public void Effective_DefaultsFollowWhatIsConfigured(ConsoleMode? mode, bool chat, bool signIn, ConsoleMode expected)
    {
        var options = new ConsoleOptions { Mode = mode };
        if (signIn)
        {
            options.SignIn.Authority = new Uri("https://login.example.com/");
            options.SignIn.ClientId = "shipbot";
        }

        Assert.Equal(expected, options.Effective(chat));
    }
}
