using System.Text.Json.Nodes;

namespace ShipBot.Teams.Tests;

/// <summary>
/// The command text of a Teams message: the bot's own mention removed, "ship" required in channels
/// and group chats but not in a personal chat, HTML entities decoded, other people's mentions kept
/// as @name.
/// </summary>
public sealed class TeamsInboundTests
{
    private const string BotId = "28:3f2a6c8e-0d4b-4b8e-9a51-7c1f0e2d9b10";

    private static JsonObject BotMention(string name = "ShipBot") => new()
    {
        ["type"] = "mention",
        ["text"] = $"<at>{name}</at>",
        ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = name },
    };

    private static JsonObject UserMention(string id, string name) => new()
    {
        ["type"] = "mention",
        ["text"] = $"<at>{name}</at>",
        ["mentioned"] = new JsonObject { ["id"] = id, ["name"] = name },
    };

    private static JsonObject Activity(string text, string? conversationType, params JsonObject[] entities)
    {
        var conversation = new JsonObject { ["id"] = "19:abc@thread.tacv2;messageid=1" };
        if (conversationType is not null)
        {
            conversation["conversationType"] = conversationType;
        }

        return new JsonObject
        {
            ["type"] = "message",
            ["text"] = text,
            ["channelId"] = "msteams",
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "ShipBot" },
            ["from"] = new JsonObject { ["id"] = "29:alice", ["aadObjectId"] = "aad-alice", ["name"] = "Alice" },
            ["conversation"] = conversation,
            ["entities"] = new JsonArray([.. entities.Select(e => (JsonNode)e), new JsonObject { ["type"] = "clientInfo", ["locale"] = "en-US" }]),
        };
    }

    [Theory]
    [InlineData("channel")]
    [InlineData("groupChat")]
    public void CommandText_ChannelMessageMentioningTheBot_RemovesTheMention(string conversationType)
    {
        var activity = Activity("<at>ShipBot</at> ship status checkout@1.4.2", conversationType, BotMention());

        Assert.Equal("ship status checkout@1.4.2", TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_ChannelMessageWithSlashShip_IsKept()
    {
        var activity = Activity("<at>ShipBot</at> /ship help", "channel", BotMention());

        Assert.Equal("/ship help", TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_ChannelMessageWithDifferentCaseShip_IsAccepted()
    {
        var activity = Activity("<at>ShipBot</at> Ship help", "channel", BotMention());

        Assert.Equal("Ship help", TeamsInbound.CommandText(activity));
    }

    [Theory]
    [InlineData("<at>ShipBot</at> status checkout@1.4.2")]
    [InlineData("<at>ShipBot</at> hello there")]
    [InlineData("<at>ShipBot</at> shipping is late")]
    [InlineData("<at>ShipBot</at>")]
    public void CommandText_ChannelMessageWithoutShip_IsNotACommand(string text)
    {
        var activity = Activity(text, "channel", BotMention());

        Assert.Null(TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_BotMentionedUnderADifferentDisplayName_IsRemoved()
    {
        var activity = Activity("<at>Ship Bot (prod)</at> ship help", "channel", BotMention("Ship Bot (prod)"));

        Assert.Equal("ship help", TeamsInbound.CommandText(activity));
    }

    [Theory]
    [InlineData("status checkout@1.4.2", "/ship status checkout@1.4.2")]
    [InlineData("ship status checkout@1.4.2", "ship status checkout@1.4.2")]
    [InlineData("/ship status checkout@1.4.2", "/ship status checkout@1.4.2")]
    [InlineData("  help  ", "/ship help")]
    public void CommandText_PersonalChat_NeedsNoShip(string text, string expected)
    {
        var activity = Activity(text, "personal");

        Assert.Equal(expected, TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_NoConversationType_IsTreatedAsPersonal()
    {
        var activity = Activity("help", null);

        Assert.Equal("/ship help", TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_PersonalChatMentioningTheBot_RemovesTheMention()
    {
        var activity = Activity("<at>ShipBot</at> help", "personal", BotMention());

        Assert.Equal("/ship help", TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_HtmlEntities_AreDecoded()
    {
        var activity = Activity("<at>ShipBot</at> ship start checkout 1.4.2 fix &lt;cart&gt; &amp; &quot;tax&quot; rounding&nbsp;now", "channel", BotMention());

        Assert.Equal("ship start checkout 1.4.2 fix <cart> & \"tax\" rounding now", TeamsInbound.CommandText(activity)!.Replace('\u00a0', ' '));
    }

    [Fact]
    public void CommandText_HtmlFormattedMessage_LosesItsTags()
    {
        var activity = Activity("<p><at>ShipBot</at> ship <strong>approve</strong> checkout@1.4.2</p>", "channel", BotMention());

        Assert.Equal("ship approve checkout@1.4.2", TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_OtherPeoplesMentions_AreKeptAsAtName()
    {
        var activity = Activity("<at>ShipBot</at> ship reject checkout@1.4.2 ask <at>Bob</at> first", "channel", BotMention(), UserMention("29:bob", "Bob"));

        Assert.Equal("ship reject checkout@1.4.2 ask @Bob first", TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_MentionOfAnotherUserOnly_IsNotACommandInAChannel()
    {
        var activity = Activity("<at>Bob</at> ship it", "channel", UserMention("29:bob", "Bob"));

        Assert.Null(TeamsInbound.CommandText(activity));
    }

    [Fact]
    public void CommandText_NoText_IsNotACommandInAChannel()
    {
        var activity = Activity("", "channel");
        activity.Remove("text");

        Assert.Null(TeamsInbound.CommandText(activity));
    }
}
