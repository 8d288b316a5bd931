using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace ShipBot.GitHub.Tests.Emulation;

/// <summary>An operation of the description that a request matched.</summary>
internal sealed record OpenApiOperation(string Method, string PathTemplate, string OperationId, JsonObject Node, IReadOnlyDictionary<string, string> PathValues);

/// <summary>
/// Checks HTTP requests (and the emulation's own answers) against GitHub's OpenAPI description:
/// the path and method must be an operation; path parameters must match their schemas; required
/// query parameters must be present and every query parameter must be one the operation declares,
/// with a value its schema accepts; a JSON body must be given when it is required, absent when
/// the operation takes none, and valid against the operation's request schema (OpenAPI 3.0 schemas
/// turned into JSON Schema 2020-12 and evaluated with JsonSchema.Net). GitHub's required headers
/// (a <c>User-Agent</c>) and the API version header are checked too.
/// </summary>
internal sealed class OpenApiValidator
{
    public const string SupportedApiVersion = "2022-11-28";

    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new(StringComparer.Ordinal);
    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List };

    private readonly JsonObject _document;
    private readonly JsonObject _components;
    private readonly List<(string[] Segments, string Template, JsonObject Item)> _paths;

    public OpenApiValidator(OctokitOpenApi api)
    {
        _document = api.Document;
        _components = (JsonObject)_document["components"]!;
        _paths = ((JsonObject)_document["paths"]!)
            .Select(p => (p.Key.Trim('/').Split('/'), p.Key, (JsonObject)p.Value!))
            .ToList();
    }

    /// <summary>The operation for a method and path (the most literal template wins), or null.</summary>
    public OpenApiOperation? Match(string method, string path)
    {
        var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        OpenApiOperation? best = null;
        var bestLiterals = -1;
        foreach (var (template, name, item) in _paths)
        {
            if (template.Length != segments.Length || item[method.ToLowerInvariant()] is not JsonObject operation)
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var literals = 0;
            var matched = true;
            for (var i = 0; i < template.Length && matched; i++)
            {
                if (template[i].StartsWith('{') && template[i].EndsWith('}'))
                {
                    values[template[i][1..^1]] = segments[i];
                }
                else if (string.Equals(template[i], segments[i], StringComparison.Ordinal))
                {
                    literals++;
                }
                else
                {
                    matched = false;
                }
            }

            if (matched && literals > bestLiterals)
            {
                best = new OpenApiOperation(method.ToUpperInvariant(), name, (string)operation["operationId"]!, operation, values);
                bestLiterals = literals;
            }
        }

        return best;
    }

    /// <summary>Every way the request departs from the description (empty: valid).</summary>
    public IReadOnlyList<string> ValidateRequest(OpenApiOperation operation, IReadOnlyDictionary<string, string> query, IReadOnlyDictionary<string, string> headers, string? contentType, byte[] body)
    {
        var problems = new List<string>();
        var where = $"{operation.Method} {operation.PathTemplate} ({operation.OperationId})";
        if (!headers.TryGetValue("User-Agent", out var agent) || string.IsNullOrWhiteSpace(agent))
        {
            problems.Add($"{where}: no User-Agent header (GitHub refuses requests without one)");
        }

        if (!headers.TryGetValue("Accept", out var accept) || !accept.Contains("application/vnd.github+json", StringComparison.Ordinal))
        {
            problems.Add($"{where}: Accept should be application/vnd.github+json");
        }

        if (!headers.TryGetValue("X-GitHub-Api-Version", out var version) || version != SupportedApiVersion)
        {
            problems.Add($"{where}: X-GitHub-Api-Version must be {SupportedApiVersion} (the version this emulation implements); got '{version}'");
        }

        var parameters = Parameters(operation);
        foreach (var (name, value) in operation.PathValues)
        {
            if (!parameters.TryGetValue(("path", name), out var parameter))
            {
                problems.Add($"{where}: path parameter {name} is not declared");
                continue;
            }

            CheckValue(where, $"path parameter {name}", parameter, value, problems);
        }

        foreach (var ((location, name), parameter) in parameters.Where(p => p.Key.In == "query"))
        {
            if (parameter["required"]?.GetValue<bool>() == true && !query.ContainsKey(name))
            {
                problems.Add($"{where}: required query parameter {name} is missing");
            }
        }

        foreach (var (name, value) in query)
        {
            if (!parameters.TryGetValue(("query", name), out var parameter))
            {
                problems.Add($"{where}: query parameter {name} is not a parameter of this operation");
                continue;
            }

            CheckValue(where, $"query parameter {name}", parameter, value, problems);
        }

        var requestBody = Resolve(operation.Node["requestBody"]) as JsonObject;
        if (requestBody is null)
        {
            if (body.Length > 0)
            {
                problems.Add($"{where}: the operation takes no body, but one was sent");
            }

            return problems;
        }

        if (body.Length == 0)
        {
            if (requestBody["required"]?.GetValue<bool>() == true)
            {
                problems.Add($"{where}: the request body is required");
            }

            return problems;
        }

        if (contentType is null || !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"{where}: the body must be application/json, got '{contentType}'");
            return problems;
        }

        JsonElement json;
        try
        {
            json = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException ex)
        {
            problems.Add($"{where}: the body is not JSON: {ex.Message}");
            return problems;
        }

        var schema = requestBody["content"]?["application/json"]?["schema"];
        if (schema is not null)
        {
            problems.AddRange(Evaluate($"{operation.OperationId}/request", schema, json).Select(p => $"{where}: body {p}"));
        }

        return problems;
    }

    /// <summary>Whether the emulation's answer has the documented shape for its status (undocumented statuses are reported).</summary>
    public IReadOnlyList<string> ValidateResponse(OpenApiOperation operation, int status, JsonNode? body)
    {
        var where = $"answer {status} to {operation.OperationId}";
        var response = Resolve(operation.Node["responses"]?[status.ToString(CultureInfo.InvariantCulture)]) as JsonObject;
        if (response is null)
        {
            return [$"{where}: status {status} is not documented for this operation"];
        }

        var schema = response["content"]?["application/json"]?["schema"];
        if (schema is null)
        {
            return body is null ? [] : [$"{where}: documented without a body, but the emulation sent one"];
        }

        if (body is null)
        {
            return [$"{where}: documented with a body, but the emulation sent none"];
        }

        using var parsed = JsonDocument.Parse(body.ToJsonString());
        return Evaluate($"{operation.OperationId}/{status}", schema, parsed.RootElement).Select(p => $"{where}: {p}").ToList();
    }

    private IReadOnlyList<string> Evaluate(string id, JsonNode schema, JsonElement instance)
    {
        var built = Schemas.GetOrAdd(id, _ => OpenApiSchemaConverter.Build(_components, schema, id));
        var result = built.Evaluate(instance, Evaluation);
        if (result.IsValid)
        {
            return [];
        }

        return (result.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"at '{d.InstanceLocation}' ({d.EvaluationPath}): {e.Value}"))
            .DefaultIfEmpty("does not match its schema")
            .Distinct()
            .Take(20)
            .ToList();
    }

    private void CheckValue(string where, string what, JsonObject parameter, string value, List<string> problems)
    {
        if (parameter["schema"] is not { } schema)
        {
            return;
        }

        // A URL carries text: the value is valid when one of its readings (number, boolean, text) fits the schema.
        var readings = new List<JsonNode?> { JsonValue.Create(value) };
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            readings.Add(JsonValue.Create(number));
        }

        if (value is "true" or "false")
        {
            readings.Add(JsonValue.Create(value == "true"));
        }

        var id = $"param/{where}/{what}";
        IReadOnlyList<string> last = [];
        foreach (var reading in readings)
        {
            using var parsed = JsonDocument.Parse(reading!.ToJsonString());
            last = Evaluate(id, WithoutFormat(schema), parsed.RootElement);
            if (last.Count == 0)
            {
                return;
            }
        }

        problems.Add($"{where}: {what} '{value}' does not fit its schema: {string.Join("; ", last)}");
    }

    // GitHub documents search syntax ("created=>=2025-01-01") under date-time parameters; formats are annotations anyway.
    private static JsonNode WithoutFormat(JsonNode schema)
    {
        var copy = schema.DeepClone();
        if (copy is JsonObject o)
        {
            o.Remove("format");
        }

        return copy;
    }

    private Dictionary<(string In, string Name), JsonObject> Parameters(OpenApiOperation operation)
    {
        var result = new Dictionary<(string, string), JsonObject>();
        var item = (JsonObject)_document["paths"]![operation.PathTemplate]!;
        foreach (var list in new[] { item["parameters"], operation.Node["parameters"] })
        {
            foreach (var node in list?.AsArray() ?? [])
            {
                if (Resolve(node) is JsonObject parameter)
                {
                    result[((string)parameter["in"]!, (string)parameter["name"]!)] = parameter;
                }
            }
        }

        return result;
    }

    private JsonNode? Resolve(JsonNode? node)
    {
        while (node is JsonObject o && o["$ref"] is JsonValue reference)
        {
            var path = ((string)reference!).TrimStart('#', '/').Split('/');
            node = _document;
            foreach (var part in path)
            {
                node = node?[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
            }
        }

        return node;
    }
}
