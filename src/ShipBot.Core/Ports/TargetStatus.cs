using ShipBot.Core.Releases;

namespace ShipBot.Core.Ports;

/// <summary>One labelled fact a traffic router reported ("weights" → "canary 25 % · stable 75 %").</summary>
public sealed record TargetFact(string Label, string Value);

/// <summary>
/// What a traffic router (Argo Rollouts, a Gateway API route, HAProxy) reported about a service
/// when ShipBot last looked: labelled facts in display order, for the release card and the audit.
/// </summary>
/// <param name="Router">The kind of router, e.g. "Argo Rollouts".</param>
/// <param name="Resource">What was read, e.g. "prod/checkout" or "backend be_checkout".</param>
/// <param name="Facts">Step, weights, replica sets, conditions… as the router states them.</param>
/// <param name="At">When it was read.</param>
public sealed record TargetStatus(string Router, string Resource, IReadOnlyList<TargetFact> Facts, DateTimeOffset At)
{
    /// <summary>"Argo Rollouts prod/checkout: step 3/6 · weights canary 25 % · stable 75 % · …" on one line.</summary>
    public string Summary => Facts.Count == 0
        ? $"{Router} {Resource}"
        : $"{Router} {Resource}: {string.Join(" · ", Facts.Select(f => $"{f.Label} {f.Value}"))}";

    /// <summary>The value of the first fact with this label, or null.</summary>
    public string? this[string label] => Facts.FirstOrDefault(f => string.Equals(f.Label, label, StringComparison.Ordinal))?.Value;
}

public sealed partial record DeploymentResult
{
    /// <summary>The router's own report after the call (null for targets that are not routers: webhook, command, simulated).</summary>
    public TargetStatus? Status { get; init; }
}

/// <summary>
/// A deployment target that drives a traffic router: besides moving traffic it can pause the
/// router's own progression and report what the router says now (for the release card).
/// </summary>
public interface IRouterTarget
{
    /// <summary>What the router reports for the release's service now; null when the service's target is not a router.</summary>
    Task<TargetStatus?> ReadStatusAsync(ReleaseId release, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pauses (or resumes) the router's own progression for the release's service, so nothing moves
    /// while ShipBot's release is paused. Null when the service's target has nothing to pause.
    /// </summary>
    Task<DeploymentResult?> SetPausedAsync(ReleaseId release, bool paused, CancellationToken cancellationToken = default);
}
