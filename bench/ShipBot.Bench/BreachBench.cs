using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Redis;
using ShipBot.Testing;
using StackExchange.Redis;

namespace ShipBot.Bench;

/// <summary>One pushed breach: milliseconds from the moment the benchmark sent the Alertmanager notification.</summary>
public sealed record BreachSample(string Release, double RollbackCall, double ChatPost, double HttpAnswer);

public sealed record PushedRow(
    string Name,
    IReadOnlyList<BreachSample> Samples,
    IReadOnlyList<BreachSample> Warmup,
    IReadOnlyList<BreachSample> Burst,
    double BurstAnswerMs,
    IReadOnlyList<string> Failures,
    CpuFigures Cpu,
    long Rss,
    long PeakRss,
    double StartSeconds,
    double DriveSeconds,
    string LoadBefore,
    string LoadAfter,
    double ListActiveIdsMs);

public sealed record PolledRow(
    double IntervalSeconds,
    IReadOnlyList<double> RollbackCallMs,
    IReadOnlyList<double> ChatPostMs,
    IReadOnlyList<double> CommandAnswerMs,
    IReadOnlyList<string> Failures,
    CpuFigures Cpu,
    string LoadBefore,
    string LoadAfter);

/// <summary>
/// Breach to rollback: the real ShipBot host as a separate process, with Redis (and the
/// in-memory store), services whose webhook deployment target points at a loopback receiver in this
/// process, and the console's event stream followed as a browser would. Pushed breaches go through
/// <c>POST /hooks/alertmanager</c>; polled breaches through the simulated health source
/// (<c>/ship simulate</c>). Evaluation throughput with 10,000 active rollouts runs in a child process
/// like the lag measurement (see <see cref="EvaluationChild"/>).
/// </summary>
public sealed class BreachBench(
    BenchOptions options,
    IConnectionMultiplexer admin,
    IServer server,
    Action<string> section,
    Func<EvalPlan, Task<EvalResult>> evaluationChild,
    Func<Task<string>> seedCanary)
{
    public static readonly string[] Sections = ["pushed", "loaded", "polled", "evals"];

    private const string Token = "bench-alertmanager-token-0123456789";
    private const string Secret = "bench-webhook-secret-0123456789abcdef";
    private const string Version = "1.0.0";
    private const double PushedTargetMs = 250;
    private const double ChatTargetMs = 1000;

    private static readonly string[] Items =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private readonly Random _jitter = new(20261123);
    private int _redisPid;

    public async Task RunAsync()
    {
        var redisInfo = (await server.InfoAsync("server")).SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value);
        _redisPid = int.TryParse(redisInfo.GetValueOrDefault("process_id"), CultureInfo.InvariantCulture, out var pid) ? pid : 0;
        section($"""
            ## Breach to rollback

            - ShipBot: the Release build of src/ShipBot.Host ({ShipBotProcess.HostDirectory}), started as a separate process per row (`dotnet ShipBot.Host.dll`, workstation GC as in the Dockerfile, appsettings.json logging at Information), configured through `ShipBot__…` environment variables.
            - Each service `svcK` has a webhook deployment target pointing at a loopback receiver in the benchmark process, which notes the arrival of each call and answers 200 at once; canary bake 1 h, so releases stay in canary.
            - "Sent" is when the benchmark sends the request (same machine, loopback); the rollback call is when the receiver gets the webhook with `rollback: true`; the chat post is when the rollback alert (card title "🔴 …") arrives on the console's server-sent event stream (`GET /api/console/stream?channel=releases`).
            - Pushed breaches are sent one at a time: the next notification goes ~40–80 ms after the previous release is rolled back. The first {options.BreachWarmup} alerts of each row warm the process up and are reported apart.
            - Load average (1/5/15 min) at the start: {ProcCpu.LoadAverage()}.

            """);

        var pushed = new List<PushedRow>();
        if (options.Only.Contains("pushed"))
        {
            pushed.Add(await PushedRowAsync("Redis", redis: true, loaded: false, options.BreachSamples, options.BreachBurst));
            pushed.Add(await PushedRowAsync("in-memory store", redis: false, loaded: false, options.BreachSamples, 0));
        }

        if (options.Only.Contains("loaded"))
        {
            pushed.Add(await PushedRowAsync($"Redis, {options.Releases:N0} other rollouts evaluated every 30 s", redis: true, loaded: true, options.LoadedSamples, options.LoadedBurst));
        }

        if (pushed.Count > 0)
        {
            section(PushedReport(pushed));
        }

        if (options.Only.Contains("polled"))
        {
            section(PolledReport(await PolledRowAsync(5, options.PolledSamples)));
        }

        if (options.Only.Contains("evals"))
        {
            section(await EvaluationsAsync());
        }
    }

    // ================================================================ pushed breaches

    private async Task<PushedRow> PushedRowAsync(string name, bool redis, bool loaded, int samples, int burst)
    {
        System.Console.Error.WriteLine($"Breach: pushed, {name}: {options.BreachWarmup} warm-up + {samples} one at a time{(burst > 0 ? $" + {burst} in one notification" : string.Empty)}…");
        var loadBefore = ProcCpu.LoadAverage();
        var marks = new Marks();
        await using var receiver = await StartReceiverAsync(marks);
        var services = Enumerable.Range(0, options.BreachWarmup + samples + burst).Select(i => $"svc{i}").ToList();
        var prefix = $"bench-breach-{(loaded ? "loaded" : "pushed")}";
        var settings = Settings(receiver, services, TimeSpan.FromSeconds(30), redis ? options.Redis : null, prefix);
        string? workDirectory = null;
        var listActiveIds = double.NaN;
        try
        {
            if (loaded)
            {
                (workDirectory, listActiveIds) = await PrepareLoadedAsync(prefix);
            }

            var start = Stopwatch.StartNew();
            await using var host = await StartHostAsync(settings, workDirectory);
            var startSeconds = start.Elapsed.TotalSeconds;
            await using var listener = await ChannelListener.StartAsync(host.BaseAddress, "releases", marks);
            var drive = Stopwatch.StartNew();
            await DriveToCanaryAsync(host, services, marks);
            var driveSeconds = drive.Elapsed.TotalSeconds;
            // With a load, the seeded rollouts' ticks are armed by the host's recovery at start-up, each at its own
            // phase within the 30 s interval: the evaluations run at their steady rate from then on.
            var cpu = new CpuWindow(("ShipBot", host.ProcessId), ("redis-server", redis ? _redisPid : 0), ("bench", Environment.ProcessId));
            var failures = new List<string>();
            var all = new List<BreachSample>();
            var run = Guid.NewGuid().ToString("N")[..8];
            foreach (var service in services.Take(options.BreachWarmup + samples))
            {
                var release = $"{service}@{Version}";
                var (status, acted, sent, answered, text) = await PostAlertsAsync(host, [service], run);
                if (status != 200 || acted != 1)
                {
                    failures.Add($"{release}: HTTP {status}, acted {acted}: {text}");
                    continue;
                }

                if (await CompleteAsync(marks, release, sent, answered, failures) is { } sample)
                {
                    all.Add(sample);
                }

                await marks.WaitAsync($"{release}|rolledback", TimeSpan.FromSeconds(15));
                await Task.Delay(40 + _jitter.Next(40));
            }

            var burstSamples = new List<BreachSample>();
            var burstAnswer = double.NaN;
            if (burst > 0)
            {
                await Task.Delay(500);
                var group = services.Skip(options.BreachWarmup + samples).ToList();
                var (status, acted, sent, answered, text) = await PostAlertsAsync(host, group, run);
                burstAnswer = Marks.Ms(sent, answered);
                if (status != 200 || acted != group.Count)
                {
                    failures.Add($"burst: HTTP {status}, acted {acted} of {group.Count}: {text[..Math.Min(300, text.Length)]}");
                }

                foreach (var service in group)
                {
                    if (await CompleteAsync(marks, $"{service}@{Version}", sent, answered, failures) is { } sample)
                    {
                        burstSamples.Add(sample);
                    }
                }
            }

            var figures = cpu.Stop();
            var (rss, peak) = host.Memory();
            var warm = all.Take(Math.Min(options.BreachWarmup, all.Count)).ToList();
            var measured = all.Skip(warm.Count).ToList();
            var row = new PushedRow(name, measured, warm, burstSamples, burstAnswer, failures, figures, rss, peak, startSeconds, driveSeconds, loadBefore, ProcCpu.LoadAverage(), listActiveIds);
            System.Console.Error.WriteLine($"  {measured.Count} samples: rollback call p50 {Stats.F(P(measured, s => s.RollbackCall, 50), 1)} ms, p99 {Stats.F(P(measured, s => s.RollbackCall, 99), 1)} ms; chat post p50 {Stats.F(P(measured, s => s.ChatPost, 50), 1)} ms, p99 {Stats.F(P(measured, s => s.ChatPost, 99), 1)} ms; {failures.Count} failure(s); {figures.Describe()}");
            foreach (var failure in failures.Take(5))
            {
                System.Console.Error.WriteLine($"  failure: {failure}");
            }

            return row;
        }
        finally
        {
            if (workDirectory is not null)
            {
                Directory.Delete(workDirectory, recursive: true);
            }
        }
    }

    /// <summary>Waits for the rollback call and the chat post of one release and turns them into a sample.</summary>
    private static async Task<BreachSample?> CompleteAsync(Marks marks, string release, long sent, long answered, List<string> failures)
    {
        var call = await marks.WaitAsync($"{release}|rollback", TimeSpan.FromSeconds(15));
        var chat = await marks.WaitAsync($"{release}|alert", TimeSpan.FromSeconds(15));
        if (call is null || chat is null)
        {
            failures.Add($"{release}: {(call is null ? "no rollback call" : string.Empty)} {(chat is null ? "no rollback alert in the channel" : string.Empty)} within 15 s");
            return null;
        }

        return new BreachSample(release, Marks.Ms(sent, call.Value), Marks.Ms(sent, chat.Value), Marks.Ms(sent, answered));
    }

    /// <summary>One Alertmanager notification (payload version 4) with one firing critical alert per service, as Alertmanager sends it.</summary>
    private static async Task<(int Status, int Acted, long Sent, long Answered, string Text)> PostAlertsAsync(ShipBotProcess host, IReadOnlyList<string> services, string run)
    {
        var startsAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture);
        var alerts = new JsonArray();
        foreach (var service in services)
        {
            alerts.Add(new JsonObject
            {
                ["status"] = "firing",
                ["labels"] = Labels(service),
                ["annotations"] = new JsonObject { ["summary"] = $"{service} error rate above 5 %", ["description"] = $"{service} is answering 5xx to 12 % of requests." },
                ["startsAt"] = startsAt,
                ["endsAt"] = "0001-01-01T00:00:00Z",
                ["generatorURL"] = $"http://prometheus.example.org:9090/graph?g0.expr=job%3A{service}%3Aerror_rate+%3E+0.05&g0.tab=1",
                ["fingerprint"] = $"{run}{service}",
            });
        }

        var payload = new JsonObject
        {
            ["receiver"] = "shipbot",
            ["status"] = "firing",
            ["alerts"] = alerts,
            ["groupLabels"] = new JsonObject { ["alertname"] = "HighErrorRate" },
            ["commonLabels"] = services.Count == 1 ? Labels(services[0]) : new JsonObject { ["alertname"] = "HighErrorRate", ["severity"] = "critical" },
            ["commonAnnotations"] = new JsonObject(),
            ["externalURL"] = "http://alertmanager.example.org:9093",
            ["version"] = "4",
            ["groupKey"] = "{}/{severity=\"critical\"}:{alertname=\"HighErrorRate\"}",
            ["truncatedAlerts"] = 0,
        };
        var body = payload.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/hooks/alertmanager", UriKind.Relative))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Alertmanager", "0.28.1"));
        var sent = Stopwatch.GetTimestamp();
        using var response = await host.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var answered = Stopwatch.GetTimestamp();
        var acted = 0;
        if (response.IsSuccessStatusCode && JsonNode.Parse(text) is JsonObject json && json["acted"] is JsonArray a)
        {
            acted = a.Count;
        }

        return ((int)response.StatusCode, acted, sent, answered, text);

        static JsonObject Labels(string service) => new()
        {
            ["alertname"] = "HighErrorRate",
            ["instance"] = $"{service}-7d9f8-abcde:8080",
            ["job"] = service,
            ["service"] = service,
            ["severity"] = "critical",
        };
    }

    // ================================================================ polled breaches

    private async Task<PolledRow> PolledRowAsync(double intervalSeconds, int samples)
    {
        System.Console.Error.WriteLine($"Breach: polled, evaluation every {intervalSeconds:0} s, {samples} releases (Redis)…");
        var loadBefore = ProcCpu.LoadAverage();
        var marks = new Marks();
        await using var receiver = await StartReceiverAsync(marks);
        var services = Enumerable.Range(0, samples).Select(i => $"svc{i}").ToList();
        var settings = Settings(receiver, services, TimeSpan.FromSeconds(intervalSeconds), options.Redis, "bench-breach-polled");
        await using var host = await StartHostAsync(settings);
        await using var listener = await ChannelListener.StartAsync(host.BaseAddress, "releases", marks);
        await DriveToCanaryAsync(host, services, marks);

        // Let every release be evaluated once (healthy) before breaching it.
        await Task.Delay(TimeSpan.FromSeconds(intervalSeconds + 0.5));
        var cpu = new CpuWindow(("ShipBot", host.ProcessId), ("redis-server", _redisPid), ("bench", Environment.ProcessId));
        var failures = new List<string>();
        var sent = new List<(string Release, long Before, long Answered)>();
        foreach (var service in services)
        {
            var before = Stopwatch.GetTimestamp();
            var reply = await host.SayAsync("alice", $"/ship simulate {service} error_rate 0.5");
            var answered = Stopwatch.GetTimestamp();
            if (reply["text"]?.GetValue<string>().Contains("set simulated", StringComparison.Ordinal) != true)
            {
                failures.Add($"{service}: {reply.ToJsonString()}");
                continue;
            }

            sent.Add(($"{service}@{Version}", before, answered));

            // Spread the breaches over about two intervals, at no fixed phase relative to the ticks.
            await Task.Delay(TimeSpan.FromMilliseconds(intervalSeconds * 2000 / samples * (0.5 + _jitter.NextDouble())));
        }

        var calls = new List<double>();
        var chats = new List<double>();
        var answers = new List<double>();
        foreach (var (release, before, answered) in sent)
        {
            var call = await marks.WaitAsync($"{release}|rollback", TimeSpan.FromSeconds(intervalSeconds * 3 + 10));
            var chat = await marks.WaitAsync($"{release}|alert", TimeSpan.FromSeconds(5));
            answers.Add(Marks.Ms(before, answered));
            if (call is null)
            {
                failures.Add($"{release}: no rollback call within {intervalSeconds * 3 + 10:0} s");
                continue;
            }

            calls.Add(Marks.Ms(answered, call.Value));
            if (chat is not null)
            {
                chats.Add(Marks.Ms(answered, chat.Value));
            }
        }

        var figures = cpu.Stop();
        var row = new PolledRow(intervalSeconds, calls, chats, answers, failures, figures, loadBefore, ProcCpu.LoadAverage());
        System.Console.Error.WriteLine($"  {calls.Count} samples: rollback call p50 {Stats.F(Pct(calls, 50), 0)} ms, p99 {Stats.F(Pct(calls, 99), 0)} ms, max {Stats.F(Pct(calls, 100), 0)} ms; {failures.Count} failure(s)");
        return row;
    }

    // ================================================================ evaluation throughput

    private async Task<string> EvaluationsAsync()
    {
        var text = new StringBuilder();
        var runs = new List<EvalResult>();
        foreach (var plan in new[]
        {
            new EvalPlan(options.TickSeconds, options.TickSeconds * options.TickRounds, options.TickSeconds * (options.TickRounds - 1), options.EvalBreaches),
            new EvalPlan(1, options.SaturationSeconds, 5, 0),
        })
        {
            await server.FlushAllDatabasesAsync();
            var seeded = await seedCanary();
            if (runs.Count == 0)
            {
                text.Append(seeded).Append('\n');
            }

            System.Console.Error.WriteLine($"Breach: evaluation throughput, {options.Releases:N0} rollouts in Canary, interval {plan.IntervalSeconds:0} s…");
            var result = await evaluationChild(plan);
            runs.Add(result);
            System.Console.Error.WriteLine($"  {result.PerSecond:N0} evaluations/s (needed {result.Releases / result.IntervalSeconds:N0}), start lag p99 {result.StartP99:N0} ms, coordinator {result.ProcessCores:0.00} cores, redis {result.RedisCores:0.00}, other work {result.OtherCores:0.00}");
        }

        var table = new Table("evaluation interval", "rollouts in Canary", "evaluations needed/s", "evaluations/s (mean of 1-s counts)", "1-s counts p10 / min / max", "ticks started / expected", "misfired", "start lag p50 ms", "p90 ms", "p99 ms", "max ms", "coordinator process CPU (cores)", "redis-server CPU (cores)", "other work on the machine (cores)", "CPU ms per evaluation (coordinator + redis)", "working set after (peak)", "live heap after");
        foreach (var r in runs)
        {
            var needed = r.Releases / r.IntervalSeconds;
            var saturated = needed > r.PerSecond * 1.05;
            table.Add($"{r.IntervalSeconds:0} s{(saturated ? " (saturation)" : string.Empty)}", r.Releases.ToString("N0", CultureInfo.InvariantCulture), Stats.F(needed, 0),
                $"**{Stats.F(r.PerSecond, 0)}** over {r.WindowSeconds:0} s", $"{Stats.F(r.PerSecondP10, 0)} / {Stats.F(r.PerSecondMin, 0)} / {Stats.F(r.PerSecondMax, 0)}",
                $"{r.Started:N0} / {r.Expected:N0}", r.Misfired.ToString("N0", CultureInfo.InvariantCulture),
                saturated ? "—" : Stats.F(r.StartP50, 0), saturated ? "—" : Stats.F(r.StartP90, 0), saturated ? "—" : Stats.F(r.StartP99, 0), saturated ? "—" : Stats.F(r.StartMax, 0),
                Stats.F(r.ProcessCores, 2), Stats.F(r.RedisCores, 2), Stats.F(r.OtherCores, 2),
                Stats.F((r.ProcessCores + r.RedisCores) * 1000 / r.PerSecond, 2),
                $"{Stats.Mib(r.After.WorkingSet)} ({Stats.Mib(r.After.PeakWorkingSet)})", Stats.Mib(r.After.LiveHeap));
        }

        text.Append($"### Evaluation throughput with {options.Releases:N0} active rollouts\n\n");
        text.Append("A fresh process (as the lag measurement): the rollouts, all in Canary, are armed by `RecoverAsync` with the real `QuartzReleaseScheduler` (16 threads); each tick is the real `ReleaseTimerJob` → `OnTimerAsync(HealthEvaluation)` against Redis (read, evaluation lease, verdict stored with compare-and-set, card rendered) with ShipBot's `SimulatedHealthSource`; chat and deployment are no-ops. Evaluations are counted per second at the health source. The 1 s row asks for 10,000 evaluations/s, more than the machine can do: it measures the ceiling. CPU is measured over the counting window.\n\n");
        text.Append(table).Append('\n');
        if (runs.FirstOrDefault(r => r.Breaches > 0) is { } b)
        {
            var polled = new Table("evaluation interval", "breaches (error rate 50 %)", "rolled back", "breach → rollback call p50 s", "p90 s", "p99 s", "max s", "min s", "target (interval + 1 s)");
            polled.Add($"{b.IntervalSeconds:0} s", b.Breaches.ToString(CultureInfo.InvariantCulture), b.RolledBack.ToString(CultureInfo.InvariantCulture),
                Stats.F(b.BreachP50 / 1000, 2), Stats.F(b.BreachP90 / 1000, 2), Stats.F(b.BreachP99 / 1000, 2), Stats.F(b.BreachMax / 1000, 2), Stats.F(b.BreachMin / 1000, 2),
                $"{b.IntervalSeconds + 1:0} s");
            text.Append($"Polled breaches under that load: {b.Breaches} of the rollouts get an error rate of 50 % at evenly spaced moments; from that moment to the deployment target's rollback call:\n\n").Append(polled);
        }

        return text.ToString();
    }

    // ================================================================ set-up

    /// <summary>
    /// The CI/CD endpoint every service's webhook points at (it verifies the signature as a team's
    /// would and answers 200 at once); marks "release|rollback" for a rollback call and
    /// "release|production:5" for the canary deployment, at the moment each call arrived.
    /// </summary>
    private static async Task<WebhookReceiver> StartReceiverAsync(Marks marks)
    {
        var receiver = await WebhookReceiver.StartAsync(Secret);
        receiver.Arrived = call =>
        {
            var json = call.Json;
            var release = (string)json["release"]!;
            marks.Mark((bool?)json["rollback"] == true ? $"{release}|rollback" : $"{release}|{json["environment"]}:{json["percent"]}", call.ArrivedAt);
        };
        return receiver;
    }

    /// <summary>
    /// The real host (this build's src/ShipBot.Host) as a separate process, configured through
    /// environment variables as in production, with workstation GC as in the Dockerfile; ready when
    /// <c>/readyz</c> answers. <paramref name="workingDirectory"/> holds the appsettings.json to use
    /// (default: the build folder's, the repository's file).
    /// </summary>
    private static Task<ShipBotProcess> StartHostAsync(Dictionary<string, string?> settings, string? workingDirectory = null) =>
        ShipBotProcess.StartAsync(new ShipBotProcessOptions
        {
            Settings = settings,
            WorkingDirectory = workingDirectory,
            ReadyPath = "/readyz",
            StartTimeout = TimeSpan.FromMinutes(5),
            ServerGc = false,
        });

    /// <summary>The host's configuration as environment variables: Alertmanager, Redis or not, and one webhook-deployed service per name.</summary>
    private static Dictionary<string, string?> Settings(WebhookReceiver receiver, IEnumerable<string> services, TimeSpan evaluation, string? redis, string prefix)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Alertmanager:BearerToken"] = Token,
            ["ShipBot:EvaluationInterval"] = evaluation.ToString("c", CultureInfo.InvariantCulture),
        };
        if (redis is not null)
        {
            settings["ConnectionStrings:Redis"] = redis;
            settings["ShipBot:Redis:KeyPrefix"] = prefix;
        }

        foreach (var s in services)
        {
            var key = $"ShipBot:Services:{s}";
            settings[$"{key}:Channel"] = "releases";
            settings[$"{key}:Requesters:0"] = "alice";
            settings[$"{key}:Approvers:0"] = "bob";
            settings[$"{key}:OnCall:0"] = "carol";
            settings[$"{key}:StagingBake"] = "00:00:01";
            var stages = new (string Kind, int Percent, string Bake)[] { ("Canary", 5, "01:00:00"), ("EarlyAdopters", 25, "01:00:00"), ("GeneralAvailability", 50, "01:00:00"), ("Full", 100, "00:10:00") };
            for (var i = 0; i < stages.Length; i++)
            {
                settings[$"{key}:Stages:{i}:Kind"] = stages[i].Kind;
                settings[$"{key}:Stages:{i}:Percent"] = stages[i].Percent.ToString(CultureInfo.InvariantCulture);
                settings[$"{key}:Stages:{i}:Bake"] = stages[i].Bake;
            }
            settings[$"{key}:Deployment:Webhook:Url"] = receiver.UrlFor(s).ToString();
            settings[$"{key}:Deployment:Webhook:Secret"] = Secret;
        }

        return settings;
    }

    /// <summary>
    /// For the loaded row: seeds <see cref="BenchOptions.Releases"/> rollouts in Canary (services
    /// bulk00000…, channel "bulk") under the host's key prefix, and writes an appsettings.json that
    /// configures those services, in a temporary directory that becomes the host's content root.
    /// </summary>
    /// <returns>The directory, and the median time of <c>ListActiveIdsAsync</c> on that data (what <c>OnAlertAsync</c> reads for every alert).</returns>
    private async Task<(string Directory, double ListActiveIdsMs)> PrepareLoadedAsync(string prefix)
    {
        var store = new RedisReleaseStore(admin, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
        var now = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(64);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, options.Releases).Select(async i =>
        {
            var id = new ReleaseId(Fixtures.ServiceName("bulk", i), Version);
            var (draft, audit) = Fixtures.Create(id, now - TimeSpan.FromHours(12));
            var release = Fixtures.Advance(draft, ReleaseState.Canary, now - TimeSpan.FromHours(12), now + TimeSpan.FromHours(3)) with
            {
                Conversation = new Conversation("console", "bulk"),
            };
            await gate.WaitAsync();
            try
            {
                return (await store.TryCreateAsync(release, audit)).Outcome;
            }
            finally
            {
                gate.Release();
            }
        }));
        if (outcomes.Any(o => o != CreateOutcome.Created))
        {
            throw new InvalidOperationException($"seeding failed: {string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} × {g.Count()}"))}");
        }

        var services = new JsonObject();
        for (var i = 0; i < options.Releases; i++)
        {
            services[Fixtures.ServiceName("bulk", i)] = new JsonObject
            {
                ["Channel"] = "bulk",
                ["Requesters"] = new JsonArray("alice"),
                ["Approvers"] = new JsonArray("bob"),
                ["OnCall"] = new JsonArray("carol"),
            };
        }

        var config = new JsonObject
        {
            ["Logging"] = new JsonObject
            {
                ["LogLevel"] = new JsonObject { ["Default"] = "Information", ["Microsoft.AspNetCore"] = "Warning", ["Quartz"] = "Warning", ["System.Net.Http.HttpClient"] = "Warning" },
            },
            ["ShipBot"] = new JsonObject
            {
                ["Users"] = new JsonObject
                {
                    ["alice"] = new JsonObject { ["Name"] = "alice" },
                    ["bob"] = new JsonObject { ["Name"] = "bob" },
                    ["carol"] = new JsonObject { ["Name"] = "carol" },
                },
                ["Health"] = new JsonObject { ["Source"] = "Simulated" },
                ["Services"] = services,
            },
        };
        // OnAlertAsync starts with ListActiveIdsAsync (every active id) for each alert: its cost with this many rollouts, alone.
        var lists = new List<double>();
        for (var i = 0; i < 31; i++)
        {
            var started = Stopwatch.GetTimestamp();
            _ = await store.ListActiveIdsAsync();
            lists.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var listMs = Pct(lists.Skip(1).ToList(), 50);
        var directory = Directory.CreateTempSubdirectory("shipbot-bench-loaded-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        System.Console.Error.WriteLine($"  seeded {options.Releases:N0} rollouts in Canary under '{prefix}' in {watch.Elapsed.TotalSeconds:N1} s; ListActiveIdsAsync {listMs:N1} ms (median of 30); configuration in {directory}");
        return (directory, listMs);
    }

    /// <summary>
    /// Through the console API, as the people would: alice starts each release and ticks the
    /// checklist, bob approves; then waits until the canary (5 %) deployment call is recorded done.
    /// </summary>
    private static async Task DriveToCanaryAsync(ShipBotProcess host, IReadOnlyList<string> services, Marks marks)
    {
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(services.Select(async service =>
        {
            await gate.WaitAsync();
            try
            {
                var release = $"{service}@{Version}";
                var started = await host.SayAsync("alice", $"/ship start {service} {Version} breach benchmark");
                Expect(started, $"Started {release}");
                await host.SayAsync("alice", $"/ship check {release} {string.Join(' ', Items)}");
                Expect(await host.SayAsync("bob", $"/ship approve {release}"), "goes to staging");
            }
            finally
            {
                gate.Release();
            }
        }));

        foreach (var service in services)
        {
            if (await marks.WaitAsync($"{service}@{Version}|production:5", TimeSpan.FromSeconds(120)) is null)
            {
                throw new TimeoutException($"{service}@{Version} never got its canary deployment call:\n{host.Tail()}");
            }
        }

        foreach (var service in services)
        {
            var release = $"{service}@{Version}";
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var view = await host.ReleaseAsync(release);
                if (view["state"]?.GetValue<string>() == "Canary" && view["audit"] is JsonArray audit && audit.OfType<JsonObject>().Any(a =>
                    a["action"]?.GetValue<string>() == "DeploymentSucceeded" && a["detail"]?.GetValue<string>().Contains("production at 5 %", StringComparison.Ordinal) == true))
                {
                    break;
                }

                if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"{release} is {view["state"]}, its canary deployment was never recorded:\n{host.Tail()}");
                }

                await Task.Delay(100);
            }
        }

        static void Expect(JsonObject reply, string text)
        {
            if (reply["text"]?.GetValue<string>().Contains(text, StringComparison.Ordinal) != true)
            {
                throw new InvalidOperationException($"expected '{text}', got {reply.ToJsonString()}");
            }
        }
    }

    // ================================================================ report

    private static double P(IReadOnlyList<BreachSample> samples, Func<BreachSample, double> key, double p) => Pct(samples.Select(key).ToList(), p);

    private static double Pct(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return p >= 100 ? (sorted.Length > 0 ? sorted[^1] : double.NaN) : Stats.Percentile(sorted, p);
    }

    private string PushedReport(IReadOnlyList<PushedRow> rows)
    {
        var table = new Table("store / background", "mode", "samples", "sent → rollback call p50 ms", "p90 ms", "p99 ms", "max ms", "sent → chat post p50 ms", "p90 ms", "p99 ms", "max ms", "HTTP answer p50 ms", "p99 ms", "rollback call before chat post", "call − chat post p50 ms");
        foreach (var row in rows)
        {
            Add(row.Name, "one at a time", row.Samples, null);
            if (row.Burst.Count > 0)
            {
                Add(row.Name, $"{row.Burst.Count} alerts in one notification", row.Burst, row.BurstAnswerMs);
            }
        }

        var cold = new Table("store / background", "first alert after start: rollback call ms", "chat post ms", "HTTP answer ms", $"warm-up alerts ({options.BreachWarmup}) rollback call p50 / max ms", "ShipBot start s (to /readyz)", "releases to canary s");
        var machine = new Table("store / background", "window s", "ShipBot CPU (cores)", "redis-server CPU (cores)", "bench CPU (cores)", "machine busy (of 2 cores)", "other work (cores)", "ShipBot RSS after (peak)", "load average before → after", "failures");
        var verdict = new Table("target", "store / background", "measured p99", "p99 / target", "max", "verdict");
        foreach (var row in rows)
        {
            var first = row.Warmup.FirstOrDefault();
            cold.Add(row.Name, Stats.F(first?.RollbackCall ?? double.NaN, 1), Stats.F(first?.ChatPost ?? double.NaN, 1), Stats.F(first?.HttpAnswer ?? double.NaN, 1),
                $"{Stats.F(P(row.Warmup, s => s.RollbackCall, 50), 1)} / {Stats.F(P(row.Warmup, s => s.RollbackCall, 100), 1)}", Stats.F(row.StartSeconds, 1), Stats.F(row.DriveSeconds, 1));
            machine.Add(row.Name, Stats.F(row.Cpu.Seconds, 1), Stats.F(row.Cpu.Of("ShipBot"), 2), Stats.F(row.Cpu.Of("redis-server"), 2), Stats.F(row.Cpu.Of("bench"), 2),
                Stats.F(row.Cpu.MachineBusy, 2), Stats.F(row.Cpu.Other, 2), $"{Stats.Mib(row.Rss)} ({Stats.Mib(row.PeakRss)})", $"{row.LoadBefore} → {row.LoadAfter}",
                row.Failures.Count == 0 ? "0" : $"{row.Failures.Count}: {row.Failures[0]}");
            var call = P(row.Samples, s => s.RollbackCall, 99);
            var chat = P(row.Samples, s => s.ChatPost, 99);
            verdict.Add("rollback call issued ≤ 250 ms p99", row.Name, $"{Stats.F(call, 1)} ms", Stats.F(call / PushedTargetMs, 2), $"{Stats.F(P(row.Samples, s => s.RollbackCall, 100), 1)} ms", call <= PushedTargetMs ? "met" : "**not met**");
            verdict.Add("channel told ≤ 1 s", row.Name, $"{Stats.F(chat, 1)} ms", Stats.F(chat / ChatTargetMs, 2), $"{Stats.F(P(row.Samples, s => s.ChatPost, 100), 1)} ms", P(row.Samples, s => s.ChatPost, 100) <= ChatTargetMs ? "met" : "**not met**");
        }

        var lists = string.Concat(rows.Where(r => !double.IsNaN(r.ListActiveIdsMs)).Select(r =>
            $"\nWith {options.Releases:N0} other rollouts, listing every active id (`ListActiveIdsAsync`, what alert intake did per alert before it read the service's own index) takes {r.ListActiveIdsMs:N1} ms alone (median of 30, measured from the benchmark process before ShipBot starts).\n"));
        return $"### Pushed breach: Alertmanager notification → rollback call and chat post\n\n{table}{lists}\n" +
            $"Cold start and warm-up (not in the table above):\n\n{cold}\n" +
            $"How busy the machine was during the measurement (CPU in cores over the window; \"other work\" is everything else on this shared machine):\n\n{machine}\n" +
            $"Against the service levels:\n\n{verdict}";

        void Add(string name, string mode, IReadOnlyList<BreachSample> samples, double? answer)
        {
            var before = samples.Count(s => s.RollbackCall <= s.ChatPost);
            table.Add(name, mode, samples.Count.ToString(CultureInfo.InvariantCulture),
                Stats.F(P(samples, s => s.RollbackCall, 50), 1), Stats.F(P(samples, s => s.RollbackCall, 90), 1), $"**{Stats.F(P(samples, s => s.RollbackCall, 99), 1)}**", Stats.F(P(samples, s => s.RollbackCall, 100), 1),
                Stats.F(P(samples, s => s.ChatPost, 50), 1), Stats.F(P(samples, s => s.ChatPost, 90), 1), $"**{Stats.F(P(samples, s => s.ChatPost, 99), 1)}**", Stats.F(P(samples, s => s.ChatPost, 100), 1),
                answer is { } one ? Stats.F(one, 1) : Stats.F(P(samples, s => s.HttpAnswer, 50), 1), answer is null ? Stats.F(P(samples, s => s.HttpAnswer, 99), 1) : "(one request)",
                $"{before} / {samples.Count}", Stats.F(Pct(samples.Select(x => x.RollbackCall - x.ChatPost).ToList(), 50), 1));
        }
    }

    private static string PolledReport(PolledRow row)
    {
        var target = (row.IntervalSeconds + 1) * 1000;
        var table = new Table("evaluation interval", "samples", "answered → rollback call p50 s", "p90 s", "p99 s", "max s", "min s", "answered → chat post p50 s", "p99 s", "max s", "`/ship simulate` answer p50 ms", "target (interval + 1 s)", "max / target", "verdict");
        var max = Pct(row.RollbackCallMs, 100);
        table.Add($"{row.IntervalSeconds:0} s", row.RollbackCallMs.Count.ToString(CultureInfo.InvariantCulture),
            Stats.F(Pct(row.RollbackCallMs, 50) / 1000, 2), Stats.F(Pct(row.RollbackCallMs, 90) / 1000, 2), $"**{Stats.F(Pct(row.RollbackCallMs, 99) / 1000, 2)}**", Stats.F(max / 1000, 2), Stats.F(row.RollbackCallMs.DefaultIfEmpty(double.NaN).Min() / 1000, 2),
            Stats.F(Pct(row.ChatPostMs, 50) / 1000, 2), Stats.F(Pct(row.ChatPostMs, 99) / 1000, 2), Stats.F(Pct(row.ChatPostMs, 100) / 1000, 2),
            Stats.F(Pct(row.CommandAnswerMs, 50), 1), $"{target / 1000:0} s", Stats.F(max / target, 2), max <= target ? "met" : "**not met**");
        return $"### Polled breach: `/ship simulate <service> error_rate 0.5` → rollback call (Redis)\n\n" +
            $"The simulated health source of each service (no Prometheus configured) is set to a 50 % error rate through the console API; the time runs from the command's answer to the rollback webhook call. A breach set at a random moment waits on average half an interval for the next tick.\n\n{table}\n" +
            $"Machine during the measurement: {row.Cpu.Describe()}; load average {row.LoadBefore} → {row.LoadAfter}. Failures: {(row.Failures.Count == 0 ? "none" : string.Join("; ", row.Failures.Take(3)))}.\n";
    }
}
