using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ShipBot.Bench;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Redis;
using StackExchange.Redis;

// ShipBot's benchmarks (not tests), against the service levels of docs/benchmarks.md. Progress goes to stderr, the report (Markdown) to stdout.
// bench/run.sh starts a private redis-server and runs this with --redis 127.0.0.1:<port>.
if (args.Length > 0 && args[0] == "judge")
{
    return ShipBot.Bench.Judge.JudgeBench.Run(args[1..]);
}

if (args.FirstOrDefault() == "routers")
{
    return await RouterBench.RunAsync(args[1..]);
}

var options = BenchOptions.Parse(args);
var json = new JsonSerializerOptions { IncludeFields = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

if (options.Child == "shipbot-unlimited")
{
    await UnlimitedHost.RunAsync();
    return 0;
}

if (options.Child == "bolt")
{
    return await BoltComparison.RunAsync(options);
}

if (options.Child is { } child)
{
    object result = child switch
    {
        "recover" => await Children.RecoverAsync(options),
        _ when child.StartsWith("read-", StringComparison.Ordinal) => await Children.ReadAsync(options, int.Parse(child["read-".Length..].Replace("-nocache", string.Empty, StringComparison.Ordinal), CultureInfo.InvariantCulture), readCache: !child.EndsWith("-nocache", StringComparison.Ordinal)),
        "lag-light" => await Children.LagAsync(options, "light"),
        "lag-real" => await Children.LagAsync(options, "real"),
        "lag-spread" => await Children.LagAsync(options, "spread"),
        "slack-load" => await SlackLoad.RunAsync(JsonSerializer.Deserialize<SlackLoadSpec>(await File.ReadAllTextAsync(options.LoadSpec ?? throw new ArgumentException("--load-spec is required")), json)
            ?? throw new ArgumentException("empty --load-spec")),
        _ when child.StartsWith("evals:", StringComparison.Ordinal) => await EvaluationChild.RunAsync(options, EvalPlan.Parse(child)),
        _ => throw new ArgumentException($"unknown child {child}"),
    };
    Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, result.GetType(), json));
    return 0;
}

if (options.Mode == "slack")
{
    return await SlackAckBench.RunAsync(options);
}

if (options.Mode == "soak")
{
    return await SoakBench.RunAsync(options);
}

if (options.Mode == "startup")
{
    return await StartupBench.RunAsync(options);
}

var admin = await ConnectionMultiplexer.ConnectAsync($"{options.Redis},allowAdmin=true");
var server = admin.GetServer(admin.GetEndPoints()[0]);
var report = new StringBuilder();
void Section(string text)
{
    report.Append(text).Append('\n');
    Console.Error.WriteLine(text);
}

var total = Stopwatch.StartNew();
var breachOnly = !options.Only.Except(BreachBench.Sections, StringComparer.OrdinalIgnoreCase).Any();
var redisInfo = (await server.InfoAsync("server")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
var cpu = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
    : "unknown";
Section($"""
    ## Machine and settings

    - date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}
    - CPU: {cpu}, {Environment.ProcessorCount} logical cores (nproc); {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024)} GiB RAM
    - {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}; bench process GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}
    - redis-server {redisInfo.GetValueOrDefault("redis_version")} on loopback, persistence off (no RDB, no AOF), sharing the cores with the benchmark
    - {(breachOnly ? "breach mode: one run per row (percentiles over the samples of the run)" : $"{options.Runs} runs per measurement (the median run is shown); {options.Warmup:0.#} s warm-up + {options.Seconds:0.#} s measured per transition/store run")}
    - load average (1/5/15 min) at the start: {ProcCpu.LoadAverage()}

    """);

await server.FlushAllDatabasesAsync();
var mux = await ConnectionMultiplexer.ConnectAsync(Configuration(options.Redis));
var store = new RedisReleaseStore(mux, new RedisStoreOptions(), TimeProvider.System);
var bench = new TransitionBench(options, mux);
var maxWorkers = options.Levels.Max();

if (options.Only.Overlaps(["transitions", "breakdown", "ticks"]))
{
    var access = TransitionBench.Access(maxWorkers);
    var coordinator = TransitionBench.Coordinator(store, store, store, access);
    Console.Error.WriteLine($"Starting {maxWorkers} releases through the coordinator (/ship start) and taking them to Canary…");
    var ids = await bench.PrepareCoordinatorReleasesAsync(coordinator, store, maxWorkers);
    if (options.Only.Contains("transitions"))
    {
        Section(await bench.LevelsAsync(
            "1. Transitions through the coordinator (/ship pause ⇄ /ship resume, each one CAS transition + audit entry, with request-id idempotency)",
            "transitions",
            w => bench.CoordinatorRunAsync(coordinator, store, ids, w)));
    }

    if (options.Only.Contains("breakdown"))
    {
        Section(await bench.BreakdownAsync(store, access, ids));
    }

    if (options.Only.Contains("ticks"))
    {
        // The releases must not be paused for an evaluation to store a verdict; resume any left paused.
        foreach (var id in ids)
        {
            if ((await store.GetAsync(id))?.State == ReleaseState.Paused)
            {
                await coordinator.HandleAsync(new ShipBot.Coordinator.InboundCommand(Guid.NewGuid().ToString("N"), Fixtures.AliceActor, Fixtures.Channel, $"/ship resume {id}"));
            }
        }

        Section(await bench.LevelsAsync(
            "1b. Health ticks through the coordinator (OnTimerAsync(HealthEvaluation): read, evaluation lease, healthy verdict: readings kept beside the release (a verdict that changes is stored with CAS), card)",
            "ticks",
            w => bench.TickRunAsync(coordinator, ids, w),
            [1, 16, 32]));
        Section(await bench.BreakdownAsync(store, access, ids, ticks: true));
    }
}

if (options.Only.Contains("store"))
{
    var ids = await bench.PrepareStoreReleasesAsync(store, maxWorkers);
    Section(await bench.LevelsAsync("2. Raw store: TrySaveAsync (Lua compare-and-set + one audit entry)", "saves", w => bench.StoreRunAsync(store, ids, w)));
    if (options.Only.Contains("calls"))
    {
        var idem = (IIdempotencyStore)store;
        var calls = new (string Name, Func<int, Task> Call)[]
        {
            ("GetAsync (HGET + parse)", w => store.GetAsync(ids[w])),
            ("GetHaltsAsync (HGETALL, empty)", _ => store.GetHaltsAsync()),
            ("Idempotency GetAsync (GET, missing)", _ => idem.GetAsync(Guid.NewGuid().ToString("N"))),
            ("Idempotency TryClaimAsync (SET NX)", _ => idem.TryClaimAsync(Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(30))),
        };
        foreach (var (name, call) in calls)
        {
            Section(await bench.LevelsAsync($"2c. Store call alone: {name}", "calls", w => bench.CallRunAsync(call, w), [1]));
        }
    }

    Section(await bench.LevelsAsync("2b. Reference: Redis PING round trip on the same connection", "pings", w => bench.PingRunAsync(w)));
}

if (options.Only.Overlaps(["recovery", "lag"]))
{
    await server.FlushAllDatabasesAsync();
    Section(await SeedAsync(options, store, server));
}

if (options.Only.Contains("recovery"))
{
    var table = new Table("GC", "recovered", "RecoverAsync wall s (median)", "each run s", "ListActiveAsync alone s (warm)", "live heap before → after", "of which Quartz jobs + triggers", "of which held by the Redis connection", "working set before → after", "peak working set", "allocated during recovery", "GCs gen0/1/2");
    RecoveryResult? shown = null;
    foreach (var serverGc in new[] { false, true })
    {
        var runs = new List<RecoveryResult>();
        for (var r = 0; r < options.Runs; r++)
        {
            runs.Add(await ChildAsync<RecoveryResult>("recover", serverGc));
            Console.Error.WriteLine($"  recovery ({runs[^1].Gc} GC), run {r + 1}: {runs[^1].Recovered} releases in {runs[^1].Seconds:N2} s, peak working set {Stats.Mib(runs[^1].After.PeakWorkingSet)}");
        }

        var m = Stats.MedianBy(runs, x => x.Seconds);
        shown ??= m;
        table.Add(m.Gc, m.Recovered.ToString("N0", CultureInfo.InvariantCulture), Stats.F(m.Seconds, 2), string.Join(" / ", runs.Select(x => Stats.F(x.Seconds, 2))), Stats.F(m.ListActiveSeconds, 2),
            $"{Stats.Mib(m.Before.LiveHeap)} → {Stats.Mib(m.After.LiveHeap)}", Stats.Mib(m.QuartzHeap), Stats.Mib(m.RedisConnectionHeap), $"{Stats.Mib(m.Before.WorkingSet)} → {Stats.Mib(m.After.WorkingSet)}", Stats.Mib(m.After.PeakWorkingSet),
            Stats.Mib(m.AllocatedBytes), $"{m.Gen0}/{m.Gen1}/{m.Gen2}");
    }

    var calls = new Table("scheduler call (QuartzReleaseScheduler)", "calls", "total ms", "mean µs");
    foreach (var (name, (count, ms)) in shown!.SchedulerCalls.OrderByDescending(c => c.Value.Ms))
    {
        calls.Add(name, count.ToString("N0", CultureInfo.InvariantCulture), Stats.F(ms, 0), Stats.F(ms * 1000 / count, 1));
    }

    var reads = new Table("how the 10,000 bodies are read", "wall s (median, cold)", "each run s", "live heap before → after", "working set after (peak)");
    foreach (var mode in new[] { "0", "1000", "256", "256-nocache" })
    {
        var runs = new List<ReadResult>();
        for (var r = 0; r < options.Runs; r++)
        {
            runs.Add(await ChildAsync<ReadResult>($"read-{mode}", serverGc: false));
        }

        var m = Stats.MedianBy(runs, x => x.Seconds);
        reads.Add(
            m.Chunk == 0 ? "ListActiveAsync (all pipelined at once, as RecoverAsync)"
            : $"GetAsync in pipelined chunks of {m.Chunk}, {(m.ReadCache ? "each release kept by the read cache" : "read cache off (ReadCacheEntries = 0)")}",
            Stats.F(m.Seconds, 2),
            string.Join(" / ", runs.Select(x => Stats.F(x.Seconds, 2))), $"{Stats.Mib(m.Before.LiveHeap)} → {Stats.Mib(m.After.LiveHeap)}",
            $"{Stats.Mib(m.After.WorkingSet)} ({Stats.Mib(m.After.PeakWorkingSet)})");
    }

    Section($"### 3. Recovery of {options.Releases:N0} active releases in a fresh process (cold start, real Quartz scheduler)\n\n{table}\n" +
        $"Scheduler calls made by RecoverAsync (workstation-GC median run; {shown.Triggers:N0} of them schedule a timer):\n\n{calls}\n" +
        $"Diagnostic: reading the release bodies alone in a fresh process (workstation GC), all at once as ListActiveAsync does, or in chunks:\n\n{reads}");
}

if (options.Only.Contains("lag"))
{
    var table = new Table("mode", "ticks armed", "arming s", "ticks started / expected", "skipped (misfired: ≥ 5 s late)", "job errors", "start lag p50 ms", "p90 ms", "p99 ms", "max ms", "finish lag p50 ms", "p99 ms", "max ms", "verdicts stored / releases under evaluation", "working set after (peak)", "p99 ms of each run (started ticks)");
    foreach (var mode in options.LagModes)
    {
        var runs = new List<LagResult>();
        for (var r = 0; r < options.Runs; r++)
        {
            if (mode != "light")
            {
                // A previous run's evaluation leases (another instance id) must not make this run skip work.
                await foreach (var key in server.KeysAsync(pattern: "{shipbot}:lease:*"))
                {
                    await admin.GetDatabase().KeyDeleteAsync(key);
                }
            }

            runs.Add(await ChildAsync<LagResult>($"lag-{mode}", serverGc: false));
            var x = runs[^1];
            Console.Error.WriteLine($"  lag {mode}, run {r + 1}: {x.Fired}/{x.Expected} started, {x.Misfired} misfired, start lag p99 {x.StartP99:N0} ms, max {x.StartMax:N0} ms");
        }

        // A skipped tick is later than any started one: order the runs by skips, then by p99 start lag.
        var m = Stats.MedianBy(runs, x => (x.Misfired * 1e9) + x.StartP99);
        table.Add(mode, m.Triggers.ToString("N0", CultureInfo.InvariantCulture), Stats.F(m.ArmSeconds, 2), $"{m.Fired:N0} / {m.Expected:N0}",
            $"{m.Misfired:N0} ({100.0 * m.Misfired / Math.Max(1, m.Expected):0.#} %)",
            m.Errors.ToString(CultureInfo.InvariantCulture), Stats.F(m.StartP50, 0), Stats.F(m.StartP90, 0), Stats.F(m.StartP99, 0), Stats.F(m.StartMax, 0),
            Stats.F(m.DoneP50, 0), Stats.F(m.DoneP99, 0), Stats.F(m.DoneMax, 0), m.Mode == "light" ? "—" : $"{m.EvaluatedThisRun:N0} / {m.UnderEvaluation:N0}", $"{Stats.Mib(m.After.WorkingSet)} ({Stats.Mib(m.After.PeakWorkingSet)})",
            string.Join(" / ", runs.Select(y => Stats.F(y.StartP99, 0) + (y.Misfired > 0 ? $" ({y.Misfired:N0} skipped)" : string.Empty))));
    }

    Section($"### 4. Scheduling lag: {options.Releases:N0} recurring {options.TickSeconds:0} s ticks, {options.TickRounds} rounds each (workstation GC)\n\n" +
        "Start lag = when the job started − its scheduled fire time, over the ticks that started; a tick more than Quartz's in-memory misfire " +
        "threshold (5 s) late is skipped (misfire instruction NextWithRemainingCount) and counted as skipped instead.\n\n" + table);
}

if (options.Only.Overlaps(BreachBench.Sections))
{
    var breach = new BreachBench(options, admin, server, Section, plan => ChildAsync<EvalResult>(plan.ChildName, serverGc: false),
        () => SeedAsync(options with { SeedStates = [ReleaseState.Canary] }, store, server));
    await breach.RunAsync();
}

Section($"Total benchmark time: {total.Elapsed.TotalMinutes:N1} min.");
await Console.Out.WriteAsync(report.ToString());
await mux.DisposeAsync();
await admin.DisposeAsync();
return 0;

static ConfigurationOptions Configuration(string redis)
{
    // As AddRedisStore configures the host's multiplexer.
    var configuration = ConfigurationOptions.Parse(redis);
    configuration.AbortOnConnectFail = false;
    configuration.ClientName = "shipbot-bench";
    return configuration;
}

async Task<T> ChildAsync<T>(string name, bool serverGc)
{
    var path = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
    var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(path) == "dotnet")
    {
        info.ArgumentList.Add(typeof(Children).Assembly.Location);
    }

    foreach (var arg in options.ChildArgs(name))
    {
        info.ArgumentList.Add(arg);
    }

    info.Environment["DOTNET_gcServer"] = serverGc ? "1" : "0";
    using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start a child process");
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
    string? result = null;
    try
    {
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                result = line["RESULT ".Length..];
            }
            else
            {
                Console.Error.WriteLine($"    [{name}] {line}");
            }
        }

        await process.WaitForExitAsync(timeout.Token);
    }
    catch (OperationCanceledException)
    {
        process.Kill();
        throw new TimeoutException($"child {name} did not finish within 10 minutes");
    }

    if (process.ExitCode != 0 || result is null)
    {
        throw new InvalidOperationException($"child {name} failed with exit code {process.ExitCode}");
    }

    return JsonSerializer.Deserialize<T>(result, json) ?? throw new InvalidOperationException($"child {name} printed no result");
}

static async Task<string> SeedAsync(BenchOptions options, RedisReleaseStore store, IServer server)
{
    // Every release through the aggregate's methods, in states spread evenly over options.SeedStates,
    // each due time three hours ahead (no timer fires and no work is pending during the benchmark).
    var now = DateTimeOffset.UtcNow;
    var build = Stopwatch.StartNew();
    var releases = Enumerable.Range(0, options.Releases).Select(i =>
    {
        var id = new ReleaseId(Fixtures.ServiceName("svc", i), "1.0.0");
        var (draft, audit) = Fixtures.Create(id, now - TimeSpan.FromHours(12));
        var state = options.SeedStates[i % options.SeedStates.Count];
        return (Release: Fixtures.Advance(draft, state, now - TimeSpan.FromHours(12), now + TimeSpan.FromHours(3)), Audit: audit);
    }).ToList();
    var buildSeconds = build.Elapsed.TotalSeconds;
    var write = Stopwatch.StartNew();
    using var gate = new SemaphoreSlim(64);
    var outcomes = await Task.WhenAll(releases.Select(async r =>
    {
        await gate.WaitAsync();
        try
        {
            return (await store.TryCreateAsync(r.Release, r.Audit)).Outcome;
        }
        finally
        {
            gate.Release();
        }
    }));
    var writeSeconds = write.Elapsed.TotalSeconds;
    if (outcomes.Any(o => o != CreateOutcome.Created))
    {
        throw new InvalidOperationException($"seeding failed: {string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} × {g.Count()}"))}");
    }

    var memory = (await server.InfoAsync("memory")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "used_memory").Value;
    var sizes = releases.Take(options.SeedStates.Count).Select(r => JsonSerializer.Serialize(r.Release).Length).ToList();
    var spread = string.Join(", ", releases.GroupBy(r => r.Release.State).Select(g => $"{g.Key} {g.Count():N0}"));
    return $"""
        ### Data set for recovery and lag

        {options.Releases:N0} active releases written with TryCreateAsync (64 in flight): built through the aggregate in {buildSeconds:N2} s, written in {writeSeconds:N2} s ({options.Releases / writeSeconds:N0} creates/s).
        States: {spread}. Redis used_memory afterwards: {Stats.Mib(long.Parse(memory ?? "0", CultureInfo.InvariantCulture))}. Release JSON ≈ {sizes.Min():N0}–{sizes.Max():N0} characters (reflection serializer; the store's source-generated JSON is camelCase, similar size).

        """;
}
