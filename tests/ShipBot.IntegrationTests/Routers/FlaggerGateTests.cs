using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Alerting.AlertmanagerScenario;

namespace ShipBot.IntegrationTests.Routers;

/// <summary>
/// <c>POST /hooks/flagger/{gate}</c> on a real host, driven with the webhook payload of Flagger's
/// documentation (test data in <c>Routers/Flagger</c>): the canary test/podinfo is mapped to the
/// demo service, and each gate answers from ShipBot's rules as the console changes the release.
/// </summary>
public sealed class FlaggerGateTests
{
    private const string FlaggerToken = "flagger-gate-token-0123456789abcdef";
    private const string Release = "demo@85d557f47b";

    private static readonly string DocPayload = File.ReadAllText(RepositoryFiles.PathOf(Path.Combine("tests", "ShipBot.IntegrationTests", "Routers", "Flagger", "webhook-payload.json")));

    private static Dictionary<string, string?> FlaggerSettings() => new()
    {
        ["ShipBot:Flagger:BearerToken"] = FlaggerToken,
        ["ShipBot:Services:demo:Flagger:Namespace"] = "test",
        ["ShipBot:Services:demo:Flagger:Canary"] = "podinfo",
        ["ShipBot:Services:demo:Flagger:Platform"] = "console",

        // Small enough that an oversized body never fills the socket before the answer.
        ["ShipBot:RateLimits:MaxBodyBytes"] = "4096",

        // The canary holds long enough for the halt and the rollback to find it there.
        ["ShipBot:Services:demo:Stages:0:Bake"] = "00:10:00",
    };

    [Fact]
    public async Task Post_NoTokenOrWrongToken_401BeforeTheBodyIsRead()
    {
        await using var host = await ShipBotHost.StartAsync(FlaggerSettings());
        var garbage = "not json at all {";
        var huge = new string('x', 8 * 1024);

        var none = await PostAsync(host, "confirm-rollout", garbage, token: null);
        var wrong = await PostAsync(host, "confirm-rollout", garbage, token: FlaggerToken + "x");
        var wrongHuge = await PostAsync(host, "confirm-rollout", huge, token: "nope");
        var unknownGateNoToken = await PostAsync(host, "pre-rollout", DocPayload, token: null);
        var right = await PostAsync(host, "confirm-rollout", garbage, token: FlaggerToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongHuge.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownGateNoToken.Status);
        Assert.DoesNotContain(FlaggerToken, none.Body, StringComparison.Ordinal);

        // Authenticated, the same body is read and refused as a bad payload: the 401s came first.
        Assert.Equal(HttpStatusCode.BadRequest, right.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(host, "pre-rollout", DocPayload, FlaggerToken)).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(host, "confirm-rollout", huge, FlaggerToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/releases/{Release}")).StatusCode);
    }

    [Fact]
    public async Task Post_DocumentedPayload_GatesFollowApprovalHaltAndRollback()
    {
        await using var host = await ShipBotHost.StartAsync(FlaggerSettings());

        // Unapproved: refused, and the release card shows up for the canary.
        var first = await PostAsync(host, "confirm-rollout", DocPayload, FlaggerToken);
        Assert.Equal(HttpStatusCode.Forbidden, first.Status);
        Assert.Contains($"{Release} is not approved", first.Body, StringComparison.Ordinal);
        Assert.Equal("flagger", (string?)(await host.ReleaseAsync(Release))["requester"]);
        var card = await host.CardMessageAsync($"{Release} — ");
        Assert.NotNull(card);
        var text = ShipBotHost.Text(card);
        Assert.Contains("test/podinfo", text, StringComparison.Ordinal);
        Assert.Contains("Progressing", text, StringComparison.Ordinal);

        // Approved by people, as any release: allowed.
        await host.SayAsync("alice", $"/ship check {Release} {string.Join(' ', BlockingItems)}");
        var approved = await host.SayAsync("bob", $"/ship approve {Release}");
        Assert.Contains("goes to staging", Text(approved), StringComparison.Ordinal);
        var allowed = await PostAsync(host, "confirm-rollout", DocPayload, FlaggerToken);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        await host.WaitForStateAsync(Release, "Canary");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host, "confirm-traffic-increase", DocPayload, FlaggerToken)).Status);

        // No rollback asked for yet.
        var noRollback = await PostAsync(host, "rollback", DocPayload, FlaggerToken);
        Assert.Equal(HttpStatusCode.Forbidden, noRollback.Status);

        // Halted: refused with the reason.
        await host.SayAsync("carol", "/ship halt demo payment provider incident");
        var halted = await PostAsync(host, "confirm-traffic-increase", DocPayload, FlaggerToken);
        Assert.Equal(HttpStatusCode.Forbidden, halted.Status);
        Assert.Contains("payment provider incident", halted.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(host, "confirm-promotion", DocPayload, FlaggerToken)).Status);

        // On-call rolls back: Flagger's rollback gate opens, the others stay shut.
        await host.SayAsync("carol", $"/ship rollback {Release} canary errors");
        var rollback = await PostAsync(host, "rollback", DocPayload, FlaggerToken);
        Assert.Equal(HttpStatusCode.OK, rollback.Status);
        Assert.Contains("canary errors", rollback.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(host, "confirm-promotion", DocPayload, FlaggerToken)).Status);

        var audit = Audit(await host.ReleaseAsync(Release)).ToList();
        Assert.Contains(audit, a => (string?)a["action"] == "flagger confirm-rollout" && ((string)a["detail"]!).StartsWith("refused", StringComparison.Ordinal));
        Assert.Contains(audit, a => (string?)a["action"] == "flagger rollback" && ((string)a["detail"]!).StartsWith("allowed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ShipBot:Flagger:BearerToken is too short", "ShipBot:Flagger:BearerToken", "short")]
    [InlineData("ShipBot:Services:demo:Flagger: set Namespace and Canary", "ShipBot:Services:demo:Flagger:Namespace", "test")]
    [InlineData("ShipBot:Services:demo:Flagger:Platform 'irc' is unknown", "ShipBot:Services:demo:Flagger:Namespace", "test", "ShipBot:Services:demo:Flagger:Canary", "podinfo", "ShipBot:Services:demo:Flagger:Platform", "irc")]
    public async Task BadFlaggerConfiguration_FailsStartupNamingTheKey(string expected, params string[] keyValues)
    {
        var overrides = new Dictionary<string, string?>();
        for (var i = 0; i < keyValues.Length; i += 2)
        {
            overrides[keyValues[i]] = keyValues[i + 1];
        }

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () =>
        {
            await using var host = await ShipBotHost.StartAsync(overrides);
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_GateWithoutToken_IsNotMapped()
    {
        await using var host = await ShipBotHost.StartAsync();

        var answer = await PostAsync(host, "confirm-rollout", DocPayload, FlaggerToken);

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(ShipBotHost host, string gate, string body, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/hooks/flagger/{gate}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
