using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.InMemory;
using ShipBot.Teams.Tests.TestSupport;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests;

/// <summary>
/// What the Teams adapter hands the application layer: messages, Action.Submit and Action.Execute
/// activities (already authenticated) become <see cref="InboundCommand"/>s, checked against a
/// recording substitute; replies go to a real Kestrel playing the Bot Connector.
/// </summary>
public sealed class TeamsInboundCommandTests : IAsyncLifetime
{
    private const string BotId = "28:3f2a6c8e-0d4b-4b8e-9a51-7c1f0e2d9b10";
    private const string ConversationId = "19:abc@thread.tacv2;messageid=1";
    private const string CardActivityId = "1700000000001";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingCommands _commands = new();
    private readonly InMemoryReleaseStore _state;
    private LoopbackConnector _connector = null!;
    private ServiceProvider _container = null!;

    public TeamsInboundCommandTests() => _state = new InMemoryReleaseStore(_time);

    public async Task InitializeAsync()
    {
        _connector = await LoopbackConnector.StartAsync(_time);
        var options = new TeamsOptions
        {
            AppId = "3f2a6c8e-0d4b-4b8e-9a51-7c1f0e2d9b10",
            AppPassword = "s3cr3t~value",
            TokenEndpoint = _connector.TokenEndpointTemplate,
            Groups = { ["release-managers"] = ["aad-alice"] },
        };

        // As the host composes the adapter, with the application layer replaced by the recording substitute.
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddBotConnectorClient();
        services.AddSingleton<IChatStateStore>(_state);
        services.AddSingleton<IReleaseCommands>(_commands);
        services.AddSingleton<TeamsConversations>();
        services.AddSingleton<TeamsChatNotifier>();
        services.AddSingleton<TeamsInbound>();
        _container = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _container.DisposeAsync();
        await _connector.DisposeAsync();
    }

    private TeamsInbound Sut => _container.GetRequiredService<TeamsInbound>();

    [Fact]
    public async Task OnActivityAsync_ChannelMessageMentioningTheBot_HandsTheTextWithoutTheMentionAsTheAadUserInTheConversation()
    {
        _commands.Reply = CommandReply.Public("Started checkout@1.4.2.");

        var answer = await Sut.OnActivityAsync(Message("m-1", "<at>ShipBot</at> ship start checkout 1.4.2"));

        Assert.Null(answer);
        var inbound = Assert.Single(_commands.Received);
        Assert.Equal("ship start checkout 1.4.2", inbound.Text);
        Assert.Equal("teams:m-1", inbound.RequestId);
        Assert.Equal(("aad-alice", "Alice"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Equal(["release-managers"], inbound.Actor.Groups);
        Assert.Equal(new Conversation(TeamsChatNotifier.PlatformName, ConversationId), inbound.Conversation);
        Assert.False(inbound.IsClick);
        Assert.Null(inbound.Basis);

        // The reply goes to the conversation, in the thread of the message, as the coordinator worded it.
        var sent = Assert.Single(_connector.ConnectorRequests);
        Assert.Equal($"/v3/conversations/{Uri.EscapeDataString(ConversationId)}/activities/m-1", sent.RawTarget);
        Assert.Equal("Started checkout@1.4.2.", (string?)sent.Json["text"]);
    }

    [Fact]
    public async Task OnActivityAsync_SameMessageDeliveredTwice_HasTheSameRequestId()
    {
        await Sut.OnActivityAsync(Message("m-2", "<at>ShipBot</at> ship status checkout@1.4.2"));
        await Sut.OnActivityAsync(Message("m-2", "<at>ShipBot</at> ship status checkout@1.4.2"));

        Assert.Equal(2, _commands.Received.Count);
        Assert.All(_commands.Received, r => Assert.Equal("teams:m-2", r.RequestId));
    }

    [Fact]
    public async Task OnActivityAsync_SenderWithoutAadObjectId_IsKnownByTheirChannelAccountId()
    {
        var activity = Message("m-3", "<at>ShipBot</at> ship help");
        activity["from"] = new JsonObject { ["id"] = "29:bob" };

        await Sut.OnActivityAsync(activity);

        var inbound = Assert.Single(_commands.Received);
        Assert.Equal(("29:bob", "29:bob"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Empty(inbound.Actor.Groups);
    }

    [Fact]
    public async Task OnActivityAsync_ChannelMessageWithoutShip_AnswersWithHelpWithoutCallingTheCoordinator()
    {
        await Sut.OnActivityAsync(Message("m-4", "<at>ShipBot</at> hello there"));

        Assert.Empty(_commands.Received);
        Assert.Contains("ship help", (string?)Assert.Single(_connector.ConnectorRequests).Json["text"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnActivityAsync_ActionSubmit_IsAClickWithTheCardsBasisOnTheCardMessage()
    {
        _commands.Reply = CommandReply.Private("Promoted.") with { Changed = true };

        await Sut.OnActivityAsync(Submit("s-1", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));

        var inbound = Assert.Single(_commands.Received);
        Assert.True(inbound.IsClick);
        Assert.Equal("r12.Canary.0", inbound.Basis);
        Assert.Equal("promote checkout@1.4.2", inbound.Text);
        Assert.Equal(("aad-alice", "Alice"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Equal(new Conversation(TeamsChatNotifier.PlatformName, ConversationId), inbound.Conversation);
        Assert.Equal(ClickKeys.For(TeamsChatNotifier.PlatformName, CardActivityId, "promote checkout@1.4.2", "r12.Canary.0", "promote checkout@1.4.2", null), inbound.RequestId);

        // The updated card answers a click that changed something: no reply message.
        Assert.Empty(_connector.ConnectorRequests);
    }

    [Fact]
    public async Task OnActivityAsync_ActionSubmitDoubleClick_HasTheSameRequestIdThoughEachActivityIsNew()
    {
        await Sut.OnActivityAsync(Submit("s-2", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));
        await Sut.OnActivityAsync(Submit("s-3", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));

        Assert.Equal(2, _commands.Received.Count);
        var first = _commands.Received.First();
        Assert.All(_commands.Received, r => Assert.Equal(first.RequestId, r.RequestId));
    }

    [Fact]
    public async Task OnActivityAsync_ActionSubmitWithAReason_AppendsTheInputNamedByInputId()
    {
        _commands.Reply = CommandReply.Private("Rollback refused: nothing to roll back.");

        await Sut.OnActivityAsync(Submit("s-4", new JsonObject
        {
            ["command"] = "rollback checkout@1.4.2",
            ["basis"] = "r12.Canary.0",
            ["inputId"] = "reason",
            ["reason"] = "  error rate  ",
        }));

        var inbound = Assert.Single(_commands.Received);
        Assert.Equal("rollback checkout@1.4.2 error rate", inbound.Text);
        Assert.Equal(ClickKeys.For(TeamsChatNotifier.PlatformName, CardActivityId, "rollback checkout@1.4.2", "r12.Canary.0", "rollback checkout@1.4.2", "error rate"), inbound.RequestId);

        // A refusal is answered in the conversation with the coordinator's words.
        Assert.Equal("Rollback refused: nothing to roll back.", (string?)Assert.Single(_connector.ConnectorRequests).Json["text"]);
    }

    [Fact]
    public async Task OnActivityAsync_ActionExecute_IsAClickKeyedOnTheVerbAndAnswersTheReplyText()
    {
        _commands.Reply = CommandReply.Private("Already promoted.");

        var answer = await Sut.OnActivityAsync(Execute("i-1", "promote", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));

        var inbound = Assert.Single(_commands.Received);
        Assert.True(inbound.IsClick);
        Assert.Equal("r12.Canary.0", inbound.Basis);
        Assert.Equal("promote checkout@1.4.2", inbound.Text);
        Assert.Equal(("aad-alice", "Alice"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Equal(new Conversation(TeamsChatNotifier.PlatformName, ConversationId), inbound.Conversation);
        Assert.Equal(ClickKeys.For(TeamsChatNotifier.PlatformName, CardActivityId, "promote", "r12.Canary.0", "promote checkout@1.4.2", null), inbound.RequestId);
        Assert.NotNull(answer);
        Assert.Equal(200, (int)answer["statusCode"]!);
        Assert.Equal("application/vnd.microsoft.activity.message", (string?)answer["type"]);
        Assert.Equal("Already promoted.", (string?)answer["value"]);
        Assert.Empty(_connector.ConnectorRequests);
    }

    [Fact]
    public async Task OnActivityAsync_ActionExecuteThatChangedTheCard_AnswersWithTheLatestCard()
    {
        _commands.Reply = CommandReply.Private("Promoted.") with { Changed = true };
        var card = new JsonObject { ["type"] = "AdaptiveCard", ["version"] = "1.5", ["body"] = new JsonArray() };
        IChatStateStore state = _state;
        await state.SetAsync(TeamsChatNotifier.ActivityKey(CardActivityId), "release:checkout@1.4.2", TimeSpan.FromDays(1));
        await state.SetAsync(TeamsChatNotifier.CardKey("release:checkout@1.4.2"), card.ToJsonString(), TimeSpan.FromDays(1));

        var answer = await Sut.OnActivityAsync(Execute("i-2", "promote", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));

        Assert.Single(_commands.Received);
        Assert.NotNull(answer);
        Assert.Equal(200, (int)answer["statusCode"]!);
        Assert.Equal(AdaptiveCards.ContentType, (string?)answer["type"]);
        Assert.True(JsonNode.DeepEquals(card, answer["value"]));
    }

    [Fact]
    public async Task OnActivityAsync_ActionExecuteDoubleClick_HasTheSameRequestId()
    {
        await Sut.OnActivityAsync(Execute("i-3", "promote", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));
        await Sut.OnActivityAsync(Execute("i-4", "promote", new JsonObject { ["command"] = "promote checkout@1.4.2", ["basis"] = "r12.Canary.0" }));

        Assert.Equal(2, _commands.Received.Count);
        var first = _commands.Received.First();
        Assert.All(_commands.Received, r => Assert.Equal(first.RequestId, r.RequestId));
    }

    [Fact]
    public async Task OnActivityAsync_ActionExecuteWithoutCommand_IsRefusedWithoutCallingTheCoordinator()
    {
        var answer = await Sut.OnActivityAsync(Execute("i-5", "promote", new JsonObject { ["basis"] = "r12.Canary.0" }));

        Assert.Empty(_commands.Received);
        Assert.Equal(400, (int)answer!["statusCode"]!);
    }

    private JsonObject Message(string id, string text) => new()
    {
        ["type"] = "message",
        ["id"] = id,
        ["text"] = text,
        ["channelId"] = "msteams",
        ["serviceUrl"] = _connector.BaseUrl.AbsoluteUri,
        ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "ShipBot" },
        ["from"] = new JsonObject { ["id"] = "29:alice", ["aadObjectId"] = "aad-alice", ["name"] = "Alice" },
        ["conversation"] = new JsonObject { ["id"] = ConversationId, ["conversationType"] = "channel", ["tenantId"] = "tenant-1" },
        ["entities"] = new JsonArray(new JsonObject
        {
            ["type"] = "mention",
            ["text"] = "<at>ShipBot</at>",
            ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = "ShipBot" },
        }),
    };

    /// <summary>Action.Submit: a message activity replying to the card's activity, carrying the button's data (inputs merged in by id).</summary>
    private JsonObject Submit(string id, JsonObject data)
    {
        var activity = Message(id, string.Empty);
        activity.Remove("text");
        activity.Remove("entities");
        activity["replyToId"] = CardActivityId;
        activity["value"] = data;
        return activity;
    }

    /// <summary>Action.Execute: an <c>adaptiveCard/action</c> invoke on the card's activity.</summary>
    private JsonObject Execute(string id, string verb, JsonObject data)
    {
        var activity = Message(id, string.Empty);
        activity.Remove("text");
        activity.Remove("entities");
        activity["type"] = "invoke";
        activity["name"] = TeamsInbound.InvokeName;
        activity["replyToId"] = CardActivityId;
        activity["value"] = new JsonObject { ["action"] = new JsonObject { ["type"] = "Action.Execute", ["verb"] = verb, ["data"] = data } };
        return activity;
    }
}
