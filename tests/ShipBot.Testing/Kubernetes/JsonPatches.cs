using System.Globalization;
using System.Text.Json.Nodes;

namespace ShipBot.Testing.Kubernetes;

/// <summary>A patch the API server refuses: 400 (malformed) or 422 (cannot be applied, e.g. a failed test).</summary>
public sealed class PatchException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as the API server applies them.</summary>
public static class JsonPatches
{
    /// <summary>RFC 7386: objects merge member by member, null removes a member, anything else replaces.</summary>
    public static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject targetObject ? targetObject.DeepClone().AsObject() : [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Merge(result[key], value);
            }
        }

        return result;
    }

    /// <summary>RFC 6902: applies every operation in order to a copy of <paramref name="document"/>, or throws <see cref="PatchException"/>.</summary>
    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (patch is not JsonArray operations)
        {
            throw new PatchException(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        var root = new JsonObject { ["doc"] = document.DeepClone() };
        foreach (var node in operations)
        {
            if (node is not JsonObject op || (string?)op["op"] is not { } kind || (string?)op["path"] is not { } path)
            {
                throw new PatchException(400, $"invalid JSON patch operation: {node?.ToJsonString()}");
            }

            var hasValue = op.ContainsKey("value");
            switch (kind)
            {
                case "add":
                    Require(hasValue, kind);
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Require(hasValue, kind);
                    Remove(root, path);
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "move":
                    var moved = Get(root, From(op));
                    Remove(root, From(op));
                    Add(root, path, moved);
                    break;
                case "copy":
                    Add(root, path, Get(root, From(op))?.DeepClone());
                    break;
                case "test":
                    Require(hasValue, kind);
                    var actual = Get(root, path);
                    if (!JsonNode.DeepEquals(actual, op["value"]))
                    {
                        throw new PatchException(422, $"testing value {path} failed: {actual?.ToJsonString() ?? "null"} is not {op["value"]?.ToJsonString() ?? "null"}");
                    }

                    break;
                default:
                    throw new PatchException(400, $"Unexpected kind: {kind}");
            }
        }

        return root["doc"]!.DeepClone();
    }

    private static void Require(bool hasValue, string op)
    {
        if (!hasValue)
        {
            throw new PatchException(400, $"{op} operation does not apply: missing value");
        }
    }

    private static string From(JsonObject op) => (string?)op["from"] ?? throw new PatchException(400, "missing from");

    private static (JsonNode Parent, string Token) Parent(JsonObject root, string path)
    {
        if (path.Length > 0 && path[0] != '/')
        {
            throw new PatchException(400, $"JSON pointer {path} does not start with /");
        }

        var tokens = ("/doc" + path).Split('/')[1..].Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
        JsonNode current = root;
        foreach (var token in tokens[..^1])
        {
            current = Child(current, token) ?? throw new PatchException(422, $"doc is missing path: {path}");
        }

        return (current, tokens[^1]);
    }

    private static JsonNode? Child(JsonNode node, string token) => node switch
    {
        JsonObject o => o.TryGetPropertyValue(token, out var v) ? v : null,
        JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
        _ => null,
    };

    private static JsonNode? Get(JsonObject root, string path)
    {
        var (parent, token) = Parent(root, path);
        return parent switch
        {
            JsonObject o when o.TryGetPropertyValue(token, out var v) => v,
            JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
            _ => throw new PatchException(422, $"doc is missing path: {path}"),
        };
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, token) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o:
                o[token] = value;
                break;
            case JsonArray a when token == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new PatchException(422, $"add operation does not apply: doc is missing path: {path}");
        }
    }

    private static void Remove(JsonObject root, string path)
    {
        var (parent, token) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(token):
                o.Remove(token);
                break;
            case JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                a.RemoveAt(i);
                break;
            default:
                throw new PatchException(422, $"remove operation does not apply: doc is missing path: {path}");
        }
    }
}
