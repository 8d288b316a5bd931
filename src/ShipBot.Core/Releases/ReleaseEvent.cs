namespace ShipBot.Core.Releases;

public enum ReleaseEventKind
{
    Created,
    ItemSettled,
    ReadyForApproval,
    Approved,
    Rejected,
    Aborted,
    StagingStarted,
    DeploymentSucceeded,
    DeploymentFailed,
    SmokeChecksPassed,
    StagingFailed,
    Promoted,
    PromotionNeedsApproval,
    ValidationStarted,
    HandedOver,
    HealthChanged,

    /// <summary>Health could not be read for too many evaluations in a row: the release is halted for a human.</summary>
    HealthInconclusive,
    BreachDetected,
    ConsultRequested,
    Decided,

    /// <summary>A decision ended without an answer because its release left the stage it was opened at (a rollback, for example).</summary>
    DecisionClosed,
    RollbackStarted,
    RolledBack,
    Halted,
    Paused,
    Resumed,
    OutcomeRecorded,
    FlagRemoved,
    Completed,
}

/// <summary>What a transition did, for the audit trail and the notifications it causes.</summary>
public sealed record ReleaseEvent(ReleaseEventKind Kind, string Summary);

/// <summary>
/// The result of a command on the aggregate: the next state (same version when nothing changed)
/// and the events; <see cref="Message"/> tells the person what happened.
/// </summary>
public sealed record ReleaseChange(Release Next, IReadOnlyList<ReleaseEvent> Events, string Message)
{
    /// <summary>Whether <see cref="Next"/> differs from the release the command was applied to (and must be stored).</summary>
    public bool Modified { get; init; } = true;
}
