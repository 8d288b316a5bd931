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

/// <summary>A Bearer token checked on its own (<see cref="BotFrameworkAuthenticator.ValidateTokenAsync"/>): the validated token and its key's endorsements, or why it failed.</summary>
public sealed record TokenCheck(JsonWebToken? Token, IReadOnlyList<string> Endorsements, bool FromBotFramework, string? Failure)
{
    public bool IsValid => Token is not null;

    public static TokenCheck Fail(string why) => new(null, [], false, why);
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
    private readonly KeySource _botFramework;
    private readonly KeySource? _entra;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TimeProvider _time;

    public BotFrameworkAuthenticator(IOptions<TeamsOptions> options, HttpClient http, TimeProvider time, ILogger<BotFrameworkAuthenticator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _time = time;
        _botFramework = new KeySource(_options.OpenIdMetadataUrl, http);
        if (!string.IsNullOrWhiteSpace(_options.TenantId))
        {
            _entra = new KeySource(new Uri(_options.EntraOpenIdMetadataUrl.Replace("{tenant}", _options.TenantId, StringComparison.Ordinal)), http);
        }
    }

    /// <summary>Checks the Authorization header against the activity's channel id and service URL.</summary>
    public async Task<AuthResult> ValidateAsync(string? authorization, string? channelId, string? serviceUrl, CancellationToken ct = default) =>
        CheckActivity(await ValidateTokenAsync(authorization, ct).ConfigureAwait(false), channelId, serviceUrl);

    /// <summary>
    /// The first half of <see cref="ValidateAsync"/>, which needs no activity: the Bearer token's
    /// signature, issuer, audience and lifetime. The endpoint runs it before it parses the body.
    /// </summary>
    public async Task<TokenCheck> ValidateTokenAsync(string? authorization, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(authorization) || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return TokenCheck.Fail("no Bearer token");
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

        return !result.Valid || result.Token is not { } jwt
            ? TokenCheck.Fail(result.Failure ?? "invalid token")
            : new TokenCheck(jwt, result.Endorsements, fromBotFramework, null);
    }

    /// <summary>The second half: a valid token's endorsements and <c>serviceurl</c> claim against the parsed activity.</summary>
    public static AuthResult CheckActivity(TokenCheck token, string? channelId, string? serviceUrl)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Token is not { } jwt)
        {
            return AuthResult.Fail(token.Failure ?? "invalid token");
        }

        if (token.FromBotFramework)
        {
            if (string.IsNullOrEmpty(channelId) || !token.Endorsements.Contains(channelId, StringComparer.OrdinalIgnoreCase))
            {
                return AuthResult.Fail($"the signing key is not endorsed for channel '{channelId}'");
            }
        }

        var claimed = jwt.TryGetPayloadValue<string>("serviceurl", out var s) ? s : null;
        if ((token.FromBotFramework || claimed is not null) && !SameUrl(claimed, serviceUrl))
        {
            return AuthResult.Fail("the serviceurl claim does not match the activity's serviceUrl");
        }

        return AuthResult.Ok;
    }

    private async Task<(bool Valid, JsonWebToken? Token, IReadOnlyList<string> Endorsements, string? Failure)> ValidateWithAsync(
        KeySource source, string token, IReadOnlyList<string> issuers, CancellationToken ct)
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
                config = attempt == 0 ? await source.CurrentAsync(_time.GetUtcNow(), ct).ConfigureAwait(false) : await source.FreshAsync(_time.GetUtcNow(), ct).ConfigureAwait(false);
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
                // A key we have not seen yet: the keys may have rolled over. Fetch them now (at most
                // every 30 s), rather than failing this request while a background refresh runs.
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

    /// <summary>One metadata document's keys: cached by a configuration manager (refreshed daily), and fetched directly when a token names a key it does not have.</summary>
    private sealed class KeySource
    {
        private static readonly TimeSpan MinFetchInterval = TimeSpan.FromSeconds(30);
        private readonly string _url;
        private readonly HttpDocumentRetriever _retriever;
        private readonly ConfigurationManager<OpenIdConnectConfiguration> _manager;
        private readonly SemaphoreSlim _gate = new(1, 1);
        private OpenIdConnectConfiguration? _fresh;
        private DateTimeOffset _freshAt = DateTimeOffset.MinValue;

        public KeySource(Uri url, HttpClient http)
        {
            // HTTPS always, except a loopback metadata server (tests serve their own keys).
            var loopback = url.IsLoopback || (IPAddress.TryParse(url.Host, out var ip) && IPAddress.IsLoopback(ip));
            _url = url.AbsoluteUri;
            _retriever = new HttpDocumentRetriever(http) { RequireHttps = !loopback };
            _manager = new ConfigurationManager<OpenIdConnectConfiguration>(_url, new OpenIdConnectConfigurationRetriever(), _retriever)
            {
                AutomaticRefreshInterval = TimeSpan.FromHours(24),
                RefreshInterval = TimeSpan.FromMinutes(1),
            };
        }

        /// <summary>The cached keys, or the directly fetched ones when they are newer.</summary>
        public async Task<OpenIdConnectConfiguration> CurrentAsync(DateTimeOffset now, CancellationToken ct) =>
            _fresh is { } fresh && now - _freshAt < TimeSpan.FromHours(1) ? fresh : await _manager.GetConfigurationAsync(ct).ConfigureAwait(false);

        public async Task<OpenIdConnectConfiguration> FreshAsync(DateTimeOffset now, CancellationToken ct)
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (_fresh is null || now - _freshAt >= MinFetchInterval)
                {
                    // Used for an hour, then the manager's cache again (one fetch, not a second one in the background).
                    _fresh = await OpenIdConnectConfigurationRetriever.GetAsync(_url, _retriever, ct).ConfigureAwait(false);
                    _freshAt = now;
                }

                return _fresh;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidOperationException)
            {
                throw new InvalidOperationException($"could not fetch {_url}: {ex.Message}", ex);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot Framework signing keys unavailable: {Reason}")]
    private partial void LogMetadataUnavailable(string reason);
}
