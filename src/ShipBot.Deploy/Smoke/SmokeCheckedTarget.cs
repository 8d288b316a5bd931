using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy.Smoke;

/// <summary>A target whose smoke checks are the service's configured HTTP checks (used for the simulated target when a service lists smoke check URLs).</summary>
public sealed class SmokeCheckedTarget(IDeploymentTarget inner, HttpSmokeChecks smoke) : IDeploymentTarget
{
    public string Name => inner.Name;

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default) => inner.ApplyAsync(request, cancellationToken);

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        smoke.RunAsync(release, environment, cancellationToken);
}
