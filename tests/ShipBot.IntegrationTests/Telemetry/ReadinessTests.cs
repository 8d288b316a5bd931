using System.Net;
using System.Text.Json.Nodes;
using ShipBot.IntegrationTests.Slack;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Telemetry;

/// <summary>
/// /readyz through ASP.NET Core health checks: the store, the scheduler and each configured chat
/// platform, as JSON. A chat platform that fails degrades readiness (still 200) and never stops
/// ShipBot; the store or the scheduler failing makes it not ready (503, see OutageTests for Redis).
/// </summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_InMemoryStore_ReadyWithStoreAndSchedulerChecks()
    {
        await using var host = await ShipBotHost.StartAsync();

        var (status, body) = await ReadyzAsync(host);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Equal(["store", "scheduler"], body["checks"]!.AsObject().Select(c => c.Key));
        Assert.Equal("healthy", body["checks"]!["store"]!["status"]!.GetValue<string>());
        Assert.Contains("in memory", body["checks"]!["store"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("healthy", body["checks"]!["scheduler"]!["status"]!.GetValue<string>());
        Assert.Equal("ok", await host.Http.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Readyz_SlackAuthTestFails_DegradedButStillServing_ReadyAgainWhenSlackAnswers()
    {
        await using var slack = await FakeSlack.StartAsync();
        var settings = SlackScenario.Settings(slack, socketMode: false);
        settings["Management:ChatCheckCacheDuration"] = "00:00:00";
        await using var host = await ShipBotHost.StartAsync(settings);

        var (status, body) = await ReadyzAsync(host);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Contains("auth.test ok", body["checks"]!["slack"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(slack.Calls, c => c.Method == "auth.test" && c.Authorization == $"Bearer {FakeSlack.BotToken}");

        slack.FailNext("auth.test", "invalid_auth", times: 2);
        (status, body) = await ReadyzAsync(host);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("degraded", body["status"]!.GetValue<string>());
        Assert.Equal("degraded", body["checks"]!["slack"]!["status"]!.GetValue<string>());
        Assert.Contains("invalid_auth", body["checks"]!["slack"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("healthy", body["checks"]!["store"]!["status"]!.GetValue<string>());

        // Still serving while Slack's Web API is out: signed commands are answered and the release API reads.
        Assert.Equal("ok", await host.Http.GetStringAsync("/healthz"));
        using (var request = slack.SlashCommand(SlackScenario.Alice, "alice", "list", SlackScenario.Channel).ToHttpRequest())
        using (var answered = await host.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.False(string.IsNullOrEmpty(await answered.Content.ReadAsStringAsync()));
        }

        using (var releases = await host.Http.GetAsync(new Uri("/api/releases", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, releases.StatusCode);
        }

        // The second scripted failure is used up by the next check; then Slack answers again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        do
        {
            (status, body) = await ReadyzAsync(host);
        }
        while (body["status"]!.GetValue<string>() != "ready" && DateTime.UtcNow < deadline && await Delay());

        Assert.Equal("ready", body["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Readyz_TeamsTokenEndpointUnreachable_DegradedNotFailed()
    {
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            ["Teams:AppId"] = "00000000-0000-0000-0000-000000000001",
            ["Teams:AppPassword"] = "teams-client-secret-for-tests",
            ["Teams:TenantId"] = "botframework.com",
            ["Teams:TokenEndpoint"] = $"http://127.0.0.1:{RedisServer.FreePort()}/{{tenant}}/oauth2/v2.0/token",
            ["Teams:MaxRetries"] = "0",
        });

        var (status, body) = await ReadyzAsync(host);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("degraded", body["status"]!.GetValue<string>());
        Assert.Equal("degraded", body["checks"]!["teams"]!["status"]!.GetValue<string>());
        Assert.Contains("connector token unavailable", body["checks"]!["teams"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("teams-client-secret-for-tests", body.ToJsonString(), StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> ReadyzAsync(ShipBotHost host)
    {
        using var response = await host.Http.GetAsync("/readyz");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }
}
