using System.Net;
using ShipBot.Testing;
using static ShipBot.IntegrationTests.Slack.SlackScenario;

namespace ShipBot.IntegrationTests.Slack;

/// <summary>How ShipBot copes when Slack's Web API rate limits it or refuses a call.</summary>
public sealed class SlackWebApiBehaviourTests
{
    [Fact]
    public async Task ChatUpdate_RateLimitedWithRetryAfter1_TheUpdateLandsAfterTheWait()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;

        s.Slack.RateLimitNext("chat.update", times: 1, retryAfterSeconds: 1);
        var (status, _) = await s.CommandAsync(Alice, $"check {Release} qa");
        Assert.Equal(HttpStatusCode.OK, status);

        var limited = await s.Slack.WaitForCallAsync("chat.update", c => c.Status == 429, "the rate-limited chat.update");
        Assert.Equal(ts, limited.Ts);
        var retried = await s.Slack.WaitForCallAsync(
            "chat.update",
            c => c.Seq > limited.Seq && c.Ok && c.Ts == ts && FakeSlack.Json(c.Body) == FakeSlack.Json(limited.Body),
            "the same update sent again");
        Assert.True(retried.At - limited.At >= TimeSpan.FromSeconds(0.9), $"waited only {(retried.At - limited.At).TotalMilliseconds:0} ms, not Retry-After");
        Assert.DoesNotContain(s.Slack.Calls, c => c.Method == "chat.update" && c.Seq > limited.Seq && c.Seq < retried.Seq && c.Ts == ts);

        // The card ends up showing the tick, in place.
        await s.CardStateAsync(ts, c => ShowsItemDone(c, "qa"), "the card showing qa done");
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
    }

    [Fact]
    public async Task ChatPostMessage_AnswersOkFalse_CommandStillAnswersAndALaterUpdatePostsTheCard()
    {
        await using var s = await SlackScenario.StartAsync();
        s.Slack.FailNext("chat.postMessage", "not_in_channel");

        var (status, ack) = await s.CommandAsync(Alice, "start demo 1.0.0");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"Started {Release}", (string?)ack["text"], StringComparison.Ordinal);
        var failed = await s.Slack.WaitForCallAsync("chat.postMessage", c => !c.Ok, "the refused post");
        Assert.True(IsCardOf(failed, Release));
        Assert.Equal("not_in_channel", (string?)failed.Answer["error"]);

        // ShipBot keeps working: the next change of the release posts the card afresh, then updates it in place.
        var (checkStatus, checkAck) = await s.CommandAsync(Alice, $"check {Release} qa");
        Assert.Equal(HttpStatusCode.OK, checkStatus);
        Assert.DoesNotContain("error", (string?)checkAck["text"] ?? string.Empty, StringComparison.OrdinalIgnoreCase);
        var card = await s.CardPostAsync();
        Assert.True(card.Seq > failed.Seq);
        await s.CardStateAsync(card.MessageTs!, c => ShowsItemDone(c, "qa"), "the card showing qa done");
        var awaiting = await s.SettleChecklistAsync(card.MessageTs!);
        Assert.Equal(card.MessageTs, awaiting.MessageTs);
        Assert.Equal("AwaitingApproval", (string?)(await s.ReleaseAsync())["state"]);
    }

    [Fact]
    public async Task ChatUpdate_AnswersOkFalse_TheNextChangeUpdatesTheCardAgain()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        var ts = card.MessageTs!;

        s.Slack.FailNext("chat.update", "internal_error");
        await s.CommandOkAsync(Alice, $"check {Release} qa", "qa");
        var failed = await s.Slack.WaitForCallAsync("chat.update", c => !c.Ok, "the refused update");

        await s.CommandAsync(Alice, $"check {Release} rollback");
        var later = await s.CardStateAsync(ts, c => ShowsItemDone(c, "rollback"), "the card showing rollback done", afterSeq: failed.Seq);
        Assert.Equal("chat.update", later.Method);
        Assert.True(ShowsItemDone(later, "qa"), "the later update carries the state the refused one had");
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && IsCardOf(c, Release));
    }

    [Fact]
    public async Task ChatUpdate_CardMessageWasDeleted_PostsAFreshCardAndUpdatesThatOneFromThenOn()
    {
        await using var s = await SlackScenario.StartAsync();
        var card = await s.StartAsync();
        await s.CardStateAsync(card.MessageTs!, c => c.Method == "chat.update", "the first update of the card");
        s.Slack.DeleteMessage(card.MessageTs!);

        await s.CommandAsync(Alice, $"check {Release} qa");
        var gone = await s.Slack.WaitForCallAsync("chat.update", c => (string?)c.Answer["error"] == "message_not_found", "the update of the deleted card");
        var fresh = await s.Slack.WaitForCallAsync("chat.postMessage", c => c.Ok && c.Seq > gone.Seq && IsCardOf(c, Release), "a fresh post of the card");
        Assert.NotEqual(card.MessageTs, fresh.MessageTs);
        Assert.True(ShowsItemDone(fresh, "qa"));

        await s.CommandAsync(Alice, $"check {Release} rollback");
        var updated = await s.CardStateAsync(fresh.MessageTs!, c => c.Method == "chat.update" && ShowsItemDone(c, "rollback"), "an update of the fresh card");
        Assert.Equal(fresh.MessageTs, updated.Ts);
    }

    [Fact]
    public async Task ChatPostMessage_FirstCardPostRateLimited_TheCardIsPostedOnceAndThenUpdatedInPlace()
    {
        await using var s = await SlackScenario.StartAsync();
        s.Slack.RateLimitNext("chat.postMessage", times: 1, retryAfterSeconds: 1);

        await s.CommandOkAsync(Alice, "start demo 1.0.0", $"Started {Release}");

        var limited = await s.Slack.WaitForCallAsync("chat.postMessage", c => c.Status == 429, "the rate-limited post");
        var card = await s.CardPostAsync();
        Assert.True(card.At - limited.At >= TimeSpan.FromSeconds(0.9), "the post waited for Retry-After");
        await s.CommandAsync(Alice, $"check {Release} qa");
        await s.CardStateAsync(card.MessageTs!, c => c.Method == "chat.update" && ShowsItemDone(c, "qa"), "an update of the card");
        Assert.Single(s.Slack.Calls, c => c.Method == "chat.postMessage" && c.Ok && IsCardOf(c, Release));
    }
}
