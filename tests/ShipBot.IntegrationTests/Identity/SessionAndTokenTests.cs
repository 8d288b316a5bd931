using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using static ShipBot.IntegrationTests.Identity.IdentityScenario;

namespace ShipBot.IntegrationTests.Identity;

/// <summary>
/// The signed-in console's session and the API tokens over real HTTP: forged, tampered and expired
/// cookies, the antiforgery token, acting only as oneself, token scopes, and a token's actions
/// audited under its name.
/// </summary>
public sealed class SessionAndTokenTests
{
    private static readonly Actor Alice = new("alice", "alice", []);
    private static readonly Actor Bob = new("bob", "bob", []);

    [Fact]
    public async Task Session_ForgedTamperedOrExpiredCookie_401_ValidCookie_200()
    {
        await using var host = await ShipBotHost.StartAsync(SignIn());
        var valid = SessionCookie(host, Bob);
        var middle = valid.Length / 2;
        var tampered = valid[..middle] + (valid[middle] == 'A' ? 'B' : 'A') + valid[(middle + 1)..];

        foreach (var (what, cookie) in new[]
        {
            ("forged", "CfDJ8" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(180)).Replace('+', '-').Replace('/', '_').TrimEnd('=')),
            ("tampered", tampered),
            ("expired", SessionCookie(host, Bob, DateTimeOffset.UtcNow.AddMinutes(-1))),
        })
        {
            using var browser = SignedInClient(host, cookie);
            using var response = await browser.GetAsync("/api/console/me");
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what} cookie: {response.StatusCode}");
        }

        using var signedIn = SignedInClient(host, valid);
        var me = await signedIn.GetFromJsonAsync<JsonObject>("/api/console/me");
        Assert.Equal("bob", (string?)me?["user"]?["id"]);
        Assert.Equal("signIn", (string?)me?["mode"]);
        Assert.Contains("approver", me!["user"]!["roles"]!.AsArray().Select(r => (string?)r));
    }

    [Fact]
    public async Task Session_PostWithoutAntiforgeryToken_403AndNothingChanges_WithIt_Acts()
    {
        await using var host = await ShipBotHost.StartAsync(SignIn());
        using var alice = SignedInClient(host, SessionCookie(host, Alice));
        var message = new { channel = "releases", text = "/ship start demo 1.0.0 signed in" };

        using var without = await PostJsonAsync(alice, "/api/console/messages", message);
        using var wrong = await PostJsonAsync(alice, "/api/console/messages", message, antiforgery: "CfDJ8-not-a-token");
        Assert.Equal(HttpStatusCode.Forbidden, without.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Null(await host.Services.GetRequiredService<IReleaseStore>().GetAsync(new ReleaseId("demo", "1.0.0")));

        using var with = await PostJsonAsync(alice, "/api/console/messages", message, await AntiforgeryAsync(alice));
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        var release = await host.Services.GetRequiredService<IReleaseStore>().GetAsync(new ReleaseId("demo", "1.0.0"));
        Assert.Equal("alice", release?.Requester.Id);
    }

    [Fact]
    public async Task Session_NamingAnotherUser_403_NobodyActsAsSomeoneElse()
    {
        await using var host = await ShipBotHost.StartAsync(SignIn());
        using var mallory = SignedInClient(host, SessionCookie(host, new Actor("mallory", "mallory", [])));
        var antiforgery = await AntiforgeryAsync(mallory);

        using var asCarol = await PostJsonAsync(mallory, "/api/console/messages", new { user = "carol", channel = "releases", text = "/ship halt demo on-call says so" }, antiforgery);
        using var asHerself = await PostJsonAsync(mallory, "/api/console/messages", new { channel = "releases", text = "/ship halt demo on-call says so" }, antiforgery);
        var users = await mallory.GetFromJsonAsync<JsonArray>("/api/console/users");

        Assert.Equal(HttpStatusCode.Forbidden, asCarol.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asHerself.StatusCode);
        Assert.Contains("on-call", ((await asHerself.Content.ReadFromJsonAsync<JsonObject>())?["text"]?.GetValue<string>()) ?? string.Empty, StringComparison.Ordinal);
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync());
        Assert.Equal(["mallory"], users!.Select(u => (string?)u!["id"]));
    }

    [Fact]
    public async Task Token_Scopes_ReadOnlyTokenCannotPost_WriteTokenActsAndIsAuditedUnderItsName()
    {
        var settings = SignIn(new() { ["ShipBot:Services:demo:Requesters:1"] = "token:ci" });
        await using var host = await ShipBotHost.StartAsync(settings);
        using var reader = WithToken(host, await TokenAsync(host, "reader", TokenScopes.ReleasesRead));
        using var ci = WithToken(host, await TokenAsync(host, "ci", TokenScopes.ReleasesWrite));
        var start = new { channel = "releases", text = "/ship start demo 2.0.0 from the pipeline" };

        using var refused = await PostJsonAsync(reader, "/api/console/messages", start);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("releases:write", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var read = await reader.GetAsync("/api/releases");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);

        using var started = await PostJsonAsync(ci, "/api/console/messages", start);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var release = await ci.GetFromJsonAsync<JsonObject>("/api/releases/demo@2.0.0");
        Assert.Equal("token:ci", (string?)release?["requester"]);
        Assert.Contains(release!["audit"]!.AsArray(), a => (string?)a!["actor"] == "token:ci");
    }

    [Fact]
    public async Task Token_CreatedInChatByAnAdmin_ShownOnceAndNeverKeptInTheChannel()
    {
        await using var host = await ShipBotHost.StartAsync(SignIn());
        using var dave = SignedInClient(host, SessionCookie(host, new Actor("dave", "dave", [])));
        var antiforgery = await AntiforgeryAsync(dave);

        using var created = await PostJsonAsync(dave, "/api/console/messages", new { channel = "releases", text = "/ship token create pipeline releases:read", requestId = "create-1" }, antiforgery);
        var reply = await created.Content.ReadFromJsonAsync<JsonObject>();
        var token = System.Text.RegularExpressions.Regex.Match((string?)reply?["text"] ?? string.Empty, "shipbot_[A-Za-z0-9_-]{43}").Value;
        using var again = await PostJsonAsync(dave, "/api/console/messages", new { channel = "releases", text = "/ship token create pipeline releases:read", requestId = "create-1" }, antiforgery);
        var channel = await dave.GetStringAsync("/api/console/messages?channel=releases");

        Assert.Equal("ephemeral", (string?)reply?["visibility"]);
        Assert.NotEmpty(token);
        Assert.DoesNotContain(token, await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, channel, StringComparison.Ordinal);
        using var client = WithToken(host, token);
        using var read = await client.GetAsync("/api/releases");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }
}
