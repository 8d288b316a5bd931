using Quartz;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Scheduling;

/// <summary>
/// The scheduler port on Quartz.NET. One job per release and timer kind (key
/// <c>{service@version}:{kind}</c>), so scheduling again replaces the previous timer; a missed
/// one-shot fires once, at once (misfire "fire now"); a missed recurring evaluation is not
/// replayed, the next one runs.
/// </summary>
public sealed class QuartzReleaseScheduler(ISchedulerFactory factory, TimeProvider time) : IReleaseScheduler
{
    public const string Group = "shipbot";

    public async Task ScheduleAsync(ReleaseId release, TimerKind kind, DateTimeOffset dueAt, CancellationToken cancellationToken = default)
    {
        var scheduler = await factory.GetScheduler(cancellationToken).ConfigureAwait(false);
        var trigger = TriggerBuilder.Create<ReleaseTimerJob>(time)
            .WithIdentity(Key(release, kind), Group)
            .StartAt(dueAt)
            .WithSchedule(SimpleScheduleBuilder.Create().WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .Build();
        await scheduler.ScheduleJob(Job(release, kind), trigger, ScheduleJobOptions.Replacing, cancellationToken).ConfigureAwait(false);
    }

    public async Task ScheduleRecurringAsync(ReleaseId release, TimerKind kind, TimeSpan interval, CancellationToken cancellationToken = default)
    {
        var scheduler = await factory.GetScheduler(cancellationToken).ConfigureAwait(false);
        var key = new TriggerKey(Key(release, kind), Group);
        if (await scheduler.GetTrigger(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            // Already evaluating: re-arming on every transition would keep pushing the next evaluation back.
            return;
        }

        // Each release ticks at its own phase within the interval (a stable hash of its id), so the
        // thousands of ticks armed together at start-up do not all come due at the same instant.
        // A tick that misfires (the pool was busy) runs at once rather than being skipped.
        var trigger = TriggerBuilder.Create<ReleaseTimerJob>(time)
            .WithIdentity(key)
            .StartAt(time.GetUtcNow() + Phase(release, interval))
            .WithSchedule(SimpleScheduleBuilder.Create().WithInterval(interval).RepeatForever()
                .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithRemainingCount))
            .Build();
        await scheduler.ScheduleJob(Job(release, kind), trigger, ScheduleJobOptions.Replacing, cancellationToken).ConfigureAwait(false);
    }

    public async Task CancelAsync(ReleaseId release, TimerKind kind, CancellationToken cancellationToken = default)
    {
        var scheduler = await factory.GetScheduler(cancellationToken).ConfigureAwait(false);
        await scheduler.DeleteJob(new JobKey(Key(release, kind), Group), cancellationToken).ConfigureAwait(false);
    }

    private static IJobDetail Job(ReleaseId release, TimerKind kind) =>
        JobBuilder.Create<ReleaseTimerJob>()
            .WithIdentity(Key(release, kind), Group)
            .UsingJobData(ReleaseTimerJob.ReleaseKey, release.ToString())
            .UsingJobData(ReleaseTimerJob.KindKey, kind.ToString())
            .DisallowConcurrentExecution(true)
            .StoreDurably(false)
            .Build();

    private static string Key(ReleaseId release, TimerKind kind) => $"{release}:{kind}";

    /// <summary>A stable offset in (0, interval] derived from the release id (FNV-1a).</summary>
    internal static TimeSpan Phase(ReleaseId release, TimeSpan interval)
    {
        var hash = 2166136261u;
        foreach (var ch in release.ToString())
        {
            hash = (hash ^ ch) * 16777619u;
        }

        var ticks = interval.Ticks <= 0 ? 0 : (long)(hash % (ulong)interval.Ticks);
        return TimeSpan.FromTicks(ticks == 0 ? interval.Ticks : ticks);
    }
}
