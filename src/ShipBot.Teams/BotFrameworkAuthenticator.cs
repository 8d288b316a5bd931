using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ShipBot.Teams;

/// <summary>The outcome of checking an inbound request's token.</summary>
public sealed record AuthResult(bool IsValid, string? Failure = null, bool Unauthenticated = false)
{
    public static AuthResult Ok { get; } = new(true);

    public static AuthResult Fail(string why) => new(false, why);
}

/// <summary>
/// Validates the Bearer token of every request the Bot Framework Connector sends to
/// <c>/api/messages</c>, as Microsoft documents ("Authentication with the Bot Connector service"):
/// RS256 signature by a key from the OpenID metadata's JWKS, the key's endorsements containing the
/// activity's <c>channelId</c>, issuer <c>https://api.botframework.com</c> (plus the Entra issuers
/// of a single-tenant bot), audience = the bot's app id, lifetime within the clock skew, and the
/// <c>serviceurl</c> claim equal to the activity's <c>serviceUrl</c>. Keys are cached and refreshed
/// (daily, and at once when a token names a key we do not know).
/// </summary>
public sealed partial class BotFrameworkAuthenticator
{
    public const string BotFrameworkIssuer = "https://api.botframework.com";

    private readonly TeamsOptions _options;
    private readonly ILogger<BotFrameworkAuthenticator> _logger;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _botFramework;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _entra;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TimeProvider _time;

    public BotFrameworkAuthenticator(IOptions<TeamsOptions> options, HttpClient http, TimeProvider time, ILogger<BotFrameworkAuthenticator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _time = time;
        _botFramework = Manager(_options.OpenIdMetadataUrl, http);
        if (!string.IsNullOrWhiteSpace(_options.TenantId))
        {
            _entra = Manager(new Uri(_options.EntraOpenIdMetadataUrl.Replace("{tenant}", _options.TenantId, StringComparison.Ordinal)), http);
        }
    }

    /// <summary>Checks the Authorization header against the activity's channel id and service URL.</summary>
    public async Task<AuthResult> ValidateAsync(string? authorization, string? channelId, string? serviceUrl, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(authorization) || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthResult.Fail("no Bearer token");
        }

        var token = authorization[7..].Trim();
        var result = await ValidateWithAsync(_botFramework, token, [BotFrameworkIssuer], ct).ConfigureAwait(false);
        var fromBotFramework = true;
        if (!result.Valid && _entra is not null && result.Token is { } unverified && unverified.Issuer != BotFrameworkIssuer)
        {
            var tenant = _options.TenantId!;
            result = await ValidateWithAsync(_entra, token, [$"https://sts.windows.net/{tenant}/", $"https://login.microsoftonline.com/{tenant}/v2.0"], ct).ConfigureAwait(false);
            fromBotFramework = false;
        }

        if (!result.Valid || result.Token is not { } jwt)
        {
            return AuthResult.Fail(result.Failure ?? "invalid token");
        }

        if (fromBotFramework)
        {
            if (string.IsNullOrEmpty(channelId) || !result.Endorsements.Contains(channelId, StringComparer.OrdinalIgnoreCase))
            {
                return AuthResult.Fail($"the signing key is not endorsed for channel '{channelId}'");
            }
        }

        var claimed = jwt.TryGetPayloadValue<string>("serviceurl", out var s) ? s : null;
        if ((fromBotFramework || claimed is not null) && !SameUrl(claimed, serviceUrl))
        {
            return AuthResult.Fail("the serviceurl claim does not match the activity's serviceUrl");
        }

        return AuthResult.Ok;
    }

    private async Task<(bool Valid, JsonWebToken? Token, IReadOnlyList<string> Endorsements, string? Failure)> ValidateWithAsync(
        ConfigurationManager<OpenIdConnectConfiguration> manager, string token, IReadOnlyList<string> issuers, CancellationToken ct)
    {
        JsonWebToken parsed;
        try
        {
            parsed = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return (false, null, [], "malformed token");
        }

        for (var attempt = 0; attempt < 2; attempt++)
        {
            OpenIdConnectConfiguration config;
            try
            {
                config = await manager.GetConfigurationAsync(ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex)
            {
                LogMetadataUnavailable(ex.Message);
                return (false, parsed, [], "signing keys unavailable");
            }

            var parameters = new TokenValidationParameters
            {
                ValidIssuers = issuers,
                ValidAudience = _options.AppId,
                IssuerSigningKeys = config.SigningKeys,
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                RequireSignedTokens = true,
                RequireExpirationTime = true,
                ValidateLifetime = true,
                ValidateIssuerSigningKey = true,
                ClockSkew = _options.ClockSkew,
                LifetimeValidator = (notBefore, expires, _, p) =>
                {
                    var now = _time.GetUtcNow().UtcDateTime;
                    return (notBefore is null || notBefore.Value - p.ClockSkew <= now) && expires is { } e && now <= e + p.ClockSkew;
                },
            };
            var result = await _handler.ValidateTokenAsync(parsed, parameters).ConfigureAwait(false);
            if (result.IsValid)
            {
                var key = config.JsonWebKeySet?.Keys.FirstOrDefault(k => k.KeyId == parsed.Kid);
                return (true, parsed, key is null ? [] : Endorsements(key), null);
            }

            if (attempt == 0 && result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // A key we have not seen yet: the keys may have rolled over.
                manager.RequestRefresh();
                continue;
            }

            return (false, parsed, [], Describe(result.Exception));
        }

        return (false, parsed, [], "unknown signing key");
    }

    private static IReadOnlyList<string> Endorsements(JsonWebKey key)
    {
        if (!key.AdditionalData.TryGetValue("endorsements", out var value) || value is null)
        {
            return [];
        }

        if (value is JsonElement { ValueKind: JsonValueKind.Array } element)
        {
            return [.. element.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)];
        }

        if (value is System.Collections.IEnumerable items and not string)
        {
            return [.. items.Cast<object?>().Select(i => i?.ToString()).OfType<string>()];
        }

        return [];
    }

    private static string Describe(Exception? ex) => ex switch
    {
        SecurityTokenExpiredException => "token expired",
        SecurityTokenNotYetValidException => "token not yet valid",
        SecurityTokenInvalidAudienceException => "wrong audience",
        SecurityTokenInvalidIssuerException => "wrong issuer",
        SecurityTokenInvalidAlgorithmException => "algorithm not allowed",
        SecurityTokenSignatureKeyNotFoundException => "unknown signing key",
        SecurityTokenInvalidSignatureException => "invalid signature",
        SecurityTokenInvalidLifetimeException => "token lifetime invalid",
        null => "invalid token",
        _ => ex.GetType().Name.Replace("Exception", string.Empty, StringComparison.Ordinal),
    };

    private static bool SameUrl(string? a, string? b) =>
        a is not null && b is not null && string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    private static ConfigurationManager<OpenIdConnectConfiguration> Manager(Uri url, HttpClient http)
    {
        // HTTPS always, except a loopback metadata server (tests serve their own keys).
        var loopback = url.IsLoopback || (IPAddress.TryParse(url.Host, out var ip) && IPAddress.IsLoopback(ip));
        return new ConfigurationManager<OpenIdConnectConfiguration>(url.AbsoluteUri, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever(http) { RequireHttps = !loopback })
        {
            AutomaticRefreshInterval = TimeSpan.FromHours(24),
            RefreshInterval = TimeSpan.FromMinutes(1),
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot Framework signing keys unavailable: {Reason}")]
    private partial void LogMetadataUnavailable(string reason);
}
