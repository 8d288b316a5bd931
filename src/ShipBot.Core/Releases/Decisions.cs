using System.Text.Json.Serialization;
using ShipBot.Core.Health;

namespace ShipBot.Core.Releases;

/// <summary>
/// A consult-mode breach waiting for on-call's decision (Hō-Ren-Sō). A decision belongs to exactly
/// one breach — one metric at one stage — and has an id that its card's buttons carry, so an answer
/// can never land on a later breach. It ends when it is answered (continue or roll back), when it
/// times out (roll back), or when the release leaves the stage it was opened at. "Hold" keeps it
/// open without a timeout: the release stays where it is, with no promotion and no automatic
/// rollback for this breach, until on-call continues or rolls back.
/// </summary>
public sealed record PendingDecision(CheckResult Breach, string Stage, DateTimeOffset RaisedAt, DateTimeOffset AutoRollbackAt)
{
    /// <summary>Unique within its release ("d1", "d2", …). Decisions stored before ids existed read as "d0".</summary>
    public string Id { get; init => field = value ?? "d0"; } = "d0";

    /// <summary>Who chose "hold here"; null while the decision waits for an answer.</summary>
    public string? HeldBy { get; init; }

    public DateTimeOffset? HeldAt { get; init; }

    [JsonIgnore]
    public bool IsHeld => HeldBy is not null;

    /// <summary>The one breach this decision is about: its metric at its stage.</summary>
    [JsonIgnore]
    public BreachKey BreachKey => new(Breach.Metric, Stage);

    /// <summary>"user feedback at Early adopters 25 %".</summary>
    [JsonIgnore]
    public string About => $"{Metrics.Label(Breach.Metric)} at {Stage}";
}

/// <summary>How a decision ended, kept on the release so a late click on its card can be told what happened.</summary>
/// <param name="Outcome">"continue by @carol", "rolled back by @carol", "timed out", "closed: demo@1.0.0 is rolling back".</param>
public sealed record DecisionRecord(string Id, string Metric, string Stage, string Outcome, string? By, DateTimeOffset At)
{
    [JsonIgnore]
    public string About => $"{Metrics.Label(Metric)} at {Stage}";
}

public enum DecisionChoice
{
    Rollback,
    Hold,
    Continue,
}

/// <summary>
/// One breach: a metric at a stage ("Canary 5 %"). On-call's answers are about a breach, so a
/// decision, a continue and a hold are keyed by it. Stored as its text, "metric@stage".
/// </summary>
[JsonConverter(typeof(BreachKeyJsonConverter))]
public sealed record BreachKey(string Metric, string Stage)
{
    /// <summary>"error_rate@Canary 5 %", as the stored format and older audit trails spell it.</summary>
    public override string ToString() => $"{Metric}@{Stage}";

    /// <summary>Reads "metric@stage" (the metric is up to the first '@': stage labels may hold one, metric names never do).</summary>
    public static BreachKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? new BreachKey(text, string.Empty) : new BreachKey(text[..at], text[(at + 1)..]);
    }
}

/// <summary>Keeps a <see cref="BreachKey"/> as the string "metric@stage" in stored documents, as it always was.</summary>
public sealed class BreachKeyJsonConverter : JsonConverter<BreachKey>
{
    public override BreachKey Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        BreachKey.Parse(reader.GetString() ?? throw new System.Text.Json.JsonException("A breach key must be a string \"metric@stage\"."));

    public override void Write(System.Text.Json.Utf8JsonWriter writer, BreachKey value, System.Text.Json.JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.ToString());
    }
}
