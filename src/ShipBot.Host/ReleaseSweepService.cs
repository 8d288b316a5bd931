using Microsoft.Extensions.Options;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;

namespace ShipBot.Host;

/// <summary>
/// Every <see cref="ShipBotOptions.SweepInterval"/>, arms the timers of active releases this
/// replica does not know yet: those started on another replica, or left by a replica that went
/// away. With one replica and the in-memory store it finds nothing to do.
/// </summary>
public sealed partial class ReleaseSweepService(IReleaseTimers coordinator, IOptions<ShipBotOptions> options, TimeProvider time, ILogger<ReleaseSweepService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var armed = await coordinator.SweepAsync(stoppingToken).ConfigureAwait(false);
                if (armed > 0)
                {
                    LogArmed(armed);
                }
            }
            catch (StoreUnavailableException ex)
            {
                LogStoreDown(ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Armed the timers of {Count} release(s) started or left by another replica")]
    private partial void LogArmed(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer sweep skipped: {Reason}")]
    private partial void LogStoreDown(string reason);
}
