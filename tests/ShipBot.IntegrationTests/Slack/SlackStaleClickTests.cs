using System.Net;
using System.Text.Json.Nodes;
using ShipBot.IntegrationTests.Console;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>
/// Issue 11's click bugs over Slack's signed interactions: a button carries the basis it was shown
/// for in its action id, a double click (Slack sends a fresh trigger id each time) acts once, and a
/// late click on an old card never lands on what changed since.
/// </summary>
public sealed class SlackStaleClickTests
{
    [Fact]
    public async Task ApprovePromotion_ClickedTwiceOnTheSameMessage_PromotesOneStageOnly()
    {
        var settings = LifecycleSafetyRegressionTests.Bakes("00:00:01", "00:00:01", "00:01:00", "00:01:00");
        settings["ShipBot:Services:demo:Stages:1:NeedsApproval"] = "true";
        await using var s = await SlackScenario.StartAsync(extra: settings);
        var ts = await ApprovedAsync(s);
        var waiting = await s.CardStateAsync(ts, c => FakeSlack.Buttons(c.Blocks).Any(b => LabelOf(b) == "Approve promotion"), "the card asking for the promotion's approval");
        var approve = FakeSlack.Buttons(waiting.Blocks).First(b => LabelOf(b) == "Approve promotion");

        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Bob, approve, ts));
        await LifecycleSafetyRegressionTests.WaitForAsync(s.Bot, Release, r => AuditHas(r, "production at 50 %:"), "the GA deployment applied");
        var responseUrl = s.Slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Bob, approve, ts, responseUrl));

        var release = await s.ReleaseAsync();
        Assert.Equal("GeneralAvailability", (string?)release["state"]);
        Assert.False(AuditHas(release, "promoted to Full"), "the second click promoted again");
        Assert.Contains('|', (string?)approve["action_id"] ?? string.Empty); // the basis rode in the action id
    }

    [Fact]
    public async Task Continue_ClickedAgainOnTheOldDecisionAfterANewBreach_DoesNotAnswerTheNewOne()
    {
        await using var s = await SlackScenario.StartAsync(extra: LifecycleSafetyRegressionTests.Bakes("00:00:01", "00:00:02", "00:01:00", "00:01:00"));
        await ApprovedAsync(s);
        await s.CommandAsync(Carol, "simulate demo user_feedback 2");
        var decision = await s.Slack.WaitForCallAsync("chat.postMessage",
            c => c.Ok && c.Header?.StartsWith($"🟠 {Release} at Early adopters 25 %", StringComparison.Ordinal) == true, "the decision card at Early adopters");
        var cont = FakeSlack.Buttons(decision.Blocks).First(b => ((string?)b["action_id"])?.StartsWith("decide-continue", StringComparison.Ordinal) == true);

        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Carol, cont, decision.MessageTs!));
        await LifecycleSafetyRegressionTests.WaitForAsync(s.Bot, Release, r => (string?)r["decision"]?["stage"] == "GA 50 %", "a new decision at GA 50 %");
        var responseUrl = s.Slack.NewResponseUrl();
        Assert.Equal(HttpStatusCode.OK, await s.ClickAsync(Carol, cont, decision.MessageTs!, responseUrl));

        var release = await s.ReleaseAsync();
        Assert.Equal("GA 50 %", (string?)release["decision"]?["stage"]);
        Assert.Single(release["audit"]!.AsArray(), a => (string?)a!["action"] == "Decided");
        var note = await s.Slack.WaitForResponseAsync(responseUrl);
        Assert.Contains("out of date", note.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromoteNow_ReasonModalSubmittedFromAnOutOfDateCard_ChangesNothingAndSaysWhatChanged()
    {
        await using var s = await SlackScenario.StartAsync(extra: LifecycleSafetyRegressionTests.Bakes("00:01:00", "00:01:00", "00:01:00", "00:01:00"));
        var ts = await ApprovedAsync(s);
        var canary = await s.CardStateAsync(ts, c => FakeSlack.Buttons(c.Blocks).Any(b => LabelOf(b) == "Promote now"), "the card offering Promote now");
        var promote = FakeSlack.Buttons(canary.Blocks).First(b => LabelOf(b) == "Promote now");

        // Promote now asks why, in a modal; its submission promotes once.
        var first = await OpenModalAsync(s, promote, ts);
        await SubmitAsync(s, first, "canary clean for 20 min");
        await LifecycleSafetyRegressionTests.WaitForAsync(s.Bot, Release, r => AuditHas(r, "production at 25 %:"), "the Early adopters deployment applied");

        // The same button on the same (now old) message: its modal carries the old basis. (Another reason makes it
        // another click; the same reason within a second would be a double click, answered once.)
        var second = await OpenModalAsync(s, promote, ts);
        await SubmitAsync(s, second, "still clean");

        var note = await s.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Ok && c.Text.Contains("out of date", StringComparison.Ordinal), "the out-of-date note");
        Assert.Contains("Early adopters 25 %", note.Text, StringComparison.Ordinal);
        var release = await s.ReleaseAsync();
        Assert.Equal("EarlyAdopters", (string?)release["state"]);
        Assert.Contains(release["audit"]!.AsArray(), a => ((string?)a!["detail"])?.Contains("promoted early", StringComparison.Ordinal) == true
            && ((string?)a["detail"])!.Contains("canary clean for 20 min", StringComparison.Ordinal));
    }

    private static async Task<string> ApprovedAsync(SlackScenario s)
    {
        var card = await s.StartAsync();
        await s.SettleChecklistAsync(card.MessageTs!);
        await s.CommandOkAsync(Bob, $"approve {Release}", "goes to staging");
        return card.MessageTs!;
    }

    private static async Task<JsonObject> OpenModalAsync(SlackScenario s, JsonObject button, string ts)
    {
        var click = s.Slack.BlockActionsPayload(Bob, "bob", button, Channel, ts);
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(FakeSlack.Interaction(click))).Status);
        var opened = await s.Slack.WaitForCallAsync("views.open", c => c.Ok && (string?)c.Body["trigger_id"] == (string?)click["trigger_id"], "the reason modal");
        return opened.Answer["view"]!.AsObject();
    }

    private static async Task SubmitAsync(SlackScenario s, JsonObject view, string reason)
    {
        var input = view["blocks"]!.AsArray().OfType<JsonObject>().Single(b => (string?)b["type"] == "input");
        var values = new Dictionary<string, Dictionary<string, string>> { [(string)input["block_id"]!] = new() { [(string)input["element"]!["action_id"]!] = reason } };
        Assert.Equal(HttpStatusCode.OK, (await s.SendAsync(FakeSlack.ViewSubmission(Bob, "bob", view, values))).Status);
    }

    private static string LabelOf(JsonObject button) => (string?)button["text"]?["text"] ?? string.Empty;

    private static bool AuditHas(JsonObject release, string part) =>
        release["audit"]!.AsArray().Any(a => ((string?)a!["detail"])?.Contains(part, StringComparison.Ordinal) == true);
}
