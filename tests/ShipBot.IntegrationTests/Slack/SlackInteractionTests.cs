using System.Net;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>
/// The finer points of Slack's interaction model, end to end: the 3-second acknowledgement,
/// response_url's use limit, reason modals (views.open and view_submission), Block Kit limits,
/// and roles that come from Slack user groups.
/// </summary>
public sealed class SlackInteractionTests
{
    [Fact]
    public async Task SlashCommand_SlowerThanTheAckBudget_AcksWithin3SecondsAndTheAnswerFollowsThroughResponseUrl()
    {
        // The budget (1 s, within Slack's 3 s) runs on a clock the test moves; Slack holds the card post (and its retries) until the
        // test lets it go, and the publish waits for it, so the work cannot finish first however slow the machine.
        var budget = new WatchedTimeProvider(DateTimeOffset.UtcNow);
        await using var s = await SlackScenario.StartAsync(extra: new Dictionary<string, string?> { ["Slack:AckBudget"] = "00:00:01", ["Slack:PublishWait"] = "00:05:00" }, ackClock: budget);
        await s.CommandOkAsync(Bob, "help", "/ship start");
        var letSlackAnswer = s.Slack.HoldNext("chat.postMessage", times: 5);
        var responseUrl = s.Slack.NewResponseUrl();

        var command = s.CommandAsync(Alice, "start demo 1.0.0", responseUrl);
        await Eventually.UntilAsync(() => budget.ActiveTimers == 1, "the command's acknowledgement budget to start");
        var waited = await budget.DriveAsync(command, () => true, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(3));
        var (status, ack) = await command;

        // Acknowledged when the 1 s budget ran out, while the work was still waiting on Slack.
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(waited < TimeSpan.FromSeconds(3), $"Slack gives up after 3 s; the acknowledgement took {waited.TotalMilliseconds:0} ms of the budget's clock");
        letSlackAnswer();
        Assert.Equal("ephemeral", (string?)ack["response_type"]);
        Assert.DoesNotContain("Started", (string?)ack["text"], StringComparison.Ordinal);

        var answer = await s.Slack.WaitForResponseAsync(responseUrl);
        Assert.Contains($"Started {Release}", answer.Text, StringComparison.Ordinal);
        Assert.Equal("ephemeral", (string?)answer.Body["response_type"]);
        await s.CardPostAsync();
    }

    [Fact]
    public async Task BlockActions_MoreThanFiveRefusalsOnOneResponseUrl_TheSixthComesThroughChatPostEphemeral()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;
        var approve = Button(await s.SettleChecklistAsync(ts), $"approve {Release}");
        var responseUrl = s.Slack.NewResponseUrl();

        for (var i = 1; i <= 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Mallory, approve, ts, responseUrl));
        }

        var ephemeral = await s.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Ok && (string?)c.Body["user"] == Mallory, "the sixth refusal as chat.postEphemeral");
        Assert.Equal(Channel, ephemeral.Channel);
        Assert.Contains("approver role", ephemeral.Text, StringComparison.Ordinal);
        var posts = s.Slack.ResponsePosts.Where(p => responseUrl.AbsolutePath.EndsWith(p.Id, StringComparison.Ordinal)).ToList();
        Assert.Equal(5, posts.Count);
        Assert.All(posts, p => Assert.Contains("approver role", p.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BlockActions_RejectAsksForAReasonInAModal_TheSubmissionRejectsTheRelease()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;
        var reject = Button(card, $"reject {Release}");
        Assert.StartsWith("ask:", (string?)reject["action_id"], StringComparison.Ordinal);

        var click = s.Slack.BlockActionsPayload(Bob, "bob", reject, Channel, ts);
        var (status, _) = await s.SendAsync(FakeSlack.Interaction(click));
        Assert.Equal(HttpStatusCode.OK, status);

        var opened = await s.Slack.WaitForCallAsync("views.open", c => c.Ok, "the reason modal");
        Assert.Equal((string?)click["trigger_id"], (string?)opened.Body["trigger_id"]);
        var view = opened.Answer["view"]!.AsObject();
        var input = view["blocks"]!.AsArray().OfType<JsonObject>().Single(b => (string?)b["type"] == "input");
        var blockId = (string)input["block_id"]!;
        var actionId = (string)input["element"]!["action_id"]!;

        // An empty reason keeps the modal open with an error on the field.
        var (emptyStatus, emptyBody) = await s.SendAsync(FakeSlack.ViewSubmission(Bob, "bob", view, new() { [blockId] = new() { [actionId] = "   " } }));
        Assert.Equal(HttpStatusCode.OK, emptyStatus);
        var errors = JsonNode.Parse(emptyBody)!.AsObject();
        Assert.Equal("errors", (string?)errors["response_action"]);
        Assert.NotNull(errors["errors"]![blockId]);
        Assert.Equal("Draft", (string?)(await s.ReleaseAsync())["state"]);

        var (submitStatus, submitBody) = await s.SendAsync(FakeSlack.ViewSubmission(Bob, "bob", view, new() { [blockId] = new() { [actionId] = "contract lists no rollback owner" } }));
        Assert.Equal(HttpStatusCode.OK, submitStatus);
        Assert.True(string.IsNullOrWhiteSpace(submitBody) || !submitBody.Contains("errors", StringComparison.Ordinal), submitBody);

        var rejected = await s.CardStateAsync(ts, c => c.Header?.Contains("Rejected", StringComparison.Ordinal) == true, "the card showing the rejection");
        Assert.Contains("contract lists no rollback owner", rejected.AllText, StringComparison.Ordinal);
        var release = await s.ReleaseAsync();
        Assert.Equal("Rejected", (string?)release["state"]);
    }

    [Fact]
    public async Task BlockActions_ReasonModalCannotOpen_TheUserIsToldThroughResponseUrlWhatToTypeInstead()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        s.Slack.FailNext("views.open", "expired_trigger_id");
        var responseUrl = s.Slack.NewResponseUrl();

        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Bob, Button(card, $"reject {Release}"), card.MessageTs!, responseUrl));

        var note = await s.Slack.WaitForResponseAsync(responseUrl);
        Assert.Contains("expired_trigger_id", note.Text, StringComparison.Ordinal);
        Assert.Contains($"/ship reject {Release}", note.Text, StringComparison.Ordinal);
        Assert.Equal("Draft", (string?)(await s.ReleaseAsync())["state"]);
    }

    [Fact]
    public async Task Cards_LongContractAndStatusReplies_StayWithinBlockKitLimits()
    {
        await using var s = await SlackScenario.StartAsync();
        var changes = string.Join("; ", Enumerable.Range(1, 60).Select(i => $"change {i}: <rework> the checkout & basket flow so that totals are recomputed server-side"));

        await s.CommandOkAsync(Alice, $"start demo 1.0.0 {changes} --flag new-basket --flag server-totals", $"Started {Release}");

        // The fake refuses what Slack would refuse (invalid_blocks), so a posted card is a valid one.
        var card = await s.CardPostAsync();
        Assert.Empty(FakeSlack.BlockKitErrors(card.Body));
        Assert.Contains("&lt;rework&gt; the checkout &amp; basket", card.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Slack.Calls, c => (string?)c.Answer["error"] == "invalid_blocks");

        foreach (var text in new[] { $"status {Release}", $"status {Release} --audit", "list", "help", $"contract {Release}" })
        {
            var (status, ack) = await s.CommandAsync(Alice, text);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.False(string.IsNullOrWhiteSpace((string?)ack["text"]), $"'{text}' has a text fallback");
            Assert.Empty(FakeSlack.BlockKitErrors(ack));
        }
    }

    [Fact]
    public async Task Roles_OnCallGroupUnreadable_TheGroupMemberIsDeniedNotGranted()
    {
        await using var s = await SlackScenario.StartAsync();
        s.Slack.FailNext("usergroups.users.list", "missing_scope");

        var (status, ack) = await s.CommandAsync(Carol, "halt demo maintenance window");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("on-call or admin role", (string?)ack["text"], StringComparison.Ordinal);
        Assert.Contains(s.Slack.Calls, c => c.Method == "usergroups.users.list" && (string?)c.Answer["error"] == "missing_scope");
        var (_, list) = await s.CommandAsync(Alice, "list");
        Assert.DoesNotContain("halted", FakeSlack.Strings(list), StringComparison.Ordinal);
    }
}
