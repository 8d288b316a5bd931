namespace ShipBot.Redis;

/// <summary>
/// The schema version every JSON document in Redis carries (releases, audit entries, halts,
/// signals, command answers, API tokens) as its first property, <c>"schemaVersion":1</c>. A document without
/// it was written before versions were recorded, in the format of version 1. Readers ignore
/// properties they do not know, so a field added later never needs a new version and a rolled-back
/// ShipBot still reads what a newer one wrote; the version goes up only for a change an older
/// reader would misread (docs/runbook.md says what that means for a rollback).
/// </summary>
public static class StoredDocument
{
    /// <summary>The version of the documents this ShipBot writes: 1.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The property that holds it.</summary>
    public const string SchemaVersionProperty = "schemaVersion";

    private static readonly string Stamp = $"{{\"{SchemaVersionProperty}\":{SchemaVersion}";

    /// <summary><paramref name="json"/> with the schema version as its first property (a JSON object only; anything else as it is).</summary>
    public static string Versioned(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length < 2 || json[0] != '{' || json.StartsWith(Stamp, StringComparison.Ordinal))
        {
            return json;
        }

        return json[1] == '}' ? Stamp + "}" : string.Concat(Stamp, ",", json.AsSpan(1));
    }

    /// <summary>
    /// <paramref name="json"/> as it was before <see cref="Versioned"/>: for a store that hands back
    /// exactly what it was given (command answers), while what Redis holds carries the version.
    /// </summary>
    public static string Unversioned(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!json.StartsWith(Stamp, StringComparison.Ordinal) || json.Length == Stamp.Length)
        {
            return json;
        }

        return json[Stamp.Length] switch
        {
            '}' => "{}",
            ',' => string.Concat("{", json.AsSpan(Stamp.Length + 1)),
            _ => json,
        };
    }

    /// <summary>The schema version of a stored document: its <c>schemaVersion</c>, or 1 for a document written before versions were recorded.</summary>
    public static int VersionOf(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
            && document.RootElement.TryGetProperty(SchemaVersionProperty, out var version)
            && version.TryGetInt32(out var number) ? number : 1;
    }
}
