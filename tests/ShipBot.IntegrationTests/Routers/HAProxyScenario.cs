using System.Globalization;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using ShipBot.Testing.HAProxy;

namespace ShipBot.IntegrationTests.Routers;

/// <summary>
/// Everything real on one machine: the stable and the new version as two HTTP services on
/// loopback, Debian's HAProxy in front of them (stable at weight 100, new at 0), traffic flowing
/// through it all the time, and a real Prometheus scraping HAProxy's built-in exporter every second.
/// ShipBot's demo service moves traffic through HAProxy's runtime API and reads the new servers'
/// health from that Prometheus.
/// </summary>
internal sealed class HAProxyScenario : IAsyncDisposable
{
    public const string Backend = "be_demo";
    public const string Release = "demo@1.0.0";

    private HAProxyScenario(VersionedHttpService stable, VersionedHttpService next, HAProxyServer haproxy, TrafficMeter traffic, PrometheusServer prometheus)
    {
        Stable = stable;
        New = next;
        HAProxy = haproxy;
        Traffic = traffic;
        Prometheus = prometheus;
    }

    public VersionedHttpService Stable { get; }

    public VersionedHttpService New { get; }

    public HAProxyServer HAProxy { get; }

    public TrafficMeter Traffic { get; }

    public PrometheusServer Prometheus { get; }

    /// <summary>Starts everything; <paramref name="newStatus"/> is what the new version answers real requests with (its health check stays 200).</summary>
    public static async Task<HAProxyScenario> StartAsync(int newStatus = 200)
    {
        var stable = await VersionedHttpService.StartAsync("stable");
        var next = await VersionedHttpService.StartAsync("new");
        next.StatusCode = newStatus;
        var haproxy = await HAProxyServer.StartAsync(Backend, [new("stable1", stable.Address, 100), new("new1", next.Address, 0)]);
        await haproxy.WaitForServersAsync(["stable1", "new1"]);
        var traffic = new TrafficMeter(haproxy.Frontend);
        traffic.StartBackground(perSecond: 100);
        var prometheus = await PrometheusServer.StartAsync([haproxy.MetricsTarget]);
        await prometheus.WaitForSeriesAsync($"rate(haproxy_server_http_responses_total{{proxy=\"{Backend}\",server=\"stable1\",code=\"2xx\"}}[5s]) > 0");
        return new HAProxyScenario(stable, next, haproxy, traffic, prometheus);
    }

    /// <summary>
    /// demo deploys through HAProxy (runtime API on the unix socket) and reads the new servers'
    /// 5xx ratio and average latency through Prometheus (5 s windows); stages bake 10 minutes, so
    /// the test promotes them itself once it has measured the split.
    /// </summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["ShipBot:Services:demo:Deployment:HAProxy:RuntimeApi"] = HAProxy.RuntimeSocket,
        ["ShipBot:Services:demo:Deployment:HAProxy:Backend"] = Backend,
        ["ShipBot:Services:demo:Deployment:HAProxy:StableServers:0"] = "stable1",
        ["ShipBot:Services:demo:Deployment:HAProxy:CanaryServers:0"] = "new1",
        ["ShipBot:Services:demo:Health:HAProxy:Url"] = Prometheus.Url.ToString(),
        ["ShipBot:Services:demo:Health:HAProxy:Window"] = "5s",
        ["ShipBot:Services:demo:Health:HAProxy:Timeout"] = "00:00:02",
        ["ShipBot:Services:demo:Health:MaxInconclusive"] = "0",
        ["ShipBot:Services:demo:Health:Checks:0:Metric"] = "latency_avg_ms",
        ["ShipBot:Services:demo:Health:Checks:0:Max"] = "600",
        ["ShipBot:Health:Source"] = "None",
        ["ShipBot:Services:demo:Stages:0:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Stages:1:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Stages:2:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:Stages:3:Bake"] = "00:10:00",
        ["ShipBot:Services:demo:ValidationWindow"] = "00:10:00",
    };

    public static string Describe(JsonObject release) =>
        $"{release["state"]} at {release["stage"]}; health: {release["health"]?["summary"]}\nAudit:\n" +
        string.Join("\n", release["audit"]!.AsArray().Select(a => $"  {a!["action"]}: {a["detail"]}"));

    /// <summary>Waits until the deployment call of <paramref name="percent"/> % was recorded as done (the router confirmed it).</summary>
    public static async Task<JsonObject> WaitForDeployedAsync(ShipBotHost host, int percent)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        JsonObject release;
        do
        {
            release = await host.ReleaseAsync(Release);
            if (release["audit"]!.AsArray().Any(a => (string?)a!["action"] == "DeploymentSucceeded" && ((string?)a["detail"])?.Contains($"production at {percent.ToString(CultureInfo.InvariantCulture)} %", StringComparison.Ordinal) == true))
            {
                return release;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"the {percent} % stage was never confirmed. {Describe(release)}");
    }

    /// <summary>Waits until the release's health is green (the new servers have been measured).</summary>
    public static async Task<JsonObject> WaitForHealthyAsync(ShipBotHost host)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        JsonObject release;
        do
        {
            release = await host.ReleaseAsync(Release);
            if ((string?)release["health"]?["status"] == "healthy")
            {
                return release;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"health never became green. {Describe(release)}");
    }

    public async ValueTask DisposeAsync()
    {
        await Traffic.DisposeAsync();
        await Prometheus.DisposeAsync();
        await HAProxy.DisposeAsync();
        await New.DisposeAsync();
        await Stable.DisposeAsync();
    }
}
