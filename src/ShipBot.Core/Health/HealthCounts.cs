namespace ShipBot.Core.Health;

/// <summary>
/// Count metrics: bad events out of requests, read for the canary (the new version) and the
/// baseline (the version in production, serving the rest of the traffic) over the same window, so
/// the sequential judge can compare them.
/// </summary>
public static class CountMetrics
{
    /// <summary>Failed requests (5xx) out of requests.</summary>
    public const string Errors = Metrics.ErrorRate;

    /// <summary>Requests slower than the latency target out of requests.</summary>
    public const string SlowRequests = "slow_requests";

    /// <summary>"errors", "requests over the latency target", or the metric's own name.</summary>
    public static string Label(string metric) => metric switch
    {
        Errors => "errors",
        SlowRequests => "slow requests",
        _ => metric,
    };
}

/// <summary>
/// Counts of one metric since <see cref="Since"/>: requests and bad events of the canary and of the
/// baseline. Counts may be fractional (Prometheus's <c>increase()</c> extrapolates).
/// </summary>
public sealed record MetricCounts(
    string Metric,
    double CanaryTotal,
    double CanaryEvents,
    double BaselineTotal,
    double BaselineEvents,
    DateTimeOffset Since,
    DateTimeOffset At,
    string Source)
{
    /// <summary>Whether the counts can be used: finite, not negative, events within totals (with a little slack for extrapolation).</summary>
    public bool IsReadable =>
        double.IsFinite(CanaryTotal) && double.IsFinite(CanaryEvents) && double.IsFinite(BaselineTotal) && double.IsFinite(BaselineEvents)
        && CanaryTotal >= 0 && CanaryEvents >= 0 && BaselineTotal >= 0 && BaselineEvents >= 0
        && CanaryEvents <= (CanaryTotal * 1.01) + 1 && BaselineEvents <= (BaselineTotal * 1.01) + 1;
}
