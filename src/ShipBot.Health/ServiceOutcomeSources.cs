using ShipBot.Core.Outcomes;
using ShipBot.Core.Ports;

namespace ShipBot.Health;

/// <summary>
/// The outcome source the coordinator sees: a service's targets are read from its own Prometheus,
/// else from the fallback (the simulated source in demos). Without either, a target is "not
/// measured", never a pass.
/// </summary>
public sealed class ServiceOutcomeSources(IReadOnlyDictionary<string, IOutcomeSource> byService, IOutcomeSource? fallback) : IOutcomeSource
{
    public Task<OutcomeReading> ReadAsync(string service, OutcomeTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        var source = byService.TryGetValue(service, out var own) ? own : fallback;
        return source is null
            ? Task.FromResult(OutcomeReading.Failed($"no health source that answers queries is configured for {service}"))
            : source.ReadAsync(service, target, cancellationToken);
    }
}
