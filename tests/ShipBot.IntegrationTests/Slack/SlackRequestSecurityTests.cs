using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using ShipBot.Host;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>
/// Verification of Slack's inbound requests over real HTTP: signature, timestamp window, replays,
/// Slack's own retries, the url_verification handshake, and the start-up check of the secret.
/// </summary>
public sealed class SlackRequestSecurityTests
{
    [Fact]
    public async Task Request_ForgedOrUnsignedOrMalformed_Gets401AndChangesNothing()
    {
        await using var s = await SlackScenario.StartAsync();
        var fields = FakeSlack.Form(s.Slack.SlashCommandFields(Alice, "alice", "start demo 1.0.0", Channel));

        var forged = FakeSlack.Sign("/slack/commands", fields, "application/x-www-form-urlencoded", secret: "not-the-signing-secret");
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(forged)).Status);

        // A genuine signature over a different body (the text was tampered with in transit).
        var genuine = FakeSlack.Sign("/slack/commands", fields, "application/x-www-form-urlencoded");
        var tampered = genuine with { Body = genuine.Body.Replace("1.0.0", "6.6.6", StringComparison.Ordinal) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(tampered)).Status);

        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(genuine with { Signature = "v0=" + new string('0', 64) })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(genuine with { Signature = "v0=xyz" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(genuine with { Signature = genuine.Signature.ToUpperInvariant().Replace("V0=", "v1=", StringComparison.Ordinal) })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(genuine with { Timestamp = "yesterday" })).Status);

        using (var unsigned = new HttpRequestMessage(HttpMethod.Post, "/slack/commands") { Content = new StringContent(fields, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") })
        using (var response = await s.Bot.Http.SendAsync(unsigned))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var click = s.Slack.BlockAction(Bob, "bob", new JsonObject { ["action_id"] = "approve", ["value"] = $"approve {Release}" }, Channel, "1700000000.000100");
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(click with { Signature = FakeSlack.Sign(click.Path, click.Body, click.ContentType, secret: "wrong").Signature })).Status);
        var challenge = FakeSlack.Sign("/slack/events", """{"type":"url_verification","challenge":"abc","token":"t"}""", "application/json", secret: "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(challenge)).Status);

        // Nothing reached the coordinator; the genuine request still works afterwards.
        using var missing = await s.Bot.Http.GetAsync($"/api/releases/{Release}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.DoesNotContain(s.Slack.Calls, c => c.Method == "chat.postMessage");
        var (status, body) = await s.SendAsync(genuine);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"Started {Release}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_Timestamp400SecondsOld_Gets401()
    {
        await using var s = await SlackScenario.StartAsync();

        var stale = s.Slack.SlashCommand(Alice, "alice", "start demo 1.0.0", Channel, at: DateTimeOffset.UtcNow.AddSeconds(-400));

        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(stale)).Status);
        using var missing = await s.Bot.Http.GetAsync($"/api/releases/{Release}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // Within the window (4 minutes old) the same request is accepted.
        var recent = s.Slack.SlashCommand(Alice, "alice", "start demo 1.0.0", Channel, at: DateTimeOffset.UtcNow.AddSeconds(-240));
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(recent)).Status);
    }

    [Fact]
    public async Task Request_Timestamp400SecondsInTheFuture_Gets401()
    {
        await using var s = await SlackScenario.StartAsync();

        var future = s.Slack.SlashCommand(Alice, "alice", "start demo 1.0.0", Channel, at: DateTimeOffset.UtcNow.AddSeconds(400));
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(future)).Status);
        var futureEvent = FakeSlack.Event(FakeSlack.EventCallback("Ev0FUTURE", Mention(Alice, "list")), DateTimeOffset.UtcNow.AddSeconds(400));
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(futureEvent)).Status);

        using var missing = await s.Bot.Http.GetAsync($"/api/releases/{Release}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Request_ExactReplayOfAnAcceptedRequest_Gets401()
    {
        await using var s = await SlackScenario.StartAsync();
        var start = s.Slack.SlashCommand(Alice, "alice", "start demo 1.0.0", Channel);
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(start)).Status);
        var card = await s.CardPostAsync();
        var awaiting = await s.SettleChecklistAsync(card.MessageTs!);

        // A captured click, replayed byte for byte while its timestamp is still fresh.
        var click = s.Slack.BlockAction(Bob, "bob", Button(awaiting, $"approve {Release}"), Channel, card.MessageTs!);
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(click)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(click)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.SendAsync(start)).Status);

        var release = await s.ReleaseAsync();
        Assert.Single(release["approvals"]!.AsArray());
        Assert.Single(release["audit"]!.AsArray(), a => (string?)a!["action"] == "Approved");
    }

    [Fact]
    public async Task Request_ReplayWithTheSignatureHexInUpperCase_Gets401()
    {
        await using var s = await SlackScenario.StartAsync();
        var start = s.Slack.SlashCommand(Alice, "alice", "start demo 1.0.0", Channel);
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(start)).Status);

        // The same captured request; only the case of the hex digits differs, which changes nothing about the HMAC.
        var recased = start with { Signature = "v0=" + start.Signature[3..].ToUpperInvariant() };
        var (status, _) = await s.SendAsync(recased);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task UserText_WithSpecialMentionsAndMarkup_IsEscapedInEveryMessage()
    {
        await using var s = await SlackScenario.StartAsync();

        await s.CommandOkAsync(Alice, "start demo 1.0.0 <!channel> wake up; ping <!here|here> and <@UBOB>; see <https://evil.example|docs>", $"Started {Release}");
        var card = await s.CardPostAsync();
        var (_, unknown) = await s.CommandAsync(Alice, "<!everyone> deploy");
        var (_, status) = await s.CommandAsync(Mallory, $"rollback {Release} <!channel> now");

        Assert.Contains("&lt;!channel&gt; wake up", card.AllText, StringComparison.Ordinal);
        var everything = string.Join("\n", s.Slack.Calls.Select(c => FakeSlack.Json(c.Body)).Concat([FakeSlack.Json(unknown), FakeSlack.Json(status)]));
        foreach (var injected in new[] { "<!channel>", "<!here", "<!everyone>", "<@UBOB>", "<https://evil.example" })
        {
            Assert.DoesNotContain(injected, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Request_ReplayedWithAForgedRetryHeader_IsAnsweredButChangesNothing()
    {
        await using var s = await SlackScenario.StartAsync();
        var start = s.Slack.SlashCommand(Alice, "alice", "start demo 1.0.0", Channel);
        var (firstStatus, first) = await s.SendAsync(start);
        Assert.Equal(HttpStatusCode.OK, firstStatus);
        await s.CardPostAsync();

        // X-Slack-Retry-Num is not signed: anyone can add it to a captured request. It must not become a way around replay protection.
        var (status, replayed) = await s.SendAsync(start, retryNum: 1);

        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Unauthorized, $"got {status}");
        if (status == HttpStatusCode.OK)
        {
            Assert.Equal(JsonNode.Parse(first)!["text"]!.GetValue<string>(), JsonNode.Parse(replayed)!["text"]!.GetValue<string>());
        }

        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
        Assert.Single((await s.ReleaseAsync())["audit"]!.AsArray(), a => (string?)a!["action"] == "Created");
    }

    [Fact]
    public async Task Event_RetriedWithRetryNum_IsAcknowledgedAndChangesNothing()
    {
        await using var s = await SlackScenario.StartAsync();
        var envelope = FakeSlack.EventCallback("Ev0START", Mention(Alice, "start demo 1.0.0"));

        var (status, _) = await s.SendAsync(FakeSlack.Event(envelope));
        Assert.Equal(HttpStatusCode.OK, status);
        var reply = await s.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Ok && c.Text.Contains($"Started {Release}", StringComparison.Ordinal), "the private reply to the mention");
        Assert.Equal(Alice, (string?)reply.Body["user"]);
        await s.CardPostAsync();

        // Slack retries the delivery (re-signed, with X-Slack-Retry-Num); then a different event acts as a barrier.
        var (retryStatus, _) = await s.SendAsync(FakeSlack.Event(envelope), retryNum: 1);
        Assert.Equal(HttpStatusCode.OK, retryStatus);
        var (retry2Status, _) = await s.SendAsync(FakeSlack.Event(envelope), retryNum: 2);
        Assert.Equal(HttpStatusCode.OK, retry2Status);
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(FakeSlack.Event(FakeSlack.EventCallback("Ev0LIST", Mention(Alice, "list"))))).Status);
        await s.Slack.WaitForCallAsync("chat.postMessage", c => c.Ok && c.AllText.Contains("Active releases", StringComparison.Ordinal), "the answer to the barrier event");

        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postEphemeral" && c.Text.Contains($"Started {Release}", StringComparison.Ordinal));
        Assert.DoesNotContain(s.Slack.Calls, c => c.Text.Contains("already exists", StringComparison.Ordinal));
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
        Assert.Single((await s.ReleaseAsync())["audit"]!.AsArray(), a => (string?)a!["action"] == "Created");
    }

    [Fact]
    public async Task Event_UrlVerification_ReturnsTheChallenge()
    {
        await using var s = await SlackScenario.StartAsync();
        var body = """{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""";

        using var request = FakeSlack.Sign("/slack/events", body, "application/json").ToHttpRequest();
        using var response = await s.Bot.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", (string?)answer!["challenge"]);
    }

    [Fact]
    public async Task Startup_BotTokenWithoutSigningSecret_FailsNamingTheSetting()
    {
        var settings = ShipBotHost.FastSettings();
        settings["Slack:BotToken"] = FakeSlack.BotToken;
        settings["Slack:ApiBaseUrl"] = "http://127.0.0.1:9/api/";

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var app = ShipBotApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings));
            try
            {
                await app.StartAsync();
            }
            finally
            {
                await app.DisposeAsync();
            }
        });

        Assert.Contains("Slack:SigningSecret", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_SocketModeWithoutSigningSecret_FailsNamingTheSetting()
    {
        var settings = ShipBotHost.FastSettings();
        settings["Slack:BotToken"] = FakeSlack.BotToken;
        settings["Slack:AppToken"] = FakeSlack.AppToken;
        settings["Slack:SigningSecret"] = "   ";
        settings["Slack:ApiBaseUrl"] = "http://127.0.0.1:9/api/";

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var app = ShipBotApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings));
            try
            {
                await app.StartAsync();
            }
            finally
            {
                await app.DisposeAsync();
            }
        });

        Assert.Contains("Slack:SigningSecret", failure.Message, StringComparison.Ordinal);
    }

    private static JsonObject Mention(string user, string text)
    {
        var ts = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Random.Shared.Next(100000, 999999)}";
        return new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = user,
            ["text"] = $"<@U0SHIPBOT> {text}",
            ["ts"] = ts,
            ["channel"] = Channel,
            ["event_ts"] = ts,
        };
    }
}
