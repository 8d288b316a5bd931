using System.Text.Json.Nodes;

namespace ShipBot.Slack.Tests.TestSupport;

/// <summary>
/// Slack's documented Block Kit limits, checked on a rendered message body (independently of the
/// renderer's own constants, so a wrong constant would be caught too).
/// </summary>
internal static class SlackLimits
{
    public const int Blocks = 50;
    public const int HeaderText = 150;
    public const int SectionText = 3000;
    public const int Fields = 10;
    public const int FieldText = 2000;
    public const int ActionElements = 25;
    public const int ButtonText = 75;
    public const int ButtonValue = 2000;
    public const int ActionId = 255;
    public const int ContextElements = 10;
    public const int TextObject = 3000;
    public const int ConfirmTitle = 100;
    public const int ConfirmText = 300;
    public const int ConfirmButton = 30;

    /// <summary>Asserts every limit on one message (<c>text</c> + <c>blocks</c>); returns the action ids it saw.</summary>
    public static IReadOnlyList<string> AssertWithin(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var fallback = (string?)message["text"];
        Assert.False(string.IsNullOrWhiteSpace(fallback), "the message needs a non-empty text fallback");
        AssertNoLoneSurrogate(fallback!, "text");

        var blocks = Assert.IsType<JsonArray>(message["blocks"]);
        Assert.NotEmpty(blocks);
        Assert.True(blocks.Count <= Blocks, $"{blocks.Count} blocks (max {Blocks})");
        var actionIds = new List<string>();
        foreach (var node in blocks)
        {
            var block = Assert.IsType<JsonObject>(node);
            var type = (string?)block["type"];
            switch (type)
            {
                case "header":
                    AssertText(block["text"], "plain_text", HeaderText, "header");
                    break;
                case "section":
                    AssertSection(block, actionIds);
                    break;
                case "actions":
                    var elements = Assert.IsType<JsonArray>(block["elements"]);
                    Assert.InRange(elements.Count, 1, ActionElements);
                    foreach (var element in elements)
                    {
                        AssertButton(Assert.IsType<JsonObject>(element), actionIds);
                    }

                    break;
                case "context":
                    var items = Assert.IsType<JsonArray>(block["elements"]);
                    Assert.InRange(items.Count, 1, ContextElements);
                    foreach (var item in items)
                    {
                        AssertText(item, null, TextObject, "context element");
                    }

                    break;
                default:
                    Assert.Fail($"unexpected block type '{type}'");
                    break;
            }
        }

        Assert.True(actionIds.Count == actionIds.Distinct(StringComparer.Ordinal).Count(), "action_id values must be unique within a message: " + string.Join(", ", actionIds.GroupBy(a => a).Where(g => g.Count() > 1).Select(g => g.Key)));
        return actionIds;
    }

    /// <summary>Every string in the message (keys excluded).</summary>
    public static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };

    public static void AssertNoLoneSurrogate(string text, string where)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                Assert.True(i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]), $"{where}: a high surrogate without its low half at {i}");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(text[i]), $"{where}: a low surrogate without its high half at {i}");
            }
        }
    }

    private static void AssertSection(JsonObject block, List<string> actionIds)
    {
        var hasText = block["text"] is not null;
        var hasFields = block["fields"] is not null;
        Assert.True(hasText || hasFields, "a section needs text or fields");
        if (hasText)
        {
            AssertText(block["text"], null, SectionText, "section text");
        }

        if (hasFields)
        {
            var fields = Assert.IsType<JsonArray>(block["fields"]);
            Assert.InRange(fields.Count, 1, Fields);
            foreach (var field in fields)
            {
                AssertText(field, null, FieldText, "field");
            }
        }

        if (block["accessory"] is JsonObject accessory)
        {
            AssertButton(accessory, actionIds);
        }
    }

    private static void AssertButton(JsonObject button, List<string> actionIds)
    {
        Assert.Equal("button", (string?)button["type"]);
        AssertText(button["text"], "plain_text", ButtonText, "button text");
        var id = (string?)button["action_id"];
        Assert.False(string.IsNullOrEmpty(id), "a button needs an action_id");
        Assert.True(id!.Length <= ActionId, $"action_id of {id.Length} characters (max {ActionId})");
        AssertNoLoneSurrogate(id, "action_id");
        actionIds.Add(id);
        if (button["value"] is { } valueNode)
        {
            var value = (string?)valueNode ?? string.Empty;
            Assert.True(value.Length <= ButtonValue, $"button value of {value.Length} characters (max {ButtonValue})");
            AssertNoLoneSurrogate(value, "button value");
        }

        if (button["style"] is { } style)
        {
            Assert.Contains((string?)style, new[] { "primary", "danger" });
        }

        if (button["confirm"] is JsonObject confirm)
        {
            AssertText(confirm["title"], "plain_text", ConfirmTitle, "confirm title");
            AssertText(confirm["text"], null, ConfirmText, "confirm text");
            AssertText(confirm["confirm"], "plain_text", ConfirmButton, "confirm button");
            AssertText(confirm["deny"], "plain_text", ConfirmButton, "deny button");
        }
    }

    private static void AssertText(JsonNode? node, string? expectedType, int max, string where)
    {
        var text = Assert.IsType<JsonObject>(node);
        var type = (string?)text["type"];
        if (expectedType is not null)
        {
            Assert.Equal(expectedType, type);
        }
        else
        {
            Assert.Contains(type, new[] { "plain_text", "mrkdwn" });
        }

        var value = (string?)text["text"];
        Assert.False(string.IsNullOrEmpty(value), $"{where}: an empty text object");
        Assert.True(value!.Length <= max, $"{where}: {value.Length} characters (max {max})");
        AssertNoLoneSurrogate(value, where);
    }
}
