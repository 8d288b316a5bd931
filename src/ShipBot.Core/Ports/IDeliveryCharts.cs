using ShipBot.Core.Delivery;

namespace ShipBot.Core.Ports;

/// <summary>
/// Publishes the delivery chart of a DORA report (weekly deployments and change failure rate, lead
/// time and time to restore) as an image and returns where chat clients can fetch it: an
/// unguessable, expiring URL, absolute when ShipBot knows its public address, else a path that
/// only ShipBot's own console can show.
/// </summary>
public interface IDeliveryCharts
{
    /// <summary>The chart's URL or path, or null when none can be published (the numbers stand alone then).</summary>
    Task<string?> LinkAsync(DoraReport report, CancellationToken cancellationToken = default);
}
