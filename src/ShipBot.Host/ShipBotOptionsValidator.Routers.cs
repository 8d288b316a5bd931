namespace ShipBot.Host;

/// <summary>Start-up checks of the traffic-router targets and the HAProxy health source.</summary>
public sealed partial class ShipBotOptionsValidator
{
    private static void ValidateRouterTarget(string key, ServiceDeploymentOptions deployment, List<string> errors)
    {
        switch (deployment.EffectiveTarget(DeploymentTargetKind.Simulated))
        {
            case DeploymentTargetKind.ArgoRollouts:
                errors.AddRange(deployment.ArgoRollouts?.Validate($"{key}:ArgoRollouts") ?? [$"{key}:ArgoRollouts: set Namespace and Rollout (the Rollout ShipBot drives)."]);
                break;
            case DeploymentTargetKind.GatewayApi:
                errors.AddRange(deployment.GatewayApi?.Validate($"{key}:GatewayApi") ?? [$"{key}:GatewayApi: set Namespace, Route, StableBackend and CanaryBackend."]);
                break;
            case DeploymentTargetKind.HAProxy:
                errors.AddRange(deployment.HAProxy?.Validate($"{key}:HAProxy") ?? [$"{key}:HAProxy: set RuntimeApi, Backend, StableServers and CanaryServers."]);
                break;
        }
    }

    private static void ValidateHAProxyHealth(string key, ServiceOptions settings, List<string> errors)
    {
        if (settings.Health.HAProxy is { } haproxy)
        {
            errors.AddRange(RouterTargets.EffectiveHealth(haproxy, settings.Deployment).Validate(key));
        }
    }
}
