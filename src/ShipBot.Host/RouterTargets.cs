using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Deploy;
using ShipBot.Deploy.ArgoRollouts;
using ShipBot.Deploy.GatewayApi;
using ShipBot.Deploy.HAProxy;
using ShipBot.Deploy.Kubernetes;
using ShipBot.Deploy.Smoke;
using ShipBot.Health.HAProxy;

namespace ShipBot.Host;

/// <summary>
/// The traffic-router targets (Argo Rollouts, Gateway API, HAProxy), one per service that
/// configures one, sharing one Kubernetes API client per kubeconfig; and the Argo Rollouts watcher
/// that turns Argo's own aborts into rollback alerts.
/// </summary>
public sealed class RouterTargets(KubernetesApis kubernetes, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, IDeploymentTarget> _targets = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The Argo Rollouts targets created so far, by service.</summary>
    public IReadOnlyDictionary<string, ArgoRolloutsTarget> ArgoRollouts =>
        _targets.Where(t => t.Value is ArgoRolloutsTarget).ToDictionary(t => t.Key.ToLowerInvariant(), t => (ArgoRolloutsTarget)t.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>ArgoRollouts, GatewayApi or HAProxy when the service gives that router's settings (in that order), else null.</summary>
    public static DeploymentTargetKind? Configured(ServiceDeploymentOptions deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return deployment.ArgoRollouts?.Rollout is not null ? DeploymentTargetKind.ArgoRollouts
            : deployment.GatewayApi?.Route is not null ? DeploymentTargetKind.GatewayApi
            : deployment.HAProxy?.Backend is not null ? DeploymentTargetKind.HAProxy
            : null;
    }

    /// <summary>The service's router target (created once; validated options are assumed).</summary>
    public IDeploymentTarget For(string service, ServiceDeploymentOptions deployment, HttpSmokeChecks smoke)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return _targets.GetOrAdd(service, _ => deployment.EffectiveTarget(DeploymentTargetKind.Simulated) switch
        {
            DeploymentTargetKind.ArgoRollouts => new ArgoRolloutsTarget(kubernetes.For(deployment.ArgoRollouts!.Connection), deployment.ArgoRollouts, smoke, time),
            DeploymentTargetKind.GatewayApi => new GatewayApiTarget(kubernetes.For(deployment.GatewayApi!.Connection), deployment.GatewayApi, smoke, time),
            DeploymentTargetKind.HAProxy => new HAProxyTarget(deployment.HAProxy!, smoke, time),
            var other => throw new InvalidOperationException($"{other} is not a router target"),
        });
    }

    /// <summary>The HAProxy health source, its backend and servers defaulting to the service's HAProxy target's.</summary>
    public static HAProxyHealthSource CreateHealthSource(HttpClient http, HAProxyHealthOptions options, ServiceDeploymentOptions deployment, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(deployment);
        return new HAProxyHealthSource(http, EffectiveHealth(options, deployment), time);
    }

    public static HAProxyHealthOptions EffectiveHealth(HAProxyHealthOptions options, ServiceDeploymentOptions deployment)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(deployment);
        return options.WithDefaults(deployment.HAProxy?.Backend, deployment.HAProxy?.CanaryServers ?? [], deployment.HAProxy?.StableServers ?? []);
    }

    /// <summary>An Argo Rollouts abort or degradation as the alert the coordinator acts on (rollback, or consult when <c>alert</c> is Consult).</summary>
    public static ExternalAlert ToAlert(RouterAlarm alarm)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        return new ExternalAlert(alarm.Service, alarm.Version, alarm.Name, "critical", alarm.Reason, alarm.Source, alarm.At, alarm.DedupKey);
    }
}

public static class RouterTargetsServiceCollectionExtensions
{
    /// <summary>Router targets and, when a service uses Argo Rollouts, the watcher (a hosted service).</summary>
    public static IServiceCollection AddRouterTargets(this IServiceCollection services)
    {
        services.AddSingleton<KubernetesApis>();
        services.AddSingleton<RouterTargets>();
        services.AddHostedService(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;

            // Resolving the deployment target creates the per-service targets the watcher shares.
            sp.GetRequiredService<IDeploymentTarget>();
            var argo = sp.GetRequiredService<RouterTargets>().ArgoRollouts;
            var interval = argo.Count == 0 ? TimeSpan.FromSeconds(10) : argo.Values.Min(t => t.Options.WatchInterval);
            var coordinator = sp.GetRequiredService<IAlertIntake>();
            return new ArgoRolloutsWatcher(
                argo,
                sp.GetRequiredService<IReleaseStore>(),
                async (alarm, ct) => (await coordinator.OnAlertAsync(RouterTargets.ToAlert(alarm), ct).ConfigureAwait(false)).Outcome is AlertOutcome.Acted or AlertOutcome.AlreadyActed,
                interval,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ArgoRolloutsWatcher>>());
        });
        return services;
    }
}
