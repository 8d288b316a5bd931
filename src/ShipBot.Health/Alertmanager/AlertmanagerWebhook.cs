using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ShipBot.Health.Alertmanager;

/// <summary>
/// The Alertmanager receiver (<c>ShipBot:Alertmanager</c>). It is enabled when a bearer token or a
/// user name and password are set (configure the same in Alertmanager's <c>webhook_config</c>
/// <c>http_config</c>); a receiver without credentials is never exposed.
/// </summary>
public sealed class AlertmanagerOptions
{
    public string? BearerToken { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Severities that roll back (value of <see cref="SeverityLabel"/>). Default: critical.</summary>
    public List<string> Severities { get; set; } = [];

    public string SeverityLabel { get; set; } = "severity";

    /// <summary>The label naming the ShipBot service. Default "service".</summary>
    public string ServiceLabel { get; set; } = "service";

    /// <summary>An optional label naming the version; when present it must match the release. Default "version".</summary>
    public string VersionLabel { get; set; } = "version";

    public bool IsEnabled => !string.IsNullOrEmpty(BearerToken) || (!string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password));

    public IReadOnlyList<string> EffectiveSeverities => Severities.Count == 0 ? ["critical"] : Severities;
}

/// <summary>One alert of a webhook notification.</summary>
public sealed record AlertmanagerAlert(
    string Status,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt,
    string Fingerprint)
{
    public bool IsFiring => string.Equals(Status, "firing", StringComparison.OrdinalIgnoreCase);

    public string Name => Labels.TryGetValue("alertname", out var n) ? n : "unnamed alert";

    public string Summary =>
        Annotations.TryGetValue("summary", out var s) ? s : Annotations.TryGetValue("description", out var d) ? d : string.Empty;

    /// <summary>Identifies one firing of one alert: repeated notifications of it (group_interval, repeat_interval, retries) act once.</summary>
    public string DedupKey => $"{Fingerprint}:{StartsAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>Alertmanager's webhook payload, version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config).</summary>
public static class AlertmanagerWebhook
{
    /// <summary>The alerts of a notification, or null when the body is not a version 4 webhook payload.</summary>
    public static IReadOnlyList<AlertmanagerAlert>? Parse(JsonNode? body)
    {
        if (body is not JsonObject payload || Str(payload["version"]) != "4" || payload["alerts"] is not JsonArray alerts)
        {
            return null;
        }

        var result = new List<AlertmanagerAlert>();
        foreach (var node in alerts)
        {
            if (node is not JsonObject alert)
            {
                continue;
            }

            // A field of the wrong type makes the whole notification malformed (400), never a guess.
            foreach (var field in new[] { "status", "startsAt", "fingerprint" })
            {
                if (alert[field] is { } value && Str(value) is null)
                {
                    return null;
                }
            }

            if (Str(alert["startsAt"]) is { } starts && !DateTimeOffset.TryParse(starts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            {
                return null;
            }

            var labels = Strings(alert["labels"]);
            var startsAt = DateTimeOffset.TryParse(Str(alert["startsAt"]), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.UnixEpoch;
            var fingerprint = Str(alert["fingerprint"]) is { Length: > 0 } f ? f : Fingerprint(labels);
            result.Add(new AlertmanagerAlert(Str(alert["status"]) ?? "firing", labels, Strings(alert["annotations"]), startsAt, fingerprint));
        }

        return result;
    }

    /// <summary>Whether an Authorization header carries the configured bearer token or basic credentials (constant-time comparison).</summary>
    public static bool IsAuthorized(AlertmanagerOptions options, string? authorization)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(authorization))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(options.BearerToken) && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && FixedEquals(authorization[7..].Trim(), options.BearerToken))
        {
            return true;
        }

        if (!string.IsNullOrEmpty(options.Username) && !string.IsNullOrEmpty(options.Password) && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                return FixedEquals(decoded, $"{options.Username}:{options.Password}");
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return false;
    }

    private static bool FixedEquals(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>A string field, or null when it is missing or not a string (a malformed payload never throws).</summary>
    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static Dictionary<string, string> Strings(JsonNode? node) =>
        node is JsonObject o
            ? o.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    private static string Fingerprint(IReadOnlyDictionary<string, string> labels) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")))))[..16];
}
