using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Identity;

/// <summary>A token just created: the only moment its value exists outside the caller's hands.</summary>
public sealed record IssuedToken(StoredToken Stored, string Value);

/// <summary>
/// API tokens for machines (pipelines, scripts): created and revoked by an admin, from chat
/// (<c>/ship token …</c>) or the host's command line. A token is <c>shipbot_</c> and 43
/// characters of randomness (256 bits); only its SHA-256 is stored, so the value is shown once,
/// to its creator, and never logged. A presented token is looked up in the store on every
/// request, with no cache, so a revoked token stops working at once on every replica.
/// A token acts as the principal <c>token:&lt;name&gt;</c>, whose roles come from configuration,
/// capped by its scopes.
/// </summary>
public sealed partial class ApiTokenService(ITokenStore store, AccessPolicy access, TimeProvider time, ILogger<ApiTokenService> logger)
{
    public const string Prefix = "shipbot_";

    /// <summary>The prefix of a token principal's actor id.</summary>
    public const string PrincipalPrefix = "token:";

    private const int SecretBytes = 32;

    /// <summary>Handles <c>/ship token …</c> for <paramref name="actor"/>: admins only. The answer to create is private and holds the token.</summary>
    public async Task<CommandReply> HandleAsync(TokenCommand command, Actor actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(actor);
        if (!access.IsAdmin(actor))
        {
            return CommandReply.Private($"{actor.Mention} cannot manage API tokens: that needs the admin role.");
        }

        switch (command.Action)
        {
            case TokenAction.Create:
                var issued = await CreateAsync(command.Name!, command.Scopes, actor.Id, cancellationToken).ConfigureAwait(false);
                return issued is null
                    ? CommandReply.Private($"There is already a token named {command.Name}: revoke it first (`/ship token revoke {command.Name}`).")
                    : CommandReply.Private(
                        $"API token *{issued.Stored.Name}* ({string.Join(", ", issued.Stored.Scopes)}) acts as `{PrincipalPrefix}{issued.Stored.Name}`:\n`{issued.Value}`\n"
                        + "It is shown this once and cannot be shown again: store it as a secret now. Send it as `Authorization: Bearer <token>`.");
            case TokenAction.Revoke:
                var removed = await RevokeAsync(command.Name!, actor.Id, cancellationToken).ConfigureAwait(false);
                return CommandReply.Private(removed is null ? $"There is no token named {command.Name}." : $"Token {removed.Name} is revoked: it stopped working everywhere.");
            default:
                var tokens = await store.ListAsync(cancellationToken).ConfigureAwait(false);
                return CommandReply.Private(tokens.Count == 0
                    ? "No API tokens. `/ship token create <name> <scope>…` makes one."
                    : "API tokens:\n" + string.Join('\n', tokens.Select(t => $"• {t.Name} ({string.Join(", ", t.Scopes)}), created by {t.CreatedBy} on {t.CreatedAt:yyyy-MM-dd HH:mm} UTC")));
        }
    }

    /// <summary>Creates a token without a role check (the caller is an admin: chat checks it above, the host's command line is run by an operator). Null when the name is taken.</summary>
    public async Task<IssuedToken?> CreateAsync(string name, IReadOnlyList<string> scopes, string createdBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        if (!TokenCommand.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a token name.", nameof(name));
        }

        if (scopes.Count == 0 || scopes.Any(s => !TokenScopes.IsKnown(s)))
        {
            throw new ArgumentException($"Scopes must be some of {string.Join(", ", TokenScopes.All)}.", nameof(scopes));
        }

        var value = Prefix + Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var stored = new StoredToken(name, Hash(value), [.. scopes.Distinct(StringComparer.Ordinal)], createdBy, time.GetUtcNow());
        if (!await store.TryAddAsync(stored, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        LogCreated(name, string.Join(' ', stored.Scopes), createdBy);
        return new IssuedToken(stored, value);
    }

    /// <summary>Revokes a token by name; the removed token, or null when there was none.</summary>
    public async Task<StoredToken?> RevokeAsync(string name, string revokedBy, CancellationToken cancellationToken = default)
    {
        var removed = await store.RemoveAsync(name, cancellationToken).ConfigureAwait(false);
        if (removed is not null)
        {
            LogRevoked(name, revokedBy);
        }

        return removed;
    }

    public Task<IReadOnlyList<StoredToken>> ListAsync(CancellationToken cancellationToken = default) => store.ListAsync(cancellationToken);

    /// <summary>
    /// The actor a presented token acts as, or null when it is not a live token. Malformed values
    /// are refused without a store call; the rest cost one lookup by hash.
    /// </summary>
    public async Task<Actor?> AuthenticateAsync(string? presented, CancellationToken cancellationToken = default)
    {
        if (!LooksLikeToken(presented))
        {
            return null;
        }

        var stored = await store.FindByHashAsync(Hash(presented!), cancellationToken).ConfigureAwait(false);
        return stored is null ? null : ActorOf(stored);
    }

    /// <summary>The principal a token acts as: <c>token:&lt;name&gt;</c>, with its scopes.</summary>
    public static Actor ActorOf(StoredToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return new Actor(PrincipalPrefix + token.Name, PrincipalPrefix + token.Name, []) { Scopes = token.Scopes };
    }

    /// <summary>Lowercase hex SHA-256 of the token's UTF-8 bytes (the token is 256 random bits, so a fast hash is enough).</summary>
    public static string Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>Whether a string has the shape of a ShipBot token (prefix and 43 base64url characters).</summary>
    public static bool LooksLikeToken(string? value) => value is { Length: 51 } && TokenPattern().IsMatch(value);

    /// <summary>
    /// The reply as it may be remembered for a repeated request: any token value in it is blanked,
    /// so a retried delivery of <c>token create</c> never shows the token again and no store keeps it.
    /// </summary>
    public static CommandReply ForReplay(CommandReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return reply.Text.Contains(Prefix, StringComparison.Ordinal)
            ? reply with { Text = AnyToken().Replace(reply.Text, Prefix + "… (shown once; it cannot be shown again)") }
            : reply;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("^shipbot_[A-Za-z0-9_-]{43}$")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("shipbot_[A-Za-z0-9_-]{20,}")]
    private static partial Regex AnyToken();

    [LoggerMessage(Level = LogLevel.Information, Message = "API token {Name} created with scopes {Scopes} by {By}")]
    private partial void LogCreated(string name, string scopes, string by);

    [LoggerMessage(Level = LogLevel.Information, Message = "API token {Name} revoked by {By}")]
    private partial void LogRevoked(string name, string by);
}
