using System.Text.Json.Nodes;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Teams;

/// <summary>
/// End to end against a real Teams client emulator: Microsoft's Microsoft 365 Agents Playground
/// (offline, no credentials) talks to a real ShipBot over HTTP — it posts activities to
/// <c>/api/messages</c> without a token (<c>Teams:AllowUnauthenticatedLoopback</c>), ShipBot answers
/// through the playground's Bot Connector (<c>/_connector/v3/…</c>) — and the tests drive it like a
/// Teams user: typing messages, clicking <c>Action.Execute</c> buttons as alice or bob, and reading
/// the conversation as the Teams client sees it.
/// </summary>
public sealed class TeamsPlaygroundEndToEndTests
{
    private const string Release = "demo@1.0.0";
    private const string AdaptiveCardType = "application/vnd.microsoft.card.adaptive";
    private const string MessageType = "application/vnd.microsoft.activity.message";

    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private static PlaygroundSetup Setup => PlaygroundSetup.Default;

    private static PlaygroundUser Alice => Setup.User("Alice");

    private static PlaygroundUser Bob => Setup.User("Bob");

    private static PlaygroundUser Carol => Setup.User("Carol");

    /// <summary>
    /// The scenario, in a channel of the team (bob is no member of alice's personal chat, so
    /// he clicks where the team sees the card): alice starts a release by mentioning ShipBot, settles
    /// the checklist with a button and a message, bob clicks Approve, and the one card is updated in
    /// place for everyone.
    /// </summary>
    [Fact]
    public async Task Channel_StartSettleAndApproveAsAnotherUserWithActionExecute_UpdatesTheOneCardInPlace()
    {
        await using var teams = await TeamsSession.StartAsync();
        var playground = teams.Playground;
        var stream = playground.Stream;

        var post = await playground.SendMessageAsync(Setup.ReleasesChannelId, "ship start demo 1.0.0 faster checkout", mentionBot: true);
        var thread = post.PostConversationId;
        Assert.False(string.IsNullOrEmpty(thread), "a channel post opens a thread");

        var created = await teams.Step("the release card in alice's thread", () => stream.WaitForAsync(
            e => e.IsCreate && e.ConversationId == thread && e.CardTitle.Contains($"{Release} — Draft", StringComparison.Ordinal), "a createMessage with the Draft release card"));
        var attachment = (created.Message!["attachments"] as JsonArray)!.OfType<JsonObject>().Single();
        Assert.Equal(AdaptiveCardType, (string?)attachment["contentType"]);
        Assert.Equal("AdaptiveCard", (string?)created.Card!["type"]);
        Assert.Equal("1.5", (string?)created.Card["version"]);
        Assert.Equal(Setup.Bot.Id, created.FromId);
        var cardId = created.MessageId!;
        await teams.Step("the Started reply in the thread", () => stream.WaitForAsync(
            e => e.IsCreate && e.ConversationId == thread && e.Text.Contains($"Started {Release}", StringComparison.Ordinal), "the reply to the start command"));

        // alice clicks Confirm on the QA row: an Action.Execute answered with the updated card.
        var draft = await teams.Step("the card without the on-call item", () => stream.WaitForAsync(
            e => e.MessageId == cardId && ConfirmFor(e.Card, "qa") is not null && ConfirmFor(e.Card, "oncall") is null, "the card with on-call ticked by ShipBot"));
        var confirmQa = ConfirmFor(draft.Card, "qa")!;
        Assert.Equal($"check {Release} qa", (string?)confirmQa["data"]?["command"]);
        var confirmed = await playground.InvokeAsync(Alice.Id, thread!, cardId, confirmQa);
        Assert.True(confirmed.Status == 200, $"invoke answered HTTP {confirmed.Status}: {confirmed.Raw}");
        Assert.Equal(AdaptiveCardType, confirmed.Type);
        Assert.Null(ConfirmFor(confirmed.Value, "qa"));
        Assert.Contains(AgentsPlayground.CardText(confirmed.Value).Split('\n'), line => line.StartsWith('✅') && line.Contains("(qa)", StringComparison.Ordinal));

        // The rest by a message in the thread.
        await playground.SendMessageAsync(thread!, $"ship check {Release} {string.Join(' ', BlockingItems.Skip(1))}", mentionBot: true);
        var awaiting = await teams.Step("the card awaiting approval", () => stream.WaitForAsync(
            e => e.IsUpdate && e.MessageId == cardId && e.CardTitle.Contains("Awaiting approval", StringComparison.Ordinal), "an updateMessage of the card: Awaiting approval"));
        var approve = Assert.Single(AgentsPlayground.ExecuteActions(awaiting.Card), a => (string?)a["verb"] == "approve");
        Assert.Equal($"approve {Release}", (string?)approve["data"]?["command"]);

        // bob clicks Approve.
        var mark = stream.Count;
        var approved = await playground.InvokeAsync(Bob.Id, thread!, cardId, approve);
        Assert.True(approved.Status == 200, $"invoke answered HTTP {approved.Status}: {approved.Raw}");
        Assert.Equal(AdaptiveCardType, approved.Type);
        var answeredCard = approved.Value as JsonObject;
        Assert.NotNull(answeredCard);
        Assert.Equal("1.5", (string?)answeredCard["version"]);
        Assert.Contains($"approved by @{Bob.Name}", AgentsPlayground.CardText(answeredCard), StringComparison.Ordinal);
        Assert.DoesNotContain("Awaiting approval", AgentsPlayground.CardTitle(answeredCard), StringComparison.Ordinal);
        Assert.DoesNotContain(AgentsPlayground.ExecuteActions(answeredCard), a => (string?)a["verb"] == "approve");

        var updated = await teams.Step("the approved card on the stream", () => stream.WaitForAsync(
            e => e.IsUpdate && e.MessageId == cardId && e.CardText.Contains($"approved by @{Bob.Name}", StringComparison.Ordinal), "an updateMessage of the same card showing bob's approval", after: mark));
        Assert.Equal(thread, updated.ConversationId);

        // ShipBot knows bob by his Entra object id, the id roles are configured with.
        var release = await teams.Host.ReleaseAsync(Release);
        Assert.Equal(Alice.AadObjectId, (string?)release["requester"]);
        Assert.Equal([Bob.AadObjectId], release["approvals"]!.AsArray().Select(a => (string?)a));

        // Timers keep replacing the same message as the rollout goes on.
        await teams.Step("the card at canary", () => stream.WaitForAsync(
            e => e.IsUpdate && e.MessageId == cardId && e.CardTitle.Contains("Canary", StringComparison.Ordinal), "an updateMessage of the card at Canary", after: mark, timeout: TimeSpan.FromSeconds(90)));
        Assert.Single(stream.Snapshot(), e => e.IsCreate && e.CardTitle.Contains($"{Release} —", StringComparison.Ordinal));
    }

    /// <summary>alice's release in her personal chat; her own Approve click is refused to her alone and the card stays as it is.</summary>
    [Fact]
    public async Task PersonalChat_RequesterClicksApprove_IsRefusedPrivatelyAndTheCardIsNotUpdated()
    {
        await using var teams = await TeamsSession.StartAsync();
        var playground = teams.Playground;
        var stream = playground.Stream;
        var chat = Setup.PersonalChatId;

        await playground.SendMessageAsync(chat, "start demo 1.0.0");
        var created = await teams.Step("the release card in the personal chat", () => stream.WaitForAsync(
            e => e.IsCreate && e.ConversationId == chat && e.CardTitle.Contains($"{Release} — Draft", StringComparison.Ordinal), "a createMessage with the Draft release card"));
        Assert.Equal("1.5", (string?)created.Card!["version"]);
        var cardId = created.MessageId!;
        await teams.Step("the Started reply", () => stream.WaitForAsync(
            e => e.IsCreate && e.ConversationId == chat && e.Text.Contains($"Started {Release}", StringComparison.Ordinal), "the reply to the start command"));

        await playground.SendMessageAsync(chat, $"check {Release} {string.Join(' ', BlockingItems)}");
        await teams.Step("the check reply", () => stream.WaitForAsync(
            e => e.IsCreate && e.ConversationId == chat && e.Text.Contains("The checklist is complete", StringComparison.Ordinal), "the reply to the check command"));
        var awaiting = await teams.Step("the card awaiting approval", () => stream.WaitForAsync(
            e => e.IsUpdate && e.MessageId == cardId && e.CardTitle.Contains("Awaiting approval", StringComparison.Ordinal), "an updateMessage of the card: Awaiting approval"));
        var approve = Assert.Single(AgentsPlayground.ExecuteActions(awaiting.Card), a => (string?)a["verb"] == "approve");

        var mark = stream.Count;
        var refused = await playground.InvokeAsync(Alice.Id, chat, cardId, approve);
        Assert.True(refused.Status == 200, $"invoke answered HTTP {refused.Status}: {refused.Raw}");
        Assert.Equal(MessageType, refused.Type);
        Assert.Contains("separation of duties", (string?)refused.Value, StringComparison.Ordinal);

        // A later message's answer marks a point after which a card update caused by the click would have arrived.
        await playground.SendMessageAsync(chat, $"status {Release}");
        var status = await teams.Step("the status answer", () => stream.WaitForAsync(
            e => e.IsCreate && e.ConversationId == chat && e.CardTitle.Contains(Release, StringComparison.Ordinal), "the status card", after: mark));
        var between = stream.Snapshot().Skip(mark).Take(status.Sequence - mark).ToList();
        Assert.False(between.Any(e => e.IsUpdate && e.MessageId == cardId), $"the refused click changed the card:\n{stream.Describe()}");
        Assert.Contains("Awaiting approval", status.CardTitle, StringComparison.Ordinal);
        Assert.Contains("Awaiting approval", stream.Latest(cardId)!.CardTitle, StringComparison.Ordinal);

        var release = await teams.Host.ReleaseAsync(Release);
        Assert.Equal("AwaitingApproval", (string?)release["state"]);
        Assert.Empty(release["approvals"]!.AsArray());
    }

    /// <summary>A channel message that mentions ShipBot is answered in that message's thread.</summary>
    [Fact]
    public async Task Channel_MentionWithShipStatus_IsAnsweredInTheThread()
    {
        await using var teams = await TeamsSession.StartAsync();
        var playground = teams.Playground;

        var post = await playground.SendMessageAsync(Setup.GeneralChannelId, "ship status", mentionBot: true);
        Assert.Equal($"{Setup.GeneralChannelId};messageid={post.MessageId}", post.PostConversationId);
        var answer = await teams.Step("the status answer in the thread", () => playground.Stream.WaitForAsync(
            e => e.IsCreate && e.FromId == Setup.Bot.Id, "a message from ShipBot"));

        Assert.Equal(post.PostConversationId, answer.ConversationId);
        Assert.Contains("Active releases (0)", answer.CardTitle, StringComparison.Ordinal);
        Assert.Contains("No active releases.", answer.CardText, StringComparison.Ordinal);
    }

    /// <summary>The Confirm (check) button of a checklist row, or null.</summary>
    private static JsonObject? ConfirmFor(JsonNode? card, string item) =>
        AgentsPlayground.ExecuteActions(card).FirstOrDefault(a => (string?)a["verb"] == "check" && (string?)a["data"]?["command"] == $"check {Release} {item}");

    /// <summary>ShipBot (real host, Teams on, roles given to the playground users' Entra object ids) and the playground pointed at it.</summary>
    private sealed class TeamsSession : IAsyncDisposable
    {
        private TeamsSession(ShipBotHost host, AgentsPlayground playground)
        {
            Host = host;
            Playground = playground;
        }

        public ShipBotHost Host { get; }

        public AgentsPlayground Playground { get; }

        public static async Task<TeamsSession> StartAsync()
        {
            var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
            {
                ["Teams:AppId"] = Setup.Bot.Id,
                ["Teams:AppPassword"] = string.Empty,
                ["Teams:AllowUnauthenticatedLoopback"] = "true",
                ["ShipBot:Services:demo:Requesters:0"] = Alice.AadObjectId,
                ["ShipBot:Services:demo:Approvers:0"] = Bob.AadObjectId,
                ["ShipBot:Services:demo:OnCall:0"] = Carol.AadObjectId,
            });
            try
            {
                var playground = await AgentsPlayground.StartAsync(new Uri(host.BaseAddress, "/api/messages"), Setup);
                return new TeamsSession(host, playground);
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }

        /// <summary>Runs a step; a failure carries the playground's output, hop log and conversation.</summary>
        public async Task<T> Step<T>(string what, Func<Task<T>> step)
        {
            try
            {
                return await step();
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                throw new InvalidOperationException($"Step failed: {what}: {ex.Message}\n{Playground.Diagnostics()}", ex);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Playground.DisposeAsync();
            await Host.DisposeAsync();
        }
    }
}
