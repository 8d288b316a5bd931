using ShipBot.Deploy.Kubernetes;

namespace ShipBot.Deploy.ArgoRollouts;

/// <summary>Which Rollout: a namespace and a name.</summary>
public sealed class ArgoRolloutRef
{
    public string? Namespace { get; set; }

    /// <summary>The Rollout's name.</summary>
    public string? Rollout { get; set; }

    public override string ToString() => $"{Namespace}/{Rollout}";
}

/// <summary>
/// A service's Argo Rollouts target (<c>ShipBot:Services:&lt;name&gt;:Deployment:ArgoRollouts</c>).
/// The Rollout uses the canary strategy with, for every ShipBot stage below 100 %, a
/// <c>setWeight</c> of that percentage followed by an indefinite <c>pause: {}</c>.
/// </summary>
public sealed class ArgoRolloutsTargetOptions
{
    /// <summary>The production Rollout's namespace. Required.</summary>
    public string? Namespace { get; set; }

    /// <summary>The production Rollout's name. Required.</summary>
    public string? Rollout { get; set; }

    /// <summary>The container that runs the service. Default: the pod template's first container.</summary>
    public string? Container { get; set; }

    /// <summary>
    /// An image template such as <c>ghcr.io/acme/checkout:{{version}}</c>: when set, ShipBot sets the
    /// container's image to it as the release starts (which starts Argo's canary). When not set, the
    /// team's pipeline updates the Rollout, and ShipBot refuses to move traffic unless the container's
    /// image tag is the release's version.
    /// </summary>
    public string? Image { get; set; }

    /// <summary>A kubeconfig file. Default: the in-cluster service account, else <c>KUBECONFIG</c> or <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context to use. Default: its current context.</summary>
    public string? Context { get; set; }

    /// <summary>How long ShipBot waits for Argo Rollouts to report a stage done (weight set, canary pods available, paused at the next step). Default 10 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the Rollout is read while waiting. Default 2 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the watcher reads the Rollout of a release in production, to turn Argo's own aborts into ShipBot rollbacks. Default 10 s.</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The staging Rollout, fully promoted for the staging gate. Optional: without it the staging
    /// deployment is left to the team's pipeline, and the call says so in the audit trail (smoke
    /// checks still gate staging).
    /// </summary>
    public ArgoRolloutRef? Staging { get; set; }

    public KubernetesConnection Connection => new(Kubeconfig, Context);

    public ArgoRolloutRef Production => new() { Namespace = Namespace, Rollout = Rollout };

    /// <summary>Start-up checks; each error names its key under <paramref name="key"/> (…:Deployment:ArgoRollouts).</summary>
    public IEnumerable<string> Validate(string key)
    {
        foreach (var error in ValidateRef(key, Production))
        {
            yield return error;
        }

        if (Staging is not null)
        {
            foreach (var error in ValidateRef($"{key}:Staging", Staging))
            {
                yield return error;
            }
        }

        if (Image is { Length: > 0 } && !Image.Contains("{{version}}", StringComparison.Ordinal))
        {
            yield return $"{key}:Image '{Image}' has no {{{{version}}}} placeholder: every release would deploy the same image.";
        }

        if (Timeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || PollInterval > Timeout)
        {
            yield return $"{key}: Timeout and PollInterval must be positive, PollInterval no longer than Timeout.";
        }

        if (WatchInterval < TimeSpan.FromSeconds(1))
        {
            yield return $"{key}:WatchInterval must be at least 1 second.";
        }

        foreach (var error in KubernetesNames.ValidateKubeconfig(key, Kubeconfig))
        {
            yield return error;
        }
    }

    private static IEnumerable<string> ValidateRef(string key, ArgoRolloutRef where)
    {
        if (!KubernetesNames.IsLabel(where.Namespace))
        {
            yield return $"{key}:Namespace '{where.Namespace}' is not a Kubernetes namespace name (lower-case letters, digits, '-').";
        }

        if (!KubernetesNames.IsObjectName(where.Rollout))
        {
            yield return $"{key}:Rollout '{where.Rollout}' is not a Kubernetes object name (lower-case letters, digits, '-', '.').";
        }
    }
}
