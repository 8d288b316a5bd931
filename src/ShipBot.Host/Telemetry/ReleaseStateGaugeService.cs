using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;
using ShipBot.Telemetry;

namespace ShipBot.Host.Telemetry;

/// <summary>
/// Counts the active releases by state every <see cref="ManagementOptions.ReleaseGaugeInterval"/>
/// for the <c>shipbot.releases</c> gauge, so a Prometheus scrape never reads the store. While the
/// store is unreachable the last counts stay (readiness and <c>shipbot.store.errors</c> say why).
/// </summary>
public sealed partial class ReleaseStateGaugeService(IReleaseStore store, IOptions<ManagementOptions> options, TimeProvider time, ILogger<ReleaseStateGaugeService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReleaseGaugeInterval, time);
        do
        {
            try
            {
                ReleaseStateSnapshot.Update(await store.ListActiveAsync(stoppingToken).ConfigureAwait(false), time.GetUtcNow());
            }
            catch (StoreUnavailableException ex)
            {
                LogSkipped(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Release state gauge not refreshed: {Reason}")]
    private partial void LogSkipped(string reason);
}
