using ShipBot.Coordinator;

namespace ShipBot.Host;

/// <summary>At start-up, after the scheduler is running, re-arms the timers of every active release from the store.</summary>
public sealed partial class ReleaseRecoveryService(ReleaseCoordinator coordinator, ILogger<ReleaseRecoveryService> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var count = await coordinator.RecoverAsync(cancellationToken).ConfigureAwait(false);
        LogRecovered(count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered the timers of {Count} active release(s) in {Milliseconds:0} ms")]
    private partial void LogRecovered(int count, double milliseconds);
}
