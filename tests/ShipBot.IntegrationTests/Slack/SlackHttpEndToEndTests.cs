using System.Net;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>
/// The release flow through Slack's HTTP endpoints, end to end: signed slash commands and button
/// clicks into a real ShipBot, and ShipBot's Web API calls into a fake Slack over loopback.
/// </summary>
public sealed class SlackHttpEndToEndTests
{
    [Fact]
    public async Task SlashCommand_StartFromRequester_AcksEphemerallyAndPostsTheCardAndTheOnCallNotice()
    {
        await using var s = await SlackScenario.StartAsync();

        var (status, ack) = await s.CommandAsync(Alice, "start demo 1.0.0 faster checkout");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ephemeral", (string?)ack["response_type"]);
        Assert.Contains($"Started {Release}", (string?)ack["text"], StringComparison.Ordinal);

        var card = await s.CardPostAsync();
        Assert.Equal(Channel, card.Channel);
        Assert.Null(card.ThreadTs);
        Assert.Equal($"Bearer {FakeSlack.BotToken}", card.Authorization);
        Assert.Contains("demo@1.0.0", card.Header, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(card.Text), "every message carries a plain-text fallback");
        Assert.Contains("demo@1.0.0", card.Text, StringComparison.Ordinal);
        Assert.InRange(card.Blocks.Count, 2, 50);
        Assert.Contains("requested by @alice", card.AllText, StringComparison.Ordinal);
        var buttons = FakeSlack.Buttons(card.Blocks).ToList();
        Assert.Contains(buttons, b => (string?)b["value"] == $"check {Release} qa");
        Assert.Equal(buttons.Count, buttons.Select(b => (string?)b["action_id"]).Distinct().Count());

        // ShipBot tells on-call (a Slack user group) in the card's thread, broadcast to the channel.
        var notice = await s.Slack.WaitForCallAsync("chat.postMessage", c => c.Ok && c.Text.Contains("is starting", StringComparison.Ordinal), "the on-call notice");
        Assert.Contains(OnCallMention, notice.Text, StringComparison.Ordinal);
        Assert.Contains(OnCallMention, FakeSlack.Strings(notice.Blocks), StringComparison.Ordinal);
        Assert.Equal(card.MessageTs, notice.ThreadTs);
        Assert.True((bool?)notice.Body["reply_broadcast"]);

        // Every Web API call carried the bot token.
        Assert.All(s.Slack.Calls, c => Assert.Equal($"Bearer {FakeSlack.BotToken}", c.Authorization));
        Assert.Contains(s.Slack.Calls, c => c.Method == "usergroups.users.list" && (string?)c.Body["usergroup"] == "SONCALL");
    }

    [Fact]
    public async Task BlockActions_ApproverClicksApproveFromTheCard_UpdatesTheSameMessageWithTheApproval()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;

        // Alice ticks one item with its button, read from the posted blocks, and the rest by command.
        var qa = Button(card, $"check {Release} qa");
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Alice, qa, ts));
        var ticked = await s.CardStateAsync(ts, c => ShowsItemDone(c, "qa"), "the card showing qa done");
        Assert.Equal("chat.update", ticked.Method);
        var awaiting = await s.SettleChecklistAsync(ts);

        var approve = Button(awaiting, $"approve {Release}");
        Assert.StartsWith("approve|r", (string?)approve["action_id"], StringComparison.Ordinal); // the button's id and the basis it was shown for
        var responseUrl = s.Slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Bob, approve, ts, responseUrl));

        var approved = await s.CardStateAsync(ts, c => c.AllText.Contains("approved by @bob", StringComparison.Ordinal), "the card showing bob's approval", afterSeq: awaiting.Seq);
        Assert.Equal("chat.update", approved.Method);
        Assert.Equal(Channel, approved.Channel);
        Assert.Contains(Release, approved.Header, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeSlack.Buttons(approved.Blocks), b => (string?)b["action_id"] == "approve");

        var release = await s.ReleaseAsync();
        Assert.Contains(Bob, ShipBotHost.Text(release["approvals"]), StringComparison.Ordinal);

        // One message for the card, updated in place; a click that worked needs no private note.
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
        Assert.All(s.Slack.Calls.Where(c => c.Method == "chat.update" && IsCardOf(c, Release)), c => Assert.Equal(ts, c.Ts));
        Assert.DoesNotContain(s.Slack.ResponsePosts, p => responseUrl.AbsolutePath.EndsWith(p.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BlockActions_ClickWithoutTheRole_GetsAPrivateNoteNamingTheRoleAndTheCardStaysUnapproved()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;
        var awaiting = await s.SettleChecklistAsync(ts);
        var approve = Button(awaiting, $"approve {Release}");

        var malloryUrl = s.Slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Mallory, approve, ts, malloryUrl));
        var note = await s.Slack.WaitForResponseAsync(malloryUrl);
        Assert.Contains("approver role", note.Text, StringComparison.Ordinal);
        Assert.Contains("@mallory", note.Text, StringComparison.Ordinal);
        Assert.Equal("ephemeral", (string?)note.Body["response_type"]);
        Assert.False((bool?)note.Body["replace_original"]);

        // The requester may not approve their own release either (separation of duties).
        var aliceUrl = s.Slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Alice, approve, ts, aliceUrl));
        var own = await s.Slack.WaitForResponseAsync(aliceUrl);
        Assert.Contains("separation of duties", own.Text, StringComparison.Ordinal);

        var release = await s.ReleaseAsync();
        Assert.Equal("AwaitingApproval", (string?)release["state"]);
        Assert.Empty(release["approvals"]!.AsArray());
        Assert.DoesNotContain(s.Slack.Calls, c => c.Method == "chat.update" && c.AllText.Contains("approved by @", StringComparison.Ordinal));
        Assert.Contains(release["audit"]!.AsArray(), a => ((string?)a!["action"])?.StartsWith("refused", StringComparison.Ordinal) == true
            && ((string?)a["detail"])?.Contains("approver role", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Breach_AfterApprovalAtCanary_RollbackAlertIsThreadedUnderTheCardAndMentionsOnCall()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;
        var awaiting = await s.SettleChecklistAsync(ts);
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Bob, Button(awaiting, $"approve {Release}"), ts));
        await s.Bot.WaitForStateAsync(Release, "Canary");

        var simulated = await s.CommandOkAsync(Carol, "simulate demo error_rate 0.5", "error rate");
        Assert.Equal("in_channel", (string?)simulated["response_type"]);
        await s.Bot.WaitForStateAsync(Release, "RolledBack");

        var alert = await s.Slack.WaitForCallAsync(
            "chat.postMessage",
            c => c.Ok && c.ThreadTs == ts && c.AllText.Contains($"back {Release}", StringComparison.Ordinal),
            "the rollback alert in the card's thread");
        Assert.Equal(Channel, alert.Channel);
        Assert.Contains(OnCallMention, alert.Text, StringComparison.Ordinal);
        Assert.Contains(OnCallMention, FakeSlack.Strings(alert.Blocks), StringComparison.Ordinal);
        Assert.True((bool?)alert.Body["reply_broadcast"], "an alert in a thread is broadcast to the channel so it notifies");
        Assert.Contains("error rate", alert.AllText, StringComparison.Ordinal);

        // The card itself ends rolled back, still one message.
        await s.CardStateAsync(ts, c => c.Header?.Contains("Rolled back", StringComparison.Ordinal) == true, "the card showing the rollback");
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
    }

    [Fact]
    public async Task SlashCommand_ManualRollbackByOnCallGroupMember_AlertMentionsOnCallInTheThread()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;
        await s.SettleChecklistAsync(ts);
        await s.CommandOkAsync(Bob, $"approve {Release}", "goes to staging");
        await s.Bot.WaitForStateAsync(Release, "Canary");

        // Carol holds no role by id: only through the Slack user group SONCALL.
        var (status, ack) = await s.CommandAsync(Carol, $"rollback {Release} checkout errors reported by support");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("role", (string?)ack["text"] ?? string.Empty, StringComparison.Ordinal);
        await s.Bot.WaitForStateAsync(Release, "RolledBack");

        var alert = await s.Slack.WaitForCallAsync(
            c => c.Ok && c.Method is "chat.postMessage" or "chat.update" && c.AllText.Contains($"back {Release}", StringComparison.Ordinal)
                && c.AllText.Contains(OnCallMention, StringComparison.Ordinal) && !IsCardOf(c, Release),
            "the rollback alert");
        var first = s.Slack.Calls.First(c => c.Method == "chat.postMessage" && c.Ok && c.MessageTs == alert.MessageTs);
        Assert.Equal(ts, first.ThreadTs);
        Assert.Contains("checkout errors reported by support", alert.AllText, StringComparison.Ordinal);
    }
}
