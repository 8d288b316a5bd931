using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy;

/// <summary>The deployment target the coordinator sees: each service's own target (webhook, command), else the default one.</summary>
public sealed class ServiceDeploymentTargets(IReadOnlyDictionary<string, IDeploymentTarget> byService, IDeploymentTarget fallback) : IDeploymentTarget
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

    private IDeploymentTarget For(string service) => byService.TryGetValue(service, out var target) ? target : fallback;
}
