using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Host;
using ShipBot.Redis;
using ShipBot.Scheduling;
using StackExchange.Redis;

namespace ShipBot.Bench;

/// <summary>
/// A fresh ShipBot-like process for the recovery and lag runs: a new multiplexer, the Redis store,
/// the coordinator (no-op chat and readiness; a no-op deployment target and an always-healthy
/// health source unless others are given) and a new
/// Quartz scheduler from the host's own <see cref="ShipBotServiceCollectionExtensions.AddQuartzScheduling"/>
/// (its recovery and sweep services removed: the benchmark calls RecoverAsync itself, to time it).
/// </summary>
public sealed class SchedulerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private SchedulerHost(IHost host, TimedScheduler scheduler)
    {
        _host = host;
        Scheduler = scheduler;
    }

    public IServiceProvider Services => _host.Services;

    public ReleaseCoordinator Coordinator => _host.Services.GetRequiredService<ReleaseCoordinator>();

    public RedisReleaseStore Store => _host.Services.GetRequiredService<RedisReleaseStore>();

    /// <summary>The coordinator's scheduler: the real QuartzReleaseScheduler, with call counts and times.</summary>
    public TimedScheduler Scheduler { get; }

    public static async Task<SchedulerHost> StartAsync(
        string redis, int services, TimeSpan evaluationInterval, Action<IServiceCollection>? extra = null, IHealthSource? health = null, IDeploymentTarget? deployment = null, RedisStoreOptions? storeOptions = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        var s = builder.Services;
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            // As AddRedisStore does.
            var options = ConfigurationOptions.Parse(redis);
            options.AbortOnConnectFail = false;
            options.ClientName ??= "shipbot";
            return ConnectionMultiplexer.Connect(options);
        });
        s.AddSingleton(sp => new RedisReleaseStore(sp.GetRequiredService<IConnectionMultiplexer>(), storeOptions ?? new RedisStoreOptions(), sp.GetRequiredService<TimeProvider>()));
        s.AddSingleton<IReleaseStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        s.AddSingleton<IIdempotencyStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        s.AddSingleton<ILeaseStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        s.AddSingleton(Fixtures.Access("svc", services));
        s.AddSingleton<TimedScheduler>();
        s.AddSingleton(sp => new ReleaseCoordinator(
            sp.GetRequiredService<IReleaseStore>(),
            sp.GetRequiredService<IIdempotencyStore>(),
            sp.GetRequiredService<ILeaseStore>(),
            sp.GetRequiredService<TimedScheduler>(),
            deployment ?? new NoOpDeploymentTarget(),
            health ?? new HealthyHealthSource(TimeProvider.System),
            new NoOpReadinessVerifier(),
            [new NoOpNotifier()],
            sp.GetRequiredService<AccessPolicy>(),
            new CoordinatorSettings { EvaluationInterval = evaluationInterval },
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ReleaseCoordinator>>()));
        s.AddQuartzScheduling();
        foreach (var d in s.Where(d => d.ServiceType == typeof(IHostedService)
            && (d.ImplementationType == typeof(ReleaseRecoveryService) || d.ImplementationType == typeof(ReleaseSweepService))).ToList())
        {
            s.Remove(d);
        }

        extra?.Invoke(s);
        var host = builder.Build();
        await host.StartAsync();

        // The hosted service starts the scheduler once the application has started.
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var deadline = Stopwatch.StartNew();
        while (scheduler.Status != SchedulerStatus.Running && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        if (scheduler.Status != SchedulerStatus.Running)
        {
            throw new InvalidOperationException("the Quartz scheduler did not start");
        }

        _ = host.Services.GetRequiredService<ReleaseCoordinator>();
        await host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase().PingAsync();
        return new SchedulerHost(host, host.Services.GetRequiredService<TimedScheduler>());
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(cts.Token);
        _host.Dispose();
    }
}

/// <summary>The real QuartzReleaseScheduler (from the container), with per-method counts and wall time.</summary>
public sealed class TimedScheduler(IReleaseScheduler inner) : IReleaseScheduler
{
    private readonly ConcurrentDictionary<string, Counter> _calls = new();

    public IReadOnlyDictionary<string, (long Count, double Ms)> Snapshot() =>
        _calls.ToDictionary(c => c.Key, c => (c.Value.Count, Stopwatch.GetElapsedTime(0, c.Value.Ticks).TotalMilliseconds));

    public Task ScheduleAsync(ReleaseId release, TimerKind kind, DateTimeOffset dueAt, CancellationToken cancellationToken = default) =>
        Time($"ScheduleAsync({kind})", () => inner.ScheduleAsync(release, kind, dueAt, cancellationToken));

    public Task ScheduleRecurringAsync(ReleaseId release, TimerKind kind, TimeSpan interval, CancellationToken cancellationToken = default) =>
        Time($"ScheduleRecurringAsync({kind})", () => inner.ScheduleRecurringAsync(release, kind, interval, cancellationToken));

    public Task CancelAsync(ReleaseId release, TimerKind kind, CancellationToken cancellationToken = default) =>
        Time($"CancelAsync({kind})", () => inner.CancelAsync(release, kind, cancellationToken));

    private async Task Time(string name, Func<Task> call)
    {
        var started = Stopwatch.GetTimestamp();
        await call().ConfigureAwait(false);
        var box = _calls.GetOrAdd(name, _ => new Counter());
        Interlocked.Increment(ref box.Count);
        Interlocked.Add(ref box.Ticks, Stopwatch.GetTimestamp() - started);
    }

    private sealed class Counter
    {
        public long Count;
        public long Ticks;
    }
}
