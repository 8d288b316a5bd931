using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Coordinator;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Identity;
using ShipBot.InMemory;
using ShipBot.Testing;

namespace ShipBot.Console.Tests;

/// <summary>
/// What the console hands the application layer: typed messages and button clicks posted to the demo
/// console on a real Kestrel over loopback become <see cref="InboundCommand"/>s, checked against a
/// recording substitute whose canned reply is what the HTTP answer must carry.
/// </summary>
public sealed class ConsoleInboundCommandTests : IAsyncLifetime
{
    private static readonly ConsoleUser Alice = new("alice", "Alice Liddell", ["release-managers"]);
    private static readonly ConsoleUser Bob = new("bob", "Bob Builder", []);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly RecordingCommands _commands = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    private ConsoleChannelHub Hub => _app.Services.GetRequiredService<ConsoleChannelHub>();

    public async Task InitializeAsync()
    {
        // Only what the console's endpoints need, in Demo mode (open to this machine, loopback only).
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddSingleton(new ConsoleChannelHub(_time));
        builder.Services.AddSingleton<IReleaseCommands>(_commands);
        builder.Services.AddSingleton<IReleaseStore>(new InMemoryReleaseStore(_time));
        builder.Services.AddShipBotIdentity(ConsoleMode.Demo, new SignInOptions());
        _app = builder.Build();
        _app.MapShipBotConsole([Alice, Bob]);
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.Single()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task PostMessage_TypedCommand_HandsTheTextToTheCoordinatorAsTheConsoleUserInTheChannel()
    {
        _commands.Reply = CommandReply.Public("Started checkout@1.4.2.");

        var (status, body) = await PostAsync("api/console/messages", new { user = "alice", channel = "ops", text = "  /ship start checkout 1.4.2  ", requestId = "req-1" });

        Assert.Equal(HttpStatusCode.OK, status);
        var inbound = Assert.Single(_commands.Received);
        Assert.Equal("/ship start checkout 1.4.2", inbound.Text);
        Assert.Equal("req-1", inbound.RequestId);
        Assert.Equal(("alice", "Alice Liddell"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Equal(["release-managers"], inbound.Actor.Groups);
        Assert.Equal(new Conversation(ConsoleChatNotifier.PlatformName, "ops"), inbound.Conversation);
        Assert.False(inbound.IsClick);
        Assert.Null(inbound.Basis);
        Assert.Equal("inChannel", (string?)body["visibility"]);
        Assert.Equal("Started checkout@1.4.2.", (string?)body["text"]);
        Assert.Equal("shipbot", Hub.Get((string)body["messageId"]!)!.Author);
    }

    [Fact]
    public async Task PostMessage_NoChannel_TalksInTheReleasesChannel()
    {
        await PostAsync("api/console/messages", new { user = "bob", text = "/ship help", requestId = "req-2" });

        Assert.Equal(new Conversation(ConsoleChatNotifier.PlatformName, "releases"), Assert.Single(_commands.Received).Conversation);
    }

    [Fact]
    public async Task PostMessage_NoRequestId_EachPostGetsAFreshRequestId()
    {
        await PostAsync("api/console/messages", new { user = "alice", text = "/ship status checkout@1.4.2" });
        await PostAsync("api/console/messages", new { user = "alice", text = "/ship status checkout@1.4.2" });

        Assert.Equal(2, _commands.Received.Count);
        var ids = _commands.Received.Select(r => r.RequestId).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrWhiteSpace(id)));
        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public async Task PostMessage_PrivateReply_IsAnsweredToThePosterOnly()
    {
        _commands.Reply = CommandReply.Private("You may not approve your own release.");

        var (_, body) = await PostAsync("api/console/messages", new { user = "bob", text = "/ship approve checkout@1.4.2", requestId = "req-3" });

        Assert.Equal("ephemeral", (string?)body["visibility"]);
        Assert.Equal("You may not approve your own release.", (string?)body["text"]);
        Assert.Equal("bob", Hub.Get((string)body["messageId"]!)!.VisibleTo);
    }

    [Fact]
    public async Task PostMessage_NotAShipCommand_IsPostedWithoutCallingTheCoordinator()
    {
        var (status, _) = await PostAsync("api/console/messages", new { user = "alice", text = "lunch?" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(_commands.Received);
        Assert.Equal("lunch?", Assert.Single(Hub.List("releases", null)).Text);
    }

    [Fact]
    public async Task PostMessage_UnknownUser_IsRefusedWithoutCallingTheCoordinator()
    {
        var (status, _) = await PostAsync("api/console/messages", new { user = "mallory", text = "/ship help" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Empty(_commands.Received);
    }

    [Fact]
    public async Task PostAction_ButtonClick_IsAClickWithTheCardsBasisAndTheButtonsValue()
    {
        _commands.Reply = CommandReply.Public("Promotion scheduled.");
        var card = PublishCard();

        var (status, body) = await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "promote", value = "promote checkout@1.4.2", basis = "r12.Canary.0" });

        Assert.Equal(HttpStatusCode.OK, status);
        var inbound = Assert.Single(_commands.Received);
        Assert.True(inbound.IsClick);
        Assert.Equal("r12.Canary.0", inbound.Basis);
        Assert.Equal("promote checkout@1.4.2", inbound.Text);
        Assert.Equal(("alice", "Alice Liddell"), (inbound.Actor.Id, inbound.Actor.DisplayName));
        Assert.Equal(new Conversation(ConsoleChatNotifier.PlatformName, "ops"), inbound.Conversation);
        Assert.Equal(ClickKeys.For(ConsoleChatNotifier.PlatformName, card.Id, "promote", "r12.Canary.0", "promote checkout@1.4.2", null), inbound.RequestId);
        Assert.Equal("inChannel", (string?)body["visibility"]);
        Assert.Equal("Promotion scheduled.", (string?)body["text"]);
        Assert.False((bool)body["silent"]!);
    }

    [Fact]
    public async Task PostAction_DoubleClickOnTheSameCardVersion_HasTheSameRequestIdWhateverRequestIdThePageSends()
    {
        var card = PublishCard();

        await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "promote", value = "promote checkout@1.4.2", basis = "r12.Canary.0", requestId = "page-1" });
        await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "promote", value = "promote checkout@1.4.2", basis = "r12.Canary.0", requestId = "page-2" });

        Assert.Equal(2, _commands.Received.Count);
        var first = _commands.Received.First();
        Assert.All(_commands.Received, r => Assert.Equal(first.RequestId, r.RequestId));
        Assert.StartsWith("console:click:", first.RequestId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostAction_ClickWithAReason_AppendsTheTrimmedInputToTheValueAndKeysOnIt()
    {
        var card = PublishCard();

        await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "rollback", value = "rollback checkout@1.4.2", input = "  error rate  ", basis = "r12.Canary.0" });
        await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "rollback", value = "rollback checkout@1.4.2", input = "latency", basis = "r12.Canary.0" });

        var received = _commands.Received.ToList();
        Assert.Equal("rollback checkout@1.4.2 error rate", received[0].Text);
        Assert.Equal("rollback checkout@1.4.2 latency", received[1].Text);
        Assert.NotEqual(received[0].RequestId, received[1].RequestId);
    }

    [Fact]
    public async Task PostAction_NewBasisAfterTheCardChanged_IsANewRequest()
    {
        var card = PublishCard();

        await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "promote", value = "promote checkout@1.4.2", basis = "r12.Canary.0" });
        var updated = PublishCard("r13.EarlyAdopters.1");
        await PostAsync("api/console/actions", new { user = "alice", messageId = updated.Id, actionId = "promote", value = "promote checkout@1.4.2", basis = "r13.EarlyAdopters.1" });

        Assert.Equal(card.Id, updated.Id);
        Assert.Equal(2, updated.Version);
        var received = _commands.Received.ToList();
        Assert.Equal("r13.EarlyAdopters.1", received[1].Basis);
        Assert.NotEqual(received[0].RequestId, received[1].RequestId);
    }

    [Fact]
    public async Task PostAction_ChangedPrivateReply_IsSilentBecauseTheUpdatedCardIsTheAnswer()
    {
        _commands.Reply = CommandReply.Private("Promoted.") with { Changed = true };
        var card = PublishCard();
        var before = Hub.List("ops", null).Count;

        var (status, body) = await PostAsync("api/console/actions", new { user = "alice", messageId = card.Id, actionId = "promote", value = "promote checkout@1.4.2", basis = "r12.Canary.0" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True((bool)body["silent"]!);
        Assert.Equal("Promoted.", (string?)body["text"]);
        Assert.Null((string?)body["messageId"]);
        Assert.Equal(before, Hub.List("ops", null).Count);
    }

    [Fact]
    public async Task PostAction_UnknownMessageId_IsRefusedWithoutCallingTheCoordinator()
    {
        PublishCard();

        var (status, body) = await PostAsync("api/console/actions", new { user = "alice", messageId = "m999", actionId = "promote", value = "promote checkout@1.4.2", basis = "r12.Canary.0" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("m999", (string?)body["error"], StringComparison.Ordinal);
        Assert.Empty(_commands.Received);
    }

    [Fact]
    public async Task PostAction_MessageWithoutACard_IsRefusedWithoutCallingTheCoordinator()
    {
        var plain = Hub.Post("ops", "alice", "hello", null);

        var (status, _) = await PostAsync("api/console/actions", new { user = "alice", messageId = plain.Id, actionId = "promote", value = "promote checkout@1.4.2" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Empty(_commands.Received);
    }

    /// <summary>A release card in #ops with its buttons, as the console notifier publishes it (a second call updates it in place).</summary>
    private ConsoleMessage PublishCard(string basis = "r12.Canary.0")
    {
        var actions = new ActionsBlock(
        [
            new CardAction("promote", "Promote", "promote checkout@1.4.2", ActionStyle.Primary) { Basis = basis },
            new CardAction("rollback", "Roll back", "rollback checkout@1.4.2", ActionStyle.Danger, Input: "Reason") { Basis = basis },
        ]);
        var card = new Card("checkout@1.4.2", null, CardTone.Info, [new TextBlock("Canary 5 %"), actions], [], "checkout@1.4.2 at canary");
        return Hub.Upsert("ops", "release:checkout@1.4.2", card.Fallback, card, threadKey: null);
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> PostAsync(string path, object body)
    {
        using var response = await _http.PostAsJsonAsync(path, body);
        var json = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (response.StatusCode, json!);
    }
}
