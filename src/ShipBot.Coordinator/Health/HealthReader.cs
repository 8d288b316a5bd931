using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator.Health;

/// <summary>Reads the health source; a source that throws or times out gives a failed sample, which is never taken as healthy.</summary>
internal sealed class HealthReader(IHealthSource health)
{
    public async Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken ct)
    {
        try
        {
            return await health.ReadAsync(query, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return HealthSample.Failed($"{health.Name}: {ex.Message}");
        }
    }
}
