using ShipBot.Core.Releases;

namespace ShipBot.GitHub.Deployments;

/// <summary>A deployment status ShipBot wants GitHub to show: a GitHub state and a short description (at most 140 characters).</summary>
public sealed record DesiredStatus(string State, string Description)
{
    public const int MaxDescription = 140;

    public static DesiredStatus Of(string state, string description) =>
        new(state, description.Length <= MaxDescription ? description : description[..(MaxDescription - 1)] + "…");
}

/// <summary>
/// What each of a release's GitHub deployments should show, from the release alone (so a missed
/// update is made good by the next one):
/// <list type="bullet">
/// <item>staging exists once the release entered the staging gate: <c>in_progress</c> while it
/// deploys, smoke-checks and bakes; <c>success</c> once it passed the gate; <c>failure</c> when the
/// gate halted it; <c>inactive</c> when it was aborted there;</item>
/// <item>production exists once it took production traffic: <c>in_progress</c> through the stages
/// (paused, halted and rolling back say so), <c>success</c> at 100 % (validation, operation,
/// completion), <c>failure</c> when it was rolled back.</item>
/// </list>
/// The deployment a successful one replaces gets <c>inactive</c> (<see cref="GitHubDeploymentsObserver"/>).
/// </summary>
public static class DeploymentStatusPlan
{
    public static DesiredStatus? For(Release release, DeploymentEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(release);
        return environment == DeploymentEnvironment.Staging ? Staging(release) : Production(release);
    }

    private static DesiredStatus? Staging(Release r)
    {
        if (!r.History.Any(h => h.Name == "Staging"))
        {
            return null;
        }

        if (r.StageIndex >= 0)
        {
            return DesiredStatus.Of("success", "Passed the staging gate");
        }

        var effective = r.State is ReleaseState.Paused or ReleaseState.Halted ? r.ResumeState ?? r.State : r.State;
        return r.State switch
        {
            ReleaseState.Aborted => DesiredStatus.Of("inactive", "Aborted before production"),
            ReleaseState.Halted when r.StagingStep == StagingStep.NotStarted => DesiredStatus.Of("failure", $"Halted at the staging gate: {r.HaltReason}"),
            ReleaseState.Halted => DesiredStatus.Of("in_progress", $"Halted in staging: {r.HaltReason}"),
            ReleaseState.Paused => DesiredStatus.Of("in_progress", "Paused in staging"),
            _ when effective == ReleaseState.Staging => r.StagingStep switch
            {
                StagingStep.Deploying => DesiredStatus.Of("in_progress", "Deploying to staging"),
                StagingStep.SmokeChecking => DesiredStatus.Of("in_progress", "Smoke checks in staging"),
                _ => DesiredStatus.Of("in_progress", "Baking in staging"),
            },
            _ => null,
        };
    }

    private static DesiredStatus? Production(Release r)
    {
        if (r.StageIndex < 0)
        {
            return null;
        }

        return r.State switch
        {
            ReleaseState.Canary or ReleaseState.EarlyAdopters or ReleaseState.GeneralAvailability or ReleaseState.Full =>
                DesiredStatus.Of("in_progress", r.PendingDeployment is null ? $"{r.Where}: baking" : $"Deploying {r.Where}"),
            ReleaseState.Paused => DesiredStatus.Of("in_progress", $"Paused at {r.Where}"),
            ReleaseState.Halted => DesiredStatus.Of("in_progress", $"Halted at {r.Where}: {r.HaltReason}"),
            ReleaseState.RollingBack => DesiredStatus.Of("in_progress", $"Rolling back from {r.Rollback?.Stage ?? r.Where}: {r.Rollback?.Reason}"),
            ReleaseState.RolledBack => DesiredStatus.Of("failure", $"Rolled back from {r.Rollback?.Stage ?? r.Where}: {r.Rollback?.Reason}"),
            ReleaseState.Validating or ReleaseState.Operating or ReleaseState.Completed => DesiredStatus.Of("success", "Deployed to 100 %"),
            _ => null,
        };
    }
}
