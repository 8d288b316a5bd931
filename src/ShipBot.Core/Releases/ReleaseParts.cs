using ShipBot.Core.Health;

namespace ShipBot.Core.Releases;

/// <summary>A person as the release remembers them: platform user id and display name.</summary>
public sealed record Person(string Id, string Name)
{
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

/// <summary>A traffic change that has been decided but not yet confirmed by the deployment target.</summary>
/// <param name="Environment">"staging" or "production".</param>
/// <param name="Percent">Traffic share of the new version; 0 with <paramref name="IsRollback"/>.</param>
public sealed record DeploymentIntent(string Environment, int Percent, bool IsRollback = false)
{
    public string Describe() => IsRollback ? "rollback to the previous version" : $"{Environment} at {Percent} %";
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
