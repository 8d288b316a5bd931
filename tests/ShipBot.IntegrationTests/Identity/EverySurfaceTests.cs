using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.IntegrationTests.Slack;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Identity.IdentityScenario;

namespace ShipBot.IntegrationTests.Identity;

/// <summary>
/// With Slack and Teams configured, as a team runs ShipBot: no request without a valid session,
/// token or platform signature changes anything or reads a release. One test per surface tries it,
/// then checks that nothing changed.
/// </summary>
public sealed class EverySurfaceTests
{
    private static readonly ReleaseId Demo = new("demo", "1.0.0");

    [Fact]
    public async Task Console_ChatConfiguredAndNoSignIn_OffAndCarolCannotHaltDemo()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var host = await ShipBotHost.StartAsync(ChatPlatforms(slack.ApiBaseUrl));
        using var anonymous = WithToken(host, null);

        using var halt = await PostJsonAsync(anonymous, "/api/console/messages", new { user = "carol", channel = "releases", text = "/ship halt demo on-call says so" });
        using var page = await anonymous.GetAsync("/");
        using var users = await anonymous.GetAsync("/api/console/users");

        Assert.Equal(HttpStatusCode.NotFound, halt.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, users.StatusCode);
        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync());
    }

    [Fact]
    public async Task Console_SignInModeWithoutSession_RefusesEveryCallAndChangesNothing()
    {
        await using var slack = await FakeSlack.StartAsync();
        var settings = SignIn(ChatPlatforms(slack.ApiBaseUrl));
        await using var host = await ShipBotHost.StartAsync(settings);
        using var anonymous = WithToken(host, null);

        foreach (var (path, body) in new (string, object)[]
        {
            ("/api/console/messages", new { user = "carol", channel = "releases", text = "/ship halt demo on-call says so" }),
            ("/api/console/actions", new { user = "bob", messageId = "m1", actionId = "approve", value = "approve demo@1.0.0" }),
            ("/api/console/signout", new { }),
        })
        {
            using var response = await PostJsonAsync(anonymous, path, body);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        foreach (var path in new[] { "/api/console/me", "/api/console/users", "/api/console/messages?channel=releases", "/api/console/stream?channel=releases", "/api/console/releases", "/api/console/channels" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
        }

        Assert.Empty(await host.Services.GetRequiredService<IReleaseStore>().GetHaltsAsync());
    }

    [Fact]
    public async Task ReleaseApi_WithoutCredentialsOrWithABadToken_401_WithAReadToken_200()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var host = await ShipBotHost.StartAsync(ChatPlatforms(slack.ApiBaseUrl));
        await StartDemoOverSlackAsync(host, slack);
        var reader = await TokenAsync(host, "reader", TokenScopes.ReleasesRead);
        var paths = new[] { "/api/releases", "/api/releases?service=demo", $"/api/releases/{Demo}", $"/api/releases/{Demo}/audit", "/api/signals" };

        foreach (var token in new string?[] { null, "shipbot_" + new string('A', 43), "not-a-token", reader[..^2] + "xx" })
        {
            using var client = WithToken(host, token);
            foreach (var path in paths)
            {
                using var response = await client.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path} with {(token is null ? "no token" : "a bad token")}: {response.StatusCode}");
                Assert.DoesNotContain("demo@1.0.0", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        using var good = WithToken(host, reader);
        foreach (var path in paths)
        {
            using var response = await good.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }

        Assert.Equal("Draft", (await good.GetFromJsonAsync<JsonObject>($"/api/releases/{Demo}"))?["state"]?.GetValue<string>());
    }

    [Fact]
    public async Task Slack_UnsignedCommand_401AndNothingStarts()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var host = await ShipBotHost.StartAsync(ChatPlatforms(slack.ApiBaseUrl));
        using var anonymous = WithToken(host, null);
        var form = FakeSlack.Form(slack.SlashCommandFields("UALICE", "alice", "start demo 1.0.0", "CRELEASES"));

        using var response = await anonymous.PostAsync("/slack/commands", new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await host.Services.GetRequiredService<IReleaseStore>().GetAsync(Demo));
    }

    [Fact]
    public async Task Teams_ActivityWithoutOrWithAForgedToken_401AndNothingStarts()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var host = await ShipBotHost.StartAsync(ChatPlatforms(slack.ApiBaseUrl));
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["id"] = "1",
            ["channelId"] = "msteams",
            ["serviceUrl"] = "http://127.0.0.1:9/",
            ["from"] = new JsonObject { ["id"] = "29:alice", ["aadObjectId"] = "alice" },
            ["conversation"] = new JsonObject { ["id"] = "19:releases", ["tenantId"] = "t" },
            ["text"] = "<at>ShipBot</at> ship start demo 1.0.0",
        };

        foreach (var token in new string?[] { null, "eyJhbGciOiJub25lIn0.eyJhdWQiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMGIwNzUifQ." })
        {
            using var client = WithToken(host, null);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages") { Content = JsonContent.Create(activity) };
            if (token is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            }

            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Null(await host.Services.GetRequiredService<IReleaseStore>().GetAsync(Demo));
    }

    [Fact]
    public async Task Alertmanager_WithoutOrWithWrongCredentials_401()
    {
        await using var slack = await FakeSlack.StartAsync();
        await using var host = await ShipBotHost.StartAsync(ChatPlatforms(slack.ApiBaseUrl));
        var payload = """{"version":"4","status":"firing","receiver":"shipbot","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"X","service":"demo","severity":"critical"},"annotations":{},"startsAt":"2025-01-01T00:00:00Z","fingerprint":"f"}]}""";

        foreach (var authorization in new string?[] { null, "Bearer wrong-token-wrong-token-wrong", "Basic YWxlcnQ6bWFuYWdlcg==" })
        {
            using var client = WithToken(host, null);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/alertmanager") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task EveryInboundEndpoint_BodyPastTheBound_413BeforeAnyCheck()
    {
        await using var slack = await FakeSlack.StartAsync();
        var settings = ChatPlatforms(slack.ApiBaseUrl);
        settings["ShipBot:RateLimits:MaxBodyBytes"] = "4096";
        await using var host = await ShipBotHost.StartAsync(SignIn(settings));
        var big = new string('x', 5000);

        foreach (var path in new[] { "/slack/commands", "/slack/interactions", "/slack/events", "/api/messages", "/hooks/alertmanager", "/api/console/messages", "/api/console/actions" })
        {
            using var client = WithToken(host, null);
            using var response = await client.PostAsync(path, new StringContent(big, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{path}: {response.StatusCode}");
        }
    }

    private static async Task StartDemoOverSlackAsync(ShipBotHost host, FakeSlack slack)
    {
        using var request = slack.SlashCommand("UALICE", "alice", "start demo 1.0.0 identity", "CRELEASES").ToHttpRequest();
        using var client = WithToken(host, null);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
