namespace ShipBot.Core.Releases;

/// <summary>
/// The lifecycle of a release (docs/release-process.md). The main line runs Draft → … → Completed; Rejected, Aborted,
/// RollingBack → RolledBack, Halted and Paused are the side exits.
/// </summary>
public enum ReleaseState
{
    Draft,
    AwaitingApproval,
    Staging,
    Canary,
    EarlyAdopters,
    GeneralAvailability,
    Full,
    Validating,
    Operating,
    Completed,
    Rejected,
    Aborted,
    RollingBack,
    RolledBack,
    Halted,
    Paused,
}

public static class ReleaseStateExtensions
{
    /// <summary>States from which nothing more happens to the release.</summary>
    public static bool IsTerminal(this ReleaseState state) =>
        state is ReleaseState.Completed or ReleaseState.Rejected or ReleaseState.Aborted or ReleaseState.RolledBack;

    /// <summary>Production traffic stages (a stage of the plan is being baked).</summary>
    public static bool IsProductionStage(this ReleaseState state) =>
        state is ReleaseState.Canary or ReleaseState.EarlyAdopters or ReleaseState.GeneralAvailability or ReleaseState.Full;

    /// <summary>
    /// Whether the release holds its service's one-rollout lock: from creation until it is handed
    /// over to operations or ends.
    /// </summary>
    public static bool HoldsServiceLock(this ReleaseState state) =>
        !state.IsTerminal() && state != ReleaseState.Operating;

    public static string Display(this ReleaseState state) => state switch
    {
        ReleaseState.AwaitingApproval => "Awaiting approval",
        ReleaseState.EarlyAdopters => "Early adopters",
        ReleaseState.GeneralAvailability => "General availability",
        ReleaseState.RollingBack => "Rolling back",
        ReleaseState.RolledBack => "Rolled back",
        _ => state.ToString(),
    };
}
