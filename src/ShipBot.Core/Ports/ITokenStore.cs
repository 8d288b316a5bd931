namespace ShipBot.Core.Ports;

/// <summary>
/// What an API token may do. <see cref="ReleasesWrite"/> includes <see cref="ReleasesRead"/>, and
/// <see cref="Admin"/> includes both. Scopes only ever narrow what a token's principal may do: its
/// roles still come from configuration (role lists naming <c>token:&lt;name&gt;</c>).
/// </summary>
public static class TokenScopes
{
    /// <summary>Read releases and signals (<c>/api/releases*</c>, <c>/api/signals</c>).</summary>
    public const string ReleasesRead = "releases:read";

    /// <summary>Act on releases with the roles configuration gives the token (requester, approver, on-call).</summary>
    public const string ReleasesWrite = "releases:write";

    /// <summary>Act as an admin, if configuration lists the token among the admins.</summary>
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [ReleasesRead, ReleasesWrite, Admin];

    public static bool IsKnown(string scope) => All.Contains(scope, StringComparer.Ordinal);

    /// <summary>Whether a token holding <paramref name="granted"/> may do what <paramref name="needed"/> allows.</summary>
    public static bool Allows(IReadOnlyList<string> granted, string needed)
    {
        ArgumentNullException.ThrowIfNull(granted);
        return granted.Contains(Admin, StringComparer.Ordinal)
            || granted.Contains(needed, StringComparer.Ordinal)
            || (needed == ReleasesRead && granted.Contains(ReleasesWrite, StringComparer.Ordinal));
    }
}

/// <summary>
/// An API token as it is stored: its name, the SHA-256 of the token (never the token itself), its
/// scopes, and who created it when.
/// </summary>
public sealed record StoredToken(string Name, string Hash, IReadOnlyList<string> Scopes, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>
/// Where API tokens live: in memory (embedded default) or in Redis, shared by every replica. There
/// is no cache in front of it: a token removed here stops working on every replica at once.
/// A store that cannot be reached throws <see cref="StoreUnavailableException"/>.
/// </summary>
public interface ITokenStore
{
    /// <summary>Adds a token; false (and nothing changes) when a token with that name exists.</summary>
    Task<bool> TryAddAsync(StoredToken token, CancellationToken cancellationToken = default);

    /// <summary>The token whose hash is <paramref name="hash"/>, or null.</summary>
    Task<StoredToken?> FindByHashAsync(string hash, CancellationToken cancellationToken = default);

    /// <summary>Removes the token named <paramref name="name"/>; returns it, or null when there was none.</summary>
    Task<StoredToken?> RemoveAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every token, by name.</summary>
    Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken = default);
}
