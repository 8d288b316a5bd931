using System.Globalization;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Smoke;

namespace ShipBot.Deploy.HAProxy;

/// <summary>
/// Moves traffic by setting server weights through HAProxy's runtime API: at p % the new
/// version's servers together get p / 100 of the backend's total weight and the stable servers the
/// rest (<see cref="Weights"/>), in one command line. A stage is done only when
/// <c>show servers state</c> reports every weight in effect and every server that now gets traffic
/// UP by its health checks and not in maintenance or drain. A rollback gives the new servers weight
/// 0 and waits the same way for the stable ones. Waiting is bounded by
/// <see cref="HAProxyTargetOptions.Timeout"/> on the injected clock.
/// </summary>
public sealed class HAProxyTarget(HAProxyTargetOptions options, HttpSmokeChecks smoke, TimeProvider time) : IDeploymentTarget, IRouterTarget
{
    public const string Router = "HAProxy";

    /// <summary>HAProxy's largest server weight.</summary>
    public const int MaxWeight = 256;

    public string Name => $"haproxy {options.Backend}";

    public async Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = time.GetTimestamp();
        var intent = request.Intent;
        var staging = intent.Environment == DeploymentEnvironment.Staging;
        var where = staging ? StagingRef() : options.Production;
        if (where is null)
        {
            return new DeploymentResult(true, "no staging backend is configured (Deployment:HAProxy:Staging): staging is deployed by the team's pipeline, not moved by ShipBot; the smoke checks gate it", time.GetElapsedTime(started));
        }

        var percent = intent.IsRollback ? 0 : staging ? 100 : intent.Percent;
        var weights = Weights(where, percent);
        var api = new HAProxyRuntimeApi(where.RuntimeApi!);
        IReadOnlyList<HAProxyServerState>? last = null;
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var command = string.Join("; ", weights.Select(w => $"set server {where.Backend}/{w.Key} weight {w.Value.ToString(CultureInfo.InvariantCulture)}"));
            var answer = (await api.ExecuteAsync(command, linked.Token).ConfigureAwait(false)).Trim();
            if (answer.Length > 0)
            {
                return Result(false, $"HAProxy refused the weights: {answer.ReplaceLineEndings(" ")}", started, where, last);
            }

            while (true)
            {
                last = await api.ShowServersStateAsync(where.Backend!, linked.Token).ConfigureAwait(false);
                var problem = Unsettled(where, weights, last);
                if (problem is null)
                {
                    var goal = intent.IsRollback ? "rolled back, traffic back on stable" : $"new version at {percent} %";
                    return Result(true, $"{goal}: {Describe(where, last)}", started, where, last);
                }

                if (problem.Missing)
                {
                    return Result(false, problem.Text, started, where, last);
                }

                await Task.Delay(options.PollInterval, time, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var why = last is null ? "no answer" : Unsettled(where, weights, last)?.Text ?? "settled just now";
            return Result(false, $"HAProxy did not report the weights in effect with the serving servers up within {options.Timeout.TotalSeconds:0.#} s: {why}", started, where, last);
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            return Result(false, ex.Message, started, where, last);
        }
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        smoke.RunAsync(release, environment, cancellationToken);

    public async Task<TargetStatus?> ReadStatusAsync(ReleaseId release, CancellationToken cancellationToken = default)
    {
        var where = options.Production;
        var servers = await new HAProxyRuntimeApi(where.RuntimeApi!).ShowServersStateAsync(where.Backend!, cancellationToken).ConfigureAwait(false);
        return StatusOf(where, servers);
    }

    /// <summary>A load balancer has no progression of its own to pause.</summary>
    public Task<DeploymentResult?> SetPausedAsync(ReleaseId release, bool paused, CancellationToken cancellationToken = default) =>
        Task.FromResult<DeploymentResult?>(null);

    /// <summary>
    /// Per-server weights that give the canary servers exactly <paramref name="percent"/> % of the
    /// backend's total weight: each canary server gets p × (number of stable servers) and each stable
    /// server (100 − p) × (number of canary servers), scaled down to HAProxy's 0–256 range.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Weights(HAProxyRouteRef where, int percent)
    {
        ArgumentNullException.ThrowIfNull(where);
        percent = Math.Clamp(percent, 0, 100);
        var canary = (double)percent * where.StableServers.Count;
        var stable = (double)(100 - percent) * where.CanaryServers.Count;
        var scale = Math.Max(canary, stable) / MaxWeight;
        int Scaled(double w) => w == 0 ? 0 : Math.Max(1, (int)Math.Round(scale > 1 ? w / scale : w, MidpointRounding.AwayFromZero));
        var weights = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var server in where.StableServers)
        {
            weights[server] = Scaled(stable);
        }

        foreach (var server in where.CanaryServers)
        {
            weights[server] = Scaled(canary);
        }

        return weights;
    }

    private HAProxyRouteRef? StagingRef() => options.Staging is not { } staging
        ? null
        : new HAProxyRouteRef
        {
            RuntimeApi = staging.RuntimeApi ?? options.RuntimeApi,
            Backend = staging.Backend,
            StableServers = staging.StableServers.Count > 0 ? staging.StableServers : options.StableServers,
            CanaryServers = staging.CanaryServers.Count > 0 ? staging.CanaryServers : options.CanaryServers,
        };

    private static Problem? Unsettled(HAProxyRouteRef where, IReadOnlyDictionary<string, int> weights, IReadOnlyList<HAProxyServerState> servers)
    {
        foreach (var (name, weight) in weights)
        {
            var server = servers.FirstOrDefault(s => s.Server == name);
            if (server is null)
            {
                return new Problem($"HAProxy {where} has no server {name}", Missing: true);
            }

            if (server.Weight != weight)
            {
                return new Problem($"{name} weight {server.Weight}, not {weight}");
            }

            if (weight > 0 && (!server.IsUp || server.InMaintenance || server.Draining))
            {
                return new Problem($"{name} gets traffic but is {server.Describe()}");
            }
        }

        return null;
    }

    private static string Describe(HAProxyRouteRef where, IReadOnlyList<HAProxyServerState> servers) =>
        string.Join(", ", servers.Where(s => where.StableServers.Contains(s.Server) || where.CanaryServers.Contains(s.Server))
            .Select(s => $"{s.Server} weight {s.Weight} {s.Describe()}"));

    private TargetStatus StatusOf(HAProxyRouteRef where, IReadOnlyList<HAProxyServerState> servers)
    {
        string Group(IEnumerable<string> names) => string.Join(", ", names.Select(n => servers.FirstOrDefault(s => s.Server == n) is { } s ? $"{n} {s.Weight} {s.Describe()}" : $"{n} missing"));
        var canary = servers.Where(s => where.CanaryServers.Contains(s.Server)).Sum(s => s.Weight);
        var total = servers.Where(s => where.CanaryServers.Contains(s.Server) || where.StableServers.Contains(s.Server)).Sum(s => s.Weight);
        return new TargetStatus(Router, where.ToString(),
        [
            new("canary share", total == 0 ? "no weight" : $"{100.0 * canary / total:0.#} %"),
            new("canary servers", Group(where.CanaryServers)),
            new("stable servers", Group(where.StableServers)),
        ], time.GetUtcNow());
    }

    private DeploymentResult Result(bool ok, string detail, long started, HAProxyRouteRef where, IReadOnlyList<HAProxyServerState>? servers) =>
        new(ok, detail, time.GetElapsedTime(started)) { Status = servers is null ? null : StatusOf(where, servers) };

    private sealed record Problem(string Text, bool Missing = false);
}
