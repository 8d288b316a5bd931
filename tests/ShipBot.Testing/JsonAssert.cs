using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Sdk;

namespace ShipBot.Testing;

/// <summary>Semantic comparison of JSON documents, for stored formats that may gain fields but never lose or change one.</summary>
public static class JsonAssert
{
    /// <summary>
    /// Every property of <paramref name="expected"/> is in <paramref name="actual"/> with the same
    /// value, recursively; arrays have the same length and their elements compare the same way;
    /// numbers compare by value. <paramref name="actual"/> may have more properties.
    /// </summary>
    public static void Preserves(string expected, string actual)
    {
        var differences = new List<string>();
        Compare("$", JsonNode.Parse(expected), JsonNode.Parse(actual), differences);
        if (differences.Count > 0)
        {
            throw new XunitException($"The round trip lost or changed {differences.Count} value(s):\n  {string.Join("\n  ", differences.Take(20))}\nWritten back:\n{actual}");
        }
    }

    private static void Compare(string path, JsonNode? expected, JsonNode? actual, List<string> differences)
    {
        switch (expected)
        {
            case null:
                if (actual is not null)
                {
                    differences.Add($"{path}: expected null, found {actual.ToJsonString()}");
                }

                break;
            case JsonObject o:
                if (actual is not JsonObject a)
                {
                    differences.Add($"{path}: expected an object, found {actual?.ToJsonString() ?? "nothing"}");
                    break;
                }

                foreach (var (name, value) in o)
                {
                    if (!a.TryGetPropertyValue(name, out var found))
                    {
                        differences.Add($"{path}.{name}: missing (expected {value?.ToJsonString() ?? "null"})");
                        continue;
                    }

                    Compare($"{path}.{name}", value, found, differences);
                }

                break;
            case JsonArray e:
                if (actual is not JsonArray items || items.Count != e.Count)
                {
                    differences.Add($"{path}: expected {e.Count} item(s), found {actual?.ToJsonString() ?? "nothing"}");
                    break;
                }

                for (var i = 0; i < e.Count; i++)
                {
                    Compare($"{path}[{i}]", e[i], items[i], differences);
                }

                break;
            default:
                var want = expected.AsValue();
                if (actual is not JsonValue got || !SameValue(want, got))
                {
                    differences.Add($"{path}: expected {want.ToJsonString()}, found {actual?.ToJsonString() ?? "nothing"}");
                }

                break;
        }
    }

    private static bool SameValue(JsonValue expected, JsonValue actual)
    {
        var kind = expected.GetValueKind();
        if (kind != actual.GetValueKind())
        {
            return false;
        }

        return kind switch
        {
            JsonValueKind.Number => expected.GetValue<decimal>() == actual.GetValue<decimal>(),
            JsonValueKind.String => expected.GetValue<string>() == actual.GetValue<string>(),
            _ => JsonNode.DeepEquals(expected, actual),
        };
    }
}
