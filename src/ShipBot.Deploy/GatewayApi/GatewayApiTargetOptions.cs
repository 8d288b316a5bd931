using ShipBot.Deploy.Kubernetes;

namespace ShipBot.Deploy.GatewayApi;

/// <summary>Which HTTPRoute, and which of its backends are the stable and the canary version.</summary>
public sealed class GatewayApiRouteRef
{
    /// <summary>The HTTPRoute's namespace (the Services are in it too).</summary>
    public string? Namespace { get; set; }

    /// <summary>The HTTPRoute's name.</summary>
    public string? Route { get; set; }

    /// <summary>The Service of the version in production.</summary>
    public string? StableBackend { get; set; }

    /// <summary>The Service of the new version.</summary>
    public string? CanaryBackend { get; set; }

    public override string ToString() => $"{Namespace}/{Route}";
}

/// <summary>
/// A service's Gateway API target (<c>ShipBot:Services:&lt;name&gt;:Deployment:GatewayApi</c>): the
/// HTTPRoute whose rules send traffic to both a stable and a canary Service (backendRefs); ShipBot
/// sets their weights.
/// </summary>
public sealed class GatewayApiTargetOptions
{
    /// <summary>The HTTPRoute's namespace. Required.</summary>
    public string? Namespace { get; set; }

    /// <summary>The HTTPRoute's name. Required.</summary>
    public string? Route { get; set; }

    /// <summary>The Service of the version in production. Required.</summary>
    public string? StableBackend { get; set; }

    /// <summary>The Service of the new version. Required.</summary>
    public string? CanaryBackend { get; set; }

    /// <summary>A kubeconfig file. Default: the in-cluster service account, else <c>KUBECONFIG</c> or <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context to use. Default: its current context.</summary>
    public string? Context { get; set; }

    /// <summary>Ready endpoints the Service that gets traffic must have (EndpointSlices) before a stage counts as done. Default 1.</summary>
    public int MinReadyEndpoints { get; set; } = 1;

    /// <summary>How long ShipBot waits for the gateway controller to accept the new weights. Default 2 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the route is read while waiting. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The staging HTTPRoute, set to the new version at 100 % for the staging gate. Optional (see the Argo Rollouts target).</summary>
    public GatewayApiRouteRef? Staging { get; set; }

    public KubernetesConnection Connection => new(Kubeconfig, Context);

    public GatewayApiRouteRef Production => new() { Namespace = Namespace, Route = Route, StableBackend = StableBackend, CanaryBackend = CanaryBackend };

    /// <summary>Start-up checks; each error names its key under <paramref name="key"/> (…:Deployment:GatewayApi).</summary>
    public IEnumerable<string> Validate(string key)
    {
        if (!KubernetesNames.IsLabel(Namespace))
        {
            yield return $"{key}:Namespace '{Namespace}' is not a Kubernetes namespace name (lower-case letters, digits, '-').";
        }

        if (!KubernetesNames.IsObjectName(Route))
        {
            yield return $"{key}:Route '{Route}' is not a Kubernetes object name.";
        }

        foreach (var (name, value) in new[] { ("StableBackend", StableBackend), ("CanaryBackend", CanaryBackend) })
        {
            if (!KubernetesNames.IsLabel(value))
            {
                yield return $"{key}:{name} '{value}' is not a Service name (lower-case letters, digits, '-').";
            }
        }

        if (StableBackend is not null && StableBackend == CanaryBackend)
        {
            yield return $"{key}: StableBackend and CanaryBackend are the same Service; the canary needs a Service of its own.";
        }

        if (Staging is not null)
        {
            if (Staging.Namespace is not null && !KubernetesNames.IsLabel(Staging.Namespace))
            {
                yield return $"{key}:Staging:Namespace '{Staging.Namespace}' is not a Kubernetes namespace name.";
            }

            if (!KubernetesNames.IsObjectName(Staging.Route))
            {
                yield return $"{key}:Staging:Route '{Staging.Route}' is not a Kubernetes object name.";
            }
        }

        if (MinReadyEndpoints < 0)
        {
            yield return $"{key}:MinReadyEndpoints must be 0 or more.";
        }

        if (Timeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || PollInterval > Timeout)
        {
            yield return $"{key}: Timeout and PollInterval must be positive, PollInterval no longer than Timeout.";
        }

        foreach (var error in KubernetesNames.ValidateKubeconfig(key, Kubeconfig))
        {
            yield return error;
        }
    }
}
