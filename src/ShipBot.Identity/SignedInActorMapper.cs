using System.Security.Claims;
using ShipBot.Core.Settings;

namespace ShipBot.Identity;

/// <summary>A configured user (<c>ShipBot:Users:&lt;id&gt;</c>): the id may be a provider's <c>sub</c> or an email.</summary>
public sealed record KnownUser(string Id, string? Name, IReadOnlyList<string> Groups);

/// <summary>
/// Establishes who a signed-in person is, from the provider's claims: which id role lists know
/// them by, their display name and groups. It decides nothing about roles (the coordinator checks
/// those). The id is the first of <c>sub</c> and the email (only when the provider has not said it
/// is unverified) that is a configured user; else the first that a role list or the admins name;
/// else the email, else <c>sub</c>. Groups are the configured user's plus the provider's groups claim.
/// </summary>
public sealed class SignedInActorMapper(IReadOnlyList<KnownUser> users, IEnumerable<string> namedIds, string groupsClaim)
{
    private readonly Dictionary<string, KnownUser> _users = users.ToDictionary(u => u.Id, StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _named = new(namedIds, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every id named in the admins and the services' role lists (group entries excluded).</summary>
    public static IEnumerable<string> NamedIds(AccessPolicy access)
    {
        ArgumentNullException.ThrowIfNull(access);
        return access.Admins.Concat(access.Services.Values.SelectMany(s => s.Requesters.Concat(s.Approvers).Concat(s.OnCall)))
            .Where(e => !e.StartsWith("group:", StringComparison.Ordinal));
    }

    /// <summary>The actor for a provider's principal, or null when it carries no <c>sub</c>.</summary>
    public Actor? Map(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.FindFirst("sub")?.Value is not { Length: > 0 } subject)
        {
            return null;
        }

        var email = principal.FindFirst("email")?.Value is { Length: > 0 } e
            && !string.Equals(principal.FindFirst("email_verified")?.Value, "false", StringComparison.OrdinalIgnoreCase) ? e : null;
        string[] candidates = email is null ? [subject] : [subject, email];
        var id = candidates.FirstOrDefault(_users.ContainsKey) ?? candidates.FirstOrDefault(_named.Contains) ?? email ?? subject;
        var known = _users.GetValueOrDefault(id);
        var name = known?.Name
            ?? principal.FindFirst("name")?.Value
            ?? principal.FindFirst("preferred_username")?.Value
            ?? email
            ?? subject;
        var groups = (known?.Groups ?? []).Concat(principal.FindAll(groupsClaim).Select(c => c.Value))
            .Where(g => g.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return new Actor(known?.Id ?? id, name, groups);
    }
}
