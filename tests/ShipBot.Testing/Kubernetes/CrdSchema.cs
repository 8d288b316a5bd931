using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace ShipBot.Testing.Kubernetes;

/// <summary>
/// The OpenAPI v3 schema of one served version of a published CustomResourceDefinition, checked
/// with a JSON Schema validator. The structural schema is translated as the API server reads it:
/// <c>nullable</c> adds null, <c>x-kubernetes-int-or-string</c> accepts an integer or a string,
/// <c>int32</c>/<c>int64</c> formats are ranges, <c>date-time</c> is checked, and an object with
/// <c>properties</c> (and neither <c>additionalProperties</c> nor
/// <c>x-kubernetes-preserve-unknown-fields</c>) accepts no unknown field, as strict field
/// validation does. CEL rules (<c>x-kubernetes-validations</c>) are not evaluated.
/// </summary>
public sealed class CrdSchema
{
    private static readonly HashSet<string> Kept =
    [
        "type", "properties", "required", "items", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern",
        "minItems", "maxItems", "uniqueItems", "additionalProperties", "anyOf", "allOf", "oneOf", "not", "minProperties", "maxProperties", "multipleOf",
    ];

    private readonly JsonSchema _schema;
    private readonly EvaluationOptions _evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    private CrdSchema(string group, string version, string kind, string plural, bool hasStatus, JsonSchema schema, JsonObject translated)
    {
        Group = group;
        Version = version;
        Kind = kind;
        Plural = plural;
        HasStatusSubresource = hasStatus;
        _schema = schema;
        Translated = translated;
    }

    public string Group { get; }

    public string Version { get; }

    public string Kind { get; }

    public string Plural { get; }

    public bool HasStatusSubresource { get; }

    /// <summary>The JSON Schema the OpenAPI schema became (for diagnostics).</summary>
    public JsonObject Translated { get; }

    /// <summary>Loads <paramref name="version"/> of the CRD in <paramref name="path"/>.</summary>
    public static CrdSchema Load(string path, string version)
    {
        var crd = YamlJson.ReadFile(path).OfType<JsonObject>().Single(d => (string?)d["kind"] == "CustomResourceDefinition");
        var spec = crd["spec"]!.AsObject();
        var served = spec["versions"]!.AsArray().OfType<JsonObject>().SingleOrDefault(v => (string?)v["name"] == version)
            ?? throw new InvalidOperationException($"{path} has no version {version}");
        var openApi = served["schema"]!["openAPIV3Schema"]!.AsObject();
        var translated = Translate(openApi)!.AsObject();
        translated["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        var schema = JsonSchema.Build(JsonSerializer.SerializeToElement(translated));
        return new CrdSchema(
            (string)spec["group"]!,
            version,
            (string)spec["names"]!["kind"]!,
            (string)spec["names"]!["plural"]!,
            served["subresources"]?["status"] is not null,
            schema,
            translated);
    }

    /// <summary>The violations of <paramref name="instance"/>: "/spec/steps/0/setWeight: …"; empty when valid.</summary>
    public IReadOnlyList<string> Validate(JsonNode instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var results = _schema.Evaluate(JsonSerializer.SerializeToElement(instance), _evaluation);
        if (results.IsValid)
        {
            return [];
        }

        return [.. (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({e.Key} at {d.EvaluationPath})"))
            .Distinct()];
    }

    private static JsonNode? Translate(JsonNode? node)
    {
        if (node is not JsonObject openApi)
        {
            return node?.DeepClone();
        }

        var result = new JsonObject();
        foreach (var (key, value) in openApi)
        {
            switch (key)
            {
                case "properties":
                    result[key] = new JsonObject(value!.AsObject().Select(p => KeyValuePair.Create(p.Key, Translate(p.Value))));
                    break;
                case "items" or "additionalProperties" or "not":
                    result[key] = value is JsonObject ? Translate(value) : value?.DeepClone();
                    break;
                case "anyOf" or "allOf" or "oneOf":
                    result[key] = new JsonArray([.. value!.AsArray().Select(Translate)]);
                    break;
                case "exclusiveMinimum" or "exclusiveMaximum":
                    // OpenAPI 3.0's boolean form: the bound itself is excluded.
                    if ((bool?)value == true && openApi[key == "exclusiveMinimum" ? "minimum" : "maximum"] is { } bound)
                    {
                        result[key] = bound.DeepClone();
                    }

                    break;
                default:
                    if (Kept.Contains(key))
                    {
                        result[key] = value?.DeepClone();
                    }

                    break;
            }
        }

        if (openApi.ContainsKey("exclusiveMinimum") && result.ContainsKey("exclusiveMinimum"))
        {
            result.Remove("minimum");
        }

        if (openApi.ContainsKey("exclusiveMaximum") && result.ContainsKey("exclusiveMaximum"))
        {
            result.Remove("maximum");
        }

        switch ((string?)openApi["format"])
        {
            case "int32":
                result["minimum"] ??= int.MinValue;
                result["maximum"] ??= int.MaxValue;
                break;
            case "date-time":
                result["format"] = "date-time";
                break;
        }

        if ((bool?)openApi["x-kubernetes-int-or-string"] == true)
        {
            result.Remove("type");
            result["anyOf"] = new JsonArray(new JsonObject { ["type"] = "integer" }, new JsonObject { ["type"] = "string" });
        }

        var preserve = (bool?)openApi["x-kubernetes-preserve-unknown-fields"] == true;
        if ((string?)openApi["type"] == "object" && openApi["properties"] is not null && openApi["additionalProperties"] is null && !preserve)
        {
            result["additionalProperties"] = false;
        }

        if ((bool?)openApi["nullable"] == true && result["type"] is JsonValue type)
        {
            result["type"] = new JsonArray((string?)type, "null");
        }

        return result;
    }
}
