using System.Globalization;

namespace ShipBot.Bench;

/// <summary>Command-line options (see bench/run.sh and docs/benchmarks.md).</summary>
public sealed record BenchOptions
{
    /// <summary>host:port of a Redis the benchmark may flush (run.sh starts a private one).</summary>
    public string Redis { get; init; } = string.Empty;

    /// <summary>Repetitions of every measurement; the median run is printed.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>Concurrent workers per transition / store level.</summary>
    public IReadOnlyList<int> Levels { get; init; } = [1, 8, 32];

    /// <summary>Measured seconds per transition / store run (after <see cref="Warmup"/>).</summary>
    public double Seconds { get; init; } = 5;

    public double Warmup { get; init; } = 3;

    /// <summary>Active releases written for the recovery and lag runs.</summary>
    public int Releases { get; init; } = 10_000;

    /// <summary>Recurring tick interval for the lag runs (the service level: 30 s).</summary>
    public double TickSeconds { get; init; } = 30;

    /// <summary>Ticks observed per trigger in a lag run (each run lasts about this many intervals).</summary>
    public int TickRounds { get; init; } = 2;

    /// <summary>
    /// Sections to run: transitions, breakdown, ticks, store, calls (each store call alone; with store), recovery, lag.
    /// Breach mode (not part of the default run): pushed, loaded, polled, evals; "breach" means all four.
    /// </summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>(["transitions", "breakdown", "ticks", "store", "calls", "recovery", "lag"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Lag modes: light (a job that only records), real (ReleaseTimerJob armed by RecoverAsync), spread (ReleaseTimerJob, phases spread over the interval).</summary>
    public IReadOnlyList<string> LagModes { get; init; } = ["light", "real", "spread"];

    /// <summary>States the recovery / lag data set is spread over (equal shares); default <see cref="Fixtures.RecoveryStates"/>.</summary>
    public IReadOnlyList<ShipBot.Core.Releases.ReleaseState> SeedStates { get; init; } = Fixtures.RecoveryStates;

    /// <summary>Breach mode: pushed breaches sent one at a time per row, after the warm-up ones.</summary>
    public int BreachSamples { get; init; } = 80;

    /// <summary>Breach mode: alerts sent first in each row to warm the process up (reported apart).</summary>
    public int BreachWarmup { get; init; } = 8;

    /// <summary>Breach mode: alerts in the one grouped notification of the Redis row (0: none).</summary>
    public int BreachBurst { get; init; } = 40;

    /// <summary>Breach mode: pushed breaches of the row with <see cref="Releases"/> other rollouts evaluated in the background.</summary>
    public int LoadedSamples { get; init; } = 40;

    /// <summary>Breach mode: alerts in the one grouped notification of the loaded row (0: none).</summary>
    public int LoadedBurst { get; init; } = 20;

    /// <summary>Breach mode: polled breaches (evaluation every 5 s).</summary>
    public int PolledSamples { get; init; } = 60;

    /// <summary>Breach mode: polled breaches among the rollouts of the evaluation-throughput run.</summary>
    public int EvalBreaches { get; init; } = 40;

    /// <summary>Breach mode: observed seconds of the saturation run (evaluation every second).</summary>
    public double SaturationSeconds { get; init; } = 20;

    /// <summary>Internal: run one child measurement (recover, lag-light, lag-real, lag-spread, slack-load) and print its RESULT line.</summary>
    public string? Child { get; init; }

    /// <summary><c>store</c> (the sections above, the default), <c>slack</c> (the Slack acknowledgement benchmark; <c>bash bench/run.sh slack</c>) or <c>startup</c> (start-up with many services; <c>bash bench/run.sh startup</c>).</summary>
    public string Mode { get; init; } = "store";

    /// <summary>Slack: open-loop arrival rates (req/s). The first gets <see cref="Runs"/> runs of <see cref="SlackSeconds"/>, the others one run of <see cref="SlackHighSeconds"/>.</summary>
    public IReadOnlyList<double> SlackRates { get; init; } = [500, 1000];

    public double SlackSeconds { get; init; } = 15;

    public double SlackHighSeconds { get; init; } = 6;

    /// <summary>Slack: unmeasured seconds at the series' rate before each open-loop series.</summary>
    public double SlackWarmup { get; init; } = 2;

    /// <summary>Slack: unmeasured seconds before the first series of a freshly started ShipBot (JIT tiering).</summary>
    public double FreshWarmup { get; init; } = 10;

    /// <summary>Slack: the request kinds: command (signed /ship status) and button (signed block_actions click).</summary>
    public IReadOnlyList<string> Kinds { get; init; } = ["command", "button"];

    /// <summary>Slack: closed-loop connections, seconds per run and runs.</summary>
    public int Connections { get; init; } = 32;

    public double ClosedSeconds { get; init; } = 8;

    public int ClosedRuns { get; init; } = 1;

    /// <summary>Slack: unique requests precomputed per closed-loop second, for commands and for clicks (upper bounds on the expected throughput; running out makes the generator send copies, which ShipBot refuses as replays).</summary>
    public double ClosedBudget { get; init; } = 25000;

    public double ClosedBudgetClicks { get; init; } = 10000;

    /// <summary>Slack: closed-loop load generator: auto (wrk when on PATH), wrk or dotnet.</summary>
    public string ClosedTool { get; init; } = "auto";

    /// <summary>Slack: the ShipBot configurations, in order: memory (in-memory store, as shipped: the full plan), unlimited (diagnostic: in-memory, rate limiter removed; closed loop only) and redis (once, shorter).</summary>
    public IReadOnlyList<string> SlackStores { get; init; } = ["memory", "unlimited", "redis"];

    public double SlackRedisSeconds { get; init; } = 10;

    /// <summary>Slack: ShipBot's GC (workstation as in the Dockerfile, or server as the Web SDK's default).</summary>
    public string HostGc { get; init; } = "workstation";

    /// <summary>Slack, diagnostic: extra environment variables for ShipBot (<c>--host-env KEY=VALUE</c>, repeatable).</summary>
    public IReadOnlyList<string> HostEnv { get; init; } = [];

    /// <summary>Slack, diagnostic: clicks carry no response_url (refusals then go through chat.postEphemeral).</summary>
    public bool NoResponseUrl { get; init; }

    /// <summary>Start-up: the service counts bound in the benchmark process; the largest is also started as the real host.</summary>
    public IReadOnlyList<int> StartupServices { get; init; } = [1000, 2000, 4000, 10_000];

    /// <summary>Start-up: the most services bound with the framework's binder alone (it is quadratic: 2,000 services of 20 keys take tens of seconds, 10,000 many minutes).</summary>
    public int StartupFrameworkMax { get; init; } = 2000;

    /// <summary>Start-up: another host build's folder to start instead of this build's (to compare versions).</summary>
    public string? StartupHost { get; init; }

    /// <summary>Internal: the load child's spec (JSON file).</summary>
    public string? LoadSpec { get; init; }

    /// <summary>Soak: how long the traffic runs, in minutes. Default 30.</summary>
    public double SoakMinutes { get; init; } = 30;

    /// <summary>Soak: concurrent rollouts (one service each). Default 1,000.</summary>
    public int SoakRollouts { get; init; } = 1000;

    /// <summary>Soak: chat requests per second (commands, clicks, alerts). Default 20.</summary>
    public double SoakRate { get; init; } = 20;

    /// <summary>Soak: seconds between samples. Default 30.</summary>
    public double SoakSampleSeconds { get; init; } = 30;

    /// <summary>Soak: minutes of warm-up before memory growth is judged. Default: a third of the run (with 1,000 rollouts memory settles after about 12 minutes: docs/benchmarks.md).</summary>
    public double? SoakWarmupMinutes { get; init; }

    /// <summary>Soak: measure the live heap (dotnet-gcdump, which induces a full GC) every this many samples; 0 never. Default 5.</summary>
    public int SoakLiveHeapEvery { get; init; } = 5;

    /// <summary>Soak: where the chart (PNG) goes. Default docs/soak.png under the working directory.</summary>
    public string SoakChart { get; init; } = Path.Combine("docs", "soak.png");

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--redis" => o with { Redis = Next() },
                "--runs" => o with { Runs = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--levels" => o with { Levels = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList() },
                "--seconds" => o with { Seconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--warmup" => o with { Warmup = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--releases" => o with { Releases = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--tick-seconds" => o with { TickSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--tick-rounds" => o with { TickRounds = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--only" => o with { Only = Sections(Next()) },
                "--breach-samples" => o with { BreachSamples = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--breach-warmup" => o with { BreachWarmup = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--breach-burst" => o with { BreachBurst = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--loaded-burst" => o with { LoadedBurst = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--loaded-samples" => o with { LoadedSamples = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--polled-samples" => o with { PolledSamples = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--eval-breaches" => o with { EvalBreaches = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--saturation-seconds" => o with { SaturationSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--lag-modes" => o with { LagModes = Next().Split(',').ToList() },
                "--seed-states" => o with { SeedStates = Next().Split(',').Select(Enum.Parse<ShipBot.Core.Releases.ReleaseState>).ToList() },
                "--child" => o with { Child = Next() },
                "--mode" => o with { Mode = Next() },
                "--rates" => o with { SlackRates = Next().Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToList() },
                "--slack-seconds" => o with { SlackSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--high-seconds" => o with { SlackHighSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--slack-warmup" => o with { SlackWarmup = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--fresh-warmup" => o with { FreshWarmup = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--kinds" => o with { Kinds = Next().Split(',').ToList() },
                "--connections" => o with { Connections = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--closed-seconds" => o with { ClosedSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--closed-runs" => o with { ClosedRuns = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--closed-budget" => o with { ClosedBudget = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--closed-budget-clicks" => o with { ClosedBudgetClicks = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--closed-tool" => o with { ClosedTool = Next() },
                "--stores" => o with { SlackStores = Next().Split(',').ToList() },
                "--redis-seconds" => o with { SlackRedisSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--host-gc" => o with { HostGc = Next() },
                "--load-spec" => o with { LoadSpec = Next() },
                "--no-response-url" => o with { NoResponseUrl = true },
                "--host-env" => o with { HostEnv = [.. o.HostEnv, Next()] },
                "--minutes" => o with { SoakMinutes = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--rollouts" => o with { SoakRollouts = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--rate" => o with { SoakRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--sample-seconds" => o with { SoakSampleSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--warmup-minutes" => o with { SoakWarmupMinutes = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--chart" => o with { SoakChart = Next() },
                "--live-heap-every" => o with { SoakLiveHeapEvery = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--startup-services" => o with { StartupServices = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList() },
                "--startup-framework-max" => o with { StartupFrameworkMax = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--startup-host" => o with { StartupHost = Next() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        if (string.IsNullOrWhiteSpace(o.Redis))
        {
            throw new ArgumentException("--redis host:port is required (bench/run.sh starts a private redis-server)");
        }

        if (o.Runs < 1 || o.Levels.Count == 0 || o.Levels.Any(l => l < 1) || o.Seconds <= 0 || o.Releases < 1 || o.TickSeconds < 1 || o.TickRounds < 1)
        {
            throw new ArgumentException("runs, levels, seconds, releases, tick-seconds and tick-rounds must be positive");
        }

        if (o.SoakMinutes <= 0 || o.SoakRollouts < 1 || o.SoakRate <= 0 || o.SoakSampleSeconds < 1 || o.SoakWarmupMinutes < 0)
        {
            throw new ArgumentException("soak: --minutes, --rollouts, --rate and --sample-seconds (at least 1) must be positive, --warmup-minutes 0 or more");
        }

        if (o.StartupServices.Count == 0 || o.StartupServices.Any(n => n < 1))
        {
            throw new ArgumentException("--startup-services takes positive counts");
        }

        if (o.Mode is not ("store" or "slack" or "soak" or "startup") || o.ClosedTool is not ("auto" or "wrk" or "dotnet") || o.HostGc is not ("workstation" or "server")
            || o.SlackStores.Count == 0 || o.SlackStores.Any(s => s is not ("memory" or "unlimited" or "redis")) || o.SlackRates.Count == 0 || o.SlackRates.Any(r => r <= 0)
            || o.Kinds.Count == 0 || o.Kinds.Any(k => k is not ("command" or "button")) || o.FreshWarmup < 0 || o.SlackSeconds <= 0 || o.SlackHighSeconds <= 0 || o.SlackWarmup < 0 || o.Connections < 1 || o.ClosedSeconds <= 0 || o.ClosedRuns < 1 || o.ClosedBudget <= 0 || o.ClosedBudgetClicks <= 0 || o.SlackRedisSeconds <= 0)
        {
            throw new ArgumentException("invalid Slack benchmark option: --mode store|slack|soak|startup, --closed-tool auto|wrk|dotnet, --host-gc workstation|server, --stores memory,unlimited,redis, --kinds command,button; rates, seconds, connections and runs positive");
        }

        if (o.BreachSamples < 1 || o.BreachWarmup < 1 || o.BreachBurst < 0 || o.LoadedBurst < 0 || o.LoadedSamples < 1 || o.PolledSamples < 1 || o.EvalBreaches < 0 || o.SaturationSeconds < 6)
        {
            throw new ArgumentException("breach-samples, breach-warmup, loaded-samples and polled-samples must be positive, breach-burst, loaded-burst and eval-breaches 0 or more, saturation-seconds at least 6");
        }

        if (o.SeedStates.Count == 0 || o.SeedStates.Any(s => !Fixtures.RecoveryStates.Contains(s)))
        {
            throw new ArgumentException($"--seed-states takes states among {string.Join(", ", Fixtures.RecoveryStates)}");
        }

        return o;
    }

    /// <summary>"breach" stands for the four sections of the breach mode.</summary>
    private static HashSet<string> Sections(string list)
    {
        var sections = list.Split(',').ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (sections.Remove("breach"))
        {
            sections.UnionWith(["pushed", "loaded", "polled", "evals"]);
        }

        return sections;
    }

    /// <summary>The arguments a child process gets (the same measurement settings).</summary>
    public IEnumerable<string> ChildArgs(string child) =>
    [
        "--redis", Redis,
        "--releases", Releases.ToString(CultureInfo.InvariantCulture),
        "--tick-seconds", TickSeconds.ToString(CultureInfo.InvariantCulture),
        "--tick-rounds", TickRounds.ToString(CultureInfo.InvariantCulture),
        "--child", child,
    ];
}
