using Microsoft.Extensions.Logging;
using Quartz;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Scheduling;

/// <summary>
/// A thin Quartz job: it names a release and a timer kind and lets the coordinator decide what is
/// still due. When the store is unreachable a one-shot timer is re-armed a few seconds later, so
/// scheduled work resumes when the store comes back.
/// </summary>
public sealed partial class ReleaseTimerJob(IReleaseTimers coordinator, IReleaseScheduler scheduler, TimeProvider time, ILogger<ReleaseTimerJob> log) : IJob
{
    public const string ReleaseKey = "release";
    public const string KindKey = "kind";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(3);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var map = context.MergedJobDataMap;
        if (!ReleaseId.TryParse(map.GetString(ReleaseKey), out var id) || !Enum.TryParse<TimerKind>(map.GetString(KindKey), out var kind))
        {
            LogBadJob(context.JobDetail.Key.ToString());
            return;
        }

        // How late the timer runs (a busy thread pool or a stalled scheduler shows here first).
        ShipBot.Telemetry.OperationTelemetry.RecordSchedulerLag(kind.ToString(), time.GetUtcNow() - (context.ScheduledFireTimeUtc ?? context.FireTimeUtc));
        try
        {
            await coordinator.OnTimerAsync(id.Value, kind, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            LogStoreDown(id.Value.ToString(), kind.ToString(), ex.Message);
            if (kind != TimerKind.HealthEvaluation)
            {
                await scheduler.ScheduleAsync(id.Value, kind, time.GetUtcNow() + RetryDelay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer job {Key} has no valid release or kind")]
    private partial void LogBadJob(string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {Kind} of {Release} could not reach the store ({Reason}); retrying")]
    private partial void LogStoreDown(string release, string kind, string reason);
}
