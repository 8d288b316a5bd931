using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Telemetry;

namespace ShipBot.Health;

/// <summary>
/// The health source the coordinator sees: routes each query to the sources configured for its
/// service (Prometheus, HTTP probes), reads them in parallel and merges the readings. A source
/// that fails marks the sample failed (inconclusive) but keeps the others' readings. A service
/// with no source of its own uses the fallback (the simulated source in demos), or, without one,
/// is inconclusive: ShipBot never promotes on health it did not measure.
/// </summary>
public sealed class ServiceHealthSources(IReadOnlyDictionary<string, IReadOnlyList<IHealthSource>> byService, IHealthSource? fallback) : IHealthSource
{
    public string Name => "health sources";

    public async Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!byService.TryGetValue(query.Service, out var sources) || sources.Count == 0)
        {
            return fallback is null
                ? HealthSample.Failed($"no health source is configured for {query.Service}")
                : await ReadAsync(fallback, query, cancellationToken).ConfigureAwait(false);
        }

        var samples = await Task.WhenAll(sources.Select(async s =>
        {
            try
            {
                return await ReadAsync(s, query, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthSample.Failed($"{s.Name}: {ex.Message}");
            }
        })).ConfigureAwait(false);
        var errors = samples.Where(s => s.Error is not null).Select(s => s.Error!).ToList();
        var provided = samples.Any(s => s.Provided is null) ? null : samples.SelectMany(s => s.Provided!).Distinct().ToList();
        return new HealthSample([.. samples.SelectMany(s => s.Readings)], errors.Count == 0 ? null : string.Join("; ", errors), provided)
        {
            Counts = [.. samples.SelectMany(s => s.Counts)],
        };
    }

    /// <summary>Reads one source, recording its latency (<c>shipbot.health.source.duration</c>) by source and outcome.</summary>
    private static async Task<HealthSample> ReadAsync(IHealthSource source, HealthQuery query, CancellationToken cancellationToken)
    {
        var started = ShipBot.Telemetry.ShipBotTelemetry.Timestamp();
        var ok = false;
        try
        {
            var sample = await source.ReadAsync(query, cancellationToken).ConfigureAwait(false);
            ok = sample.Error is null;
            return sample;
        }
        finally
        {
            OperationTelemetry.RecordHealthSource(source.Name, ok, ShipBot.Telemetry.ShipBotTelemetry.SecondsSince(started));
        }
    }
}
