using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy;

/// <summary>
/// The deployment target the coordinator sees: each service's own target (webhook, command, Argo
/// Rollouts, Gateway API, HAProxy), else the default one. Router status and pauses go to the
/// service's target when it drives a router (<see cref="IRouterTarget"/>), else they are null.
/// </summary>
public sealed class ServiceDeploymentTargets(IReadOnlyDictionary<string, IDeploymentTarget> byService, IDeploymentTarget fallback) : IDeploymentTarget, IRouterTarget
{
    public string Name => fallback.Name;

    public string NameFor(string service) => For(service).Name;

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return For(request.Release.Service).ApplyAsync(request, cancellationToken);
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, string environment, CancellationToken cancellationToken = default)
    {
        return For(release.Service).RunSmokeChecksAsync(release, environment, cancellationToken);
    }

    public Task<TargetStatus?> ReadStatusAsync(ReleaseId release, CancellationToken cancellationToken = default) =>
        For(release.Service) is IRouterTarget router ? router.ReadStatusAsync(release, cancellationToken) : Task.FromResult<TargetStatus?>(null);

    public Task<DeploymentResult?> SetPausedAsync(ReleaseId release, bool paused, CancellationToken cancellationToken = default) =>
        For(release.Service) is IRouterTarget router ? router.SetPausedAsync(release, paused, cancellationToken) : Task.FromResult<DeploymentResult?>(null);

    private IDeploymentTarget For(string service) => byService.TryGetValue(service, out var target) ? target : fallback;
}
