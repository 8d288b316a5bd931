using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests.TestSupport;

/// <summary>An RSA signing key as the test's identity provider holds it: the private half signs, the public half goes into the JWKS.</summary>
internal sealed class TestSigningKey : IDisposable
{
    public TestSigningKey(string kid, params string[] endorsements)
    {
        Kid = kid;
        Endorsements = endorsements;
        Rsa = RSA.Create(2048);
    }

    public string Kid { get; }

    public IReadOnlyList<string> Endorsements { get; }

    public RSA Rsa { get; }

    public SigningCredentials Credentials => new(new RsaSecurityKey(Rsa) { KeyId = Kid }, SecurityAlgorithms.RsaSha256);

    /// <summary>The public key as a JWK, with the Bot Framework's <c>endorsements</c> extension (omitted when there are none).</summary>
    public JsonObject Jwk()
    {
        var p = Rsa.ExportParameters(includePrivateParameters: false);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["kid"] = Kid,
            ["n"] = Base64UrlEncoder.Encode(p.Modulus),
            ["e"] = Base64UrlEncoder.Encode(p.Exponent),
        };
        if (Endorsements.Count > 0)
        {
            jwk["endorsements"] = new JsonArray([.. Endorsements.Select(e => (JsonNode)e)]);
        }

        return jwk;
    }

    public void Dispose() => Rsa.Dispose();
}

/// <summary>
/// A real Kestrel server on a free loopback port that plays both identity providers of a Teams bot:
/// the Bot Framework's OpenID metadata (<c>/botframework/.well-known/openidconfiguration</c>, keys at
/// <c>/botframework/keys</c> with endorsements) and the Entra v2.0 metadata of any tenant
/// (<c>/{tenant}/v2.0/.well-known/openid-configuration</c>, keys at <c>/{tenant}/discovery/v2.0/keys</c>).
/// Key sets can change while it runs (key rollover); it counts every request.
/// </summary>
internal sealed class OpenIdServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<TestSigningKey> _botFrameworkKeys = [];
    private readonly List<TestSigningKey> _entraKeys = [];
    private readonly Dictionary<string, int> _hits = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri BaseUrl { get; private set; } = null!;

    public Uri BotFrameworkMetadataUrl => new(BaseUrl, "/botframework/.well-known/openidconfiguration");

    /// <summary>The <c>Teams:EntraOpenIdMetadataUrl</c> template pointing here.</summary>
    public string EntraMetadataTemplate => $"{BaseUrl.AbsoluteUri.TrimEnd('/')}/{{tenant}}/v2.0/.well-known/openid-configuration";

    /// <summary>When set, every request is answered with this status (a broken identity provider).</summary>
    public HttpStatusCode? FailWith { get; set; }

    public static async Task<OpenIdServer> StartAsync()
    {
        var server = new OpenIdServer();
        server._app = await Loopback.StartAsync(app => server.Map(app));
        server.BaseUrl = Loopback.AddressOf(server._app);
        return server;
    }

    private void Map(WebApplication app)
    {
        var server = this;
        app.Use(async (context, next) =>
        {
            server.Count(context.Request.Path.Value ?? string.Empty);
            if (server.FailWith is { } status)
            {
                context.Response.StatusCode = (int)status;
                return;
            }

            await next(context);
        });
        app.MapGet("/botframework/.well-known/openidconfiguration", () => Results.Text(new JsonObject
        {
            ["issuer"] = BotFrameworkAuthenticator.BotFrameworkIssuer,
            ["authorization_endpoint"] = "https://invalid.botframework.com/v1/auth",
            ["jwks_uri"] = new Uri(server.BaseUrl, "/botframework/keys").AbsoluteUri,
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt"),
        }.ToJsonString(), "application/json"));
        app.MapGet("/botframework/keys", () => Results.Text(server.Jwks(server._botFrameworkKeys), "application/json"));
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => Results.Text(new JsonObject
        {
            ["issuer"] = $"https://login.microsoftonline.com/{tenant}/v2.0",
            ["authorization_endpoint"] = $"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
            ["token_endpoint"] = $"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
            ["jwks_uri"] = new Uri(server.BaseUrl, $"/{tenant}/discovery/v2.0/keys").AbsoluteUri,
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        }.ToJsonString(), "application/json"));
        app.MapGet("/{tenant}/discovery/v2.0/keys", (string tenant) => Results.Text(server.Jwks(server._entraKeys), "application/json"));
    }

    /// <summary>A loopback URL nothing listens on (a port bound, then released).</summary>
    public static Uri ClosedUrl(string path) => new($"http://127.0.0.1:{Loopback.ClosedPort()}{path}");

    public void AddBotFrameworkKey(TestSigningKey key)
    {
        lock (_gate)
        {
            _botFrameworkKeys.Add(key);
        }
    }

    public void RemoveBotFrameworkKey(TestSigningKey key)
    {
        lock (_gate)
        {
            _botFrameworkKeys.Remove(key);
        }
    }

    public void AddEntraKey(TestSigningKey key)
    {
        lock (_gate)
        {
            _entraKeys.Add(key);
        }
    }

    /// <summary>How many requests reached a path ending with <paramref name="suffix"/>.</summary>
    public int Hits(string suffix)
    {
        lock (_gate)
        {
            return _hits.Where(h => h.Key.EndsWith(suffix, StringComparison.Ordinal)).Sum(h => h.Value);
        }
    }

    public int BotFrameworkKeyFetches => Hits("/botframework/keys");

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private void Count(string path)
    {
        lock (_gate)
        {
            _hits[path] = _hits.GetValueOrDefault(path) + 1;
        }
    }

    private string Jwks(List<TestSigningKey> keys)
    {
        lock (_gate)
        {
            return new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.Jwk())]) }.ToJsonString();
        }
    }
}
