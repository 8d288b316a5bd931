using ShipBot.Core.Health;

namespace ShipBot.Health.Prometheus;

/// <summary>
/// The two PromQL templates of a count metric: bad events and requests. Each is run twice, for the
/// canary (<c>{{selector}}</c> = <c>version="1.4.2"</c>) and for the baseline (<c>version!="1.4.2"</c>:
/// the version in production, serving the rest of the traffic), over <c>{{range}}</c>, the time since
/// the stage began (for example <c>754s</c>), so the counts are cumulative for the stage. Other
/// placeholders as for readings, plus <c>{{latency_le}}</c> (<see cref="PrometheusOptions.LatencyBucket"/>).
/// </summary>
public sealed class CountQueryOptions
{
    /// <summary>PromQL counting bad events (errors, slow requests); empty turns the metric off.</summary>
    public string Events { get; set; } = string.Empty;

    /// <summary>PromQL counting requests.</summary>
    public string Total { get; set; } = string.Empty;
}

/// <summary>Defaults and rendering of the count queries the sequential judge reads.</summary>
public static class PrometheusCountQueries
{
    /// <summary>
    /// Conventional metric names: 5xx responses out of <c>http_requests_total</c>, and requests slower
    /// than the latency bucket out of <c>http_request_duration_seconds</c> (count minus the bucket).
    /// </summary>
    public static IReadOnlyDictionary<string, CountQueryOptions> Defaults { get; } = new Dictionary<string, CountQueryOptions>
    {
        [CountMetrics.Errors] = new()
        {
            Events = "sum(increase(http_requests_total{service=\"{{service}}\",{{selector}},code=~\"5..\"}[{{range}}]))",
            Total = "sum(increase(http_requests_total{service=\"{{service}}\",{{selector}}}[{{range}}]))",
        },
        [CountMetrics.SlowRequests] = new()
        {
            Events = "sum(increase(http_request_duration_seconds_count{service=\"{{service}}\",{{selector}}}[{{range}}])) - sum(increase(http_request_duration_seconds_bucket{service=\"{{service}}\",{{selector}},le=\"{{latency_le}}\"}[{{range}}]))",
            Total = "sum(increase(http_request_duration_seconds_count{service=\"{{service}}\",{{selector}}}[{{range}}]))",
        },
    };

    /// <summary>The templates in force: the defaults, replaced or turned off (empty <see cref="CountQueryOptions.Events"/>) by configuration.</summary>
    public static IReadOnlyDictionary<string, CountQueryOptions> Effective(PrometheusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var templates = new Dictionary<string, CountQueryOptions>(Defaults, StringComparer.Ordinal);
        foreach (var (metric, query) in options.CountQueries)
        {
            templates[metric] = query;
        }

        return templates.Where(t => !string.IsNullOrWhiteSpace(t.Value.Events) && !string.IsNullOrWhiteSpace(t.Value.Total))
            .ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    /// <summary>A Prometheus range for the time since <paramref name="since"/>, whole seconds, at least 1 s.</summary>
    public static string Range(DateTimeOffset since, DateTimeOffset now) =>
        $"{Math.Max(1, (long)Math.Ceiling((now - since).TotalSeconds))}s";
}
