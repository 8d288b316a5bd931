using System.Text.RegularExpressions;

namespace ShipBot.Deploy.Kubernetes;

/// <summary>Checks of Kubernetes object names, so a typo fails start-up rather than a rollout.</summary>
public static partial class KubernetesNames
{
    /// <summary>A DNS-1123 subdomain (names of most objects): lower-case alphanumerics, '-' and '.', at most 253 characters.</summary>
    public static bool IsObjectName(string? name) => name is { Length: > 0 and <= 253 } && Subdomain().IsMatch(name);

    /// <summary>A DNS-1123 label (namespaces, Services): lower-case alphanumerics and '-', at most 63 characters.</summary>
    public static bool IsLabel(string? name) => name is { Length: > 0 and <= 63 } && Label().IsMatch(name);

    /// <summary>Errors for a kubeconfig setting: the file must exist when one is named.</summary>
    public static IEnumerable<string> ValidateKubeconfig(string key, string? kubeconfig)
    {
        if (kubeconfig is { Length: > 0 } && !File.Exists(kubeconfig))
        {
            yield return $"{key}:Kubeconfig '{kubeconfig}' does not exist.";
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label();
}
