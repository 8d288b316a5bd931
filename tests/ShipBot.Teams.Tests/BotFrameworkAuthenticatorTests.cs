using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using ShipBot.Teams.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests;

/// <summary>
/// Inbound authentication with tokens minted here, against a real Kestrel serving the test's own
/// OpenID metadata and JWKS (with endorsements): every rule of "Authentication with the Bot
/// Connector service", and that nothing fails open.
/// </summary>
public sealed class BotFrameworkAuthenticatorTests : IAsyncLifetime
{
    private const string Tenant = "7d1c8a52-4e3f-4a9b-b0c6-2f5e9d3a1b77";

    private static readonly DateTimeOffset Start = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly TestSigningKey _teamsKey = new("teams-key-1", "msteams", "webchat");
    private readonly List<IDisposable> _disposables = [];
    private OpenIdServer _server = null!;

    private DateTimeOffset Now => _time.GetUtcNow();

    public async Task InitializeAsync()
    {
        _server = await OpenIdServer.StartAsync();
        _server.AddBotFrameworkKey(_teamsKey);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _teamsKey.Dispose();
        foreach (var d in _disposables)
        {
            d.Dispose();
        }
    }

    private BotFrameworkAuthenticator CreateSut(Action<TeamsOptions>? configure = null)
    {
        var options = new TeamsOptions
        {
            AppId = TokenMinter.AppId,
            AppPassword = "secret",
            OpenIdMetadataUrl = _server.BotFrameworkMetadataUrl,
            EntraOpenIdMetadataUrl = _server.EntraMetadataTemplate,
        };
        configure?.Invoke(options);
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        _disposables.Add(http);
        return new BotFrameworkAuthenticator(Options.Create(options), http, _time, NullLogger<BotFrameworkAuthenticator>.Instance);
    }

    private TestSigningKey NewKey(string kid, params string[] endorsements)
    {
        var key = new TestSigningKey(kid, endorsements);
        _disposables.Add(key);
        return key;
    }

    private static Task<AuthResult> Validate(BotFrameworkAuthenticator sut, string token, string? channelId = TokenMinter.Channel, string? serviceUrl = TokenMinter.ServiceUrl) =>
        sut.ValidateAsync($"Bearer {token}", channelId, serviceUrl);

    private string Valid(TestSigningKey? key = null) => TokenMinter.Mint((key ?? _teamsKey).Credentials, Now);

    private static void AssertRejected(AuthResult result, string? because = null)
    {
        Assert.False(result.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(result.Failure));
        if (because is not null)
        {
            Assert.Contains(because, result.Failure, StringComparison.Ordinal);
        }
    }

    // ---------------------------------------------------------------- the valid case

    [Fact]
    public async Task ValidateAsync_ValidBotFrameworkToken_Accepts()
    {
        var sut = CreateSut();

        var result = await Validate(sut, Valid());

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task ValidateAsync_ManyValidTokens_FetchesTheKeysOnce()
    {
        var sut = CreateSut();

        for (var i = 0; i < 5; i++)
        {
            Assert.True((await Validate(sut, Valid())).IsValid);
        }

        Assert.Equal(1, _server.BotFrameworkKeyFetches);
        Assert.Equal(1, _server.Hits("/.well-known/openidconfiguration"));
    }

    [Theory]
    [InlineData("https://smba.trafficmanager.net/amer")]
    [InlineData("https://SMBA.trafficmanager.net/amer/")]
    public async Task ValidateAsync_ServiceUrlDiffersOnlyInTrailingSlashOrHostCase_Accepts(string activityServiceUrl)
    {
        var sut = CreateSut();

        var result = await Validate(sut, Valid(), serviceUrl: activityServiceUrl);

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task ValidateAsync_KeyEndorsedForWebChatAndTeams_AcceptsBothChannels()
    {
        var sut = CreateSut();

        Assert.True((await Validate(sut, Valid(), channelId: "webchat")).IsValid);
        Assert.True((await Validate(sut, Valid(), channelId: "msteams")).IsValid);
    }

    // ---------------------------------------------------------------- lifetime (5 minutes' skew, the injected clock)

    [Fact]
    public async Task ValidateAsync_ExpiredBeyondTheSkew_Rejects()
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, notBefore: TimeSpan.FromHours(-2), expires: TimeSpan.FromMinutes(-5) - TimeSpan.FromSeconds(1));

        AssertRejected(await Validate(sut, token), "lifetime");
    }

    [Fact]
    public async Task ValidateAsync_ExpiredWithinTheSkew_Accepts()
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, notBefore: TimeSpan.FromHours(-2), expires: TimeSpan.FromMinutes(-4));

        var result = await Validate(sut, token);

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task ValidateAsync_NotYetValidBeyondTheSkew_Rejects()
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, notBefore: TimeSpan.FromMinutes(6), expires: TimeSpan.FromHours(1));

        AssertRejected(await Validate(sut, token), "lifetime");
    }

    [Fact]
    public async Task ValidateAsync_NotYetValidWithinTheSkew_Accepts()
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, notBefore: TimeSpan.FromMinutes(4), expires: TimeSpan.FromHours(1));

        var result = await Validate(sut, token);

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task ValidateAsync_ClockMovesPastExpiryPlusSkew_RejectsTheSameToken()
    {
        var sut = CreateSut();
        var token = Valid();
        Assert.True((await Validate(sut, token)).IsValid);

        _time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        AssertRejected(await Validate(sut, token), "lifetime");
    }

    [Fact]
    public async Task ValidateAsync_HandSignedValidPayload_Accepts()
    {
        // The control of the hand-assembled tokens below: the same assembly with a valid payload passes.
        var sut = CreateSut();

        var result = await Validate(sut, Resign(TokenMinter.Payload(Now), _teamsKey));

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task ValidateAsync_NoExpiry_Rejects()
    {
        var sut = CreateSut();
        var payload = TokenMinter.PayloadOf(Valid());
        payload.Remove("exp");
        var token = Resign(payload, _teamsKey);

        AssertRejected(await Validate(sut, token));
    }

    // ---------------------------------------------------------------- audience and issuer

    [Theory]
    [InlineData("11111111-2222-3333-4444-555555555555")]
    [InlineData("https://api.botframework.com")]
    [InlineData(null)]
    public async Task ValidateAsync_WrongOrMissingAudience_Rejects(string? audience)
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, audience: audience);

        AssertRejected(await Validate(sut, token), "audience");
    }

    [Theory]
    [InlineData("https://api.botframework.com.evil.example")]
    [InlineData("https://login.botframework.com")]
    [InlineData("https://sts.windows.net/" + Tenant + "/")]
    [InlineData(null)]
    public async Task ValidateAsync_WrongOrMissingIssuer_Rejects(string? issuer)
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, issuer: issuer);

        AssertRejected(await Validate(sut, token), "issuer");
    }

    // ---------------------------------------------------------------- endorsements

    [Fact]
    public async Task ValidateAsync_KeyNotEndorsedForTheActivitysChannel_Rejects()
    {
        var webchatOnly = NewKey("webchat-only", "webchat");
        _server.AddBotFrameworkKey(webchatOnly);
        var sut = CreateSut();
        var token = Valid(webchatOnly);

        var result = await Validate(sut, token, channelId: "msteams");

        AssertRejected(result);
        Assert.Contains("endorsed", result.Failure, StringComparison.Ordinal);
        Assert.True((await Validate(sut, token, channelId: "webchat")).IsValid);
    }

    [Fact]
    public async Task ValidateAsync_KeyWithoutEndorsements_Rejects()
    {
        var bare = NewKey("no-endorsements");
        _server.AddBotFrameworkKey(bare);
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid(bare)), "endorsed");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("slack")]
    public async Task ValidateAsync_ActivityWithoutOrWithAnotherChannel_Rejects(string? channelId)
    {
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid(), channelId: channelId), "endorsed");
    }

    // ---------------------------------------------------------------- serviceurl

    [Fact]
    public async Task ValidateAsync_ServiceUrlClaimDiffersFromTheActivity_Rejects()
    {
        var sut = CreateSut();

        var result = await Validate(sut, Valid(), serviceUrl: "https://attacker.example/amer/");

        AssertRejected(result);
        Assert.Contains("serviceurl", result.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_NoServiceUrlClaim_Rejects()
    {
        var sut = CreateSut();
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, serviceUrl: null);

        AssertRejected(await Validate(sut, token), "serviceurl");
    }

    [Fact]
    public async Task ValidateAsync_ActivityWithoutServiceUrl_Rejects()
    {
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid(), serviceUrl: null), "serviceurl");
    }

    // ---------------------------------------------------------------- signatures and algorithms

    [Fact]
    public async Task ValidateAsync_SignatureStripped_Rejects()
    {
        var sut = CreateSut();
        var parts = Valid().Split('.');

        AssertRejected(await Validate(sut, $"{parts[0]}.{parts[1]}."));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    public async Task ValidateAsync_AlgNone_Rejects(string alg)
    {
        var sut = CreateSut();
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = _teamsKey.Kid };

        AssertRejected(await Validate(sut, TokenMinter.Raw(header, TokenMinter.Payload(Now))));
        AssertRejected(await Validate(sut, TokenMinter.Raw(new JsonObject { ["alg"] = alg }, TokenMinter.Payload(Now))));
    }

    [Fact]
    public async Task ValidateAsync_Hs256WithASymmetricKey_Rejects()
    {
        var sut = CreateSut();
        var token = TokenMinter.Hs256(new byte[32], _teamsKey.Kid, TokenMinter.Payload(Now));

        AssertRejected(await Validate(sut, token));
    }

    [Fact]
    public async Task ValidateAsync_Hs256KeyedWithThePublicKey_Rejects()
    {
        // The classic algorithm confusion: HMAC keyed with the RSA public key everyone can download.
        var sut = CreateSut();
        var jwk = _teamsKey.Jwk().ToJsonString();
        var modulus = Base64UrlEncoder.DecodeBytes((string)_teamsKey.Jwk()["n"]!);

        AssertRejected(await Validate(sut, TokenMinter.Hs256(System.Text.Encoding.UTF8.GetBytes(jwk), _teamsKey.Kid, TokenMinter.Payload(Now))));
        AssertRejected(await Validate(sut, TokenMinter.Hs256(modulus, _teamsKey.Kid, TokenMinter.Payload(Now))));
    }

    [Fact]
    public async Task ValidateAsync_PayloadTamperedAfterSigning_Rejects()
    {
        var sut = CreateSut();
        var token = Valid();
        var payload = TokenMinter.PayloadOf(token);
        payload["serviceurl"] = "https://attacker.example/";

        AssertRejected(await Validate(sut, TokenMinter.WithPayload(token, payload), serviceUrl: "https://attacker.example/"));
    }

    [Fact]
    public async Task ValidateAsync_SignedByAnUnpublishedKeyClaimingAPublishedKid_Rejects()
    {
        var impostor = NewKey(_teamsKey.Kid, "msteams");
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid(impostor)));
    }

    [Fact]
    public async Task ValidateAsync_SignedByAnUnknownKey_RejectsAfterOneRefresh()
    {
        var stranger = NewKey("stranger", "msteams");
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid(stranger)));
        Assert.InRange(_server.BotFrameworkKeyFetches, 1, 2);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("e30.e30.")]
    [InlineData("....")]
    public async Task ValidateAsync_MalformedToken_RejectsWithoutThrowing(string token)
    {
        var sut = CreateSut();

        AssertRejected(await sut.ValidateAsync($"Bearer {token}", TokenMinter.Channel, TokenMinter.ServiceUrl));
    }

    // ---------------------------------------------------------------- the Authorization header

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    public async Task ValidateAsync_NoBearerToken_Rejects(string? authorization)
    {
        var sut = CreateSut();

        AssertRejected(await sut.ValidateAsync(authorization, TokenMinter.Channel, TokenMinter.ServiceUrl), "no Bearer token");
        Assert.Equal(0, _server.BotFrameworkKeyFetches);
    }

    [Fact]
    public async Task ValidateAsync_ValidTokenInABasicHeader_Rejects()
    {
        var sut = CreateSut();

        AssertRejected(await sut.ValidateAsync($"Basic {Valid()}", TokenMinter.Channel, TokenMinter.ServiceUrl));
    }

    // ---------------------------------------------------------------- keys: caching, rollover, outages

    [Fact]
    public async Task ValidateAsync_KeyRotatedInAfterStart_RefreshesAndAccepts()
    {
        var sut = CreateSut();
        Assert.True((await Validate(sut, Valid())).IsValid);
        Assert.Equal(1, _server.BotFrameworkKeyFetches);
        var rotated = NewKey("teams-key-2", "msteams");
        _server.AddBotFrameworkKey(rotated);

        var result = await Validate(sut, Valid(rotated));

        Assert.True(result.IsValid, result.Failure);
        Assert.Equal(2, _server.BotFrameworkKeyFetches);
    }

    [Fact]
    public async Task ValidateAsync_KeyRotatedInAfterStart_IsAcceptedOnceTheRefreshHasLanded()
    {
        // What works today (see the skipped test above): the unknown kid triggers a refresh, and a
        // later request signed with the new key is accepted.
        var sut = CreateSut();
        Assert.True((await Validate(sut, Valid())).IsValid);
        var rotated = NewKey("teams-key-2", "msteams");
        _server.AddBotFrameworkKey(rotated);
        var token = Valid(rotated);

        var result = await Validate(sut, token);
        await Eventually.TrueAsync(async () => (result = await Validate(sut, token)).IsValid);

        Assert.True(result.IsValid, result.Failure);
        Assert.True(_server.BotFrameworkKeyFetches >= 2);
        Assert.True((await Validate(sut, Valid())).IsValid, "the old key is still published and still accepted");
    }

    [Fact]
    public async Task ValidateAsync_MetadataServerDown_RejectsAndNeverAccepts()
    {
        var sut = CreateSut(o => o.OpenIdMetadataUrl = OpenIdServer.ClosedUrl("/botframework/.well-known/openidconfiguration"));

        for (var i = 0; i < 3; i++)
        {
            var result = await Validate(sut, Valid());
            AssertRejected(result, "signing keys unavailable");
        }
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.NotFound)]
    public async Task ValidateAsync_MetadataServerFailing_Rejects(HttpStatusCode status)
    {
        _server.FailWith = status;
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid()));
    }

    [Fact]
    public async Task ValidateAsync_EmptyKeySet_Rejects()
    {
        _server.RemoveBotFrameworkKey(_teamsKey);
        var sut = CreateSut();

        AssertRejected(await Validate(sut, Valid()));
    }

    [Fact]
    public async Task ValidateAsync_MetadataServerGoesDownAfterKeysWereCached_KeepsUsingTheCachedKeys()
    {
        var sut = CreateSut();
        Assert.True((await Validate(sut, Valid())).IsValid);

        _server.FailWith = HttpStatusCode.ServiceUnavailable;

        Assert.True((await Validate(sut, Valid())).IsValid);
        var stranger = NewKey("stranger", "msteams");
        AssertRejected(await Validate(sut, Valid(stranger)));
    }

    [Fact]
    public async Task ValidateAsync_KeyRemovedFromTheSet_StillTrustedUntilTheCacheRefreshes()
    {
        // Documents the cache: a removed key stays trusted until the daily refresh (or a refresh
        // triggered by an unknown kid), as in every Bot Framework SDK.
        var sut = CreateSut();
        Assert.True((await Validate(sut, Valid())).IsValid);
        _server.RemoveBotFrameworkKey(_teamsKey);

        Assert.True((await Validate(sut, Valid())).IsValid);
    }

    // ---------------------------------------------------------------- single-tenant bots (Entra issuers)

    [Theory]
    [InlineData("https://login.microsoftonline.com/" + Tenant + "/v2.0")]
    [InlineData("https://sts.windows.net/" + Tenant + "/")]
    public async Task ValidateAsync_SingleTenantTokenFromEntra_Accepts(string issuer)
    {
        var entraKey = NewKey("entra-key-1");
        _server.AddEntraKey(entraKey);
        var sut = CreateSut(o => o.TenantId = Tenant);
        var token = TokenMinter.Mint(entraKey.Credentials, Now, issuer: issuer);

        var result = await Validate(sut, token);

        Assert.True(result.IsValid, result.Failure);
        Assert.Equal(1, _server.Hits($"/{Tenant}/v2.0/.well-known/openid-configuration"));
    }

    [Fact]
    public async Task ValidateAsync_SingleTenantBot_StillAcceptsBotFrameworkTokens()
    {
        var sut = CreateSut(o => o.TenantId = Tenant);

        var result = await Validate(sut, Valid());

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task ValidateAsync_EntraTokenOfAnotherTenant_Rejects()
    {
        var entraKey = NewKey("entra-key-1");
        _server.AddEntraKey(entraKey);
        var sut = CreateSut(o => o.TenantId = Tenant);
        var token = TokenMinter.Mint(entraKey.Credentials, Now, issuer: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0");

        AssertRejected(await Validate(sut, token));
    }

    [Fact]
    public async Task ValidateAsync_EntraTokenSignedByAKeyOutsideTheEntraSet_Rejects()
    {
        var entraKey = NewKey("entra-key-1");
        _server.AddEntraKey(entraKey);
        var sut = CreateSut(o => o.TenantId = Tenant);

        // Issued "by Entra" but signed with the Bot Framework key: the Entra set does not hold it.
        var token = TokenMinter.Mint(_teamsKey.Credentials, Now, issuer: $"https://login.microsoftonline.com/{Tenant}/v2.0");

        AssertRejected(await Validate(sut, token));
    }

    [Fact]
    public async Task ValidateAsync_EntraTokenWithWrongAudience_Rejects()
    {
        var entraKey = NewKey("entra-key-1");
        _server.AddEntraKey(entraKey);
        var sut = CreateSut(o => o.TenantId = Tenant);
        var token = TokenMinter.Mint(entraKey.Credentials, Now, issuer: $"https://login.microsoftonline.com/{Tenant}/v2.0", audience: "someone-else");

        AssertRejected(await Validate(sut, token));
    }

    [Fact]
    public async Task ValidateAsync_EntraTokenWithAMismatchedServiceUrl_Rejects()
    {
        var entraKey = NewKey("entra-key-1");
        _server.AddEntraKey(entraKey);
        var sut = CreateSut(o => o.TenantId = Tenant);
        var token = TokenMinter.Mint(entraKey.Credentials, Now, issuer: $"https://login.microsoftonline.com/{Tenant}/v2.0");

        AssertRejected(await Validate(sut, token, serviceUrl: "https://attacker.example/"));
    }

    [Fact]
    public async Task ValidateAsync_MultiTenantBot_RejectsEntraTokens()
    {
        var entraKey = NewKey("entra-key-1");
        _server.AddEntraKey(entraKey);
        var sut = CreateSut();
        var token = TokenMinter.Mint(entraKey.Credentials, Now, issuer: $"https://login.microsoftonline.com/{Tenant}/v2.0");

        AssertRejected(await Validate(sut, token));
        Assert.Equal(0, _server.Hits("/v2.0/.well-known/openid-configuration"));
    }

    private static string Resign(JsonObject payload, TestSigningKey key)
    {
        // Signs an arbitrary payload by hand (the descriptor API always writes exp).
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = key.Kid };
        var unsigned = $"{Base64UrlEncoder.Encode(header.ToJsonString())}.{Base64UrlEncoder.Encode(payload.ToJsonString())}";
        var signature = key.Rsa.SignData(System.Text.Encoding.ASCII.GetBytes(unsigned), System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        return $"{unsigned}.{Base64UrlEncoder.Encode(signature)}";
    }
}
