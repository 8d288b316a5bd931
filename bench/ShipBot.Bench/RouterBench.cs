using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.HAProxy;
using ShipBot.Host;
using ShipBot.Testing.HAProxy;

namespace ShipBot.Bench;

/// <summary>
/// Router benchmark (<c>bash bench/routers.sh</c>): a ShipBot host (in-memory store, Quartz, the
/// HAProxy target) drives a real HAProxy (Debian's 2.6) with one backend per service, in front of
/// two small HTTP services with traffic flowing. It measures, on the wall clock:
/// <list type="bullet">
/// <item>promotion decision → HAProxy reports the new weights: from sending <c>/ship promote</c>
/// (the decision) until <c>show servers state</c>, polled every millisecond by the benchmark,
/// shows the stage's weights in effect;</item>
/// <item>breach → traffic back on stable: from posting a firing Alertmanager alert until
/// <c>show servers state</c> shows the new servers at weight 0 and the stable ones at full weight.</item>
/// </list>
/// Each release gives three promotion samples (25, 50, 100 %) and one breach sample (during
/// validation); services are measured one at a time, so samples do not queue behind each other.
/// </summary>
public static class RouterBench
{
    private const string Token = "bench-alertmanager-token-0123456789";
    private static readonly string[] BlockingItems = ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    public static async Task<int> RunAsync(string[] args)
    {
        var services = Arg(args, "--services", 20);
        var rounds = Arg(args, "--rounds", 3);
        await using var stable = await VersionedHttpService.StartAsync("stable");
        await using var next = await VersionedHttpService.StartAsync("new");
        var names = Enumerable.Range(0, services).Select(i => $"svc{i:00}").ToList();
        var backends = names.ToDictionary(n => $"be_{n}", _ => (IReadOnlyList<HAProxyBackendServer>)[new("stable1", stable.Address, 100), new("new1", next.Address, 0)]);
        await using var haproxy = await HAProxyServer.StartAsync(backends);
        await haproxy.WaitForServersAsync(["stable1", "new1"]);
        await using var traffic = new TrafficMeter(haproxy.Frontend);
        traffic.StartBackground(perSecond: 50);

        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:EvaluationInterval"] = "00:00:01",
            ["ShipBot:Alertmanager:BearerToken"] = Token,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var name in names)
        {
            var key = $"ShipBot:Services:{name}";
            settings[$"{key}:Requesters:0"] = "alice";
            settings[$"{key}:Approvers:0"] = "bob";
            settings[$"{key}:OnCall:0"] = "carol";
            settings[$"{key}:StagingBake"] = "00:00:01";
            settings[$"{key}:Stages:0:Kind"] = "Canary";
            settings[$"{key}:Stages:0:Percent"] = "5";
            settings[$"{key}:Stages:0:Bake"] = "01:00:00";
            settings[$"{key}:Stages:1:Kind"] = "EarlyAdopters";
            settings[$"{key}:Stages:1:Percent"] = "25";
            settings[$"{key}:Stages:1:Bake"] = "01:00:00";
            settings[$"{key}:Stages:2:Kind"] = "GeneralAvailability";
            settings[$"{key}:Stages:2:Percent"] = "50";
            settings[$"{key}:Stages:2:Bake"] = "01:00:00";
            settings[$"{key}:Stages:3:Kind"] = "Full";
            settings[$"{key}:Stages:3:Percent"] = "100";
            settings[$"{key}:Stages:3:Bake"] = "01:00:00";
            settings[$"{key}:ValidationWindow"] = "01:00:00";
            settings[$"{key}:Deployment:HAProxy:RuntimeApi"] = haproxy.RuntimeSocket;
            settings[$"{key}:Deployment:HAProxy:Backend"] = $"be_{name}";
            settings[$"{key}:Deployment:HAProxy:StableServers:0"] = "stable1";
            settings[$"{key}:Deployment:HAProxy:CanaryServers:0"] = "new1";
            settings[$"{key}:Deployment:HAProxy:PollInterval"] = "00:00:00.005";
        }

        var app = ShipBotApp.Build(["--urls", "http://127.0.0.1:0"], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        var runtime = new HAProxyRuntimeApi(haproxy.RuntimeSocket);
        var store = app.Services.GetRequiredService<IReleaseStore>();
        var promotions = new List<double>();
        var breaches = new List<double>();
        var total = Stopwatch.StartNew();
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                var version = $"1.{round}.0";
                await Task.WhenAll(names.Select(n => ToCanaryAsync(http, store, n, version)));
                System.Console.Error.WriteLine($"round {round + 1}: {names.Count} releases at canary ({total.Elapsed.TotalSeconds:0} s)");
                foreach (var name in names)
                {
                    var release = $"{name}@{version}";
                    foreach (var (percent, state) in new[] { (25, "EarlyAdopters"), (50, "GeneralAvailability"), (100, "Full") })
                    {
                        await WaitForStateAsync(store, release, percent == 25 ? "Canary" : percent == 50 ? "EarlyAdopters" : "GeneralAvailability", deployed: true);
                        var watch = Stopwatch.StartNew();
                        await SayAsync(http, "bob", $"/ship promote {release}");
                        await WaitForWeightsAsync(runtime, $"be_{name}", 100 - percent, percent);
                        promotions.Add(watch.Elapsed.TotalMilliseconds);
                        await WaitForStateAsync(store, release, state, deployed: true);
                    }

                    await SayAsync(http, "bob", $"/ship promote {release}");
                    await WaitForStateAsync(store, release, "Validating", deployed: false);
                    var breach = Stopwatch.StartNew();
                    await AlertAsync(http, name, $"{name}-{round}");
                    await WaitForWeightsAsync(runtime, $"be_{name}", 100, 0);
                    breaches.Add(breach.Elapsed.TotalMilliseconds);
                    await WaitForStateAsync(store, release, "RolledBack", deployed: false);

                    // A rollback stops the line for the service; the next round's release needs it lifted.
                    await SayAsync(http, "dave", $"/ship unhalt {name} benchmark round done");
                }
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"## Routers: HAProxy\n\n{services} services × {rounds} rounds on {Environment.ProcessorCount} cores, HAProxy {(await runtime.ExecuteAsync("show version")).Trim()}, {total.Elapsed.TotalSeconds:0} s.\n");
        var table = new Table("measurement", "samples", "p50 ms", "p90 ms", "p99 ms", "max ms", "target");
        Row(table, "promotion decision → HAProxy reports the new weights", promotions, "p99 < 200 ms");
        Row(table, "breach (alert received) → traffic back on stable", breaches, "p99 < 1,000 ms");
        report.Append(table);
        System.Console.Out.Write(report.ToString());
        return 0;
    }

    private static void Row(Table table, string name, List<double> samples, string target)
    {
        var sorted = samples.Order().ToArray();
        table.Add(name, sorted.Length.ToString(CultureInfo.InvariantCulture), Stats.F(Stats.Percentile(sorted, 50), 1), Stats.F(Stats.Percentile(sorted, 90), 1),
            Stats.F(Stats.Percentile(sorted, 99), 1), Stats.F(sorted.LastOrDefault(), 1), target);
    }

    private static async Task ToCanaryAsync(HttpClient http, IReleaseStore store, string service, string version)
    {
        var release = $"{service}@{version}";
        await SayAsync(http, "alice", $"/ship start {service} {version} router benchmark");
        await SayAsync(http, "alice", $"/ship check {release} {string.Join(' ', BlockingItems)}");
        await SayAsync(http, "bob", $"/ship approve {release}");
        await WaitForStateAsync(store, release, "Canary", deployed: true);
    }

    private static async Task SayAsync(HttpClient http, string user, string text)
    {
        using var response = await http.PostAsJsonAsync("/api/console/messages", new { user, channel = "releases", text });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Waits for the state (and, with <paramref name="deployed"/>, for its deployment call to be done), reading the store in process.</summary>
    private static async Task WaitForStateAsync(IReleaseStore store, string release, string state, bool deployed)
    {
        var id = ReleaseId.TryParse(release, out var parsed) && parsed is { } ok ? ok : throw new ArgumentException(release);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            var current = await store.GetAsync(id);
            if (current?.State.ToString() == state && (!deployed || current.PendingDeployment is null))
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{release} never reached {state}");
    }

    private static async Task WaitForWeightsAsync(HAProxyRuntimeApi runtime, string backend, int stable, int canary)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var servers = await runtime.ShowServersStateAsync(backend);
            if (servers.Single(s => s.Server == "stable1").Weight == stable && servers.Single(s => s.Server == "new1").Weight == canary)
            {
                return;
            }

            await Task.Delay(1);
        }

        throw new TimeoutException($"{backend} never reported stable {stable} / canary {canary}");
    }

    private static async Task AlertAsync(HttpClient http, string service, string fingerprint)
    {
        var labels = new JsonObject { ["alertname"] = "HighErrorRate", ["service"] = service, ["severity"] = "critical" };
        var payload = new JsonObject
        {
            ["receiver"] = "shipbot",
            ["status"] = "firing",
            ["alerts"] = new JsonArray(new JsonObject
            {
                ["status"] = "firing",
                ["labels"] = labels.DeepClone(),
                ["annotations"] = new JsonObject { ["summary"] = $"{service} error rate above 5 %" },
                ["startsAt"] = "2026-03-01T10:15:30Z",
                ["endsAt"] = "0001-01-01T00:00:00Z",
                ["fingerprint"] = fingerprint,
            }),
            ["groupLabels"] = new JsonObject { ["alertname"] = "HighErrorRate" },
            ["commonLabels"] = labels,
            ["commonAnnotations"] = new JsonObject(),
            ["externalURL"] = "http://alertmanager.example.org:9093",
            ["version"] = "4",
            ["groupKey"] = $"{{}}:{{alertname=\"HighErrorRate\",service=\"{service}\"}}",
            ["truncatedAlerts"] = 0,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/alertmanager") { Content = JsonContent.Create(payload) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
