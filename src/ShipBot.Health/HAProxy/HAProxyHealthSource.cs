using System.Text.RegularExpressions;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Health.Prometheus;

namespace ShipBot.Health.HAProxy;

/// <summary>
/// A service's HAProxy health source (<c>ShipBot:Services:&lt;name&gt;:Health:HAProxy</c>): HAProxy's
/// built-in Prometheus exporter, read through Prometheus. Queries are PromQL templates per metric
/// with the placeholders <c>{{backend}}</c>, <c>{{servers}}</c> (a regex of the servers measured:
/// the new version's, or the stable ones for the baseline) and <c>{{window}}</c>.
/// </summary>
public sealed class HAProxyHealthOptions
{
    /// <summary>The Prometheus server that scrapes HAProxy's exporter, e.g. http://prometheus:9090.</summary>
    public Uri? Url { get; set; }

    /// <summary>The backend (the exporter's <c>proxy</c> label). Default: <c>Deployment:HAProxy:Backend</c>.</summary>
    public string? Backend { get; set; }

    /// <summary>The new version's servers. Default: <c>Deployment:HAProxy:CanaryServers</c>.</summary>
    public List<string> CanaryServers { get; set; } = [];

    /// <summary>The stable servers, measured for the baseline. Default: <c>Deployment:HAProxy:StableServers</c>.</summary>
    public List<string> StableServers { get; set; } = [];

    /// <summary>Metric → PromQL template. Unset metrics use <see cref="DefaultQueries"/>; an empty string turns a default off.</summary>
    public Dictionary<string, string> Queries { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The range of rate() windows, <c>{{window}}</c>. Default 1m.</summary>
    public string Window { get; set; } = "1m";

    /// <summary>Time limit of one query. Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Optional bearer token for a protected Prometheus (set it through the environment).</summary>
    public string? BearerToken { get; set; }

    /// <summary>
    /// The 5xx ratio of the measured servers' responses (<c>haproxy_server_http_responses_total</c>),
    /// and their average response time in ms (<c>haproxy_server_response_time_average_seconds</c>,
    /// HAProxy's average over each server's last 1024 requests; the exporter has no latency
    /// histogram, so there is no p99 to read: judge it with a check on <c>latency_avg_ms</c>).
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultQueries { get; } = new Dictionary<string, string>
    {
        [Metrics.ErrorRate] = "(sum(rate(haproxy_server_http_responses_total{proxy=\"{{backend}}\",server=~\"{{servers}}\",code=\"5xx\"}[{{window}}])) or vector(0)) / sum(rate(haproxy_server_http_responses_total{proxy=\"{{backend}}\",server=~\"{{servers}}\"}[{{window}}]))",
        [Metrics.LatencyAverage] = "1000 * max(haproxy_server_response_time_average_seconds{proxy=\"{{backend}}\",server=~\"{{servers}}\"})",
    };

    /// <summary>Start-up checks of the effective settings (after <see cref="WithDefaults"/>); each error names its key under <paramref name="key"/>.</summary>
    public IEnumerable<string> Validate(string key)
    {
        if (Url is null || !Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            yield return $"{key}:Url must be the absolute http(s) URL of the Prometheus that scrapes HAProxy, such as http://prometheus:9090/.";
        }

        if (string.IsNullOrWhiteSpace(Backend))
        {
            yield return $"{key}:Backend is not set (nor Deployment:HAProxy:Backend).";
        }

        if (CanaryServers.Count == 0 || StableServers.Count == 0)
        {
            yield return $"{key}: CanaryServers and StableServers are not set (nor Deployment:HAProxy's).";
        }

        if (Timeout <= TimeSpan.Zero)
        {
            yield return $"{key}:Timeout must be positive.";
        }

        foreach (var (metric, query) in Queries)
        {
            if (Regex.Matches(query, @"\{\{(\w+)\}\}").Any(m => m.Groups[1].Value is not ("backend" or "servers" or "window")))
            {
                yield return $"{key}:Queries:{metric}: unknown placeholder; use {{{{backend}}}}, {{{{servers}}}} or {{{{window}}}}.";
            }
        }
    }

    /// <summary>These settings with the backend and servers filled in from the service's HAProxy deployment target where unset.</summary>
    public HAProxyHealthOptions WithDefaults(string? backend, IReadOnlyList<string> canaryServers, IReadOnlyList<string> stableServers) => new()
    {
        Url = Url,
        Backend = Backend ?? backend,
        CanaryServers = CanaryServers.Count > 0 ? CanaryServers : [.. canaryServers],
        StableServers = StableServers.Count > 0 ? StableServers : [.. stableServers],
        Queries = Queries,
        Window = Window,
        Timeout = Timeout,
        BearerToken = BearerToken,
    };
}

/// <summary>
/// Reads the new version's health at HAProxy: its servers' 5xx ratio and latency from HAProxy's
/// Prometheus exporter, through Prometheus. The baseline (captured before the rollout) is the
/// stable servers' readings with the same queries. Built on <see cref="PrometheusHealthSource"/>:
/// the same instant queries, timeouts, and failure handling (a query that fails makes the sample
/// inconclusive, never healthy).
/// </summary>
public sealed class HAProxyHealthSource : IHealthSource
{
    private readonly PrometheusHealthSource _canary;
    private readonly PrometheusHealthSource _stable;

    public HAProxyHealthSource(HttpClient http, HAProxyHealthOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _canary = new PrometheusHealthSource(http, PrometheusOptionsFor(options, options.CanaryServers), time);
        _stable = new PrometheusHealthSource(http, PrometheusOptionsFor(options, options.StableServers), time);
    }

    public string Name => "HAProxy";

    public HAProxyHealthOptions Options { get; }

    public Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var baseline = string.Equals(query.Stage, "baseline", StringComparison.OrdinalIgnoreCase);
        return (baseline ? _stable : _canary).ReadAsync(query, cancellationToken);
    }

    /// <summary>The PromQL a template becomes for these servers (before the window is filled in).</summary>
    public static string Render(string template, string backend, IEnumerable<string> servers)
    {
        ArgumentNullException.ThrowIfNull(template);
        var regex = string.Join('|', servers.Select(s => Regex.Escape(s)));
        return template
            .Replace("{{backend}}", PromQlString(backend), StringComparison.Ordinal)
            .Replace("{{servers}}", PromQlString(regex), StringComparison.Ordinal);
    }

    /// <summary>Prometheus settings whose queries are this source's templates for one group of servers; every other default metric is turned off.</summary>
    private static PrometheusOptions PrometheusOptionsFor(HAProxyHealthOptions options, IReadOnlyList<string> servers)
    {
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var metric in PrometheusOptions.DefaultQueries.Keys)
        {
            queries[metric] = string.Empty;
        }

        foreach (var (metric, template) in HAProxyHealthOptions.DefaultQueries.Concat(options.Queries))
        {
            queries[metric] = string.IsNullOrWhiteSpace(template) ? string.Empty : Render(template, options.Backend ?? string.Empty, servers);
        }

        return new PrometheusOptions
        {
            Url = options.Url,
            Queries = queries,
            Window = options.Window,
            Timeout = options.Timeout,
            BearerToken = options.BearerToken,
        };
    }

    private static string PromQlString(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
