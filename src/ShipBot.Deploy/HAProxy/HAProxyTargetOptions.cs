namespace ShipBot.Deploy.HAProxy;

/// <summary>Which HAProxy backend, and which of its servers run the stable and the new version.</summary>
public sealed class HAProxyRouteRef
{
    /// <summary>The runtime API: a unix socket path (<c>/run/haproxy/admin.sock</c>) or <c>tcp:host:port</c>; its level must allow <c>set server</c> (admin).</summary>
    public string? RuntimeApi { get; set; }

    /// <summary>The backend (HAProxy <c>backend</c> section) that serves the service.</summary>
    public string? Backend { get; set; }

    /// <summary>The servers of the version in production.</summary>
    public List<string> StableServers { get; set; } = [];

    /// <summary>The servers of the new version.</summary>
    public List<string> CanaryServers { get; set; } = [];

    public override string ToString() => $"backend {Backend}";
}

/// <summary>
/// A service's HAProxy target (<c>ShipBot:Services:&lt;name&gt;:Deployment:HAProxy</c>): one backend
/// with the stable and the new version's servers (<c>balance roundrobin</c>, health checks on);
/// ShipBot sets their weights through the runtime API.
/// </summary>
public sealed class HAProxyTargetOptions
{
    /// <summary>The runtime API: a unix socket path or <c>tcp:host:port</c> (<c>stats socket … level admin</c>). Required.</summary>
    public string? RuntimeApi { get; set; }

    /// <summary>The backend that serves the service. Required.</summary>
    public string? Backend { get; set; }

    /// <summary>The servers of the version in production. Required.</summary>
    public List<string> StableServers { get; set; } = [];

    /// <summary>The servers of the new version. Required.</summary>
    public List<string> CanaryServers { get; set; } = [];

    /// <summary>How long ShipBot waits for HAProxy to report the weights applied and the servers that now get traffic up. Default 30 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often <c>show servers state</c> is read while waiting. Default 100 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The staging backend (its RuntimeApi defaults to this one's), set to the new version at 100 % for the staging gate. Optional (see the Argo Rollouts target).</summary>
    public HAProxyRouteRef? Staging { get; set; }

    public HAProxyRouteRef Production => new() { RuntimeApi = RuntimeApi, Backend = Backend, StableServers = StableServers, CanaryServers = CanaryServers };

    /// <summary>Start-up checks; each error names its key under <paramref name="key"/> (…:Deployment:HAProxy).</summary>
    public IEnumerable<string> Validate(string key)
    {
        foreach (var error in ValidateRef(key, Production))
        {
            yield return error;
        }

        if (Staging is not null)
        {
            var staging = new HAProxyRouteRef
            {
                RuntimeApi = Staging.RuntimeApi ?? RuntimeApi,
                Backend = Staging.Backend,
                StableServers = Staging.StableServers.Count > 0 ? Staging.StableServers : StableServers,
                CanaryServers = Staging.CanaryServers.Count > 0 ? Staging.CanaryServers : CanaryServers,
            };
            foreach (var error in ValidateRef($"{key}:Staging", staging))
            {
                yield return error;
            }
        }

        if (Timeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || PollInterval > Timeout)
        {
            yield return $"{key}: Timeout and PollInterval must be positive, PollInterval no longer than Timeout.";
        }
    }

    /// <summary>An HAProxy proxy or server name: letters, digits, '-', '_', '.', ':'.</summary>
    public static bool IsName(string? name) => name is { Length: > 0 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private static IEnumerable<string> ValidateRef(string key, HAProxyRouteRef where)
    {
        if (!HAProxyRuntimeApi.IsValidAddress(where.RuntimeApi))
        {
            yield return $"{key}:RuntimeApi '{where.RuntimeApi}' is not a runtime API address: a unix socket path (/run/haproxy/admin.sock) or tcp:host:port.";
        }

        if (!IsName(where.Backend))
        {
            yield return $"{key}:Backend '{where.Backend}' is not an HAProxy backend name.";
        }

        if (where.StableServers.Count == 0 || where.CanaryServers.Count == 0)
        {
            yield return $"{key}: list both StableServers and CanaryServers (the servers of the version in production and of the new one).";
        }

        foreach (var server in where.StableServers.Concat(where.CanaryServers).Where(s => !IsName(s)))
        {
            yield return $"{key}: '{server}' is not an HAProxy server name.";
        }

        foreach (var server in where.StableServers.Intersect(where.CanaryServers, StringComparer.Ordinal))
        {
            yield return $"{key}: server '{server}' is listed as both stable and canary.";
        }
    }
}
