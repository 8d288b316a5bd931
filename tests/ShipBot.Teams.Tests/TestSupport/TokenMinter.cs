using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ShipBot.Teams.Tests.TestSupport;

/// <summary>
/// Mints the tokens of the authentication tests: what the Bot Framework Connector sends (issuer
/// https://api.botframework.com, audience = the app id, a <c>serviceurl</c> claim, RS256 with a
/// <c>kid</c>), and every malformed variation of it, including ones no library would produce
/// (<c>alg: none</c>, a stripped signature), which are assembled by hand.
/// </summary>
internal static class TokenMinter
{
    public const string AppId = "3f2a6c8e-0d4b-4b8e-9a51-7c1f0e2d9b10";

    public const string ServiceUrl = "https://smba.trafficmanager.net/amer/";

    public const string Channel = "msteams";

    /// <summary>A signed token; <paramref name="lifetime"/> is (not before, expires) relative to <paramref name="now"/>.</summary>
    public static string Mint(
        SigningCredentials credentials,
        DateTimeOffset now,
        string? issuer = BotFrameworkAuthenticator.BotFrameworkIssuer,
        string? audience = AppId,
        string? serviceUrl = ServiceUrl,
        TimeSpan? notBefore = null,
        TimeSpan? expires = null)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        if (serviceUrl is not null)
        {
            claims["serviceurl"] = serviceUrl;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = (now + (notBefore ?? TimeSpan.FromMinutes(-5))).UtcDateTime,
            NotBefore = (now + (notBefore ?? TimeSpan.FromMinutes(-5))).UtcDateTime,
            Expires = (now + (expires ?? TimeSpan.FromHours(1))).UtcDateTime,
            Claims = claims,
            SigningCredentials = credentials,
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>The payload a valid Bot Framework token would carry, as JSON.</summary>
    public static JsonObject Payload(DateTimeOffset now, string? serviceUrl = ServiceUrl) => new()
    {
        ["iss"] = BotFrameworkAuthenticator.BotFrameworkIssuer,
        ["aud"] = AppId,
        ["serviceurl"] = serviceUrl,
        ["nbf"] = (now - TimeSpan.FromMinutes(5)).ToUnixTimeSeconds(),
        ["exp"] = (now + TimeSpan.FromHours(1)).ToUnixTimeSeconds(),
    };

    /// <summary>A token assembled from raw parts: <c>base64url(header).base64url(payload).signature</c>.</summary>
    public static string Raw(JsonObject header, JsonObject payload, string signature = "") =>
        $"{Base64UrlEncoder.Encode(header.ToJsonString())}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{signature}";

    /// <summary>An HS256 token, signed with <paramref name="secret"/> as the HMAC key.</summary>
    public static string Hs256(byte[] secret, string kid, JsonObject payload)
    {
        var header = new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = kid };
        var unsigned = $"{Base64UrlEncoder.Encode(header.ToJsonString())}.{Base64UrlEncoder.Encode(payload.ToJsonString())}";
        var mac = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(unsigned));
        return $"{unsigned}.{Base64UrlEncoder.Encode(mac)}";
    }

    /// <summary>The token with its payload swapped for <paramref name="payload"/>, keeping the original header and signature.</summary>
    public static string WithPayload(string token, JsonObject payload)
    {
        var parts = token.Split('.');
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
    }

    public static JsonObject Header(string token) => (JsonObject)JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[0]))!;

    public static JsonObject PayloadOf(string token) => (JsonObject)JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[1]))!;
}
