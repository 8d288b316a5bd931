using System.Text.Json.Serialization;

namespace ShipBot.Deploy.Kubernetes;

/// <summary>An object's metadata.</summary>
public sealed record ObjectMeta(
    string? Name,
    [property: JsonPropertyName("namespace")] string? Namespace,
    string? Uid,
    string? ResourceVersion,
    long Generation,
    IReadOnlyDictionary<string, string>? Labels = null,
    IReadOnlyDictionary<string, string>? Annotations = null);
