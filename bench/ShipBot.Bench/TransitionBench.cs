using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging.Abstractions;
using ShipBot.Coordinator;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Redis;
using StackExchange.Redis;

namespace ShipBot.Bench;

/// <summary>One run at one concurrency level: throughput and latency percentiles (ms).</summary>
public sealed record LevelRun(int Workers, long Ops, double Seconds, double P50, double P90, double P99, double Max, long Errors)
{
    public double PerSecond => Ops / Seconds;
}

/// <summary>
/// Measurements 1 and 2: compare-and-set transitions through the coordinator (/ship pause and
/// /ship resume on releases at Canary, each one CAS transition with its audit entry), the raw
/// store's TrySaveAsync, and a PING baseline, at several concurrency levels.
/// </summary>
public sealed class TransitionBench(BenchOptions options, IConnectionMultiplexer redis)
{
    private const string CoordinatorPrefix = "tp";
    private const string StorePrefix = "st";

    public static ReleaseCoordinator Coordinator(IReleaseStore store, IIdempotencyStore idempotency, ILeaseStore leases, AccessPolicy access) =>
        new(store, idempotency, leases, new NoOpScheduler(), new NoOpDeploymentTarget(), new HealthyHealthSource(TimeProvider.System), new NoOpReadinessVerifier(),
            [new NoOpNotifier()], access, new CoordinatorSettings(), TimeProvider.System, NullLogger<ReleaseCoordinator>.Instance);

    /// <summary>Starts one release per worker through the coordinator (/ship start) and takes it to Canary.</summary>
    public async Task<IReadOnlyList<ReleaseId>> PrepareCoordinatorReleasesAsync(ReleaseCoordinator coordinator, RedisReleaseStore store, int count)
    {
        var ids = new List<ReleaseId>();
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var id = new ReleaseId(Fixtures.ServiceName(CoordinatorPrefix, i), "1.0.0");
            var reply = await coordinator.HandleAsync(new InboundCommand(Guid.NewGuid().ToString("N"), Fixtures.AliceActor, Fixtures.Channel, $"/ship start {id.Service} {id.Version} benchmark change"));
            var created = await store.GetAsync(id) ?? throw new InvalidOperationException($"/ship start failed: {reply.Text}");
            var canary = Fixtures.Advance(created, ReleaseState.Canary, now - TimeSpan.FromHours(3), now + TimeSpan.FromHours(6));
            if (!await store.TrySaveAsync(canary, created.Revision, [new AuditEntry(now, "bench", "fixture", "taken to Canary by the benchmark")]))
            {
                throw new InvalidOperationException($"could not take {id} to Canary");
            }

            ids.Add(id);
        }

        return ids;
    }

    public async Task<IReadOnlyList<ReleaseId>> PrepareStoreReleasesAsync(RedisReleaseStore store, int count)
    {
        var ids = new List<ReleaseId>();
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var id = new ReleaseId(Fixtures.ServiceName(StorePrefix, i), "1.0.0");
            var (draft, audit) = Fixtures.Create(id, now - TimeSpan.FromHours(3));
            var canary = Fixtures.Advance(draft, ReleaseState.Canary, now - TimeSpan.FromHours(3), now + TimeSpan.FromHours(6));
            var result = await store.TryCreateAsync(canary, audit);
            if (result.Outcome != CreateOutcome.Created)
            {
                throw new InvalidOperationException($"could not create {id}: {result.Outcome}");
            }

            ids.Add(id);
        }

        return ids;
    }

    public static AccessPolicy Access(int count) =>
        new(Enumerable.Range(0, count).Select(i => Fixtures.Policy(Fixtures.ServiceName(CoordinatorPrefix, i)))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase), []);

    /// <summary>One run of <paramref name="workers"/> workers, each toggling pause/resume on its own release.</summary>
    public Task<LevelRun> CoordinatorRunAsync(ReleaseCoordinator coordinator, IReleaseStore store, IReadOnlyList<ReleaseId> ids, int workers) =>
        RunAsync(workers, async w =>
        {
            var id = ids[w];
            var paused = (await store.GetAsync(id).ConfigureAwait(false))!.State == ReleaseState.Paused;
            return async () =>
            {
                var verb = paused ? "resume" : "pause";
                var reply = await coordinator.HandleAsync(new InboundCommand(Guid.NewGuid().ToString("N"), Fixtures.AliceActor, Fixtures.Channel, $"/ship {verb} {id}")).ConfigureAwait(false);
                if (!reply.Changed)
                {
                    paused = (await store.GetAsync(id).ConfigureAwait(false))!.State == ReleaseState.Paused;
                    return false;
                }

                paused = !paused;
                return true;
            };
        });

    /// <summary>
    /// One run of health ticks: each worker calls the coordinator's OnTimerAsync(HealthEvaluation) on
    /// its own release at Canary, as ReleaseTimerJob does (an evaluation with a healthy reading that
    /// stores the verdict). What a Quartz worker thread does for each tick of a rolling-out release.
    /// </summary>
    public Task<LevelRun> TickRunAsync(ReleaseCoordinator coordinator, IReadOnlyList<ReleaseId> ids, int workers, StrongBox<long>? ticks = null) =>
        RunAsync(workers, w => Task.FromResult<Func<Task<bool>>>(async () =>
        {
            await coordinator.OnTimerAsync(ids[w], TimerKind.HealthEvaluation).ConfigureAwait(false);
            if (ticks is not null)
            {
                Interlocked.Increment(ref ticks.Value);
            }

            return true;
        }));

    private ConnectionMultiplexer? _admin;

    /// <summary>Bytes Redis has received from every client so far (<c>INFO stats</c>, <c>total_net_input_bytes</c>).</summary>
    private async Task<long> NetInputBytesAsync()
    {
        // INFO is an admin command: a second connection that allows it, made once.
        _admin ??= await ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",allowAdmin=true");
        var server = _admin.GetServer(_admin.GetEndPoints()[0]);
        var stats = await server.InfoAsync("stats").ConfigureAwait(false);
        return long.Parse(stats.SelectMany(g => g).First(p => p.Key == "total_net_input_bytes").Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>One run of raw TrySaveAsync calls (the next version with one audit entry) on each worker's own release.</summary>
    public Task<LevelRun> StoreRunAsync(IReleaseStore store, IReadOnlyList<ReleaseId> ids, int workers) =>
        RunAsync(workers, async w =>
        {
            var current = (await store.GetAsync(ids[w]).ConfigureAwait(false))!;
            return async () =>
            {
                var now = DateTimeOffset.UtcNow;
                var next = current with { Revision = current.Revision + 1, UpdatedAt = now };
                if (await store.TrySaveAsync(next, current.Revision, [new AuditEntry(now, "bench", "bench save", "raw store round trip")]).ConfigureAwait(false))
                {
                    current = next;
                    return true;
                }

                current = (await store.GetAsync(ids[w]).ConfigureAwait(false))!;
                return false;
            };
        });

    /// <summary>One kind of store call in a loop (to see each call's own cost outside the coordinator).</summary>
    public Task<LevelRun> CallRunAsync(Func<int, Task> call, int workers) =>
        RunAsync(workers, w => Task.FromResult<Func<Task<bool>>>(async () =>
        {
            await call(w).ConfigureAwait(false);
            return true;
        }));

    /// <summary>The loopback round trip itself, for reference.</summary>
    public Task<LevelRun> PingRunAsync(int workers) =>
        RunAsync(workers, _ => Task.FromResult<Func<Task<bool>>>(async () =>
        {
            await redis.GetDatabase().PingAsync().ConfigureAwait(false);
            return true;
        }));

    private async Task<LevelRun> RunAsync(int workers, Func<int, Task<Func<Task<bool>>>> makeWorker)
    {
        var operations = new List<Func<Task<bool>>>();
        for (var w = 0; w < workers; w++)
        {
            operations.Add(await makeWorker(w));
        }

        var measuring = 0;
        var stop = 0;
        var latencies = new List<double>[workers];
        var errors = new long[workers];
        var tasks = new Task[workers];
        for (var w = 0; w < workers; w++)
        {
            var index = w;
            latencies[index] = new List<double>(100_000);
            tasks[index] = Task.Run(async () =>
            {
                var op = operations[index];
                while (Volatile.Read(ref stop) == 0)
                {
                    var started = Stopwatch.GetTimestamp();
                    var ok = await op().ConfigureAwait(false);
                    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (Volatile.Read(ref measuring) == 1)
                    {
                        latencies[index].Add(elapsed);
                        if (!ok)
                        {
                            errors[index]++;
                        }
                    }
                }
            });
        }

        await Task.Delay(TimeSpan.FromSeconds(options.Warmup));
        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, 1);
        await Task.Delay(TimeSpan.FromSeconds(options.Seconds));
        Volatile.Write(ref measuring, 0);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(tasks);
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LevelRun(workers, all.Length, seconds, Stats.Percentile(all, 50), Stats.Percentile(all, 90), Stats.Percentile(all, 99), all.Length > 0 ? all[^1] : double.NaN, errors.Sum());
    }

    /// <summary>Runs every level <see cref="BenchOptions.Runs"/> times and prints all runs and the median one.</summary>
    public async Task<string> LevelsAsync(string title, string unit, Func<int, Task<LevelRun>> run, IReadOnlyList<int>? levels = null)
    {
        var table = new Table("workers", $"{unit}/s (median run)", "p50 ms", "p90 ms", "p99 ms", "max ms", "refused", $"{unit}/s of each run");
        foreach (var level in levels ?? options.Levels)
        {
            var runs = new List<LevelRun>();
            for (var r = 0; r < options.Runs; r++)
            {
                runs.Add(await run(level));
                System.Console.Error.WriteLine($"  {title}: {level} worker(s), run {r + 1}: {runs[^1].PerSecond:N0}/s p50 {runs[^1].P50:N2} ms p99 {runs[^1].P99:N2} ms");
            }

            var m = Stats.MedianBy(runs, x => x.PerSecond);
            table.Add(level.ToString(System.Globalization.CultureInfo.InvariantCulture), Stats.F(m.PerSecond), Stats.F(m.P50, 2), Stats.F(m.P90, 2), Stats.F(m.P99, 2), Stats.F(m.Max, 1),
                m.Errors.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(" / ", runs.Select(x => Stats.F(x.PerSecond))));
        }

        return $"### {title}\n\n{table}";
    }

    /// <summary>
    /// The Stopwatch breakdown of one coordinator transition with one worker: every store call it
    /// makes, with its count per transition and mean time, and what is left for the coordinator's own CPU.
    /// </summary>
    public async Task<string> BreakdownAsync(RedisReleaseStore redisStore, AccessPolicy access, IReadOnlyList<ReleaseId> ids, bool ticks = false)
    {
        var timed = new TimedStore(redisStore, redisStore, redisStore);
        var coordinator = Coordinator(timed, timed, timed, access);
        foreach (var id in ids)
        {
            // Evaluation leases taken by another coordinator instance (an earlier run) would make this one skip its evaluations.
            await redis.GetDatabase().KeyDeleteAsync(redisStore.Keys.Lease($"eval:{id}"));
        }

        var runs = new List<(LevelRun Run, IReadOnlyDictionary<string, (long Count, TimeSpan Time)> Calls)>();
        var bytesPerOp = new List<double>();
        for (var r = 0; r < options.Runs; r++)
        {
            // Counted over the whole run (warm-up included), divided by every transition (or tick) of the run.
            timed.Reset();
            var counted = new StrongBox<long>();
            var bytesBefore = await NetInputBytesAsync();
            var totalStart = Stopwatch.GetTimestamp();
            var run = ticks ? await TickRunAsync(coordinator, ids, 1, counted) : await CoordinatorRunAsync(coordinator, timed, ids, 1);
            var calls = timed.Snapshot();
            var totalSeconds = Stopwatch.GetElapsedTime(totalStart).TotalSeconds;
            var ops = ticks ? counted.Value : calls.TryGetValue("TrySaveAsync (EVAL, CAS + audit + answer)", out var saves) ? saves.Count : run.Ops;
            bytesPerOp.Add((await NetInputBytesAsync() - bytesBefore) / (double)Math.Max(1, ops));
            runs.Add((run with { Ops = ops, Seconds = totalSeconds }, calls));
        }

        var (median, medianCalls) = Stats.MedianBy(runs, x => x.Run.PerSecond);
        var transitions = (double)median.Ops;
        var unit = ticks ? "tick" : "transition";
        var table = new Table("store call", $"calls per {unit}", "mean µs per call", $"µs per {unit}");
        double storeMicros = 0;
        foreach (var (name, (count, time)) in medianCalls.OrderByDescending(c => c.Value.Time))
        {
            var perTransition = time.TotalMicroseconds / transitions;
            storeMicros += perTransition;
            table.Add(name, Stats.F(count / transitions, 2), Stats.F(time.TotalMicroseconds / count, 0), Stats.F(perTransition, 0));
        }

        var totalMicros = median.Seconds * 1e6 / transitions;
        table.Add("**all store calls**", Stats.F(medianCalls.Values.Sum(c => c.Count) / transitions, 2), string.Empty, Stats.F(storeMicros, 0));
        table.Add("**coordinator CPU and the rest** (parse, rules, card render, JSON reply)", string.Empty, string.Empty, Stats.F(totalMicros - storeMicros, 0));
        table.Add($"**one {unit}, wall clock**", string.Empty, string.Empty, Stats.F(totalMicros, 0));
        var sent = $"\n\nBytes sent to Redis per {unit} (every command and its arguments, `total_net_input_bytes`), each run: {string.Join(" / ", bytesPerOp.Select(b => Stats.F(b, 0)))}.";
        if (ticks)
        {
            return $"### Where one health tick's time goes (OnTimerAsync(HealthEvaluation) on a healthy Canary release, 1 worker, median of {options.Runs} runs, {median.Ops:N0} ticks)\n\n{table}{sent}";
        }

        // In-process pieces, for scale: rendering the release card (done on every transition, even with a no-op notifier).
        var release = (await redisStore.GetAsync(ids[0]))!;
        var render = Stopwatch.StartNew();
        const int renders = 20_000;
        for (var i = 0; i < renders; i++)
        {
            _ = ReleaseCards.Release(release, null, DateTimeOffset.UtcNow);
        }

        var renderMicros = render.Elapsed.TotalMicroseconds / renders;

        // The store's own (source-generated, internal) JSON context, reached by reflection: the cost of
        // parsing and writing one release, which every GetAsync / TrySaveAsync pays.
        var raw = (string)(await redis.GetDatabase().HashGetAsync(redisStore.Keys.Release(ids[0]), "json"))!;
        var context = (JsonSerializerContext)typeof(RedisReleaseStore).Assembly.GetType("ShipBot.Redis.StoreJsonContext")!
            .GetProperty("Default", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        const int parses = 5_000;
        var parse = Stopwatch.StartNew();
        for (var i = 0; i < parses; i++)
        {
            _ = JsonSerializer.Deserialize(raw, typeof(Release), context);
        }

        var parseMicros = parse.Elapsed.TotalMicroseconds / parses;
        var write = Stopwatch.StartNew();
        for (var i = 0; i < parses; i++)
        {
            _ = JsonSerializer.Serialize(release, typeof(Release), context);
        }

        var writeMicros = write.Elapsed.TotalMicroseconds / parses;
        return $"### Where one transition's time goes (1 worker, median of {options.Runs} runs, {median.Ops:N0} transitions)\n\n{table}\n" +
            $"In-process pieces, one at a time: parsing one stored release (StoreJsonContext) {parseMicros:N1} µs, writing it {writeMicros:N1} µs " +
            $"({raw.Length:N0} characters); rendering its card {renderMicros:N1} µs.{sent}\n";
    }
}
