using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;

namespace ShipBot.Bench.Judge;

/// <summary>
/// <c>bash bench/run.sh judge</c>: simulated canary stages judged by the sequential judge, today's
/// threshold rule and a Kayenta-style comparator on the same data. Prints Markdown on stdout.
/// Options: <c>--stages N</c> (per main scenario, default 10,000), <c>--sweep-stages N</c> (per
/// base-rate sweep scenario, default 1,000), <c>--seed S</c>, <c>--chart PATH</c> (a PNG of the
/// rollback curves), <c>--evidence PATH</c> (a PNG of one stage's evidence chart),
/// <c>--cost-rollouts N</c> (default 10,000), <c>--cost-rounds N</c> (default 20), <c>--only simulation,cost</c>.
/// </summary>
public static class JudgeBench
{
    private const int Sequential = 0, Threshold = 1, Kayenta = 2;
    private static readonly string[] JudgeNames = ["sequential (ShipBot)", "threshold rule (today)", "Kayenta-style (Mann–Whitney, 98 %)"];

    public static int Run(string[] args)
    {
        var stages = Int(args, "--stages", 10_000);
        var sweepStages = Int(args, "--sweep-stages", 1_000);
        var seed = (ulong)Int(args, "--seed", 20_240_617);
        var chart = Str(args, "--chart");
        var costRollouts = Int(args, "--cost-rollouts", 10_000);
        var costRounds = Int(args, "--cost-rounds", 20);
        var only = Str(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? ["simulation", "cost"];
        var world = new JudgeWorldSettings();
        var settings = new JudgeSettings { Kind = JudgeKind.Sequential, EarlyPromotion = true };
        var thresholds = new HealthThresholds();

        var report = new StringBuilder();
        void Section(string text)
        {
            report.Append(text).Append('\n');
            System.Console.Error.WriteLine(text);
        }

        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
        var stageAlpha = SequentialJudge.StageAlpha(settings.Alpha, 0, 3, settings.FirstStageShare);
        Section($"""
            ## Canary judge: machine and settings

            - date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}; CPU: {cpu}, {Environment.ProcessorCount} logical cores; {RuntimeInformation.FrameworkDescription}
            - world: {world.RequestsPerMinute:0} requests/min, canary {world.CanaryShare:P0} of them, a look every {world.LookSeconds:0} s for {world.Looks * world.LookSeconds / 3600:0.#} h ({world.Looks} looks); requests per look Poisson, errors and slow requests binomial
            - latency: log-normal, median {world.MedianMs:0} ms, p99 {world.P99Ms:0} ms; target {world.LatencyTargetMs:0} ms, so {world.ShareAbove(world.LatencyTargetMs, 1):P2} of requests are over it (a +50 % regression: {world.ShareAbove(world.LatencyTargetMs, 1.5):P2})
            - sequential judge: default settings, α = {settings.Alpha} for the release, of which the canary (first of three partial stages) spends {stageAlpha} ({stageAlpha / settings.Metrics.Count} per metric, for each kind of wrong verdict); margins +{settings.Metrics[0].Margin * 100:0.#} pt (errors, slow requests), harm ratio 1; safe needs {settings.MinimumSamples:0} canary requests and {settings.MinimumTime.TotalMinutes:0} min
            - threshold rule: today's defaults (error rate over the last minute > pre-rollout baseline + {thresholds.MaxErrorRateIncrease * 100:0} pt; p99 over the last minute > 2 × {thresholds.LatencyTargetMs:0} ms)
            - Kayenta-style: an equal-size baseline (another {world.CanaryShare:P0} slice of old-version traffic), per-look values, Mann–Whitney with a 98 % interval at every look
            - {stages:N0} stages per main scenario, {sweepStages:N0} per base-rate sweep scenario; seed {seed}

            """);

        var main = new List<JudgeScenario>
        {
            new("no regression", 0.01, 1, 1, stages),
            new("errors × 1.5", 0.01, 1.5, 1, stages),
            new("errors × 2", 0.01, 2, 1, stages),
            new("errors × 5", 0.01, 5, 1, stages),
            new("latency + 50 %", 0.01, 1, 1.5, stages),
        };
        var sweepRates = new[] { 0.001, 0.005, 0.02, 0.05, 0.1 };
        var sweep = sweepRates.SelectMany(r => new[]
        {
            new JudgeScenario("no regression", r, 1, 1, sweepStages),
            new JudgeScenario("errors × 2", r, 2, 1, sweepStages),
        }).ToList();

        var total = Stopwatch.StartNew();
        if (Str(args, "--evidence") is { } evidence)
        {
            File.WriteAllBytes(evidence, ShipBot.Charts.Judging.JudgeEvidenceChart.RenderPng(Example(world, settings, seed)));
            System.Console.Error.WriteLine($"Evidence chart written to {evidence}");
            if (only is ["evidence"])
            {
                return 0;
            }
        }

        if (only.Contains("tune"))
        {
            System.Console.Out.Write(Tune(world, settings, thresholds, Int(args, "--stages", 1000), seed));
            return 0;
        }

        if (!only.Contains("simulation"))
        {
            Section(Cost(settings, world, costRollouts, costRounds));
            System.Console.Out.Write(report.ToString());
            return 0;
        }

        var results = new Dictionary<JudgeScenario, ScenarioResult>();
        foreach (var scenario in main.Concat(sweep))
        {
            var watch = Stopwatch.StartNew();
            results[scenario] = RunScenario(world, settings, thresholds, scenario, seed);
            System.Console.Error.WriteLine($"  {scenario.Name} at {scenario.BaselineErrorRate:P1}: {scenario.Stages:N0} stages in {watch.Elapsed.TotalSeconds:N1} s");
        }

        var baseRate = main[0].BaselineErrorRate;
        var falseTable = new MarkdownTable("judge", $"false rollbacks, no regression, base error rate {baseRate:P0} (95 % interval)", "of which in the first 10 min");
        var healthy = results[main[0]];
        for (var j = 0; j < 3; j++)
        {
            var rolled = healthy.Harm[j].Count(l => l >= 0);
            var early = healthy.Harm[j].Count(l => l >= 0 && Minutes(l, world) <= 10);
            falseTable.Add(JudgeNames[j], $"{Pct(rolled, healthy.Stages)} ({Wilson(rolled, healthy.Stages)})", Pct(early, healthy.Stages));
        }

        Section($"### False rollbacks (every look counts; the sequential judge keeps looking after it finds the stage safe)\n\n{falseTable}");

        var detect = new MarkdownTable("regression (base error rate 1 %)", "judge", "caught within 2 h", "within 10 min", "median min", "p95 min (of caught)");
        foreach (var scenario in main.Skip(1))
        {
            var r = results[scenario];
            for (var j = 0; j < 3; j++)
            {
                var times = r.Harm[j].Where(l => l >= 0).Select(l => Minutes(l, world)).Order().ToArray();
                detect.Add(j == 0 ? scenario.Name : string.Empty, JudgeNames[j], Pct(times.Length, r.Stages), Pct(times.Count(t => t <= 10), r.Stages),
                    times.Length * 2 > r.Stages ? F(Percentile(times, 50), 1) : "—", times.Length > 0 ? F(Percentile(times, 95), 1) : "—");
            }
        }

        Section($"### Time to detect\n\n{detect}");

        var sweepTable = new MarkdownTable("base error rate", "canary errors expected in 10 min at base rate", "judge", "false rollbacks (no regression)", "2× caught within 10 min", "2× caught within 2 h", "2× median min");
        foreach (var rate in new[] { 0.001, 0.005, 0.01, 0.02, 0.05, 0.1 })
        {
            var none = rate == baseRate ? results[main[0]] : results[sweep.First(s => s.BaselineErrorRate == rate && !s.IsRegression)];
            var twice = rate == baseRate ? results[main[2]] : results[sweep.First(s => s.BaselineErrorRate == rate && s.IsRegression)];
            for (var j = 0; j < 3; j++)
            {
                var times = twice.Harm[j].Where(l => l >= 0).Select(l => Minutes(l, world)).Order().ToArray();
                sweepTable.Add(j == 0 ? $"{rate:P1}" : string.Empty, j == 0 ? F(world.RequestsPerMinute * world.CanaryShare * 10 * rate, 1) : string.Empty, JudgeNames[j],
                    Pct(none.Harm[j].Count(l => l >= 0), none.Stages), Pct(times.Count(t => t <= 10), twice.Stages), Pct(times.Length, twice.Stages),
                    times.Length * 2 > twice.Stages ? F(Percentile(times, 50), 1) : "—");
            }
        }

        Section($"### 2× error regression against the base error rate\n\n{sweepTable}");

        var promote = new MarkdownTable("scenario", "base error rate", "judged safe within 2 h", "median min to safe", "bake time saved (mean over all stages, of 120 min)", "safe before any harm on a regressed canary");
        foreach (var scenario in main.Concat(sweep))
        {
            var r = results[scenario];
            var safe = r.Safe.Where(l => l >= 0).Select(l => Minutes(l, world)).Order().ToArray();
            var bake = world.Looks * world.LookSeconds / 60;
            var saved = r.Safe.Select(l => l >= 0 ? bake - Minutes(l, world) : 0).Average();
            var wrong = scenario.IsRegression ? Pct(r.Safe.Zip(r.Harm[Sequential]).Count(p => p.First >= 0 && (p.Second < 0 || p.First < p.Second)), r.Stages) : "—";
            promote.Add(scenario.Name, $"{scenario.BaselineErrorRate:P1}", Pct(safe.Length, r.Stages), safe.Length * 2 > r.Stages ? F(Percentile(safe, 50), 1) : "—", $"{F(saved, 1)} min", wrong);
        }

        Section($"### Early promotion (sequential judge, early promotion on)\n\n{promote}");

        Section(Cost(settings, world, costRollouts, costRounds));
        Section($"Whole run: {total.Elapsed.TotalMinutes:N1} min.");

        if (chart is not null)
        {
            JudgeBenchChart.Write(chart, world, results[main[0]], results[main[2]], JudgeNames);
            System.Console.Error.WriteLine($"Chart written to {chart}");
        }

        System.Console.Out.Write(report.ToString());
        return 0;
    }

    /// <summary>One stage for the documentation's evidence chart: errors at twice a 3 % baseline, 40 minutes of looks.</summary>
    private static JudgeState Example(JudgeWorldSettings world, JudgeSettings settings, ulong seed)
    {
        var simulator = new StageSimulator(world, new JudgeScenario("example", 0.03, 2, 1, 1), new Rng(seed));
        var judge = new SequentialBenchJudge(SequentialJudge.Start(settings, "Canary", 0, 3, DateTimeOffset.UnixEpoch), world.LookSeconds);
        for (var look = 0; look < 80; look++)
        {
            judge.Look(simulator.Next(), look);
        }

        return judge.State;
    }

    /// <summary>Tuning aid (not part of the report): detection and false alarms of the sequential judge for a few tunings of its mixtures.</summary>
    private static string Tune(JudgeWorldSettings world, JudgeSettings settings, HealthThresholds thresholds, int stages, ulong seed)
    {
        var scenarios = new[]
        {
            new JudgeScenario("none", 0.01, 1, 1, stages), new JudgeScenario("2x", 0.01, 2, 1, stages), new JudgeScenario("5x", 0.01, 5, 1, stages),
            new JudgeScenario("2x@5%", 0.05, 2, 1, stages), new JudgeScenario("2x@0.5%", 0.005, 2, 1, stages), new JudgeScenario("lat", 0.01, 1, 1.5, stages),
        };
        var table = new MarkdownTable("events", "canary", "baseline", "false", "2x med", "2x ≤10", "5x med", "2x@5% ≤10", "2x@0.5% med", "lat med", "safe med");
        foreach (var (events, canary, baseline) in new[] { (30.0, 1500.0, 30000.0), (100, 1500, 30000), (300, 1500, 30000), (1000, 1500, 30000), (100, 500, 30000), (100, 5000, 30000), (100, 1500, 5000), (100, 1500, 100000) })
        {
            var start = SequentialJudge.Start(settings, "Canary", 0, 3, DateTimeOffset.UnixEpoch);
            start = start with { Metrics = [.. start.Metrics.Select(m => m with { TuneEvents = events, TuneCanary = canary, TuneBaseline = baseline })] };
            var r = scenarios.Select(sc => RunScenario(world, settings, thresholds, sc, seed, start)).ToArray();
            double Med(ScenarioResult x, int[]? looks = null)
            {
                var t = (looks ?? x.Harm[Sequential]).Where(l => l >= 0).Select(l => Minutes(l, world)).Order().ToArray();
                return t.Length * 2 > x.Stages ? Percentile(t, 50) : double.NaN;
            }

            string Within(ScenarioResult x) => Pct(x.Harm[Sequential].Count(l => l >= 0 && Minutes(l, world) <= 10), x.Stages);
            table.Add(F(events, 0), F(canary, 0), F(baseline, 0), Pct(r[0].Harm[Sequential].Count(l => l >= 0), stages), F(Med(r[1]), 1), Within(r[1]), F(Med(r[2]), 1), Within(r[3]), F(Med(r[4]), 1), F(Med(r[5]), 1), F(Med(r[0], r[0].Safe), 1));
            System.Console.Error.WriteLine($"  tuned {events}/{canary}/{baseline}");
        }

        return table.ToString();
    }

    private static ScenarioResult RunScenario(JudgeWorldSettings world, JudgeSettings settings, HealthThresholds thresholds, JudgeScenario scenario, ulong seed, JudgeState? tuned = null)
    {
        var result = new ScenarioResult(scenario.Stages);
        var scenarioSeed = seed ^ (ulong)scenario.GetHashCode();
        var start = tuned ?? SequentialJudge.Start(settings, "Canary", 0, 3, DateTimeOffset.UnixEpoch);
        Parallel.For(0, scenario.Stages, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, stage =>
        {
            var rng = new Rng(scenarioSeed + ((ulong)stage * 0x9E3779B97F4A7C15UL));
            var simulator = new StageSimulator(world, scenario, rng);
            var sequential = new SequentialBenchJudge(start, world.LookSeconds);
            IBenchJudge[] judges = [sequential, new ThresholdRuleJudge(simulator.PreRolloutErrorRate(), thresholds), new KayentaStyleJudge()];
            var harm = new[] { -1, -1, -1 };
            for (var look = 0; look < world.Looks; look++)
            {
                var counts = simulator.Next();
                var open = false;
                for (var j = 0; j < judges.Length; j++)
                {
                    if (harm[j] >= 0)
                    {
                        continue;
                    }

                    if (judges[j].Look(counts, look))
                    {
                        harm[j] = look;
                    }
                    else
                    {
                        open = true;
                    }
                }

                if (!open)
                {
                    break;
                }
            }

            for (var j = 0; j < 3; j++)
            {
                result.Harm[j][stage] = harm[j];
            }

            result.Safe[stage] = sequential.SafeLook;
        });
        return result;
    }

    /// <summary>Cost of one look with many rollouts in memory: every rollout's state is observed in turn, round after round.</summary>
    private static string Cost(JudgeSettings settings, JudgeWorldSettings world, int rollouts, int rounds)
    {
        var rng = new Rng(7);
        var states = new JudgeState[rollouts];
        var counts = new (double Canary, double CanaryErrors, double CanarySlow, double Baseline, double BaselineErrors, double BaselineSlow)[rollouts];
        var start = SequentialJudge.Start(settings, "Canary", 0, 3, DateTimeOffset.UnixEpoch);
        for (var i = 0; i < rollouts; i++)
        {
            states[i] = start;
        }

        var scenario = new JudgeScenario("cost", 0.01, 1, 1, 1);
        var simulator = new StageSimulator(world, scenario, rng);
        var samples = new List<double>(rollouts * rounds);
        long allocated = 0;
        var watch = new Stopwatch();
        var process = Process.GetCurrentProcess();
        var cpuStart = TimeSpan.Zero;
        for (var round = 0; round < rounds; round++)
        {
            if (round == 1)
            {
                process.Refresh();
                cpuStart = process.TotalProcessorTime;
            }

            for (var i = 0; i < rollouts; i++)
            {
                var look = simulator.Next();
                var c = counts[i];
                c = (c.Canary + look.CanaryRequests, c.CanaryErrors + look.CanaryErrors, c.CanarySlow + look.CanarySlow, c.Baseline + look.BaselineRequests, c.BaselineErrors + look.BaselineErrors, c.BaselineSlow + look.BaselineSlow);
                counts[i] = c;
                var at = DateTimeOffset.UnixEpoch.AddSeconds((round + 1) * world.LookSeconds);
                var observation = new JudgeObservation(at,
                [
                    new MetricCounts(CountMetrics.Errors, c.Canary, c.CanaryErrors, c.Baseline, c.BaselineErrors, DateTimeOffset.UnixEpoch, at, "bench"),
                    new MetricCounts(CountMetrics.SlowRequests, c.Canary, c.CanarySlow, c.Baseline, c.BaselineSlow, DateTimeOffset.UnixEpoch, at, "bench"),
                ]);
                var before = GC.GetAllocatedBytesForCurrentThread();
                watch.Restart();
                states[i] = SequentialJudge.Observe(states[i], observation).State;
                watch.Stop();
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                samples.Add(watch.Elapsed.TotalMicroseconds);
            }
        }

        process.Refresh();
        var cpuPerLook = (process.TotalProcessorTime - cpuStart).TotalMicroseconds / (rollouts * (rounds - 1.0));
        var sorted = samples.Skip(rollouts).Order().ToArray();
        var json = JsonSerializer.Serialize(states[0], new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var table = new MarkdownTable("rollouts in memory", "looks timed", "CPU µs per look (2 metrics, mean)", "wall µs p50", "wall µs p99", "wall µs max", "allocated per look", "state JSON after the last look");
        table.Add(F(rollouts, 0), F(sorted.Length, 0), F(cpuPerLook, 1), F(Percentile(sorted, 50), 1), F(Percentile(sorted, 99), 1), F(sorted[^1], 0),
            $"{allocated / (double)samples.Count / 1024:N1} KiB", $"{json.Length / 1024.0:N1} KiB after {rounds} looks");
        var full = start;
        for (var look = 0; look < world.Looks; look++)
        {
            var at = DateTimeOffset.UnixEpoch.AddSeconds((look + 1) * world.LookSeconds);
            full = SequentialJudge.Observe(full, new JudgeObservation(at,
            [
                new MetricCounts(CountMetrics.Errors, 25.0 * (look + 1), 0.25 * (look + 1), 475.0 * (look + 1), 4.75 * (look + 1), DateTimeOffset.UnixEpoch, at, "bench"),
                new MetricCounts(CountMetrics.SlowRequests, 25.0 * (look + 1), 0.07 * (look + 1), 475.0 * (look + 1), 1.2 * (look + 1), DateTimeOffset.UnixEpoch, at, "bench"),
            ])).State;
        }

        var fullJson = JsonSerializer.Serialize(full, new JsonSerializerOptions(JsonSerializerDefaults.Web));

        // A yardstick for the machine at the time: the figures above scale with it on other hardware.
        var yardstick = Stopwatch.StartNew();
        var sink = 0.0;
        for (var i = 0; i < 2_000_000; i++)
        {
            sink += Math.Log(1.5 + i);
        }

        var logNs = yardstick.Elapsed.TotalNanoseconds / 2_000_000;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ').Take(3) : ["?"];
        return $"### Cost per evaluation\n\nEach look of one rollout is `SequentialJudge.Observe` on its stored state with cumulative counts of two metrics; {F(rollouts, 0)} states are kept and observed in turn (the first round, warm-up, is left out). One thread. The CPU time is the process's (it includes the garbage collector) divided by the looks; the wall-clock percentiles include whatever else the machine was doing.\n\n{table}\n" +
            $"A whole 2-hour stage (240 looks) leaves a state of {fullJson.Length / 1024.0:N1} KiB of JSON (two metrics, chart trace capped at {SequentialJudge.TraceCapacity} points each).\n\n" +
            $"Yardstick: one `Math.Log` took {logNs:N1} ns on this machine during the run (load average {string.Join(" / ", load)}; an idle modern core takes about 5 ns){(sink > 0 ? "." : ".")}\n";
    }

    private static double Minutes(int look, JudgeWorldSettings world) => (look + 1) * world.LookSeconds / 60;

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static string Pct(int count, int of) => $"{100.0 * count / of:0.##} %";

    /// <summary>Wilson 95 % interval of a proportion, in percent.</summary>
    private static string Wilson(int count, int of)
    {
        const double z = 1.96;
        var p = (double)count / of;
        var centre = (p + (z * z / (2 * of))) / (1 + (z * z / of));
        var half = z * Math.Sqrt((p * (1 - p) / of) + (z * z / (4.0 * of * of))) / (1 + (z * z / of));
        return $"{Math.Max(0, centre - half) * 100:0.##}–{Math.Min(1, centre + half) * 100:0.##} %";
    }

    private static string F(double value, int decimals) =>
        double.IsNaN(value) ? "—" : value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static int Int(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string? Str(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>Per stage: the look each judge rolled back at (−1: never), and the look the sequential judge first found it safe.</summary>
public sealed class ScenarioResult
{
    public ScenarioResult(int stages)
    {
        Stages = stages;
        Harm = [new int[stages], new int[stages], new int[stages]];
        Safe = new int[stages];
    }

    public int Stages { get; }

    public int[][] Harm { get; }

    public int[] Safe { get; }
}

/// <summary>A Markdown table (kept apart from the other benchmarks' helpers).</summary>
public sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n");
        text.Append('|').Append(string.Join('|', headers.Select((_, i) => i == 0 ? "---" : "---:"))).Append("|\n");
        foreach (var row in _rows)
        {
            text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        return text.ToString();
    }
}
