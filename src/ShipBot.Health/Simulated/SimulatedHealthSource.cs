using System.Collections.Concurrent;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Health.Simulated;

/// <summary>
/// A health source for demos and tests. Each service has baseline metrics (the version in
/// production before the rollout: what the baseline query reads) and the new version's metrics,
/// which start equal to the baseline and which <c>/ship simulate</c> changes. It never pretends to
/// be a real source: readings are labelled "simulated".
/// </summary>
public sealed class SimulatedHealthSource(TimeProvider time) : IHealthSource
{
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

    public IReadOnlyCollection<string> KnownMetrics => [.. Defaults.Keys, "source_down"];

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
        return Task.FromResult(new HealthSample(readings));
    }
}
