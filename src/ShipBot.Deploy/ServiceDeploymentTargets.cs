using System.Diagnostics;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Telemetry;

namespace ShipBot.Deploy;

/// <summary>
/// The deployment target the coordinator sees: each service's own target (webhook, command, GitHub
/// Actions, Argo Rollouts, Gateway API, HAProxy), else the default one. Every call is recorded
/// (<c>shipbot.deployment.duration</c>) by target, operation (apply, rollback, smoke) and outcome
/// (success, failure, error). Router status and pauses go to the service's target when it drives a
/// router (<see cref="IRouterTarget"/>), else they are null.
/// </summary>
public sealed class ServiceDeploymentTargets(IReadOnlyDictionary<string, IDeploymentTarget> byService, IDeploymentTarget fallback) : IDeploymentTarget, IRouterTarget
{
    public string Name => fallback.Name;

    public string NameFor(string service) => For(service).Name;

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = For(request.Release.Service);
        return MeasureAsync(target.Name, request.Intent.IsRollback ? "rollback" : "apply", () => target.ApplyAsync(request, cancellationToken));
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default)
    {
        var target = For(release.Service);
        return MeasureAsync(target.Name, "smoke", () => target.RunSmokeChecksAsync(release, environment, cancellationToken));
    }

    public Task<TargetStatus?> ReadStatusAsync(ReleaseId release, CancellationToken cancellationToken = default) =>
        For(release.Service) is IRouterTarget router ? router.ReadStatusAsync(release, cancellationToken) : Task.FromResult<TargetStatus?>(null);

    public Task<DeploymentResult?> SetPausedAsync(ReleaseId release, bool paused, CancellationToken cancellationToken = default) =>
        For(release.Service) is IRouterTarget router ? router.SetPausedAsync(release, paused, cancellationToken) : Task.FromResult<DeploymentResult?>(null);

    private IDeploymentTarget For(string service) => byService.TryGetValue(service, out var target) ? target : fallback;

    private static async Task<DeploymentResult> MeasureAsync(string target, string operation, Func<Task<DeploymentResult>> call)
    {
        var started = ShipBotTelemetry.Timestamp();
        try
        {
            var result = await call().ConfigureAwait(false);
            OperationTelemetry.RecordDeployment(target, operation, result.Succeeded ? "success" : "failure", ShipBotTelemetry.SecondsSince(started));
            return result;
        }
        catch
        {
            OperationTelemetry.RecordDeployment(target, operation, "error", ShipBotTelemetry.SecondsSince(started));
            throw;
        }
    }
}
