using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Health.Simulated;

namespace ShipBot.Bench;

/// <summary>The evaluation child's settings, encoded in its name: evals:&lt;interval s&gt;:&lt;observed s&gt;:&lt;window start s&gt;:&lt;breaches&gt;.</summary>
public sealed record EvalPlan(double IntervalSeconds, double ObserveSeconds, double WindowStartSeconds, int Breaches)
{
    public string ChildName => string.Create(CultureInfo.InvariantCulture, $"evals:{IntervalSeconds}:{ObserveSeconds}:{WindowStartSeconds}:{Breaches}");

    public static EvalPlan Parse(string child)
    {
        var parts = child.Split(':');
        return new EvalPlan(
            double.Parse(parts[1], CultureInfo.InvariantCulture),
            double.Parse(parts[2], CultureInfo.InvariantCulture),
            double.Parse(parts[3], CultureInfo.InvariantCulture),
            int.Parse(parts[4], CultureInfo.InvariantCulture));
    }
}

public sealed record EvalResult(
    double IntervalSeconds,
    int Releases,
    double ArmSeconds,
    double WindowSeconds,
    long EvaluationsInWindow,
    double PerSecond,
    double PerSecondP10,
    double PerSecondMin,
    double PerSecondMax,
    int Started,
    int Expected,
    int Misfired,
    int Errors,
    double StartP50,
    double StartP90,
    double StartP99,
    double StartMax,
    double ProcessCores,
    double RedisCores,
    double MachineBusy,
    double OtherCores,
    MemoryFigures After,
    int Breaches,
    int RolledBack,
    double BreachP50,
    double BreachP90,
    double BreachP99,
    double BreachMax,
    double BreachMin);

/// <summary>
/// Evaluation throughput (a fresh process, as the lag measurement): the releases seeded in Canary
/// are armed by <c>RecoverAsync</c> with the real <c>QuartzReleaseScheduler</c> (16 threads) and
/// every tick runs the real <c>ReleaseTimerJob</c> → <c>OnTimerAsync(HealthEvaluation)</c> against
/// Redis with ShipBot's <see cref="SimulatedHealthSource"/>. Counts evaluations per second, tick
/// start lag, CPU and memory; optionally makes some releases breach (error rate 50 %) at known
/// moments and times the polled breach up to the deployment target's rollback call.
/// </summary>
public static class EvaluationChild
{
    public static async Task<EvalResult> RunAsync(BenchOptions options, EvalPlan plan)
    {
        var interval = TimeSpan.FromSeconds(plan.IntervalSeconds);
        var health = new CountingHealthSource(new SimulatedHealthSource(TimeProvider.System));
        var deployment = new RecordingDeploymentTarget();
        await using var host = await SchedulerHost.StartAsync(options.Redis, options.Releases, interval, health: health, deployment: deployment);
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var rounds = Math.Max(1, (int)Math.Round(plan.ObserveSeconds / plan.IntervalSeconds));
        var recorder = new LagRecorder(interval, rounds);
        scheduler.ListenerManager.AddJobListener(recorder, GroupMatcher<JobKey>.AnyGroup());
        scheduler.ListenerManager.AddTriggerListener(recorder, GroupMatcher<TriggerKey>.AnyGroup());
        var redisPid = await RedisPidAsync(options.Redis);

        var arm = Stopwatch.StartNew();
        var armed = await host.Coordinator.RecoverAsync();
        var armSeconds = arm.Elapsed.TotalSeconds;
        var t0 = Stopwatch.GetTimestamp();
        health.Start(t0);

        // Polled breaches: error rate 50 % on some releases, set at evenly spaced moments within the
        // first part of the observation, each timed up to its rollback call.
        var ids = (await host.Store.ListActiveIdsAsync()).OrderBy(i => i.Service, StringComparer.Ordinal).ToList();
        var breached = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var breaching = Task.Run(async () =>
        {
            for (var b = 0; b < plan.Breaches; b++)
            {
                var at = plan.IntervalSeconds * (0.1 + (0.6 * b / Math.Max(1, plan.Breaches)));
                var wait = TimeSpan.FromSeconds(at) - Stopwatch.GetElapsedTime(t0);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                var id = ids[(int)(((long)b * 7919 + 17) % ids.Count)];
                breached[id.ToString()] = Stopwatch.GetTimestamp();
                health.Inner.Set(id.Service, Metrics.ErrorRate, 0.5);
            }
        });

        // Wait for the measurement window, then measure CPU over it.
        await Task.Delay(TimeSpan.FromSeconds(plan.WindowStartSeconds) - Stopwatch.GetElapsedTime(t0) is { } w && w > TimeSpan.Zero ? w : TimeSpan.Zero);
        var cpu = new CpuWindow(("bench (ShipBot coordinator in-process)", Environment.ProcessId), ("redis-server", redisPid));
        var windowFrom = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(plan.ObserveSeconds) - Stopwatch.GetElapsedTime(t0) is { } v && v > TimeSpan.Zero ? v : TimeSpan.Zero);
        var windowTo = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var figures = cpu.Stop();
        await breaching;

        // Let the breaches and the ticks of the observed rounds finish (a backlog gets up to two more intervals).
        var drain = Stopwatch.StartNew();
        var expected = (armed - plan.Breaches) * rounds;
        while ((deployment.Rollbacks.Count < plan.Breaches || recorder.Accounted < expected) && drain.Elapsed < interval * 2 + TimeSpan.FromSeconds(5))
        {
            await Task.Delay(100);
        }

        await scheduler.Standby();
        var (perSecond, p10, min, max, inWindow) = health.Rate(windowFrom, windowTo);
        var (s50, s90, s99, sMax, _, _, _) = recorder.Percentiles();
        var latencies = breached.Select(b => deployment.Rollbacks.TryGetValue(b.Key, out var at) ? Marks.Ms(b.Value, at) : double.NaN)
            .Where(x => !double.IsNaN(x)).Order().ToArray();
        var after = Children.Memory();
        return new EvalResult(plan.IntervalSeconds, armed, armSeconds, windowTo - windowFrom, inWindow, perSecond, p10, min, max,
            recorder.Started, expected, recorder.Misfired, recorder.Errors, s50, s90, s99, sMax,
            figures.Of("bench (ShipBot coordinator in-process)"), figures.Of("redis-server"), figures.MachineBusy, figures.Other, after,
            plan.Breaches, latencies.Length,
            Stats.Percentile(latencies, 50), Stats.Percentile(latencies, 90), Stats.Percentile(latencies, 99),
            latencies.Length > 0 ? latencies[^1] : double.NaN, latencies.Length > 0 ? latencies[0] : double.NaN);
    }

    private static async Task<int> RedisPidAsync(string redis)
    {
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"{redis},allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var info = (await server.InfoAsync("server")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "process_id").Value;
        return int.TryParse(info, CultureInfo.InvariantCulture, out var pid) ? pid : 0;
    }
}

/// <summary>ShipBot's simulated health source, with every evaluation read counted per second (baseline reads excluded).</summary>
public sealed class CountingHealthSource(SimulatedHealthSource inner) : IHealthSource
{
    private readonly long[] _perSecond = new long[3600];
    private long _start;

    public SimulatedHealthSource Inner => inner;

    public string Name => inner.Name;

    public void Start(long timestamp) => Volatile.Write(ref _start, timestamp);

    public Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var start = Volatile.Read(ref _start);
        if (start != 0 && query.Stage != "baseline")
        {
            var second = (int)Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (second < _perSecond.Length)
            {
                Interlocked.Increment(ref _perSecond[second]);
            }
        }

        return inner.ReadAsync(query, cancellationToken);
    }

    /// <summary>Evaluations per second over whole seconds in [from, to): mean, 10th percentile, min and max of the one-second counts, and the total.</summary>
    public (double Mean, double P10, double Min, double Max, long Total) Rate(double from, double to)
    {
        var first = (int)Math.Ceiling(from);
        var last = Math.Min((int)Math.Floor(to), _perSecond.Length);
        var counts = Enumerable.Range(first, Math.Max(0, last - first)).Select(i => (double)Interlocked.Read(ref _perSecond[i])).ToArray();
        if (counts.Length == 0)
        {
            return (double.NaN, double.NaN, double.NaN, double.NaN, 0);
        }

        var sorted = counts.Order().ToArray();
        return (counts.Average(), Stats.Percentile(sorted, 10), sorted[0], sorted[^1], (long)counts.Sum());
    }
}

/// <summary>A deployment target that succeeds at once and notes when each release's rollback call was made.</summary>
public sealed class RecordingDeploymentTarget : IDeploymentTarget
{
    public ConcurrentDictionary<string, long> Rollbacks { get; } = new(StringComparer.Ordinal);

    public string Name => "bench";

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Intent.IsRollback)
        {
            Rollbacks.TryAdd(request.Release.ToString(), Stopwatch.GetTimestamp());
        }

        return Task.FromResult(new DeploymentResult(true, "ok", TimeSpan.Zero));
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ShipBot.Core.Releases.ReleaseId release, ShipBot.Core.Releases.DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        Task.FromResult(new DeploymentResult(true, "ok", TimeSpan.Zero));
}
