using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ShipBot.Bench;

/// <summary>
/// The soak (<c>bash bench/run.sh soak</c>): one ShipBot process on Redis keeps
/// <see cref="BenchOptions.SoakRollouts"/> rollouts going for <see cref="BenchOptions.SoakMinutes"/>
/// minutes under mixed chat traffic — typed commands, button clicks, Alertmanager alerts (each
/// rollback is followed by an unhalt and the next version), and the health evaluations of every
/// rollout — and samples, over time, its resident memory, its GC heap (from its own /metrics),
/// the acknowledgement latency of the traffic and the errors. The report says whether memory
/// stayed flat after the warm-up (growth under 10 %) and there were no errors; a PNG chart goes
/// to <see cref="BenchOptions.SoakChart"/>.
/// </summary>
public static partial class SoakBench
{
    private const string Channel = "soak";
    private const string Token = "soak-alertmanager-token-0123456789";
    private static readonly string[] Items =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    public static async Task<int> RunAsync(BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var duration = TimeSpan.FromMinutes(options.SoakMinutes);
        var warmup = TimeSpan.FromMinutes(options.SoakWarmupMinutes ?? options.SoakMinutes / 3);
        var prefix = $"soak{DateTimeOffset.UtcNow:HHmmss}";
        var services = Enumerable.Range(0, options.SoakRollouts).Select(i => $"soak{i.ToString("D4", CultureInfo.InvariantCulture)}").ToList();
        var management = FreePort();
        var directory = await WriteConfigurationAsync(services);
        System.Console.Error.WriteLine($"Soak: {services.Count:N0} rollouts, {options.SoakRate:0.#} chat requests/s, {duration.TotalMinutes:0.#} min (warm-up {warmup.TotalMinutes:0.#} min), sample every {options.SoakSampleSeconds:0} s; configuration in {directory}");
        await using var host = await ShipBotUnderTest.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = options.Redis,
            ["ShipBot:Redis:KeyPrefix"] = prefix,
            ["ShipBot:Alertmanager:BearerToken"] = Token,
            ["Management:Urls"] = $"http://127.0.0.1:{management}",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:ShipBot.Startup"] = "Information",
        }, directory);
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{management}"), Timeout = TimeSpan.FromSeconds(30) };
        var world = new World(host, services);
        await using var listener = await CardListener.StartAsync(host.BaseAddress, world);

        // Every service gets its first rollout (start, checklist, approval), a few at a time.
        var ramp = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(8))
        {
            await Task.WhenAll(services.Select(async s =>
            {
                await gate.WaitAsync();
                try
                {
                    await world.StartNextAsync(s, unhalt: false);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        System.Console.Error.WriteLine($"  {services.Count:N0} rollouts started in {ramp.Elapsed.TotalSeconds:N0} s ({world.Requests:N0} requests, {world.Errors:N0} errors)");
        world.ResetWindow();

        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        var traffic = world.DriveAsync(options.SoakRate, stop.Token);
        var nextSample = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            nextSample += TimeSpan.FromSeconds(options.SoakSampleSeconds);
            var wait = nextSample - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // the last sample is taken below
                }
            }

            if (samples.Count > 0 && clock.Elapsed.TotalMinutes - samples[^1].Minutes < 0.05)
            {
                break;
            }

            var live = options.SoakLiveHeapEvery > 0 && samples.Count % options.SoakLiveHeapEvery == 0 ? await LiveHeapAsync(host.Pid) : double.NaN;
            samples.Add(await SampleAsync(clock.Elapsed, host, scraper, world) with { LiveMiB = live });
            var s = samples[^1];
            System.Console.Error.WriteLine($"  {s.Minutes,5:0.0} min  RSS {s.RssMiB,5:N0} MiB  GC heap {s.HeapMiB,5:N0} MiB  live {s.LiveMiB,5:N0} MiB  active {s.Active,5:N0}  {s.Requests,5} req  ack p50 {s.AckP50Ms,6:N1} ms p99 {s.AckP99Ms,7:N1} ms  errors {s.Errors}  rollbacks {world.Rollbacks}  load {ProcCpu.LoadAverage()}");
        }

        await traffic;
        var report = Report(options, samples, warmup, world, host, services.Count);
        System.Console.Out.Write(report.Text);
        Chart(samples, warmup, options.SoakChart, services.Count);
        System.Console.Error.WriteLine($"Chart written to {options.SoakChart}");
        return report.Passed ? 0 : 1;
    }

    /// <summary>The services (long bakes, so each rollout lives through the soak unless an alert rolls it back), written as the host's appsettings.json.</summary>
    private static async Task<string> WriteConfigurationAsync(IReadOnlyList<string> services)
    {
        var list = new JsonObject();
        foreach (var service in services)
        {
            list[service] = new JsonObject
            {
                ["Channel"] = Channel,
                ["Requesters"] = new JsonArray("alice"),
                ["Approvers"] = new JsonArray("bob"),
                ["OnCall"] = new JsonArray("carol"),
                ["StagingBake"] = "00:00:30",
                ["Stages"] = new JsonArray(
                    new JsonObject { ["Kind"] = "Canary", ["Percent"] = 5, ["Bake"] = "00:10:00" },
                    new JsonObject { ["Kind"] = "EarlyAdopters", ["Percent"] = 25, ["Bake"] = "00:15:00" },
                    new JsonObject { ["Kind"] = "GeneralAvailability", ["Percent"] = 50, ["Bake"] = "00:20:00" },
                    new JsonObject { ["Kind"] = "Full", ["Percent"] = 100, ["Bake"] = "00:20:00" }),
                ["ValidationWindow"] = "00:10:00",
            };
        }

        var config = new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
            ["ShipBot"] = new JsonObject
            {
                ["EvaluationInterval"] = "00:00:30",
                ["ReminderInterval"] = "01:00:00",
                ["Users"] = new JsonObject
                {
                    ["alice"] = new JsonObject { ["Name"] = "alice" },
                    ["bob"] = new JsonObject { ["Name"] = "bob" },
                    ["carol"] = new JsonObject { ["Name"] = "carol" },
                },
                ["Health"] = new JsonObject { ["Source"] = "Simulated" },
                ["Deployment"] = new JsonObject { ["Target"] = "Simulated", ["SimulatedLatency"] = "00:00:00.020" },
                ["Services"] = list,
            },
        };
        var directory = Directory.CreateTempSubdirectory("shipbot-soak-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), config.ToJsonString());
        return directory;
    }

    private static async Task<Sample> SampleAsync(TimeSpan at, ShipBotUnderTest host, HttpClient scraper, World world)
    {
        var (rss, _) = host.Memory();
        double heap = double.NaN, active = double.NaN;
        try
        {
            var metrics = await scraper.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            heap = Sum(metrics, "dotnet_gc_last_collection_heap_size_bytes");
            active = Sum(metrics, "shipbot_releases");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            world.Error($"scrape failed: {ex.Message}");
        }

        var (latencies, errors) = world.TakeWindow();
        Array.Sort(latencies);
        return new Sample(at.TotalMinutes, rss / 1024.0 / 1024.0, heap / 1024.0 / 1024.0, active, latencies.Length,
            Stats.Percentile(latencies, 50), Stats.Percentile(latencies, 99), errors, host.LogErrors);
    }

    /// <summary>The sum of every series of <paramref name="name"/> in a Prometheus text scrape.</summary>
    private static double Sum(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static (string Text, bool Passed) Report(BenchOptions options, IReadOnlyList<Sample> samples, TimeSpan warmup, World world, ShipBotUnderTest host, int rollouts)
    {
        var after = samples.Where(s => s.Minutes >= warmup.TotalMinutes).ToList();
        var head = after.Take(3).ToList();
        var tail = after.TakeLast(3).ToList();
        double Growth(Func<Sample, double> value) => head.Count == 0 ? double.NaN : (tail.Average(value) / head.Average(value)) - 1;
        var rssGrowth = Growth(s => s.RssMiB);
        var heapGrowth = Growth(s => s.HeapMiB);
        var lives = after.Where(s => !double.IsNaN(s.LiveMiB)).ToList();
        var liveGrowth = lives.Count >= 2 ? (lives[^1].LiveMiB / lives[0].LiveMiB) - 1 : double.NaN;
        var errors = samples.Sum(s => s.Errors);
        var all = world.AllLatencies();
        Array.Sort(all);
        var passed = errors == 0 && host.LogErrors == 0 && rssGrowth < 0.10 && (double.IsNaN(liveGrowth) ? heapGrowth < 0.10 : liveGrowth < 0.10);
        var table = new Table("minute", "RSS MiB", "GC heap MiB", "live heap MiB", "active releases", "requests", "ack p50 ms", "ack p99 ms", "errors");
        foreach (var s in samples)
        {
            table.Add(Stats.F(s.Minutes, 1), Stats.F(s.RssMiB), Stats.F(s.HeapMiB), Stats.F(s.LiveMiB, 1), Stats.F(s.Active), s.Requests.ToString(CultureInfo.InvariantCulture), Stats.F(s.AckP50Ms, 1), Stats.F(s.AckP99Ms, 1), s.Errors.ToString(CultureInfo.InvariantCulture));
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            ## Soak: {rollouts:N0} concurrent rollouts for {options.SoakMinutes:0.#} min

            - date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}; {Environment.ProcessorCount} cores shared with other work (load average at the end: {ProcCpu.LoadAverage()})
            - ShipBot: Release build, one process, workstation GC, Redis store, logging at Warning; health evaluation every 30 s for each rollout; simulated deployment target (20 ms) and health source
            - traffic: {options.SoakRate:0.#} requests/s through the console API and the Alertmanager receiver — typed commands (status, signal, contract, list), button clicks (pause/resume on the release cards), alerts (each rolls a canary back; the driver then unhalts the service and starts its next version with start, check and approve)
            - totals: {world.Requests:N0} requests, {world.Rollbacks:N0} rollbacks and restarts, {errors:N0} errors; ShipBot logged {host.LogErrors:N0} errors
            - acknowledgement over the whole run (client side, request to answer): p50 {Stats.F(Stats.Percentile(all, 50), 1)} ms, p99 {Stats.F(Stats.Percentile(all, 99), 1)} ms, max {Stats.F(all.Length == 0 ? double.NaN : all[^1], 1)} ms
            - memory after the warm-up ({warmup.TotalMinutes:0.#} min), last 3 samples against the first 3: RSS {Stats.F(rssGrowth * 100, 1)} %, GC heap after the last collections {Stats.F(heapGrowth * 100, 1)} %; live heap after a full GC (dotnet-gcdump, every {options.SoakLiveHeapEvery} samples; {(options.SoakLiveHeapEvery > 0 ? "each one induces a full GC in ShipBot" : "off")}), last against first: {Stats.F(liveGrowth * 100, 1)} % (target: under 10 %)
            - verdict: **{(passed ? "pass" : "FAIL")}** (no errors, RSS and {(double.IsNaN(liveGrowth) ? "GC heap" : "live heap")} flat after warm-up)

            {table}
            """);
        if (world.ErrorSamples.Count > 0)
        {
            text.Append("\nFirst errors:\n\n").Append(string.Join('\n', world.ErrorSamples.Take(10).Select(e => $"- {e}"))).Append('\n');
        }

        return (text.ToString(), passed);
    }

    /// <summary>One chart: memory on the left axis, acknowledgement latency and errors on the right, over minutes.</summary>
    private static void Chart(IReadOnlyList<Sample> samples, TimeSpan warmup, string path, int rollouts)
    {
        var minutes = samples.Select(s => s.Minutes).ToArray();
        var plot = new ScottPlot.Plot();
        plot.Title($"ShipBot soak: {rollouts:N0} rollouts on Redis, mixed chat traffic");
        plot.Add.Scatter(minutes, samples.Select(s => s.RssMiB).ToArray()).LegendText = "resident memory (MiB, left)";
        plot.Add.Scatter(minutes, samples.Select(s => s.HeapMiB).ToArray()).LegendText = "GC heap after the last collections (MiB, left)";
        var measured = samples.Where(s => !double.IsNaN(s.LiveMiB)).ToList();
        if (measured.Count > 0)
        {
            var live = plot.Add.Scatter(measured.Select(s => s.Minutes).ToArray(), measured.Select(s => s.LiveMiB).ToArray());
            live.LegendText = "live heap after a full GC (MiB, left)";
            live.MarkerSize = 8;
        }

        var p99 = plot.Add.Scatter(minutes, samples.Select(s => s.AckP99Ms).ToArray());
        p99.LegendText = "ack p99 (ms, right)";
        p99.Axes.YAxis = plot.Axes.Right;
        var errors = plot.Add.Scatter(minutes, samples.Select(s => (double)s.Errors).ToArray());
        errors.LegendText = "errors per sample (right)";
        errors.Axes.YAxis = plot.Axes.Right;
        plot.Add.VerticalLine(warmup.TotalMinutes).LegendText = "end of warm-up";
        plot.Axes.Left.Label.Text = "MiB";
        plot.Axes.Right.Label.Text = "ms / errors";
        plot.Axes.Bottom.Label.Text = "minutes";
        plot.Axes.SetLimitsY(0, Math.Max(1, samples.Max(s => Math.Max(s.RssMiB, double.IsNaN(s.HeapMiB) ? 0 : s.HeapMiB))) * 1.2, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, Math.Max(10, samples.Max(s => double.IsNaN(s.AckP99Ms) ? 0 : s.AckP99Ms)) * 1.2, plot.Axes.Right);
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 1100, 600);
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private sealed record Sample(double Minutes, double RssMiB, double HeapMiB, double Active, int Requests, double AckP50Ms, double AckP99Ms, int Errors, long LogErrors)
    {
        /// <summary>Live objects after a full GC (dotnet-gcdump), when measured this sample; NaN otherwise.</summary>
        public double LiveMiB { get; init; } = double.NaN;
    }

    /// <summary>
    /// The live heap: <c>dotnet-gcdump collect</c> makes ShipBot run a full, compacting GC and lists
    /// what survives; its report's first line is the total. NaN when dotnet-gcdump is not installed
    /// (<c>dotnet tool install -g dotnet-gcdump</c>).
    /// </summary>
    private static async Task<double> LiveHeapAsync(int pid)
    {
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-gcdump");
        if (!File.Exists(tool))
        {
            return double.NaN;
        }

        var file = Path.Combine(Path.GetTempPath(), $"shipbot-soak-{pid}.gcdump");
        try
        {
            await RunToolAsync(tool, "collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", file);
            var report = await RunToolAsync(tool, "report", file);
            var first = report.Split('\n').FirstOrDefault(l => l.Contains("GC Heap bytes", StringComparison.Ordinal));
            return first is null ? double.NaN : long.Parse(first.Trim().Split(' ')[0], NumberStyles.AllowThousands, CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            System.Console.Error.WriteLine($"  live heap not measured: {ex.Message}");
            return double.NaN;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> RunToolAsync(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{tool} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"{Path.GetFileName(tool)} {args[0]} exited with {process.ExitCode}");
    }

    /// <summary>The people and systems around ShipBot: what they send, what they have seen, what went wrong.</summary>
    private sealed class World(ShipBotUnderTest host, IReadOnlyList<string> services)
    {
        private readonly ConcurrentDictionary<string, int> _versions = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, byte> _restarting = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, byte> _paused = new(StringComparer.Ordinal);
        private readonly ConcurrentBag<double> _all = [];
        private ConcurrentBag<double> _window = [];
        private int _windowErrors;
        private long _requests;
        private long _errors;
        private long _rollbacks;

        /// <summary>Each release's card: its message id and the channel position it was posted at.</summary>
        public ConcurrentDictionary<string, (string Id, long Position)> Cards { get; } = new(StringComparer.Ordinal);

        /// <summary>Messages seen in the channel so far (the console keeps the last 1,000: older cards cannot be clicked, as in the browser).</summary>
        public long Position;

        public ConcurrentQueue<string> ErrorSamples { get; } = new();

        public long Requests => Interlocked.Read(ref _requests);

        public long Errors => Interlocked.Read(ref _errors);

        public long Rollbacks => Interlocked.Read(ref _rollbacks);

        public string Release(string service) => $"{service}@{_versions.GetOrAdd(service, 1)}";

        public void ResetWindow() => TakeWindow();

        public (double[] Latencies, int Errors) TakeWindow()
        {
            var window = Interlocked.Exchange(ref _window, []);
            return ([.. window], Interlocked.Exchange(ref _windowErrors, 0));
        }

        public double[] AllLatencies() => [.. _all];

        public void Error(string what)
        {
            Interlocked.Increment(ref _errors);
            Interlocked.Increment(ref _windowErrors);
            if (ErrorSamples.Count < 50)
            {
                ErrorSamples.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss} {what}");
            }
        }

        /// <summary>A rollback seen in the channel: unhalt the service and start its next version (once per rollback).</summary>
        public void OnRolledBack(string release)
        {
            var service = release[..release.IndexOf('@', StringComparison.Ordinal)];
            if (Release(service) != release || !_restarting.TryAdd(service, 0))
            {
                return;
            }

            Interlocked.Increment(ref _rollbacks);
            _ = Task.Run(async () =>
            {
                try
                {
                    _versions.AddOrUpdate(service, 2, (_, v) => v + 1);
                    _paused.TryRemove(Release(service), out _);
                    await StartNextAsync(service, unhalt: true);
                }
                finally
                {
                    _restarting.TryRemove(service, out _);
                }
            });
        }

        public async Task StartNextAsync(string service, bool unhalt)
        {
            var release = Release(service);
            var version = release[(release.IndexOf('@', StringComparison.Ordinal) + 1)..];
            if (unhalt)
            {
                await SayAsync("carol", $"/ship unhalt {service} soak: fixed, next version", "unhalted");
            }

            await SayAsync("alice", $"/ship start {service} {version} soak rollout", $"Started {release}");
            await SayAsync("alice", $"/ship check {release} {string.Join(' ', Items)}", null);
            await SayAsync("bob", $"/ship approve {release}", "goes to staging");
        }

        /// <summary>Open-loop traffic at <paramref name="rate"/> requests/s until <paramref name="stop"/>; at most 64 in flight.</summary>
        public async Task DriveAsync(double rate, CancellationToken stop)
        {
            using var inFlight = new SemaphoreSlim(64);
            var pending = new ConcurrentDictionary<Task, byte>();
            var interval = TimeSpan.FromSeconds(1 / rate);
            var clock = Stopwatch.StartNew();
            var next = TimeSpan.Zero;
            var n = 0L;
            while (!stop.IsCancellationRequested)
            {
                next += interval;
                var wait = next - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                if (!await inFlight.WaitAsync(0, CancellationToken.None))
                {
                    Error("more than 64 requests in flight: ShipBot is not keeping up");
                    continue;
                }

                var i = n++;
                var task = Task.Run(async () =>
                {
                    try
                    {
                        await OneAsync(i);
                    }
                    finally
                    {
                        inFlight.Release();
                    }
                }, CancellationToken.None);
                pending[task] = 0;
                _ = task.ContinueWith(t => pending.TryRemove(t, out _), TaskScheduler.Default);
            }

            await Task.WhenAll(pending.Keys);
        }

        private async Task OneAsync(long i)
        {
            var service = services[Random.Shared.Next(services.Count)];
            var release = Release(service);
            var roll = Random.Shared.NextDouble();
            if (_restarting.ContainsKey(service))
            {
                await SayAsync("alice", $"/ship status {service}", null);
            }
            else if (roll < 0.35)
            {
                await SayAsync("alice", $"/ship status {release}", null);
            }
            else if (roll < 0.60)
            {
                await ClickAsync(release);
            }
            else if (roll < 0.72)
            {
                await SayAsync("carol", $"/ship signal customer {release} soak signal {i}", "signal recorded");
            }
            else if (roll < 0.75)
            {
                await AlertAsync(service, i);
            }
            else if (roll < 0.752)
            {
                await SayAsync("carol", "/ship list", null);
            }
            else
            {
                await SayAsync("bob", $"/ship contract {release}", null);
            }
        }

        /// <summary>A click on the release card: pause it, or resume it if this driver paused it.</summary>
        private async Task ClickAsync(string release)
        {
            if (!Cards.TryGetValue(release, out var card) || Interlocked.Read(ref Position) - card.Position > 900)
            {
                // The card has scrolled out of the console's history (or was never seen): type the command instead.
                var typed = _paused.ContainsKey(release) ? "resume" : "pause";
                await SayAsync("carol", $"/ship {typed} {release}", null);
                if (typed == "resume")
                {
                    _paused.TryRemove(release, out _);
                }
                else
                {
                    _paused[release] = 0;
                }

                return;
            }

            var messageId = card.Id;

            var resume = _paused.ContainsKey(release);
            var verb = resume ? "resume" : "pause";
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await host.Http.PostAsJsonAsync("/api/console/actions", new { user = "carol", messageId, actionId = verb, value = $"{verb} {release}", requestId = Guid.NewGuid().ToString("N") });
                var text = await response.Content.ReadAsStringAsync();
                Record(started, response.StatusCode, text, $"click {verb} {release}", null);
                if (response.IsSuccessStatusCode)
                {
                    if (resume)
                    {
                        _paused.TryRemove(release, out _);
                    }
                    else if (!text.Contains("Nothing changed", StringComparison.Ordinal) && !text.Contains("cannot", StringComparison.Ordinal))
                    {
                        _paused[release] = 0;
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Error($"click {verb} {release}: {ex.GetType().Name} {ex.Message}");
            }
        }

        private async Task AlertAsync(string service, long i)
        {
            var labels = new JsonObject { ["alertname"] = "HighErrorRate", ["service"] = service, ["severity"] = "critical" };
            var payload = new JsonObject
            {
                ["version"] = "4",
                ["groupKey"] = $"{{}}:{{alertname=\"HighErrorRate\",service=\"{service}\"}}",
                ["truncatedAlerts"] = 0,
                ["status"] = "firing",
                ["receiver"] = "shipbot",
                ["groupLabels"] = new JsonObject { ["alertname"] = "HighErrorRate" },
                ["commonLabels"] = labels.DeepClone(),
                ["commonAnnotations"] = new JsonObject(),
                ["externalURL"] = "http://alertmanager.example.org:9093",
                ["alerts"] = new JsonArray(new JsonObject
                {
                    ["status"] = "firing",
                    ["labels"] = labels,
                    ["annotations"] = new JsonObject { ["summary"] = $"{service} error rate above 5 %" },
                    ["startsAt"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
                    ["endsAt"] = "0001-01-01T00:00:00Z",
                    ["generatorURL"] = "http://prometheus.example.org:9090/graph",
                    ["fingerprint"] = $"soak{i:x}",
                }),
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/alertmanager") { Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await host.Http.SendAsync(request);
                Record(started, response.StatusCode, await response.Content.ReadAsStringAsync(), $"alert {service}", null);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Error($"alert {service}: {ex.GetType().Name} {ex.Message}");
            }
        }

        /// <summary>A console command; a 429 of the console's rate limiter is waited out (and not counted as an answer).</summary>
        private async Task SayAsync(string user, string text, string? expected)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await host.Http.PostAsJsonAsync("/api/console/messages", new { user, channel = Channel, text });
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        await Task.Delay(100 + Random.Shared.Next(200));
                        continue;
                    }

                    Record(started, response.StatusCode, await response.Content.ReadAsStringAsync(), text, expected);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    Error($"'{text}': {ex.GetType().Name} {ex.Message}");
                }

                return;
            }

            Error($"'{text}': still rate limited after 100 tries");
        }

        private void Record(long started, HttpStatusCode status, string body, string what, string? expected)
        {
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Interlocked.Increment(ref _requests);
            _window.Add(ms);
            _all.Add(ms);
            if ((int)status >= 400 || body.Contains("internal error", StringComparison.Ordinal) || body.Contains("State store unavailable", StringComparison.Ordinal)
                || (expected is not null && !body.Contains(expected, StringComparison.Ordinal)))
            {
                Error($"{what}: HTTP {(int)status} {(body.Length > 300 ? body[..300] : body)}");
            }
        }
    }

    /// <summary>Follows the soak channel over server-sent events: the release card of each release, and every rollback.</summary>
    private sealed partial class CardListener : IAsyncDisposable
    {
        private readonly HttpClient _http;
        private readonly CancellationTokenSource _stop = new();
        private Task _reading = Task.CompletedTask;

        private CardListener(Uri baseAddress) => _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };

        public static async Task<CardListener> StartAsync(Uri baseAddress, World world)
        {
            var listener = new CardListener(baseAddress);
            var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            listener._reading = listener.ReadAsync(world, connected);
            await connected.Task.WaitAsync(TimeSpan.FromSeconds(20));
            return listener;
        }

        private async Task ReadAsync(World world, TaskCompletionSource connected)
        {
            try
            {
                using var response = await _http.GetAsync(new Uri($"/api/console/stream?channel={Channel}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, _stop.Token);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token), Encoding.UTF8);
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line.StartsWith(": connected", StringComparison.Ordinal))
                    {
                        connected.TrySetResult();
                        continue;
                    }

                    if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var position = Interlocked.Increment(ref world.Position);
                    using var message = JsonDocument.Parse(line.AsMemory(6));
                    var root = message.RootElement;
                    if (!root.TryGetProperty("card", out var card) || card.ValueKind != JsonValueKind.Object || !card.TryGetProperty("title", out var titleElement))
                    {
                        continue;
                    }

                    var title = titleElement.GetString() ?? string.Empty;
                    if (RolledBack().Match(title) is { Success: true } rolledBack)
                    {
                        world.OnRolledBack(rolledBack.Groups["release"].Value);
                    }
                    else if (ReleaseCard().Match(title) is { Success: true } card_ && root.TryGetProperty("id", out var id))
                    {
                        world.Cards.TryAdd(card_.Groups["release"].Value, (id.GetString()!, position));
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
            {
                connected.TrySetException(ex);
            }
        }

        [GeneratedRegex(@"^🔴 Rolled back (?<release>soak\d{4}@\d+)")]
        private static partial Regex RolledBack();

        [GeneratedRegex(@"(?<release>soak\d{4}@\d+)")]
        private static partial Regex ReleaseCard();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _reading;
            }
            catch (OperationCanceledException)
            {
                // stopped
            }

            _http.Dispose();
            _stop.Dispose();
        }
    }
}
