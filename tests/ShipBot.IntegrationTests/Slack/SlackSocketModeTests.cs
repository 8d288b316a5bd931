using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Slack;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>Socket Mode end to end: ShipBot opens the WebSocket to the fake Slack, which pushes envelopes and reads the acknowledgements.</summary>
public sealed class SlackSocketModeTests
{
    [Fact]
    public async Task SocketMode_StartAndApprove_AcksCarryTheAnswerAndARepeatedEnvelopeChangesNothing()
    {
        await using var s = await SlackScenario.StartAsync(socketMode: true);
        await s.Slack.WaitForSocketConnectionAsync(1);
        var open = Assert.Single(s.Slack.Calls, c => c.Method == "apps.connections.open");
        Assert.Equal($"Bearer {FakeSlack.AppToken}", open.Authorization);
        Assert.True(open.Ok);

        var start = Payload(s.Slack.SlashCommandFields(Alice, "alice", "start demo 1.0.0 faster checkout", Channel));
        var ack = await s.Slack.SendEnvelopeAsync("slash_commands", start, envelopeId: "env-start-1");
        Assert.NotNull(ack.Payload);
        Assert.Contains($"Started {Release}", (string?)ack.Payload["text"], StringComparison.Ordinal);
        Assert.Equal("ephemeral", (string?)ack.Payload["response_type"]);
        var card = await s.CardPostAsync();
        var ts = card.MessageTs!;

        // Slack delivers the same envelope again (it did not see the ack in time): acknowledged, ignored.
        var again = await s.Slack.SendEnvelopeAsync("slash_commands", start, envelopeId: "env-start-1", retryAttempt: 1);
        Assert.Null(again.Payload);
        var active = await s.Bot.Http.GetFromJsonAsync<JsonArray>("/api/releases?service=demo");
        Assert.Single(active!);
        Assert.Single((await s.ReleaseAsync())["audit"]!.AsArray(), a => (string?)a!["action"] == "Created");

        var check = await s.Slack.SendEnvelopeAsync("slash_commands", Payload(s.Slack.SlashCommandFields(Alice, "alice", $"check {Release} {string.Join(' ', BlockingItems)}", Channel)));
        Assert.NotNull(check.Payload);
        var awaiting = await s.AwaitingApprovalAsync(ts);

        var click = s.Slack.BlockActionsPayload(Bob, "bob", Button(awaiting, $"approve {Release}"), Channel, ts);
        var clicked = await s.Slack.SendEnvelopeAsync("interactive", click);
        Assert.Null(clicked.Payload);
        var approved = await s.CardStateAsync(ts, c => c.AllText.Contains("approved by @bob", StringComparison.Ordinal), "the card showing bob's approval", afterSeq: awaiting.Seq);
        Assert.Equal("chat.update", approved.Method);

        // The same click delivered twice approves once.
        var clickedAgain = await s.Slack.SendEnvelopeAsync("interactive", click, envelopeId: clicked.EnvelopeId, retryAttempt: 1);
        Assert.Null(clickedAgain.Payload);
        Assert.Single((await s.ReleaseAsync())["approvals"]!.AsArray());
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
        Assert.Equal(1, s.Slack.SocketConnections);
    }

    [Fact]
    public async Task SocketMode_DisconnectMessage_OpensANewConnectionThatWorks()
    {
        await using var s = await SlackScenario.StartAsync(socketMode: true);
        await s.Slack.WaitForSocketConnectionAsync(1);
        await AssertWorksAsync(s);

        await s.Slack.SendDisconnectAsync("refresh_requested");

        var second = await s.Slack.WaitForSocketConnectionAsync(2);
        Assert.Equal(2, s.Slack.Calls.Count(c => c.Method == "apps.connections.open"));
        Assert.NotEqual(string.Empty, second.Ticket);
        await AssertWorksAsync(s);
        Assert.Equal(2, s.Bot.Services.GetRequiredService<SlackSocketMode>().Connections);
    }

    [Fact]
    public async Task SocketMode_ConnectionDroppedAbruptly_ReconnectsAndWorks()
    {
        await using var s = await SlackScenario.StartAsync(socketMode: true);
        await s.Slack.WaitForSocketConnectionAsync(1);

        s.Slack.DropSocketConnection();

        await s.Slack.WaitForSocketConnectionAsync(2);
        await AssertWorksAsync(s);

        // And again: every lost connection is replaced.
        s.Slack.DropSocketConnection();
        await s.Slack.WaitForSocketConnectionAsync(3);
        await AssertWorksAsync(s);
        Assert.Equal(3, s.Slack.Calls.Count(c => c.Method == "apps.connections.open"));
    }

    [Fact]
    public async Task SocketMode_EventsApiMention_IsAckedAtOnceAndRunsTheCommand()
    {
        await using var s = await SlackScenario.StartAsync(socketMode: true);
        await s.Slack.WaitForSocketConnectionAsync(1);
        var ts = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.000200";
        var mention = FakeSlack.EventCallback("Ev0SOCKET", new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = Alice,
            ["text"] = "<@U0SHIPBOT> start demo 1.0.0",
            ["ts"] = ts,
            ["channel"] = Channel,
            ["event_ts"] = ts,
        });

        var ack = await s.Slack.SendEnvelopeAsync("events_api", mention);

        Assert.Null(ack.Payload);
        var reply = await s.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Ok && c.Text.Contains($"Started {Release}", StringComparison.Ordinal), "the private reply to the mention");
        Assert.Equal(Alice, (string?)reply.Body["user"]);
        await s.CardPostAsync();
    }

    [Fact]
    public async Task SocketMode_SlashCommandSlowerThanTheAckBudget_AckedInTimeAndTheAnswerFollowsThroughResponseUrl()
    {
        // The budget (1 s, within Slack's 3 s) runs on a clock the test moves; Slack holds the card post (and its retries) until the
        // test lets it go, and the publish waits for it, so the work cannot finish first however slow the machine.
        var budget = new WatchedTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await SlackScenario.StartAsync(socketMode: true, extra: new Dictionary<string, string?> { ["Slack:AckBudget"] = "00:00:01", ["Slack:PublishWait"] = "00:05:00" }, ackClock: budget);
        await s.Slack.WaitForSocketConnectionAsync(1);
        await AssertWorksAsync(s);
        var letSlackAnswer = s.Slack.HoldNext("chat.postMessage", times: 5);
        var responseUrl = s.Slack.NewResponseUrl();

        var envelope = s.Slack.SendEnvelopeAsync("slash_commands", Payload(s.Slack.SlashCommandFields(Alice, "alice", "start demo 1.0.0", Channel, responseUrl)), timeout: Eventually.Deadline);
        await Eventually.UntilAsync(() => budget.ActiveTimers == 1, "the command's acknowledgement budget to start");
        var waited = await budget.DriveAsync(envelope, () => true, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3));
        var ack = await envelope;
        letSlackAnswer();

        // Acknowledged when the 1 s budget ran out, while the work was still waiting on Slack.
        Assert.True(waited < TimeSpan.FromSeconds(3), $"Slack expects the ack within 3 s; it took {waited.TotalMilliseconds:0} ms of the budget's clock");
        Assert.NotNull(ack.Payload);
        Assert.DoesNotContain("Started", (string?)ack.Payload["text"], StringComparison.Ordinal);
        var answer = await s.Slack.WaitForResponseAsync(responseUrl);
        Assert.Contains($"Started {Release}", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SocketMode_SlowEnvelope_DoesNotHoldUpTheAcknowledgementOfAnother()
    {
        // The acknowledgement budget runs on a clock nobody moves: the slow command is acknowledged only when Slack lets its card post through.
        var budget = new WatchedTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await SlackScenario.StartAsync(socketMode: true, extra: new Dictionary<string, string?> { ["Slack:PublishWait"] = "00:05:00" }, ackClock: budget);
        await s.Slack.WaitForSocketConnectionAsync(1);
        var letSlackAnswer = s.Slack.HoldNext("chat.postMessage", times: 5);

        var slow = s.Slack.SendEnvelopeAsync("slash_commands", Payload(s.Slack.SlashCommandFields(Alice, "alice", "start demo 1.0.0", Channel)), timeout: Eventually.Deadline);
        await s.Slack.WaitForCallAsync("usergroups.users.list", _ => true, "the slow command being handled (its user's groups looked up)");
        var fast = await s.Slack.SendEnvelopeAsync("slash_commands", Payload(s.Slack.SlashCommandFields(Bob, "bob", "help", Channel)));

        Assert.False(slow.IsCompleted, "the slow command should still be running when the quick one is acknowledged");
        Assert.Contains("/ship start", (string?)fast.Payload?["text"], StringComparison.Ordinal);
        letSlackAnswer();
        Assert.NotNull((await slow).Payload);
    }

    private static async Task AssertWorksAsync(SlackScenario s)
    {
        var ack = await s.Slack.SendEnvelopeAsync("slash_commands", Payload(s.Slack.SlashCommandFields(Alice, "alice", "help", Channel)));
        Assert.NotNull(ack.Payload);
        Assert.Contains("/ship start", (string?)ack.Payload["text"], StringComparison.Ordinal);
    }

    private static JsonObject Payload(Dictionary<string, string> fields)
    {
        var payload = new JsonObject();
        foreach (var (key, value) in fields)
        {
            payload[key] = value;
        }

        return payload;
    }
}
