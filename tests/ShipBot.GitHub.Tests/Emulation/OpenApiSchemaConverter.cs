using System.Text.Json.Nodes;
using Json.Schema;

namespace ShipBot.GitHub.Tests.Emulation;

/// <summary>
/// Turns an OpenAPI 3.0 schema into a JSON Schema 2020-12 document that JsonSchema.Net can
/// evaluate: <c>#/components/schemas/x</c> references become <c>#/$defs/x</c> (with every schema
/// they reach copied in), <c>nullable: true</c> becomes a <c>"null"</c> type (or an
/// <c>anyOf</c> with null), and OpenAPI-only keywords (<c>example</c>, <c>discriminator</c>, …)
/// are dropped. Siblings of <c>$ref</c> are ignored, as OpenAPI 3.0 says.
/// </summary>
internal static class OpenApiSchemaConverter
{
    private const string ComponentPrefix = "#/components/schemas/";

    private static readonly HashSet<string> Dropped = new(StringComparer.Ordinal)
    {
        "nullable", "example", "examples", "xml", "externalDocs", "discriminator",
    };

    private static readonly HashSet<string> SchemaMaps = new(StringComparer.Ordinal) { "properties", "patternProperties" };

    private static readonly HashSet<string> SchemaLists = new(StringComparer.Ordinal) { "allOf", "anyOf", "oneOf" };

    private static readonly HashSet<string> SchemaValues = new(StringComparer.Ordinal) { "items", "not", "additionalProperties" };

    public static JsonSchema Build(JsonObject components, JsonNode schema, string id)
    {
        var schemas = (JsonObject)components["schemas"]!;
        var wanted = new Queue<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var root = Convert(schema, wanted, seen) as JsonObject ?? new JsonObject();
        var defs = new JsonObject();
        while (wanted.TryDequeue(out var name))
        {
            defs[name] = Convert(schemas[name] ?? throw new InvalidOperationException($"The description has no schema {name}."), wanted, seen);
        }

        var document = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"https://shipbot.test/openapi/{Uri.EscapeDataString(id)}",
            ["allOf"] = new JsonArray(root),
            ["$defs"] = defs,
        };
        return JsonSchema.FromText(document.ToJsonString());
    }

    private static JsonNode? Convert(JsonNode? node, Queue<string> wanted, HashSet<string> seen)
    {
        if (node is not JsonObject schema)
        {
            return node?.DeepClone();
        }

        if (schema["$ref"] is JsonValue reference)
        {
            var target = (string)reference!;
            if (!target.StartsWith(ComponentPrefix, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Unexpected reference {target}.");
            }

            var name = target[ComponentPrefix.Length..];
            if (seen.Add(name))
            {
                wanted.Enqueue(name);
            }

            return new JsonObject { ["$ref"] = $"#/$defs/{name}" };
        }

        var result = new JsonObject();
        foreach (var (key, value) in schema)
        {
            if (Dropped.Contains(key))
            {
                continue;
            }

            if (SchemaMaps.Contains(key) && value is JsonObject map)
            {
                var converted = new JsonObject();
                foreach (var (property, sub) in map)
                {
                    converted[property] = Convert(sub, wanted, seen);
                }

                result[key] = converted;
            }
            else if (SchemaLists.Contains(key) && value is JsonArray list)
            {
                result[key] = new JsonArray(list.Select(s => Convert(s, wanted, seen)).ToArray());
            }
            else if (SchemaValues.Contains(key) && value is JsonObject sub)
            {
                result[key] = Convert(sub, wanted, seen);
            }
            else
            {
                result[key] = value?.DeepClone();
            }
        }

        if (schema["nullable"] is JsonValue nullable && (bool)nullable!)
        {
            if (result["type"] is JsonValue type)
            {
                result["type"] = new JsonArray((string)type!, "null");
                if (result["enum"] is JsonArray values && !values.Any(v => v is null))
                {
                    values.Add(null);
                }
            }
            else
            {
                return new JsonObject { ["anyOf"] = new JsonArray(result, new JsonObject { ["type"] = "null" }) };
            }
        }

        return result;
    }
}
