using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Health;

/// <summary>
/// A service under test, a real Prometheus scraping it every second, and the ShipBot settings that
/// point the demo service's health at that Prometheus (the default queries over a 5 s window,
/// evaluations every second). Disposes Prometheus before the service.
/// </summary>
internal sealed partial class PrometheusScenario : IAsyncDisposable
{
    public const string Baseline = "0.9.0";
    public const string NewVersion = "1.0.0";
    public const string Release = "demo@1.0.0";

    public static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private PrometheusScenario(DemoMetricsService service, PrometheusServer prometheus)
    {
        Service = service;
        Prometheus = prometheus;
    }

    public DemoMetricsService Service { get; }

    public PrometheusServer Prometheus { get; }

    /// <summary>
    /// Starts the service serving the production version and the new one at the given error
    /// ratios, starts Prometheus, and waits until rate() over 5 s has data for both versions.
    /// </summary>
    public static async Task<PrometheusScenario> StartAsync(double baselineErrors, double newErrors, int instances = 1, bool emitIdleErrorSeries = true)
    {
        var service = await DemoMetricsService.StartAsync(instances, emitIdleErrorSeries);
        service.Serve(Baseline, baselineErrors);
        service.Serve(NewVersion, newErrors);
        PrometheusServer? prometheus = null;
        try
        {
            prometheus = await PrometheusServer.StartAsync([service.Target]);
            await prometheus.WaitForSeriesAsync("sum by (version) (rate(http_requests_total{service=\"demo\"}[5s]))", series: 2);
            return new PrometheusScenario(service, prometheus);
        }
        catch
        {
            if (prometheus is not null)
            {
                await prometheus.DisposeAsync();
            }

            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>ShipBot settings: the demo service reads Prometheus (default queries, 5 s window) and is evaluated every second.</summary>
    public Dictionary<string, string?> Settings(int maxInconclusive = 5) => PrometheusSettings(Prometheus.Url.ToString(), maxInconclusive);

    public static Dictionary<string, string?> PrometheusSettings(string url, int maxInconclusive) => new()
    {
        ["ShipBot:Services:demo:Health:Prometheus:Url"] = url,
        ["ShipBot:Services:demo:Health:Prometheus:Window"] = "5s",
        // Generous: a healthy Prometheus is never taken as unreadable because the machine is busy.
        ["ShipBot:Services:demo:Health:Prometheus:Timeout"] = "00:00:30",
        ["ShipBot:Services:demo:Health:MaxInconclusive"] = maxInconclusive.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Starts, confirms and approves demo@1.0.0: it goes to staging.</summary>
    public static async Task ApproveAsync(ShipBotHost host)
    {
        await host.SayAsync("alice", $"/ship start demo {NewVersion} faster checkout");
        await host.SayAsync("alice", $"/ship check {Release} {string.Join(' ', BlockingItems)}");
        var approved = await host.SayAsync("bob", $"/ship approve {Release}");
        Assert.Contains("goes to staging", approved["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    public static List<JsonObject> Audit(JsonObject release) => [.. release["audit"]!.AsArray().OfType<JsonObject>()];

    public static string Describe(JsonObject release) =>
        $"{release["state"]} at {release["stage"]}; health: {release["health"]?["summary"]}\nAudit:\n" +
        string.Join("\n", Audit(release).Select(a => $"  {a["action"]}: {a["detail"]}"));

    /// <summary>The percentage in "error rate 12.5 %"-style text, as a fraction.</summary>
    public static double Percent(Match match, string group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) / 100;

    [GeneratedRegex(@"error rate (?<value>\d+(\.\d+)?) % breaches limit baseline (?<baseline>\d+(\.\d+)?) % \+ (?<x>\d+(\.\d+)?) pt")]
    public static partial Regex ErrorRateBreach();

    public async ValueTask DisposeAsync()
    {
        await Prometheus.DisposeAsync();
        await Service.DisposeAsync();
    }
}
