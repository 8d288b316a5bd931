using System.Collections.Concurrent;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Health.Simulated;

/// <summary>
/// A health source for demos and tests. Each service has baseline metrics (the version in
/// production before the rollout: what the baseline query reads) and the new version's metrics,
/// which start equal to the baseline and which <c>/ship simulate</c> changes. It never pretends to
/// be a real source: readings are labelled "simulated". Asked for counts (the sequential judge),
/// it simulates the stage's requests from a traffic level (<c>traffic_rpm</c>, default 1,000 a
/// minute) and the error rate and p99 latency in force, for the canary and the baseline.
/// </summary>
/// <param name="seed">Seed of the simulated traffic, for reproducible tests; null draws a random one.</param>
public sealed class SimulatedHealthSource(TimeProvider time, int? seed = null) : IHealthSource, IOutcomeSource
{
    /// <summary>Set with <c>/ship simulate &lt;service&gt; traffic_rpm &lt;n&gt;</c>: the service's requests a minute (both versions).</summary>
    public const string TrafficMetric = "traffic_rpm";

    /// <summary>The latency target a simulated slow request exceeds, ms. Default 300 (the default target of the health thresholds).</summary>
    public double LatencyTargetMs { get; init; } = 300;

    private readonly SimulatedTraffic _traffic = new(seed is { } s ? new Random(s) : new Random());

    /// <summary>Healthy defaults: error rate 0.3 %, p99 180 ms, CPU 35 %, no failed probes, feedback 4.4/5, adoption 12 %, business 1.0.</summary>
    public static IReadOnlyDictionary<string, double> Defaults { get; } = new Dictionary<string, double>
    {
        [Metrics.ErrorRate] = 0.003,
        [Metrics.LatencyP99] = 180,
        [Metrics.Cpu] = 0.35,
        [Metrics.ProbeFailures] = 0,
        [Metrics.UserFeedback] = 4.4,
        [Metrics.Adoption] = 0.12,
        [Metrics.Business] = 1.0,
    };

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, double>> _overrides = new(StringComparer.Ordinal);

    /// <summary>Set to make every read fail (a source outage), per service.</summary>
    private readonly ConcurrentDictionary<string, bool> _down = new(StringComparer.Ordinal);

    public string Name => "simulated";

    public IReadOnlyCollection<string> KnownMetrics => [.. Defaults.Keys, TrafficMetric, "source_down"];

    public void Set(string service, string metric, double value)
    {
        if (metric == "source_down")
        {
            _down[service] = value != 0;
            return;
        }

        _overrides.GetOrAdd(service, _ => new ConcurrentDictionary<string, double>(StringComparer.Ordinal))[metric] = value;
    }

    public void Reset(string service)
    {
        _overrides.TryRemove(service, out _);
        _down.TryRemove(service, out _);
    }

    public Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (_down.TryGetValue(query.Service, out var down) && down)
        {
            return Task.FromResult(HealthSample.Failed("simulated source is down"));
        }

        var now = time.GetUtcNow();
        var isBaseline = query.Stage == "baseline";
        _overrides.TryGetValue(query.Service, out var overrides);
        var readings = query.Metrics
            .Where(Defaults.ContainsKey)
            .Select(m => new HealthReading(
                m,
                !isBaseline && overrides is not null && overrides.TryGetValue(m, out var v) ? v : Defaults[m],
                Name,
                now))
            .ToList();
        return Task.FromResult(new HealthSample(readings) { Counts = Counts(query, overrides, now) });
    }

    /// <summary>
    /// An outcome target's simulated value, set with <c>/ship simulate &lt;service&gt; outcome "&lt;target&gt;" &lt;value&gt;</c>;
    /// a target never set is "not measured" (the simulated source invents no business numbers).
    /// </summary>
    public Task<OutcomeReading> ReadAsync(string service, Core.Outcomes.OutcomeTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(target);
        if (_down.TryGetValue(service, out var down) && down)
        {
            return Task.FromResult(OutcomeReading.Failed("simulated source is down"));
        }

        return Task.FromResult(_overrides.TryGetValue(service, out var overrides)
            && overrides.TryGetValue(Core.Outcomes.OutcomeTarget.BaselineKeyOf(target.Name.ToLowerInvariant()), out var value)
            ? new OutcomeReading(value)
            : OutcomeReading.Failed($"no simulated value: /ship simulate {service} outcome \"{target.Name}\" <value>"));
    }

    private List<MetricCounts> Counts(HealthQuery query, ConcurrentDictionary<string, double>? overrides, DateTimeOffset now)
    {
        if (query.CountsSince is not { } since || query.CountMetrics.Count == 0 || query.Stage == "baseline")
        {
            return [];
        }

        double Canary(string metric) => overrides is not null && overrides.TryGetValue(metric, out var v) ? v : Defaults[metric];
        var rpm = overrides is not null && overrides.TryGetValue(TrafficMetric, out var traffic) ? Math.Max(0, traffic) : SimulatedTraffic.DefaultRequestsPerMinute;
        var canary = new SimulatedTraffic.Rates(rpm, Math.Clamp(Canary(Metrics.ErrorRate), 0, 1), SimulatedTraffic.ShareAbove(LatencyTargetMs, Canary(Metrics.LatencyP99)));
        var baseline = new SimulatedTraffic.Rates(rpm, Defaults[Metrics.ErrorRate], SimulatedTraffic.ShareAbove(LatencyTargetMs, Defaults[Metrics.LatencyP99]));
        var share = Math.Clamp(query.Percent / 100.0, 0, 1);
        return [.. query.CountMetrics
            .Where(m => m is CountMetrics.Errors or CountMetrics.SlowRequests)
            .Select(m => _traffic.Read(query.Service, query.Version, m, since, now, share, canary, baseline))];
    }
}
