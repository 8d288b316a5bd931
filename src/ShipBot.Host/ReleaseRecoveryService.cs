using ShipBot.Coordinator;

namespace ShipBot.Host;

/// <summary>At start-up, after the scheduler is running, re-arms the timers of every active release from the store.</summary>
public sealed partial class ReleaseRecoveryService(IReleaseTimers coordinator, ILogger<ReleaseRecoveryService> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var count = await coordinator.RecoverAsync(cancellationToken).ConfigureAwait(false);
            LogRecovered(count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Core.Ports.StoreUnavailableException ex)
        {
            // Start anyway: /readyz says not ready, and the sweep arms every release once the store answers.
            LogDeferred(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not recover timers at start-up ({Reason}); the sweep will arm them when the store is back")]
    private partial void LogDeferred(string reason);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered the timers of {Count} active release(s) in {Milliseconds:0} ms")]
    private partial void LogRecovered(int count, double milliseconds);
}
