using ShipBot.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ShipBot.Bench;

/// <summary>
/// The side-by-side part of <c>bash bench/run.sh slack</c>: ShipBot as shipped (in-memory store,
/// default limits, its own process) and a Bolt for JavaScript app that only acknowledges
/// (<c>bench/bolt/app.js</c>, npm <c>@slack/bolt</c>, installed and started here), loaded in the
/// same run by wrk with 32 connections and the same kind of signed <c>/ship status</c> requests,
/// runs alternating so both see the same machine. ShipBot's answer must be the release card in
/// channel; Bolt's an empty 200. Prints a Markdown section with both figures and the ratio.
/// </summary>
public static class BoltComparison
{
    private const string BotToken = "xoxb-bench";
    private const string Release = "demo@1.0.0";
    private const string Channel = "CRELEASES";

    private static readonly string[] BlockingItems =
        ["qa", "rollback", "flags", "migrations", "dashboards", "env", "db", "errors", "health", "deploydoc", "rollbacktest", "https", "ratelimit"];

    private sealed record Figures(string Who, double AcksPerSecond, double P50, double P99, double Max, long Ok, long NotOk, long Wrapped);

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var repo = Directory.GetCurrentDirectory();
        var bolt = Path.Combine(repo, "bench", "bolt");
        var work = Directory.CreateTempSubdirectory("shipbot-bolt-bench-");
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await InstallBoltAsync(bolt);

        await using var fake = await FakeSlack.StartAsync(BotToken, record: false);
        var environment = new Dictionary<string, string>
        {
            ["Slack__SigningSecret"] = secret,
            ["Slack__BotToken"] = BotToken,
            ["Slack__ApiBaseUrl"] = fake.ApiBaseUrl.ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
            ["ShipBot__Services__demo__Channel"] = Channel,
            ["ShipBot__Services__demo__Requesters__0"] = "UALICE",
            ["ShipBot__Services__demo__Approvers__0"] = "UBOB",
            ["ShipBot__Services__demo__OnCall__0"] = $"group:{FakeSlack.OnCallGroup}",
            ["DOTNET_gcServer"] = options.HostGc == "server" ? "1" : "0",
        };
        foreach (var pair in options.HostEnv)
        {
            environment[pair.Split('=', 2)[0]] = pair.Split('=', 2).ElementAtOrDefault(1) ?? string.Empty;
        }

        System.Console.Error.WriteLine("Bolt comparison: starting ShipBot (as shipped, in-memory) and the Bolt app…");
        await using var bot = await ShipBotProcess.StartAsync(new ShipBotProcessOptions
        {
            Name = "ShipBot",
            Arguments = [ShipBotProcess.HostDll],
            Environment = environment,
            WorkingDirectory = repo,
            LogPath = Path.Combine(work.FullName, "shipbot.log"),
            ReadyPath = "/readyz",
            StopGracefully = true,
        });
        var spec = new SlackLoadSpec
        {
            Target = bot.BaseAddress.ToString(),
            SigningSecret = secret,
            ResponseUrlPrefix = fake.ResponseUrlPrefix,
            Release = Release,
            Channel = Channel,
            CommandUser = "UBOB",
            Connections = options.Connections,
        };
        await SetUpAsync(bot.BaseAddress, new SlackRequests(spec));
        var boltPort = FreePort();
        using var boltProcess = StartBolt(bolt, boltPort, secret, Path.Combine(work.FullName, "bolt.log"));
        try
        {
            await WaitListeningAsync(new Uri($"http://127.0.0.1:{boltPort}/"), boltProcess);
            var boltSpec = spec with { Target = $"http://127.0.0.1:{boltPort}/" };
            var seconds = options.ClosedSeconds;
            var runs = Math.Max(3, options.ClosedRuns);

            // wrk has no warm-up of its own: one unmeasured run each lets both JITs settle.
            await WrkAsync("ShipBot", spec, "command", Math.Min(seconds, 8), options.ClosedBudget, repo, work.FullName);
            await WrkAsync("Bolt", boltSpec, "button", Math.Min(seconds, 8), options.ClosedBudget, repo, work.FullName);
            var shipBot = new List<Figures>();
            var reference = new List<Figures>();
            for (var run = 0; run < runs; run++)
            {
                shipBot.Add(await WrkAsync("ShipBot", spec, "command", seconds, options.ClosedBudget, repo, work.FullName));
                reference.Add(await WrkAsync("Bolt", boltSpec, "button", seconds, options.ClosedBudget, repo, work.FullName));
                System.Console.Error.WriteLine($"  run {run + 1}: ShipBot {shipBot[^1].AcksPerSecond:N0}/s p99 {shipBot[^1].P99:0.00} ms; Bolt {reference[^1].AcksPerSecond:N0}/s p99 {reference[^1].P99:0.00} ms");
            }

            await System.Console.Out.WriteAsync(Report(shipBot, reference, options, seconds));
        }
        finally
        {
            if (!boltProcess.HasExited)
            {
                boltProcess.Kill(entireProcessTree: true);
                await boltProcess.WaitForExitAsync();
            }
        }

        return 0;
    }

    private static string Report(List<Figures> shipBot, List<Figures> bolt, BenchOptions options, double seconds)
    {
        var s = Median(shipBot);
        var b = Median(bolt);
        var ratio = s.AcksPerSecond / Math.Max(1, b.AcksPerSecond);
        var met = ratio >= 3 && s.P99 <= 10;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""

            ## ShipBot against Bolt for JavaScript, side by side

            wrk, {options.Connections} connections, {seconds:0} s per run, {shipBot.Count} runs of each, alternating ShipBot and Bolt; default limits; signed `/ship status` (ShipBot answers with the release card in channel, Bolt acknowledges with an empty 200). Median run by throughput.

            | run | ShipBot acks/s | ShipBot p50 / p99 / max ms | Bolt acks/s | Bolt p50 / p99 / max ms | ratio |
            |---:|---:|---:|---:|---:|---:|

            """);
        for (var i = 0; i < shipBot.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {i + 1} | {shipBot[i].AcksPerSecond:N0} | {shipBot[i].P50:0.00} / {shipBot[i].P99:0.00} / {shipBot[i].Max:0.0} | {bolt[i].AcksPerSecond:N0} | {bolt[i].P50:0.00} / {bolt[i].P99:0.00} / {bolt[i].Max:0.0} | {shipBot[i].AcksPerSecond / Math.Max(1, bolt[i].AcksPerSecond):0.00}× |\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"| **median** | **{s.AcksPerSecond:N0}** | {s.P50:0.00} / **{s.P99:0.00}** / {s.Max:0.0} | **{b.AcksPerSecond:N0}** | {b.P50:0.00} / {b.P99:0.00} / {b.Max:0.0} | **{ratio:0.00}×** |\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Not the expected answer: ShipBot {shipBot.Sum(f => f.NotOk):N0}, Bolt {bolt.Sum(f => f.NotOk):N0}; repeated (wrapped) requests: ShipBot {shipBot.Sum(f => f.Wrapped):N0}.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Target (≥ 3 × Bolt's acks/s with p99 ≤ 10 ms): **{(met ? "met" : "not met")}** ({ratio:0.00}×, p99 {s.P99:0.00} ms).\n");
        return text.ToString();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Figures Median(List<Figures> runs) => runs.OrderBy(r => r.AcksPerSecond).ElementAt(runs.Count / 2);

    private static async Task SetUpAsync(Uri target, SlackRequests requests)
    {
        using var http = new HttpClient { BaseAddress = target, Timeout = TimeSpan.FromSeconds(10) };
        foreach (var text in new[] { "start demo 1.0.0 Bolt comparison", $"check {Release} {string.Join(' ', BlockingItems)}" })
        {
            var request = requests.Command("UALICE", text);
            using var message = new HttpRequestMessage(HttpMethod.Post, request.Path) { Content = new ByteArrayContent(request.Body) };
            message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(SlackRequests.FormContentType);
            message.Headers.Add(SlackRequests.TimestampHeader, request.Timestamp);
            message.Headers.Add(SlackRequests.SignatureHeader, request.Signature);
            using var response = await http.SendAsync(message);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"/ship {text} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    private static async Task InstallBoltAsync(string bolt)
    {
        if (File.Exists(Path.Combine(bolt, "node_modules", "@slack", "bolt", "package.json")))
        {
            return;
        }

        System.Console.Error.WriteLine("Installing @slack/bolt (bench/bolt/package.json) with npm…");
        var info = new ProcessStartInfo("npm") { WorkingDirectory = bolt, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "install", "--no-audit", "--no-fund" })
        {
            info.ArgumentList.Add(arg);
        }

        using var npm = Process.Start(info) ?? throw new InvalidOperationException("npm did not start (install Node.js and npm)");
        var output = npm.StandardOutput.ReadToEndAsync();
        var errors = npm.StandardError.ReadToEndAsync();
        await npm.WaitForExitAsync();
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm install in {bolt} failed ({npm.ExitCode}): {await output} {await errors}");
        }
    }

    private static Process StartBolt(string bolt, int port, string secret, string log)
    {
        var info = new ProcessStartInfo("node") { WorkingDirectory = bolt, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("app.js");
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        info.Environment["SLACK_SIGNING_SECRET"] = secret;
        info.Environment["NODE_ENV"] = "production";
        var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { lock (writer) { writer.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (writer) { writer.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitListeningAsync(Uri bolt, Process process)
    {
        using var http = new HttpClient { BaseAddress = bolt, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The Bolt app exited with {process.ExitCode}.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("slack/commands", UriKind.Relative));
                return; // any answer: it is listening
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException("The Bolt app did not listen within 60 s.");
    }

    /// <summary>One wrk run (bench/slack-wrk.lua) with unique signed requests precomputed per thread.</summary>
    private static async Task<Figures> WrkAsync(string who, SlackLoadSpec spec, string kind, double seconds, double budgetPerSecond, string repo, string work)
    {
        spec = spec with { Nonce = Guid.NewGuid().ToString("N")[..12] };
        var factory = new SlackRequests(spec);
        var threads = Math.Clamp(Environment.ProcessorCount, 1, spec.Connections);
        var perThread = (int)Math.Ceiling(budgetPerSecond * seconds / threads);
        var prefix = Path.Combine(work, $"wrk-{who}-{spec.Nonce}");
        var target = new Uri(spec.Target);
        for (var t = 0; t < threads; t++)
        {
            await using var file = new BufferedStream(File.Create($"{prefix}.{t}"), 1 << 20);
            foreach (var request in factory.Make("command", perThread))
            {
                var raw = SlackRequests.Raw(request, $"{target.Host}:{target.Port}");
                file.Write(Encoding.ASCII.GetBytes(raw.Length.ToString(CultureInfo.InvariantCulture) + "\n"));
                file.Write(raw);
            }
        }

        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            $"-t{threads}", $"-c{spec.Connections}", $"-d{seconds.ToString(CultureInfo.InvariantCulture)}s", "--timeout", "10s",
            "-s", Path.Combine(repo, "bench", "slack-wrk.lua"), spec.Target, "--", prefix, kind, spec.Release,
        })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start wrk (Debian: apt-get install -y wrk)");
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        for (var t = 0; t < threads; t++)
        {
            File.Delete($"{prefix}.{t}");
        }

        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRK ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no result (exit {process.ExitCode}): {output} {errors}");
        var v = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('='))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var duration = v["duration_us"] / 1e6;
        var ok = (long)v["ok"];
        return new Figures(who, ok / duration, v["p50_us"] / 1000, v["p99_us"] / 1000, v["max_us"] / 1000, ok, (long)v["requests"] - ok, (long)v["wrapped"]);
    }
}
