using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ShipBot.Testing;
using StackExchange.Redis;

namespace ShipBot.Bench;

/// <summary>
/// The Slack acknowledgement benchmark (<c>bash bench/run.sh slack</c>): ShipBot runs as its own
/// process with Slack enabled and its Web API pointed at <see cref="FakeSlack"/> (in this
/// process); a separate load process sends signed <c>/ship status</c> commands and signed button
/// clicks, open loop at fixed rates and closed loop at 32 connections (wrk when installed), and
/// every answer is checked. Figures: throughput, acknowledgement latency percentiles, errors,
/// ShipBot's CPU per request and memory. The service level: p99 ≤ 50 ms at 500 requests/s.
/// </summary>
public static class SlackAckBench
{
    public const string BotToken = "xoxb-bench";
    public const string Release = "demo@1.0.0";
    public const string Channel = "CRELEASES";
    public const string Alice = "UALICE";     // requester
    public const string Bob = "UBOB";         // approver
    public const string Mallory = "UMALLORY"; // no role: her Approve click is refused

    /// <summary>The service level's reference point: a Bolt-for-JavaScript app that only acknowledges, on this machine, 32 connections.</summary>
    private const double BoltRate = 4700;
    private const double BoltP99 = 15;

    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private static readonly JsonSerializerOptions Json = new()
    {
        IncludeFields = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>One series of runs; the CPU figures cover the measured runs (after the warm-up), with the follow-ups they caused.</summary>
    private sealed record Series(string Store, SlackLoadSpec Spec, IReadOnlyList<SlackLoadRun> Runs, long WarmupRequests, double HostCpuUsPerRequest, long FollowUps, double ShipBotCores, double OtherCores,
        IReadOnlyList<double> CpuPerRun, long ClicksBefore, GcFigures? Gc, SlackLoadRun? WarmupRun, bool Fresh)
    {
        public SlackLoadRun Median => Stats.MedianBy(Runs, r => r.Mode == "open" ? r.P99 : -r.OkPerSecond);

        public long Requests => WarmupRequests + Runs.Sum(r => r.Sent);
    }

    private sealed record StoreNotes(string Store, long RssBefore, long RssAfter, long PeakRss, int Warnings, int Errors, IReadOnlyList<string> Sample, IReadOnlyDictionary<string, long> SlackCalls, string Audit, string? Redis);

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var repo = Directory.GetCurrentDirectory();
        if (!File.Exists(Path.Combine(repo, "appsettings.json")) || !File.Exists(ShipBotProcess.HostDll))
        {
            throw new InvalidOperationException($"Run from the repository root after a Release build (bench/run.sh slack does both); looked for {ShipBotProcess.HostDll}.");
        }

        var total = Stopwatch.StartNew();
        var work = Directory.CreateTempSubdirectory("shipbot-slack-bench-");
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var tool = options.ClosedTool == "auto" ? (OnPath("wrk") ? "wrk" : "dotnet") : options.ClosedTool;
        var report = new StringBuilder();
        void Section(string text)
        {
            report.Append(text).Append('\n');
            System.Console.Error.WriteLine(text);
        }

        Section(await MachineAsync(options, tool));
        int? redisPid = null;
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{options.Redis},allowAdmin=true"))
        {
            var info = (await admin.GetServer(admin.GetEndPoints()[0]).InfoAsync("server")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "process_id").Value;
            redisPid = int.TryParse(info, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }

        var series = new List<Series>();
        var notes = new List<StoreNotes>();
        long statusAckBytes = 0;
        await using (var fake = await FakeSlack.StartAsync(BotToken, record: false))
        {
            foreach (var store in options.SlackStores)
            {
                var environment = HostEnvironment(options, fake, secret);
                string? redisBefore = null;
                if (store == "redis")
                {
                    await using var admin = await ConnectionMultiplexer.ConnectAsync($"{options.Redis},allowAdmin=true");
                    await admin.GetServer(admin.GetEndPoints()[0]).FlushAllDatabasesAsync();
                    environment["ConnectionStrings__Redis"] = options.Redis;
                    redisBefore = await RedisFiguresAsync(options.Redis);
                }

                // "unlimited" is the diagnostic variant: the same app, its rate limiter removed (UnlimitedHost).
                IReadOnlyList<string> command = store == "unlimited"
                    ? [typeof(UnlimitedHost).Assembly.Location, "--redis", options.Redis, "--child", "shipbot-unlimited"]
                    : [ShipBotProcess.HostDll];
                System.Console.Error.WriteLine($"Starting ShipBot ({Label(store)}, {options.HostGc} GC) as a separate process…");
                await using var bot = await ShipBotProcess.StartAsync(new ShipBotProcessOptions
                {
                    Name = Label(store),
                    Arguments = command,
                    Environment = environment,
                    WorkingDirectory = repo,
                    LogPath = Path.Combine(work.FullName, $"shipbot-{store}.log"),
                    ReadyPath = "/readyz",
                    StopGracefully = true,
                });
                var (baseSpec, ackBytes) = await SetUpAsync(bot, fake, secret, options);
                statusAckBytes = ackBytes;
                var before = bot.Memory();
                var callsBefore = fake.Counts();
                foreach (var spec in Plan(options, store, baseSpec))
                {
                    series.Add(await RunSeriesAsync(store, spec, bot, fake, work.FullName, tool, options, repo, redisPid,
                        series.Where(x => x.Store == store && x.Spec.Kind == "button").Sum(x => x.Requests), !series.Any(x => x.Store == store)));
                }

                var audit = await AuditAsync(bot);
                var after = bot.Memory();
                var (warnings, errors, sample) = bot.LogProblems();
                var calls = fake.Counts().ToDictionary(c => c.Key, c => c.Value - callsBefore.GetValueOrDefault(c.Key), StringComparer.Ordinal);
                notes.Add(new StoreNotes(store, before.Rss, after.Rss, after.Peak, warnings, errors, sample, calls, audit,
                    store == "redis" ? $"{redisBefore} → {await RedisFiguresAsync(options.Redis)}; {await RedisCensusAsync(options.Redis)}" : null));
            }
        }

        Section(Tables(series, notes, options, tool, statusAckBytes));
        Section(Reading(series, options));
        Section($"Total Slack benchmark time: {total.Elapsed.TotalMinutes:N1} min. ShipBot's logs: {work.FullName}.");
        await System.Console.Out.WriteAsync(report.ToString());
        return 0;
    }

    private static Dictionary<string, string> HostEnvironment(BenchOptions options, FakeSlack fake, string secret)
    {
        var environment = BaseEnvironment(options, fake, secret);
        foreach (var pair in options.HostEnv)
        {
            var (key, value) = (pair.Split('=', 2)[0], pair.Split('=', 2).ElementAtOrDefault(1) ?? string.Empty);
            environment[key] = value;
        }

        return environment;
    }

    private static Dictionary<string, string> BaseEnvironment(BenchOptions options, FakeSlack fake, string secret) => new()
    {
        ["Slack__SigningSecret"] = secret,
        ["Slack__BotToken"] = BotToken,
        ["Slack__ApiBaseUrl"] = fake.ApiBaseUrl.ToString(),
        ["Logging__LogLevel__Default"] = "Warning",
        ["ShipBot__Services__demo__Channel"] = Channel,
        ["ShipBot__Services__demo__Requesters__0"] = Alice,
        ["ShipBot__Services__demo__Approvers__0"] = Bob,
        ["ShipBot__Services__demo__OnCall__0"] = $"group:{FakeSlack.OnCallGroup}",
        ["DOTNET_gcServer"] = options.HostGc == "server" ? "1" : "0",
    };

    /// <summary>
    /// Alice starts demo 1.0.0 and settles its checklist over signed Slack commands; once the card
    /// offers Approve, one click of it by Mallory (no role) and one <c>/ship status</c> check that the
    /// acknowledgements are what the load will expect. Returns the load spec with the real button.
    /// </summary>
    private static async Task<(SlackLoadSpec Spec, long StatusAckBytes)> SetUpAsync(ShipBotProcess bot, FakeSlack fake, string secret, BenchOptions options)
    {
        var spec = new SlackLoadSpec
        {
            Target = bot.BaseAddress.ToString(),
            SigningSecret = secret,
            ResponseUrlPrefix = fake.ResponseUrlPrefix,
            Release = Release,
            Channel = Channel,
            CommandUser = Bob,
            ButtonUser = Mallory,
            Connections = options.Connections,
            Warmup = options.SlackWarmup,
            ClosedBudgetPerSecond = options.ClosedBudget,
        };
        var factory = new SlackRequests(spec);
        using var http = new HttpClient { BaseAddress = bot.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var started = await SendAsync(http, factory.Command(Alice, "start demo 1.0.0 Slack acknowledgement benchmark"));
        if (started.Status != 200 || !started.Body.Contains($"Started {Release}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"/ship start answered {started.Status}: {started.Body}");
        }

        var checkedItems = await SendAsync(http, factory.Command(Alice, $"check {Release} {string.Join(' ', BlockingItems)}"));
        if (checkedItems.Status != 200)
        {
            throw new InvalidOperationException($"/ship check answered {checkedItems.Status}: {checkedItems.Body}");
        }

        var wait = Stopwatch.StartNew();
        (System.Text.Json.Nodes.JsonObject Card, System.Text.Json.Nodes.JsonObject Button)? found;
        while ((found = fake.CardWithButton($"approve {Release}")) is null)
        {
            if (wait.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"The card never offered Approve (last /ship check answer: {checkedItems.Body})");
            }

            await Task.Delay(100);
        }

        // A new nonce: trigger ids must not repeat those of the commands above (ShipBot answers a repeated trigger id with its first answer).
        spec = spec with { Button = found.Value.Button.ToJsonString(), MessageTs = (string?)found.Value.Card["ts"] ?? string.Empty, Nonce = NewNonce() };
        factory = new SlackRequests(spec);
        var followUps = fake.Count("response_url");
        var click = await SendAsync(http, factory.Make("button", 1)[0]);
        var status = await SendAsync(http, factory.Make("command", 1)[0]);
        if (!SlackRequests.IsExpectedAck("button", click.Status, Encoding.UTF8.GetBytes(click.Body), Encoding.UTF8.GetBytes(Release))
            || !SlackRequests.IsExpectedAck("command", status.Status, Encoding.UTF8.GetBytes(status.Body), Encoding.UTF8.GetBytes(Release)))
        {
            throw new InvalidOperationException($"Unexpected acknowledgements: click {click.Status} '{click.Body}', status {status.Status} '{status.Body[..Math.Min(200, status.Body.Length)]}'");
        }

        wait.Restart();
        while (fake.Count("response_url") == followUps && wait.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        spec = spec with { NoResponseUrl = options.NoResponseUrl };
        System.Console.Error.WriteLine($"  {Release} is awaiting approval; Mallory's click on '{(string?)found.Value.Button["value"]}' is acknowledged and refused through response_url ({fake.Count("response_url") - followUps} follow-up).");
        return (spec, Encoding.UTF8.GetByteCount(status.Body));
    }

    private static async Task<(int Status, string Body)> SendAsync(HttpClient http, SignedRequest request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Path) { Content = new ByteArrayContent(request.Body) };
        message.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(SlackRequests.FormContentType);
        message.Headers.Add(SlackRequests.TimestampHeader, request.Timestamp);
        message.Headers.Add(SlackRequests.SignatureHeader, request.Signature);
        using var response = await http.SendAsync(message);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// What runs against one configuration. memory (as shipped): the open-loop rates, then the closed
    /// loop with commands (it meets the rate limiter); unlimited (diagnostic, limiter removed): the
    /// closed loop with commands and clicks; redis: once, shorter, 500 req/s and the closed loop.
    /// </summary>
    private static IEnumerable<SlackLoadSpec> Plan(BenchOptions options, string store, SlackLoadSpec spec)
    {
        var plan = PlanOf(options, store, spec)
            .Select(p => p with
            {
                ClosedBudgetPerSecond = p.Kind == "button" ? options.ClosedBudgetClicks : options.ClosedBudget,
            })
            .ToList();

        // The first series of a freshly started process also lets the JIT tier up.
        plan[0] = plan[0] with { Warmup = Math.Max(plan[0].Warmup, options.FreshWarmup) };
        return plan;
    }

    private static IEnumerable<SlackLoadSpec> PlanOf(BenchOptions options, string store, SlackLoadSpec spec)
    {
        var first = options.SlackRates[0];
        var kinds = options.Kinds;
        switch (store)
        {
            case "redis":
                foreach (var kind in kinds)
                {
                    yield return spec with { Kind = kind, Mode = "open", Rate = first, Seconds = options.SlackRedisSeconds, Runs = 1 };
                }

                yield return spec with { Kind = kinds[0], Mode = "closed", Seconds = options.ClosedSeconds, Runs = 1, Warmup = 0 };
                break;
            case "unlimited":
                foreach (var kind in kinds)
                {
                    // wrk has no warm-up: a short one from the dotnet generator first.
                    yield return spec with { Kind = kind, Mode = "closed", Seconds = options.ClosedSeconds, Runs = options.ClosedRuns, Warmup = options.SlackWarmup };
                }

                break;
            default:
                foreach (var kind in kinds)
                {
                    yield return spec with { Kind = kind, Mode = "open", Rate = first, Seconds = options.SlackSeconds, Runs = options.Runs };
                }

                foreach (var rate in options.SlackRates.Skip(1))
                {
                    foreach (var kind in kinds)
                    {
                        yield return spec with { Kind = kind, Mode = "open", Rate = rate, Seconds = options.SlackHighSeconds, Runs = 1 };
                    }
                }

                yield return spec with { Kind = kinds[0], Mode = "closed", Seconds = options.ClosedSeconds, Runs = options.ClosedRuns, Warmup = 0 };
                break;
        }
    }

    private static string Label(string store) => store switch
    {
        "unlimited" => "memory, rate limiter removed (diagnostic)",
        "redis" => "Redis",
        _ => "memory",
    };

    private static async Task<Series> RunSeriesAsync(string store, SlackLoadSpec spec, ShipBotProcess bot, FakeSlack fake, string work, string tool, BenchOptions options, string repo, int? redisPid, long clicksBefore, bool fresh)
    {
        spec = spec with { Nonce = NewNonce() };
        System.Console.Error.WriteLine($"  [{store}] {spec.Kind}, {(spec.Mode == "open" ? $"open loop at {spec.Rate:0} req/s" : $"closed loop, {spec.Connections} connections ({tool})")}, {spec.Runs} × {spec.Seconds:0.#} s");
        var followUps = FollowUps(fake);
        var handledBefore = clicksBefore;
        var marks = new List<CpuSample>();
        GcFigures? gcFrom = null;
        async Task Measure()
        {
            marks.Add(CpuMeter.Sample(bot.ProcessId, redisPid));
            if (store == "unlimited" && gcFrom is null)
            {
                gcFrom = await GcFigures.ReadAsync(bot.BaseAddress);
            }
        }

        IReadOnlyList<SlackLoadRun> runs;
        SlackLoadRun? warmupRun = null;
        long warmup = 0;
        if (spec.Mode == "closed" && tool == "wrk")
        {
            if (spec.Warmup > 0)
            {
                // wrk has no warm-up: warm a fresh ShipBot with the dotnet generator first.
                warmupRun = (await LoadChildAsync(spec with { Mode = "open", Rate = 1000, Runs = 0 }, work, options)).Warmup;
                warmup = (long)(1000 * spec.Warmup);
            }

            var list = new List<SlackLoadRun>();
            for (var r = 0; r < spec.Runs; r++)
            {
                list.Add(await WrkAsync(spec, work, repo, Measure));
                System.Console.Error.WriteLine($"    {SlackLoad.Describe(list[^1])}");
            }

            runs = list;
        }
        else
        {
            var result = await LoadChildAsync(spec, work, options, Measure);
            runs = result.Runs;
            warmupRun = result.Warmup;
            warmup = spec.Warmup > 0 ? (long)((spec.Mode == "open" ? spec.Rate : 500) * spec.Warmup) : 0;
        }

        // A click's refusal follows through response_url after the acknowledgement: let the follow-ups land (their CPU counts).
        var expected = spec.Kind == "button" ? warmup + runs.Sum(r => r.Ok) : 0;
        var settle = Stopwatch.StartNew();
        while (spec.Kind == "button" && FollowUps(fake) - followUps < expected && settle.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
        }

        // One mark before each run and one after the last (wrk: one before each run); the settled end replaces the last.
        var to = CpuMeter.Sample(bot.ProcessId, redisPid);
        var gc = gcFrom is null ? null : (await GcFigures.ReadAsync(bot.BaseAddress)).Minus(gcFrom, Stopwatch.GetElapsedTime(marks[0].Timestamp, to.Timestamp));
        var from = marks.Count > 0 ? marks[0] : to;
        var bounds = marks.Take(runs.Count).Append(to).ToList();
        var perRun = runs.Select((r, i) => i + 1 < bounds.Count ? CpuMeter.ShipBotMicrosPerRequest(bounds[i], bounds[i + 1], r.Sent) : double.NaN).ToList();
        return new Series(store, spec, runs, warmup, CpuMeter.ShipBotMicrosPerRequest(from, to, runs.Sum(r => r.Sent)), FollowUps(fake) - followUps,
            CpuMeter.ShipBotCores(from, to), CpuMeter.OtherCores(from, to), perRun, handledBefore, gc, warmupRun, fresh);
    }

    private static async Task<SlackLoadResult> LoadChildAsync(SlackLoadSpec spec, string work, BenchOptions options, Func<Task>? onMeasure = null)
    {
        var specPath = Path.Combine(work, $"load-{spec.Nonce}.json");
        await File.WriteAllTextAsync(specPath, JsonSerializer.Serialize(spec, Json));
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            info.ArgumentList.Add(typeof(SlackLoad).Assembly.Location);
        }

        foreach (var arg in new[] { "--redis", options.Redis, "--child", "slack-load", "--load-spec", specPath })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_gcServer"] = "0";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the load process");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120 + (spec.Warmup + (spec.Runs * (spec.Seconds + 40)))));
        string? result = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith("RESULT ", StringComparison.Ordinal))
                {
                    result = line["RESULT ".Length..];
                }
                else if (line == "MARK")
                {
                    if (onMeasure is not null)
                    {
                        await onMeasure();
                    }
                }
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the load process did not finish in time");
        }

        return process.ExitCode == 0 && result is not null
            ? JsonSerializer.Deserialize<SlackLoadResult>(result, Json) ?? throw new InvalidOperationException("empty load result")
            : throw new InvalidOperationException($"the load process failed (exit code {process.ExitCode})");
    }

    /// <summary>One closed-loop run with wrk (bench/slack-wrk.lua): unique signed requests precomputed into one file per wrk thread just before the run.</summary>
    private static async Task<SlackLoadRun> WrkAsync(SlackLoadSpec spec, string work, string repo, Func<Task> onStart)
    {
        spec = spec with { Nonce = NewNonce() };
        var factory = new SlackRequests(spec);
        var threads = Math.Clamp(Environment.ProcessorCount, 1, spec.Connections);
        var perThread = (int)Math.Ceiling(spec.ClosedBudgetPerSecond * spec.Seconds / threads);
        var prefix = Path.Combine(work, $"wrk-{spec.Kind}-{spec.Nonce}");
        var host = $"{new Uri(spec.Target).Host}:{new Uri(spec.Target).Port}";
        for (var t = 0; t < threads; t++)
        {
            await using var file = new BufferedStream(File.Create($"{prefix}.{t}"), 1 << 20);
            foreach (var request in factory.Make(spec.Kind, perThread))
            {
                var raw = SlackRequests.Raw(request, host);
                file.Write(Encoding.ASCII.GetBytes(raw.Length.ToString(CultureInfo.InvariantCulture) + "\n"));
                file.Write(raw);
            }
        }

        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            $"-t{threads}", $"-c{spec.Connections}", $"-d{spec.Seconds.ToString(CultureInfo.InvariantCulture)}s", "--timeout", "10s",
            "-s", Path.Combine(repo, "bench", "slack-wrk.lua"), spec.Target, "--", prefix, spec.Kind, spec.Release,
        })
        {
            info.ArgumentList.Add(arg);
        }

        await onStart();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start wrk");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        var cpu = TimeSpan.Zero;
        while (!process.WaitForExit(250))
        {
            try
            {
                process.Refresh();
                cpu = process.TotalProcessorTime;
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                // Exited between the checks.
            }
        }

        var text = await output;
        for (var t = 0; t < threads; t++)
        {
            File.Delete($"{prefix}.{t}");
        }

        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("WRK ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result (exit {process.ExitCode}): {text} {await errors}");
        var v = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('='))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, name) in new[] { ("s401", "401"), ("s429", "429"), ("s5xx", "5xx"), ("other", "other") })
        {
            if (v[key] > 0)
            {
                statuses[name] = (long)v[key];
            }
        }

        var requests = (long)v["requests"];
        return new SlackLoadRun(
            spec.Kind, "closed", "wrk", 0, spec.Connections, v["duration_us"] / 1e6, requests, requests, (long)v["ok"], (long)v["bad_body"],
            (long)(v["connect"] + v["read"] + v["write"] + v["timeout"]), statuses,
            v["p50_us"] / 1000, v["p90_us"] / 1000, v["p99_us"] / 1000, v["p999_us"] / 1000, v["max_us"] / 1000, v["mean_us"] / 1000,
            double.NaN, double.NaN, double.NaN, double.NaN, cpu.TotalMilliseconds, (long)v["wrapped"]);
    }

    private static async Task<string> RedisFiguresAsync(string redis)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis},allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var memory = (await server.InfoAsync("memory")).SelectMany(g => g).FirstOrDefault(kv => kv.Key == "used_memory").Value;
        return $"{await server.DatabaseSizeAsync():N0} keys, used_memory {Stats.Mib(long.Parse(memory ?? "0", CultureInfo.InvariantCulture))}";
    }

    /// <summary>The release's audit trail after the load (every refused click adds an entry): entries, size and time of GET /api/releases/{id}/audit.</summary>
    private static async Task<string> AuditAsync(ShipBotProcess bot)
    {
        using var http = new HttpClient { BaseAddress = bot.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var watch = Stopwatch.StartNew();
        var body = await http.GetByteArrayAsync(new Uri($"api/releases/{Release}/audit", UriKind.Relative));
        var ms = watch.Elapsed.TotalMilliseconds;
        using var json = JsonDocument.Parse(body);
        return $"{json.RootElement.GetArrayLength():N0} entries, {Stats.Mib(body.Length)}, read in {ms:N0} ms";
    }

    /// <summary>What the request-id keys left in Redis hold: replay-guard claims, and the stored answers of commands and clicks (with their TTL and size).</summary>
    private static async Task<string> RedisCensusAsync(string redis)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis},allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var db = admin.GetDatabase();
        var groups = new Dictionary<string, List<RedisKey>>(StringComparer.Ordinal);
        await foreach (var key in server.KeysAsync(pattern: "*request:slack:*", pageSize: 1000))
        {
            var name = (string)key!;
            var kind = name[(name.IndexOf("request:slack:", StringComparison.Ordinal) + "request:slack:".Length)..].Split(':')[0];
            (groups.TryGetValue(kind, out var list) ? list : groups[kind] = []).Add(key);
        }

        var parts = new List<string>();
        foreach (var (kind, keys) in groups.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var sample = keys.Take(200).ToList();
            var lengths = await Task.WhenAll(sample.Select(k => db.StringLengthAsync(k)));
            var ttls = await Task.WhenAll(sample.Select(k => db.KeyTimeToLiveAsync(k)));
            var what = kind switch { "sig" => "replay-guard claims", "cmd" => "slash-command answers", "act" => "click answers", _ => kind };
            parts.Add($"{keys.Count:N0} {what} (`request:slack:{kind}:…`, {lengths.Average():N0} bytes each, TTL ≈ {ttls.Where(t => t is not null).Select(t => t!.Value.TotalHours).DefaultIfEmpty(0).Max():0.#} h)");
        }

        return string.Join(", ", parts);
    }

    private static async Task<string> MachineAsync(BenchOptions options, string tool)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : "unknown";
        var wrk = tool == "wrk" ? (await CaptureAsync("wrk", "--version")).Split('\n')[0].Trim() : "not used (dotnet closed-loop generator)";
        return $"""
            ## Slack acknowledgement: machine and settings

            - date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}
            - CPU: {cpu}, {Environment.ProcessorCount} logical cores (nproc); {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024)} GiB RAM
            - {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}; ShipBot: Release build of src/ShipBot.Host, `dotnet ShipBot.Host.dll`, {options.HostGc} GC, log level Warning{(options.HostEnv.Count > 0 ? ", extra environment: " + string.Join(" ", options.HostEnv) : string.Empty)}
            - load: a separate process on the same 2 cores (open loop: ShipBot.Bench's generator; closed loop: {wrk}); the fake Slack Web API runs in the bench process, also on these cores; loopback HTTP/1.1 with keep-alive
            - open loop: {options.SlackRates[0]:0} req/s for {options.Runs} × {options.SlackSeconds:0.#} s (median run shown){(options.SlackRates.Count > 1 ? $", {string.Join(", ", options.SlackRates.Skip(1).Select(r => r.ToString("0", CultureInfo.InvariantCulture)))} req/s for 1 × {options.SlackHighSeconds:0.#} s" : string.Empty)}, after a {options.SlackWarmup:0.#} s unmeasured warm-up per series ({options.FreshWarmup:0.#} s before the first series of a freshly started ShipBot); closed loop: {options.Connections} connections, {options.ClosedRuns} × {options.ClosedSeconds:0.#} s
            - configurations, each its own ShipBot process, in this order: {string.Join("; ", options.SlackStores.Select(Label))}; with Redis: {options.SlackRates[0]:0} req/s for 1 × {options.SlackRedisSeconds:0.#} s
            - Redis (when used): redis-server on loopback, persistence off, sharing the cores

            """;
    }

    private static string Tables(List<Series> series, List<StoreNotes> notes, BenchOptions options, string tool, long statusAckBytes)
    {
        var open = new Table("configuration", "request", "offered req/s", "runs × s", "answered req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
            "p99 from schedule ms", "seconds with an answer > 50 ms", "non-200", "not the expected ack", "transport errors", "p99 ms of each run", "ShipBot CPU µs/request of each run", "ShipBot cores", "other processes' cores", "clicks handled before");
        foreach (var s in series.Where(s => s.Spec.Mode == "open"))
        {
            var m = s.Median;
            open.Add(Label(s.Store), What(s.Spec.Kind), Stats.F(s.Spec.Rate), $"{s.Runs.Count} × {s.Spec.Seconds:0.#}", Stats.F(m.PerSecond), Stats.F(m.P50, 2), Stats.F(m.P90, 2),
                Stats.F(m.P99, 2), Stats.F(m.P999, 2), Stats.F(m.Max, 1), Stats.F(m.ScheduleP99, 2), string.Join(" / ", s.Runs.Select(r => $"{r.SecondsOver50} of {r.Seconds:0}")), NonOk(s), Stats.F(s.Runs.Sum(r => r.BadBody)),
                Stats.F(s.Runs.Sum(r => r.TransportErrors)), string.Join(" / ", s.Runs.Select(r => Stats.F(r.P99, 2))), string.Join(" / ", s.CpuPerRun.Select(c => Stats.F(c))), Stats.F(s.ShipBotCores, 2), Stats.F(s.OtherCores, 2), Stats.F(s.ClicksBefore));
        }

        var closed = new Table("configuration", "request", "tool", "connections", "runs × s", "expected acks/s", "all answers/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
            "non-200", "not the expected ack", "transport errors", "requests reused (wrapped)", "load generator CPU s", "ShipBot CPU µs/request", "ShipBot cores", "other processes' cores", "ShipBot GCs gen0/1/2, time paused (diagnostic host only)");
        foreach (var s in series.Where(s => s.Spec.Mode == "closed"))
        {
            var m = s.Median;
            closed.Add(Label(s.Store), What(s.Spec.Kind), m.Tool, s.Spec.Connections.ToString(CultureInfo.InvariantCulture), $"{s.Runs.Count} × {s.Spec.Seconds:0.#}",
                Stats.F(m.OkPerSecond), Stats.F(m.PerSecond), Stats.F(m.P50, 2), Stats.F(m.P90, 2), Stats.F(m.P99, 2), Stats.F(m.P999, 2), Stats.F(m.Max, 1),
                NonOk(s), Stats.F(s.Runs.Sum(r => r.BadBody)), Stats.F(s.Runs.Sum(r => r.TransportErrors)), Stats.F(s.Runs.Sum(r => r.Wrapped)),
                Stats.F(m.ClientCpuMs / 1000, 1), Stats.F(s.HostCpuUsPerRequest), Stats.F(s.ShipBotCores, 2), Stats.F(s.OtherCores, 2),
                s.Gc is { } g ? $"{g.Gen0}/{g.Gen1}/{g.Gen2}, {g.PauseMs:N0} ms ({g.PausePercent:0.#} %), heap {Stats.Mib(g.HeapBytes)}, {Stats.Mib(g.AllocatedBytes)} allocated" : "—");
        }

        var cold = new Table("configuration", "request", "req/s", "first seconds after start", "p50 ms", "p99 ms", "max ms", "seconds with an answer > 50 ms", "slowest answer per second, ms (from schedule)");
        foreach (var s in series.Where(s => s.Fresh && s.WarmupRun is not null))
        {
            var w = s.WarmupRun!;
            cold.Add(Label(s.Store), What(s.Spec.Kind), Stats.F(w.OfferedRate), Stats.F(w.Seconds, 0), Stats.F(w.P50, 2), Stats.F(w.P99, 2), Stats.F(w.Max, 0),
                w.SecondsOver50.ToString(CultureInfo.InvariantCulture), string.Join(" ", (w.WorstPerSecond ?? []).Select(x => Stats.F(x))));
        }

        var follow = new Table("configuration", "button series", "clicks sent (incl. warm-up)", "acknowledged 200", "refusals received (response_url or chat.postEphemeral)");
        foreach (var s in series.Where(s => s.Spec.Kind == "button"))
        {
            follow.Add(Label(s.Store), s.Spec.Mode == "open" ? $"open {s.Spec.Rate:0} req/s" : $"closed {s.Spec.Connections} conn", Stats.F(s.Requests), Stats.F(s.WarmupRequests + s.Runs.Sum(r => r.Ok)), Stats.F(s.FollowUps));
        }

        var host = new Table("configuration", "ShipBot RSS before → after the load", "peak RSS", "RSS growth per accepted request", "log warnings / errors", "Slack Web API calls ShipBot made", "audit trail of the release (GET …/audit)", "Redis before → after");
        foreach (var n in notes)
        {
            var accepted = series.Where(x => x.Store == n.Store).Sum(x => x.WarmupRequests + x.Runs.Sum(r => r.Ok));
            host.Add(Label(n.Store), $"{Stats.Mib(n.RssBefore)} → {Stats.Mib(n.RssAfter)}", Stats.Mib(n.PeakRss), $"{(n.RssAfter - n.RssBefore) / 1024.0 / Math.Max(1, accepted):N1} KiB ({accepted:N0} accepted)", $"{n.Warnings} / {n.Errors}",
                string.Join(", ", n.SlackCalls.Where(c => c.Value > 0).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value:N0}")), n.Audit, n.Redis ?? "—");
        }

        var samples = notes.Where(n => n.Sample.Count > 0).Select(n => $"- {Label(n.Store)}: " + string.Join("; ", n.Sample.Select(l => l.Length > 200 ? l[..200] + "…" : l)));
        return $"""
            ### Open loop: requests sent at a fixed rate (the service level: p99 ≤ 50 ms at 500 requests/s)

            Latency is from the moment a request is handed to the socket to the last byte of ShipBot's answer (the acknowledgement); "from schedule" counts from the intended send time, so a late sender cannot hide a slow answer. The median run (by p99) is shown; errors are summed over the runs.

            {open}
            ### Cold start: the warm-up of each freshly started ShipBot (not in the tables above)

            {cold}
            ### Closed loop: {options.Connections} connections back to back ({tool})

            "Expected acks/s" counts only 200s with the expected body. Each request is unique; when the generator runs out of them (429s come back in microseconds, so this happens when the rate limiter refuses), it sends copies again ("wrapped"), and ShipBot refuses the copies of already accepted ones as replays (401), as it should. The GC column is read from the diagnostic host's own process.

            {closed}
            ### Button clicks: acknowledgement, then the refusal through response_url

            {follow}
            ### ShipBot process

            The acknowledgement of `/ship status {Release}` is {statusAckBytes:N0} bytes of JSON (the release card, in channel); a click's is an empty 200.

            {host}
            {(samples.Any() ? "Log lines at warning level or above (first ones):\n\n" + string.Join("\n", samples) + "\n" : string.Empty)}
            """;
    }

    private static string Reading(List<Series> series, BenchOptions options)
    {
        var text = new StringBuilder("### Against the targets\n\n");
        var table = new Table("target", "measured", "verdict");
        foreach (var s in series.Where(s => s.Spec.Mode == "open" && s.Spec.Rate == options.SlackRates[0]))
        {
            var m = s.Median;
            var clean = s.Runs.All(r => r.NonOk == 0 && r.BadBody == 0 && r.TransportErrors == 0);
            table.Add($"p99 ≤ 50 ms at {s.Spec.Rate:0} req/s ({Label(s.Store)}, {What(s.Spec.Kind)})", $"p99 {Stats.F(m.P99, 2)} ms (from schedule {Stats.F(m.ScheduleP99, 2)} ms), {m.PerSecond:N0} answered/s{(clean ? ", no errors" : ", WITH ERRORS")}",
                (m.ScheduleP99 <= 50 && clean && m.PerSecond >= s.Spec.Rate * 0.97 ? "met" : "not met") + Noise(s));
        }

        foreach (var s in series.Where(s => s.Spec.Mode == "closed"))
        {
            var m = s.Median;
            table.Add($"aim: ≥ {3 * BoltRate:N0} req/s (3 × Bolt's {BoltRate:N0}) with p99 ≤ 10 ms, {s.Spec.Connections} connections ({Label(s.Store)}, {What(s.Spec.Kind)})",
                $"{m.OkPerSecond:N0} expected acks/s ({m.OkPerSecond / BoltRate:0.00} × Bolt, {m.OkPerSecond / (3 * BoltRate) * 100:0} % of the aim), p99 {Stats.F(m.P99, 2)} ms (Bolt: {BoltP99:0} ms)",
                (m.OkPerSecond >= 3 * BoltRate && m.P99 <= 10 ? "met" : "not met") + Noise(s));
        }

        text.Append(table);
        if (series.Any(s => s.Runs.Any(r => r.NonOkStatuses.ContainsKey("429"))))
        {
            text.Append("\nShipBot answered 429: its rate limiter (src/ShipBot.Host/ShipBotApp.cs, one token bucket for every /slack POST: 4,000 burst, 2,000/s) refused requests.\n");
        }

        return text.ToString();
    }

    /// <summary>Private follow-ups: through response_url, or chat.postEphemeral when a click has none.</summary>
    private static long FollowUps(FakeSlack fake) => fake.Count("response_url") + fake.Count("chat.postEphemeral");

    private static string NewNonce() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>A warning when other processes took a sizeable share of the 2 cores during the series.</summary>
    private static string Noise(Series s) => s.OtherCores > 0.3 ? $" (disturbed: other processes used {s.OtherCores:0.00} cores)" : string.Empty;

    private static string What(string kind) => kind == "button" ? "button click (Approve, refused)" : "/ship status";

    private static string NonOk(Series s)
    {
        var total = s.Runs.Sum(r => r.NonOk);
        if (total == 0)
        {
            return "0";
        }

        var byStatus = s.Runs.SelectMany(r => r.NonOkStatuses).GroupBy(kv => kv.Key).Select(g => $"{g.Key} × {g.Sum(kv => kv.Value):N0}");
        return $"{total:N0} ({string.Join(", ", byStatus)})";
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    private static async Task<string> CaptureAsync(string file, string args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
