using System.Text.Json.Nodes;
using ShipBot.Coordinator;
using ShipBot.Core.Cards;
using ShipBot.Slack.Tests.TestSupport;

namespace ShipBot.Slack.Tests;

/// <summary>How a coordinator reply becomes a Slack acknowledgement body.</summary>
public sealed class SlackInboundTests
{
    private static readonly Card ReleaseCard = new(
        "🚀 checkout@1.4.2 — production at 5 %",
        "requested by @alice",
        CardTone.Info,
        [new TextBlock("Baking 3 of 10 min."), new ActionsBlock([new CardAction("promote", "Promote now", "promote checkout@1.4.2", ActionStyle.Primary)])],
        [],
        "checkout@1.4.2: baking");

    private static JsonArray Blocks(JsonObject message) => Assert.IsType<JsonArray>(message["blocks"]);

    [Fact]
    public void Render_PrivateReply_IsEphemeralText()
    {
        var message = SlackInbound.Render(CommandReply.Private("Only approvers can **approve** <x>."));

        Assert.Equal("ephemeral", (string?)message["response_type"]);
        Assert.Equal("Only approvers can *approve* &lt;x&gt;.", (string?)message["text"]);
        Assert.Null(message["blocks"]);
    }

    [Fact]
    public void Render_PublicReply_IsInChannel()
    {
        var message = SlackInbound.Render(CommandReply.Public("Started."));

        Assert.Equal("in_channel", (string?)message["response_type"]);
        Assert.Equal("Started.", (string?)message["text"]);
    }

    [Fact]
    public void Render_ReplyWithCard_SendsTheCardsBlocksAndFallback()
    {
        var message = SlackInbound.Render(CommandReply.Public(ReleaseCard.Fallback, ReleaseCard));

        Assert.Equal("in_channel", (string?)message["response_type"]);
        Assert.Equal(SlackBlockKit.Fallback(ReleaseCard), (string?)message["text"]);
        Assert.Equal(SlackBlockKit.Blocks(ReleaseCard).ToJsonString(), Blocks(message).ToJsonString());
        Assert.Equal("header", (string?)Blocks(message)[0]!["type"]);
    }

    [Fact]
    public void Render_EphemeralReplyWithCard_IsEphemeralWithBlocks()
    {
        var message = SlackInbound.Render(new CommandReply(ReplyVisibility.Ephemeral, ReleaseCard.Fallback, ReleaseCard));

        Assert.Equal("ephemeral", (string?)message["response_type"]);
        Assert.NotEmpty(Blocks(message));
    }

    [Fact]
    public void Render_ReplyTextDifferentFromTheCard_ShowsTheTextInAFirstSection()
    {
        var message = SlackInbound.Render(CommandReply.Public("Approved by **bob** <ok>.", ReleaseCard));

        var first = Blocks(message)[0]!;
        Assert.Equal("section", (string?)first["type"]);
        Assert.Equal("mrkdwn", (string?)first["text"]!["type"]);
        Assert.Equal("Approved by *bob* &lt;ok&gt;.", (string?)first["text"]!["text"]);
        Assert.Equal("header", (string?)Blocks(message)[1]!["type"]);
        SlackLimits.AssertWithin(message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Render_BlankReplyTextWithCard_AddsNoSection(string text)
    {
        var message = SlackInbound.Render(CommandReply.Public(text, ReleaseCard));

        Assert.Equal("header", (string?)Blocks(message)[0]!["type"]);
    }

    [Fact]
    public void Render_ReplyTextWithACardAtTheBlockLimit_StaysWithinFiftyBlocksAndKeepsTheButtons()
    {
        var card = new Card(
            "big",
            null,
            CardTone.Info,
            [.. Enumerable.Range(0, 80).Select(i => (CardBlock)new TextBlock($"line {i}")), new ActionsBlock([new CardAction("promote", "Promote now", "promote x", ActionStyle.Primary)])],
            [],
            "big card");

        var message = SlackInbound.Render(CommandReply.Public("Promoted.", card));

        SlackLimits.AssertWithin(message);
        Assert.Contains(Blocks(message), b => (string?)b!["type"] == "actions");
    }
}
