using System.Diagnostics;
using System.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using ShipBot.Core.Ports;
using ShipBot.Scheduling;

namespace ShipBot.Bench;

public sealed record MemoryFigures(long LiveHeap, long WorkingSet, long PeakWorkingSet);

public sealed record RecoveryResult(
    string Gc,
    int Recovered,
    double Seconds,
    double ListActiveSeconds,
    int Triggers,
    MemoryFigures Before,
    MemoryFigures After,
    long QuartzHeap,
    long RedisConnectionHeap,
    long AllocatedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    IReadOnlyDictionary<string, (long Count, double Ms)> SchedulerCalls);

public sealed record ReadResult(int Chunk, int Read, double Seconds, MemoryFigures Before, MemoryFigures After, bool ReadCache = true);

public sealed record LagResult(
    string Mode,
    string Gc,
    int Triggers,
    double ArmSeconds,
    int Expected,
    int Fired,
    int Misfired,
    int Errors,
    double StartP50,
    double StartP90,
    double StartP99,
    double StartMax,
    double DoneP50,
    double DoneP99,
    double DoneMax,
    int UnderEvaluation,
    int EvaluatedThisRun,
    MemoryFigures After);

/// <summary>The measurements that need a fresh process: recovery (3) and scheduling lag (4).</summary>
public static class Children
{
    public const string LagGroup = "bench-lag";

    public static MemoryFigures Memory()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new MemoryFigures(GC.GetTotalMemory(forceFullCollection: false), process.WorkingSet64, process.PeakWorkingSet64);
    }

    private static string GcMode() => GCSettings.IsServerGC ? "server" : "workstation";

    /// <summary>
    /// Measurement 3: a fresh process (new multiplexer, new Quartz scheduler from the host's
    /// configuration, the real QuartzReleaseScheduler) rebuilds every active release's timers with
    /// RecoverAsync. Wall clock, cold (as after a crash), and memory before and after.
    /// </summary>
    public static async Task<RecoveryResult> RecoverAsync(BenchOptions options)
    {
        await using var host = await SchedulerHost.StartAsync(options.Redis, options.Releases, TimeSpan.FromSeconds(options.TickSeconds));
        var before = Memory();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var (g0, g1, g2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var watch = Stopwatch.StartNew();
        var recovered = await host.Coordinator.RecoverAsync();
        var seconds = watch.Elapsed.TotalSeconds;
        var gcs = (GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var triggers = (int)host.Scheduler.Snapshot().Where(c => c.Key.StartsWith("Schedule", StringComparison.Ordinal)).Sum(c => c.Value.Count);
        var after = Memory();

        // What the timers themselves hold: the live heap again once every Quartz job and trigger is deleted.
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.Standby();
        await scheduler.Clear();
        var cleared = Memory();

        // The read alone (the first thing RecoverAsync does), timed again now that it is warm.
        watch.Restart();
        _ = await host.Store.ListActiveAsync();
        var listSeconds = watch.Elapsed.TotalSeconds;
        var afterList = Memory();

        // What the Redis connection holds on to after the pipelined read: the live heap once the multiplexer is closed.
        var mux = host.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        await mux.CloseAsync();
        var closed = Memory();
        return new RecoveryResult(GcMode(), recovered, seconds, listSeconds, triggers, before, after, after.LiveHeap - cleared.LiveHeap, afterList.LiveHeap - closed.LiveHeap, allocated, gcs.Item1, gcs.Item2, gcs.Item3, host.Scheduler.Snapshot());
    }

    /// <summary>
    /// Diagnostic for measurement 3: read every active release body in a fresh process, in chunks of
    /// <paramref name="chunk"/> pipelined GetAsync calls (0: ListActiveAsync, everything at once, as
    /// RecoverAsync does), and how much live heap the process keeps afterwards.
    /// </summary>
    /// <param name="readCache">False: the store keeps no parsed releases (<c>ShipBot:Redis:ReadCacheEntries</c> = 0), so the
    /// difference in live heap between the two GetAsync runs is what the read cache holds for every release read.</param>
    public static async Task<ReadResult> ReadAsync(BenchOptions options, int chunk, bool readCache = true)
    {
        await using var host = await SchedulerHost.StartAsync(options.Redis, options.Releases, TimeSpan.FromSeconds(options.TickSeconds),
            storeOptions: readCache ? null : new ShipBot.Redis.RedisStoreOptions { ReadCacheEntries = 0 });
        var before = Memory();
        var watch = Stopwatch.StartNew();
        var read = 0;
        if (chunk == 0)
        {
            read = (await host.Store.ListActiveAsync()).Count;
        }
        else
        {
            foreach (var part in (await host.Store.ListActiveIdsAsync()).Chunk(chunk))
            {
                read += (await Task.WhenAll(part.Select(id => host.Store.GetAsync(id)))).Count(r => r is not null);
            }
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var after = Memory();
        return new ReadResult(chunk, read, seconds, before, after, readCache);
    }

    /// <summary>
    /// Measurement 4: with one recurring tick per release armed, how late the ticks start (and
    /// finish) over <see cref="BenchOptions.TickRounds"/> intervals. Modes: <c>light</c>, a job
    /// that does nothing (Quartz alone), armed the way ScheduleRecurringAsync arms it; <c>real</c>,
    /// ReleaseTimerJob health ticks armed by RecoverAsync, doing their real work against Redis;
    /// <c>spread</c>, the same real ticks with first fire times spread evenly over one interval.
    /// </summary>
    public static async Task<LagResult> LagAsync(BenchOptions options, string mode)
    {
        var interval = TimeSpan.FromSeconds(options.TickSeconds);
        await using var host = await SchedulerHost.StartAsync(options.Redis, options.Releases, interval,
            mode == "light" ? s => s.AddQuartz(q => q.AddJobType<LagJob>()) : null);
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var recorder = new LagRecorder(interval, options.TickRounds);
        scheduler.ListenerManager.AddJobListener(recorder, GroupMatcher<JobKey>.AnyGroup());
        scheduler.ListenerManager.AddTriggerListener(recorder, GroupMatcher<TriggerKey>.AnyGroup());
        var time = TimeProvider.System;
        var runStart = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        int triggers;
        switch (mode)
        {
            case "light":
                for (var i = 0; i < options.Releases; i++)
                {
                    // As QuartzReleaseScheduler.ScheduleRecurringAsync does, with a job that only records.
                    var key = new TriggerKey($"lag-{i}", LagGroup);
                    if (await scheduler.GetTrigger(key) is not null)
                    {
                        continue;
                    }

                    var trigger = TriggerBuilder.Create<LagJob>(time)
                        .WithIdentity(key)
                        .StartAt(time.GetUtcNow() + interval)
                        .WithSchedule(SimpleScheduleBuilder.Create().WithInterval(interval).RepeatForever()
                            .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
                        .Build();
                    var job = JobBuilder.Create<LagJob>().WithIdentity($"lag-{i}", LagGroup).DisallowConcurrentExecution(true).StoreDurably(false).Build();
                    await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing);
                }

                triggers = options.Releases;
                break;
            case "real":
                triggers = await host.Coordinator.RecoverAsync();
                break;
            case "spread":
                var ids = await host.Store.ListActiveIdsAsync();
                var start = time.GetUtcNow();
                for (var i = 0; i < ids.Count; i++)
                {
                    var name = $"{ids[i]}:{TimerKind.HealthEvaluation}";
                    var job = JobBuilder.Create<ReleaseTimerJob>()
                        .WithIdentity(name, QuartzReleaseScheduler.Group)
                        .UsingJobData(ReleaseTimerJob.ReleaseKey, ids[i].ToString())
                        .UsingJobData(ReleaseTimerJob.KindKey, nameof(TimerKind.HealthEvaluation))
                        .DisallowConcurrentExecution(true)
                        .StoreDurably(false)
                        .Build();
                    var trigger = TriggerBuilder.Create<ReleaseTimerJob>(time)
                        .WithIdentity(name, QuartzReleaseScheduler.Group)
                        .StartAt(start + (interval * (i + 1) / ids.Count))
                        .WithSchedule(SimpleScheduleBuilder.Create().WithInterval(interval).RepeatForever()
                            .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
                        .Build();
                    await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing);
                }

                triggers = ids.Count;
                break;
            default:
                throw new ArgumentException($"unknown lag mode {mode}");
        }

        var armSeconds = watch.Elapsed.TotalSeconds;
        var expected = triggers * options.TickRounds;

        // Wait for every in-scope tick to start (or misfire); give a backlog up to two more intervals to drain.
        var deadline = watch.Elapsed + (interval * (options.TickRounds + 2));
        while (recorder.Accounted < expected && watch.Elapsed < deadline)
        {
            await Task.Delay(250);
        }

        // Let the last started ticks finish.
        var finish = Stopwatch.StartNew();
        while (recorder.Done < recorder.Started && finish.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
        }

        await scheduler.Standby();

        // Evidence that the real ticks did their work: releases under evaluation whose stored verdict is from this run.
        var active = mode == "light" ? [] : await host.Store.ListActiveAsync();
        var underEvaluation = active.Count(r => r.IsUnderEvaluation);
        var evaluated = active.Count(r => r.LastHealth is { } h && h.At >= runStart);
        var (start50, start90, start99, startMax, done50, done99, doneMax) = recorder.Percentiles();
        var after = Memory();
        return new LagResult(mode, GcMode(), triggers, armSeconds, expected, recorder.Started, recorder.Misfired, recorder.Errors,
            start50, start90, start99, startMax, done50, done99, doneMax, underEvaluation, evaluated, after);
    }
}

/// <summary>A job that does nothing: the lag listener records when it started.</summary>
public sealed class LagJob : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// Records, for the first <c>rounds</c> fires of every recurring tick (bench-lag jobs and
/// ReleaseTimerJob health ticks), how long after its scheduled fire time the job started and finished.
/// </summary>
public sealed class LagRecorder(TimeSpan interval, int rounds) : IJobListener, ITriggerListener
{
    private readonly Lock _gate = new();
    private readonly List<double> _startLags = [];
    private readonly List<double> _doneLags = [];
    private int _misfired;
    private int _errors;

    public string Name => "bench-lag-recorder";

    public int Started
    {
        get
        {
            lock (_gate)
            {
                return _startLags.Count;
            }
        }
    }

    public int Done
    {
        get
        {
            lock (_gate)
            {
                return _doneLags.Count;
            }
        }
    }

    public int Accounted => Started + Volatile.Read(ref _misfired);

    public int Misfired => Volatile.Read(ref _misfired);

    public int Errors => Volatile.Read(ref _errors);

    public (double, double, double, double, double, double, double) Percentiles()
    {
        double[] start, done;
        lock (_gate)
        {
            start = [.. _startLags];
            done = [.. _doneLags];
        }

        Array.Sort(start);
        Array.Sort(done);
        return (Stats.Percentile(start, 50), Stats.Percentile(start, 90), Stats.Percentile(start, 99), start.Length > 0 ? start[^1] : double.NaN,
            Stats.Percentile(done, 50), Stats.Percentile(done, 99), done.Length > 0 ? done[^1] : double.NaN);
    }

    private bool InScope(ITrigger trigger, DateTimeOffset? scheduled)
    {
        var relevant = trigger.Key.Group == Children.LagGroup || trigger.Key.Name.EndsWith($":{TimerKind.HealthEvaluation}", StringComparison.Ordinal);
        return relevant && scheduled is { } s && s - trigger.StartTimeUtc < (interval * rounds) - (interval / 2);
    }

    ValueTask IJobListener.JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (InScope(context.Trigger, context.ScheduledFireTimeUtc))
        {
            var lag = (DateTimeOffset.UtcNow - context.ScheduledFireTimeUtc!.Value).TotalMilliseconds;
            lock (_gate)
            {
                _startLags.Add(lag);
            }
        }

        return ValueTask.CompletedTask;
    }

    ValueTask IJobListener.JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken)
    {
        if (InScope(context.Trigger, context.ScheduledFireTimeUtc))
        {
            var lag = (DateTimeOffset.UtcNow - context.ScheduledFireTimeUtc!.Value).TotalMilliseconds;
            lock (_gate)
            {
                _doneLags.Add(lag);
            }

            if (jobException is not null)
            {
                Interlocked.Increment(ref _errors);
            }
        }

        return ValueTask.CompletedTask;
    }

    ValueTask ITriggerListener.TriggerMisfired(ITrigger trigger, IScheduler scheduler, CancellationToken cancellationToken)
    {
        if (InScope(trigger, trigger.NextFireTimeUtc))
        {
            Interlocked.Increment(ref _misfired);
        }

        return ValueTask.CompletedTask;
    }
}
