using System.Text.Json.Nodes;

namespace ShipBot.Teams.Tests.TestSupport;

/// <summary>Walks a rendered Adaptive Card: its actions (in action sets, columns and show-cards, at any depth) and its strings.</summary>
internal static class CardJson
{
    /// <summary>Every action of the card: the members of any <c>actions</c> array, at any depth (a fallback is not an action of its own).</summary>
    public static IEnumerable<JsonObject> Actions(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    if (name == "actions" && value is JsonArray actions)
                    {
                        foreach (var action in actions.OfType<JsonObject>())
                        {
                            yield return action;
                        }
                    }

                    if (name is "fallback" or "msteams")
                    {
                        continue;
                    }

                    foreach (var nested in Actions(value))
                    {
                        yield return nested;
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    foreach (var nested in Actions(item))
                    {
                        yield return nested;
                    }
                }

                break;
        }
    }

    public static IEnumerable<JsonObject> OfType(JsonNode? node, string type)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["type"] is JsonValue t && t.TryGetValue<string>(out var name) && name == type)
                {
                    yield return o;
                }

                foreach (var (_, value) in o)
                {
                    foreach (var nested in OfType(value, type))
                    {
                        yield return nested;
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    foreach (var nested in OfType(item, type))
                    {
                        yield return nested;
                    }
                }

                break;
        }
    }

    /// <summary>Every string value, with the path it sits at; <paramref name="skip"/> names properties not to enter.</summary>
    public static IEnumerable<(string Path, string Value)> Strings(JsonNode? node, string path = "$", params string[] skip)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    if (skip.Contains(name))
                    {
                        continue;
                    }

                    foreach (var s in Strings(value, $"{path}.{name}", skip))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var s in Strings(a[i], $"{path}[{i}]", skip))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonValue v when v.TryGetValue<string>(out var text):
                yield return (path, text);
                break;
        }
    }
}
