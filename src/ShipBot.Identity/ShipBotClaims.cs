using System.Security.Claims;
using ShipBot.Core.Settings;

namespace ShipBot.Identity;

/// <summary>
/// The claims ShipBot keeps about a caller, whatever proved who they are (a session cookie or an
/// API token): the actor id role lists name, a display name, groups, and a token's scopes.
/// Everything else the provider sent is dropped at sign-in, so the session cookie stays small.
/// </summary>
public static class ShipBotClaims
{
    public const string ActorId = "shipbot:id";
    public const string Name = "shipbot:name";
    public const string Group = "shipbot:group";
    public const string Scope = "shipbot:scope";
    public const string Subject = "sub";

    /// <summary>A principal for <paramref name="actor"/>, authenticated by <paramref name="authenticationType"/>.</summary>
    public static ClaimsPrincipal Principal(Actor actor, string authenticationType, string? subject = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var claims = new List<Claim> { new(ActorId, actor.Id), new(Name, actor.DisplayName) };
        claims.AddRange(actor.Groups.Select(g => new Claim(Group, g)));
        claims.AddRange((actor.Scopes ?? []).Select(s => new Claim(Scope, s)));
        if (subject is not null)
        {
            claims.Add(new Claim(Subject, subject));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType, Name, null));
    }

    /// <summary>The actor a principal made by <see cref="Principal"/> stands for, or null.</summary>
    public static Actor? ActorOf(ClaimsPrincipal? principal)
    {
        if (principal?.FindFirst(ActorId)?.Value is not { Length: > 0 } id)
        {
            return null;
        }

        var scopes = principal.FindAll(Scope).Select(c => c.Value).ToList();
        return new Actor(id, principal.FindFirst(Name)?.Value ?? id, [.. principal.FindAll(Group).Select(c => c.Value)])
        {
            Scopes = principal.Identity?.AuthenticationType == IdentitySchemes.Token ? scopes : null,
        };
    }
}

/// <summary>The authentication scheme names.</summary>
public static class IdentitySchemes
{
    /// <summary>Picks the token scheme for <c>Authorization: Bearer</c>, else the session cookie.</summary>
    public const string Caller = "ShipBot";

    public const string Cookie = "ShipBot.Session";

    public const string OpenIdConnect = "ShipBot.OpenIdConnect";

    public const string Token = "ShipBot.Token";
}
