using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Coordinator;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.InMemory;
using ShipBot.Slack.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Slack.Tests;

/// <summary>What the Slack adapter hands the application layer: typed commands and clicks as <see cref="InboundCommand"/>s, checked against a recording substitute.</summary>
public sealed class SlackInboundCommandTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingCommands _commands = new();
    private readonly StubSlackHandler _slack = new(_ => StubSlackHandler.Ok());

    private SlackInbound CreateSut()
    {
        var options = SlackApiFactory.Options();
        var api = SlackApiFactory.Create(_slack, _time, options);
        var access = new AccessPolicy(new Dictionary<string, ServicePolicy>(StringComparer.Ordinal), []);
        var directory = new SlackUserDirectory(api, access, Options.Create(options), _time, NullLogger<SlackUserDirectory>.Instance);
        return new SlackInbound(_commands, api, directory, new InMemoryReleaseStore(_time), Options.Create(options), _time, NullLogger<SlackInbound>.Instance);
    }

    [Fact]
    public async Task OnSlashCommandAsync_TypedCommand_HandsTheTextToTheCoordinatorAsTheSlackUserInTheChannel()
    {
        _commands.Reply = CommandReply.Public("Approved.");
        var sut = CreateSut();

        var ack = await sut.OnSlashCommandAsync(new SlashCommand("/ship", "approve  demo@1.0.0", "U1", "alice", "C1", "T1", null, "trigger-1"));

        var inbound = Assert.Single(_commands.Received);
        Assert.Equal("/ship approve  demo@1.0.0", inbound.Text);
        Assert.Equal("slack:cmd:trigger-1", inbound.RequestId);
        Assert.Equal(("U1", "alice"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Equal(new Conversation(SlackChatNotifier.PlatformName, "C1"), inbound.Conversation);
        Assert.False(inbound.IsClick);
        Assert.Null(inbound.Basis);
        Assert.Equal("in_channel", (string?)ack["response_type"]);
        Assert.Equal("Approved.", (string?)ack["text"]);
    }

    [Fact]
    public async Task OnInteractionAsync_ButtonClick_IsAClickWithItsBasisAndTheSameKeyForADoubleClick()
    {
        _commands.Reply = CommandReply.Private("Promoted.") with { Changed = true };
        var sut = CreateSut();

        await sut.OnInteractionAsync(Click("promote|r12.Canary.0", "promote demo@1.0.0"));
        await sut.OnInteractionAsync(Click("promote|r12.Canary.0", "promote demo@1.0.0"));

        Assert.Equal(2, _commands.Received.Count);
        var first = _commands.Received.First();
        Assert.True(first.IsClick);
        Assert.Equal("r12.Canary.0", first.Basis);
        Assert.Equal("promote demo@1.0.0", first.Text);
        Assert.Equal(ClickKeys.For(SlackChatNotifier.PlatformName, "C1:1700000000.000100", "promote", "r12.Canary.0", "promote demo@1.0.0", null), first.RequestId);
        Assert.All(_commands.Received, r => Assert.Equal(first.RequestId, r.RequestId));

        // The updated card answers a click that changed something: no follow-up message.
        Assert.Empty(_slack.Requests);
    }

    private static JsonObject Click(string actionId, string value) => new()
    {
        ["type"] = "block_actions",
        ["user"] = new JsonObject { ["id"] = "U2", ["username"] = "bob" },
        ["channel"] = new JsonObject { ["id"] = "C1" },
        ["container"] = new JsonObject { ["message_ts"] = "1700000000.000100" },
        ["actions"] = new JsonArray(new JsonObject { ["action_id"] = actionId, ["value"] = value }),
    };
}
