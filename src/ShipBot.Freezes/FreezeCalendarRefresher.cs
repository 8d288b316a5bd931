using Microsoft.Extensions.Hosting;

namespace ShipBot.Freezes;

/// <summary>
/// Reads every freeze calendar at start-up (waiting at most <see cref="FreezeOptions.Timeout"/> per
/// URL, so a start command is not accepted before the calendars are known), then refreshes each
/// one when its interval has passed, on the injected clock.
/// </summary>
public sealed class FreezeCalendarRefresher(FreezeCalendarService calendars, TimeProvider time) : BackgroundService
{
    /// <summary>The longest sleep between checks, so a clock change is noticed. Default 1 minute.</summary>
    public TimeSpan MaxSleep { get; init; } = TimeSpan.FromMinutes(1);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await calendars.RefreshAllAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested && calendars.NextRefreshAt is { } next)
        {
            var wait = next - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait < MaxSleep ? wait : MaxSleep, time, stoppingToken).ConfigureAwait(false);
                continue;
            }

            await calendars.RefreshDueAsync(stoppingToken).ConfigureAwait(false);
        }
    }
}
