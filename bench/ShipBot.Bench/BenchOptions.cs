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

    /// <summary>Recurring tick interval for the lag runs (SPEC §8: 30 s).</summary>
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

    /// <summary>Internal: run one child measurement (recover, lag-light, lag-real, lag-spread) and print its RESULT line.</summary>
    public string? Child { get; init; }

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
