using System.Text.Json.Serialization;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Redis;

/// <summary>Source-generated JSON for everything ShipBot keeps in Redis (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Release))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(ServiceHalt))]
[JsonSerializable(typeof(Signal))]
[JsonSerializable(typeof(HealthVerdict))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
