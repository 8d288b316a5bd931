using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ShipBot.IntegrationTests.Redis;
using ShipBot.IntegrationTests.Slack;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Telemetry;

/// <summary>
/// The real ShipBot process, logging everything (level Trace, every category) as JSON lines to
/// the console, is sent requests carrying every kind of credential it handles — Slack signatures
/// (valid and forged), bearer tokens (right and wrong), a JWT, cookies — with Slack, Teams,
/// Alertmanager and the metrics token configured. Not one of those values may appear in its
/// output; every line must be JSON, and the lines written while a request was handled carry its
/// trace and span ids.
/// </summary>
[Collection(RedisProcessCollection.Name)]
public sealed class LogSecretsTests
{
    private const string AlertmanagerToken = "am-bearer-0123456789abcdefghij";
    private const string MetricsToken = "metrics-token-0123456789abcdef";
    private const string TeamsPassword = "teams-client-secret-9f8e7d6c5b4a";
    private const string Cookie = "shipbot-session-cookie-3b2a1c0d9e8f";
    private const string Jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiIwMDAwMDAwMC0wMDAwIn0.c2lnbmF0dXJlLW5vdC12YWxpZA";

    [Fact]
    public async Task TraceLevelLogs_DuringAuthenticatedAndRefusedRequests_NeverContainTokensSignaturesOrCookies()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var slack = await FakeSlack.StartAsync();
        var closed = RedisServer.FreePort();
        var settings = SlackScenario.Settings(slack, socketMode: false);
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Logging:LogLevel:Microsoft"] = "Trace";
        settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
        settings["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace";
        settings["Logging:LogLevel:Quartz"] = "Information";
        settings["Teams:AppId"] = "00000000-0000-0000-0000-000000000001";
        settings["Teams:AppPassword"] = TeamsPassword;
        settings["Teams:TenantId"] = "botframework.com";
        settings["Teams:TokenEndpoint"] = $"http://127.0.0.1:{closed}/{{tenant}}/oauth2/v2.0/token";
        settings["Teams:OpenIdMetadataUrl"] = $"http://127.0.0.1:{closed}/v1/.well-known/openidconfiguration";
        settings["Teams:MaxRetries"] = "0";
        settings["ShipBot:Alertmanager:BearerToken"] = AlertmanagerToken;
        settings["Management:MetricsToken"] = MetricsToken;
        await using var host = await ShipBotProcess.StartAsync("L", redis, $"logs-{Guid.NewGuid():N}", settings);

        // Slack: a valid signed command (with a cookie) and a forged one.
        var command = slack.SlashCommand(SlackScenario.Alice, "alice", "list", SlackScenario.Channel);
        using (var request = command.ToHttpRequest())
        {
            request.Headers.Add("Cookie", $"d={Cookie}");
            using var answered = await host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        var forged = slack.SlashCommand(SlackScenario.Alice, "alice", "list", SlackScenario.Channel, secret: "not-the-signing-secret-0123456789");
        using (var request = forged.ToHttpRequest())
        using (var refused = await host.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // Teams: a bearer JWT that does not validate.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages") { Content = new StringContent("""{"type":"message","text":"ship list"}""", Encoding.UTF8, "application/json") })
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Jwt);
            using var refused = await host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // Alertmanager: a wrong token, then the right one.
        foreach (var (token, expected) in new[] { ("am-bearer-WRONG-0123456789abcdef", HttpStatusCode.Unauthorized), (AlertmanagerToken, HttpStatusCode.OK) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/alertmanager")
            {
                Content = new StringContent("""{"version":"4","groupKey":"{}:{alertname=\"HighErrorRate\"}","status":"firing","receiver":"shipbot","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await host.Http.SendAsync(request);
            Assert.True(token == AlertmanagerToken ? response.StatusCode != HttpStatusCode.Unauthorized : response.StatusCode == expected, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // Metrics: the right and a wrong token; the console with a cookie.
        foreach (var token in new[] { MetricsToken, "metrics-token-WRONG-0123456789" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await host.Http.SendAsync(request);
            Assert.Equal(token == MetricsToken ? HttpStatusCode.OK : HttpStatusCode.NotFound, response.StatusCode);
        }

        // With Slack on and no sign-in the console is off: a session cookie that is not ShipBot's own is refused by the release API.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/releases"))
        {
            request.Headers.Add("Cookie", $"ShipBotSession={Cookie}");
            using var response = await host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // /readyz asks Teams for a token (the password goes to the token endpoint, which is down).
        using (await host.Http.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
        }

        // The rejections are logged from inside their requests: wait until the console has written them.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(host.Output.Contains("Rejected a Slack request", StringComparison.Ordinal) && host.Output.Contains("Rejected an unauthenticated Alertmanager", StringComparison.Ordinal)
            && host.Output.Contains("Rejected a request to /api/messages", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var log = host.Output;
        Assert.Contains("Rejected a Slack request", log, StringComparison.Ordinal);
        string[] secrets =
        [
            FakeSlack.SigningSecret, FakeSlack.BotToken, command.Signature, forged.Signature, Jwt, Jwt.Split('.')[2], Cookie,
            AlertmanagerToken, "am-bearer-WRONG-0123456789abcdef", MetricsToken, "metrics-token-WRONG-0123456789", TeamsPassword,
        ];
        foreach (var secret in secrets)
        {
            if (log.Split('\n').FirstOrDefault(l => l.Contains(secret, StringComparison.Ordinal)) is { } leak)
            {
                Assert.Fail($"the log contains the secret '{secret[..4]}…': {leak}");
            }
        }

        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("---", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count > 50, $"only {lines.Count} lines at Trace level");
        var entries = lines.Select(l =>
        {
            try
            {
                return JsonDocument.Parse(l).RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"not a JSON log line ({ex.Message}): {l}");
            }
        }).ToList();
        var rejection = entries.First(e => e.GetProperty("message").GetString()!.StartsWith("Rejected a Slack request", StringComparison.Ordinal));
        Assert.Matches("^[0-9a-f]{32}$", rejection.GetProperty("traceId").GetString());
        Assert.Matches("^[0-9a-f]{16}$", rejection.GetProperty("spanId").GetString());
        Assert.Equal("Warning", rejection.GetProperty("level").GetString());
    }
}
