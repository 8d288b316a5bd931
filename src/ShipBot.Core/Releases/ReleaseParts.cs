using ShipBot.Core.Health;

namespace ShipBot.Core.Releases;

/// <summary>A person as the release remembers them: platform user id and display name.</summary>
public sealed record Person(string Id, string Name)
{
    /// <summary>ShipBot itself, when it settles a checklist item of its own or acts on a breach (<see cref="Settings.Actor.System"/>).</summary>
    public static Person System { get; } = new(Settings.Actor.System.Id, Settings.Actor.System.DisplayName);

    public string Mention => $"@{Name}";
}

/// <summary>Where a release lives in chat: the platform ("console", "slack", "teams") and its channel id.</summary>
public sealed record Conversation(string Platform, string Channel);

public sealed record Approval(Person By, DateTimeOffset At);

/// <summary>
/// The release contract: changes, rollback procedure and triggers,
/// customer-facing notes, feature flags and outcome targets. The stages and approvers come from the
/// release's plan and policy.
/// </summary>
public sealed record ReleaseContract(
    IReadOnlyList<string> Changes,
    string ReleaseNotes,
    string RollbackProcedure,
    IReadOnlyList<string> Flags,
    IReadOnlyList<string> OutcomeTargets);

/// <summary>
/// Where a release came from: the commit it ships, the pull requests in it and the pipeline run that
/// asked for it. Every part is optional; a release started in chat usually has none, or only a commit.
/// </summary>
/// <param name="Commit">The commit SHA (7 to 64 hexadecimal digits), or null.</param>
/// <param name="PullRequests">Links to the pull requests in the release (absolute http(s) URLs); empty when none.</param>
/// <param name="PipelineRun">A link to the pipeline run that started the release, or null.</param>
public sealed record ReleaseProvenance(string? Commit, IReadOnlyList<string> PullRequests, string? PipelineRun)
{
    /// <summary>Whether nothing is known.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => Commit is null && PullRequests.Count == 0 && PipelineRun is null;

    /// <summary>Whether <paramref name="value"/> is a commit SHA (7 to 64 hexadecimal digits; a full SHA-1 has 40, SHA-256 64).</summary>
    public static bool IsCommit(string? value) =>
        value is { Length: >= 7 and <= 64 } && value.All(char.IsAsciiHexDigit);

    /// <summary>Whether <paramref name="value"/> is an absolute http(s) URL, as links on the card must be.</summary>
    public static bool IsLink(string? value) =>
        value is { Length: <= 2048 } && !value.Any(c => char.IsWhiteSpace(c) || c is '<' or '>' or '"' or '`') && Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    /// <summary>The commit's first 12 digits, as people quote it.</summary>
    public string? ShortCommit => Commit is null ? null : Commit[..Math.Min(12, Commit.Length)];
}

/// <summary>Where a deployment goes. Stored documents, webhook payloads and workflow inputs spell it "staging" or "production" (<see cref="DeploymentEnvironments.Name"/>).</summary>
public enum DeploymentEnvironment
{
    Staging,
    Production,
}

public static class DeploymentEnvironments
{
    /// <summary>"staging" or "production": the environment as stored documents, payloads and idempotency keys spell it.</summary>
    public static string Name(this DeploymentEnvironment environment) => environment switch
    {
        DeploymentEnvironment.Staging => "staging",
        _ => "production",
    };

    /// <summary>Reads "staging" or "production" (any case).</summary>
    public static bool TryParse(string? text, out DeploymentEnvironment environment)
    {
        environment = DeploymentEnvironment.Production;
        if (string.Equals(text, "staging", StringComparison.OrdinalIgnoreCase))
        {
            environment = DeploymentEnvironment.Staging;
            return true;
        }

        return string.Equals(text, "production", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Keeps a <see cref="DeploymentEnvironment"/> as "staging" or "production" in JSON, as stored documents always had it.</summary>
public sealed class DeploymentEnvironmentJsonConverter : System.Text.Json.Serialization.JsonConverter<DeploymentEnvironment>
{
    public override DeploymentEnvironment Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        DeploymentEnvironments.TryParse(reader.GetString(), out var environment)
            ? environment
            : throw new System.Text.Json.JsonException("A deployment environment must be \"staging\" or \"production\".");

    public override void Write(System.Text.Json.Utf8JsonWriter writer, DeploymentEnvironment value, System.Text.Json.JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Name());
    }
}

/// <summary>A traffic change that has been decided but not yet confirmed by the deployment target.</summary>
/// <param name="Environment">Staging or production (stored as "staging" or "production").</param>
/// <param name="Percent">Traffic share of the new version; 0 with <paramref name="IsRollback"/>.</param>
public sealed record DeploymentIntent(
    [property: System.Text.Json.Serialization.JsonConverter(typeof(DeploymentEnvironmentJsonConverter))] DeploymentEnvironment Environment,
    int Percent,
    bool IsRollback = false)
{
    public string Describe() => IsRollback ? "rollback to the previous version" : $"{Environment.Name()} at {Percent} %";
}

/// <summary>The sub-steps of the staging gate.</summary>
public enum StagingStep
{
    NotStarted,
    Deploying,
    SmokeChecking,
    Baking,
}

/// <summary>Why a release was rolled back: who or what, and the evidence.</summary>
public sealed record RollbackRecord(string Reason, string By, string Stage, IReadOnlyList<CheckResult> Evidence, DateTimeOffset At);

/// <summary>One stage as it happened.</summary>
public sealed record StageRecord(string Name, DateTimeOffset StartedAt, DateTimeOffset? EndedAt);

/// <summary>An outcome checkpoint's report: actual vs target.</summary>
public sealed record OutcomeReport(int Checkpoint, DateTimeOffset At, IReadOnlyList<string> Lines);

/// <summary>One criterion of the handoff to operations.</summary>
public sealed record HandoffCheck(string Criterion, bool Met, string Detail);
