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

/// <summary>
/// What a transition did, with its data, for the audit trail and the notifications it causes. One
/// sealed record per kind lives in <c>Releases/Events</c>; <see cref="Summary"/> is rendered from the
/// data by <see cref="Events.EventText"/>, so the audit trail and the cards read the same words
/// wherever the event is shown.
/// </summary>
/// <param name="Release">The release the event happened to.</param>
public abstract record ReleaseEvent(ReleaseId Release)
{
    /// <summary>Which event this is; its name is the audit entry's action.</summary>
    public abstract ReleaseEventKind Kind { get; }

    /// <summary>The event in words, as the audit trail keeps it ("@olga started rolling back demo@1.0.0 at Canary 5 %: …").</summary>
    public string Summary => Events.EventText.Render(this);

    /// <summary>Whether this event stops the line for the release's whole service (a rollback, a red staging gate).</summary>
    public virtual bool HaltsService => false;
}

/// <summary>A halt of a whole service that a change asks for: no other release of it moves until on-call unhalts it.</summary>
/// <param name="Service">The service to halt.</param>
/// <param name="Reason">Why, in words: the summary of the event that stopped the line.</param>
public sealed record ServiceHaltRequest(string Service, string Reason);

/// <summary>
/// The result of a command on the aggregate: the next state (same version when nothing changed)
/// and the events; <see cref="Message"/> tells the person what happened.
/// </summary>
public sealed record ReleaseChange(Release Next, IReadOnlyList<ReleaseEvent> Events, string Message)
{
    /// <summary>Whether <see cref="Next"/> differs from the release the command was applied to (and must be stored).</summary>
    public bool Modified { get; init; } = true;

    /// <summary>
    /// The service halt this change asks for: set when the change starts a rollback or fails the
    /// staging gate, with the event's summary as the reason; null when the service keeps moving.
    /// </summary>
    public ServiceHaltRequest? Halt { get; init; }
}
