using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace ShipBot.Testing;

/// <summary>How to start a <see cref="ShipBotProcess"/>. Defaults are stated per property.</summary>
public sealed record ShipBotProcessOptions
{
    /// <summary>A short name for messages ("A", "B"). Default "ShipBot".</summary>
    public string Name { get; init; } = "ShipBot";

    /// <summary>Configuration keys with ':', passed as environment variables with '__'. Default: none.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Other environment variables, passed as they are. Default: none.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>What <c>dotnet</c> runs. Default: the host (<see cref="ShipBotProcess.HostDll"/>).</summary>
    public IReadOnlyList<string>? Arguments { get; init; }

    /// <summary>Where the process runs (where the host looks for appsettings.json). Default: the host's build folder.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The path polled until it answers 2xx: <c>/healthz</c> (live, default) or <c>/readyz</c> (ready).</summary>
    public string ReadyPath { get; init; } = "/healthz";

    /// <summary>How long start-up may take. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A file that gets every line the process writes, as it writes it. Default: none (the lines are kept in memory only).</summary>
    public string? LogPath { get; init; }

    /// <summary>Dispose stops the process with SIGTERM (a graceful stop, SIGKILL after 15 s) instead of SIGKILL. Default false.</summary>
    public bool StopGracefully { get; init; }

    /// <summary>Server (true) or workstation (false) GC; null leaves the runtime's choice. Default null.</summary>
    public bool? ServerGc { get; init; }
}

/// <summary>
/// ShipBot as a separate OS process on a free loopback port: the real host (<c>dotnet
/// ShipBot.Host.dll</c>, as the container runs it), or another program the benchmark starts,
/// configured through environment variables as in production. Nothing from the caller's
/// environment reconfigures it behind the caller's back. Its output is kept (and written to a file
/// when asked) for failure messages. <see cref="KillAsync"/> is a SIGKILL: no shutdown code runs,
/// exactly like a crashed or OOM-killed replica. For the crash, replica and outage tests, the
/// start-up error test and the benchmarks.
/// </summary>
public sealed class ShipBotProcess : IAsyncDisposable
{
    private const int KeptLines = 20_000;
    private readonly Process _process;
    private readonly ShipBotProcessOptions _options;
    private readonly Queue<string> _output = new();
    private readonly StreamWriter? _log;
    private readonly Lock _gate = new();

    private ShipBotProcess(Process process, ShipBotProcessOptions options, Uri baseAddress, StreamWriter? log)
    {
        _process = process;
        _options = options;
        _log = log;
        BaseAddress = baseAddress;
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>A short name for messages.</summary>
    public string Name => _options.Name;

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The file that gets the process's output, if any.</summary>
    public string? LogPath => _options.LogPath;

    /// <summary>Everything the process wrote to stdout and stderr so far (the last 20,000 lines).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _output) + (_output.Count > 0 ? "\n" : string.Empty);
            }
        }
    }

    /// <summary>The host's build folder: the caller's own output folder when it references the host project, else src/ShipBot.Host/bin/&lt;Configuration&gt;/&lt;framework&gt;.</summary>
    public static string HostDirectory { get; } = FindHostDirectory();

    /// <summary>The host's entry assembly in <see cref="HostDirectory"/>.</summary>
    public static string HostDll => Path.Combine(HostDirectory, "ShipBot.Host.dll");

    /// <summary>Starts a process as <paramref name="options"/> say and waits until its ready path answers.</summary>
    public static async Task<ShipBotProcess> StartAsync(ShipBotProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var port = Loopback.FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = options.WorkingDirectory ?? HostDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in options.Arguments ?? [HostDll])
        {
            info.ArgumentList.Add(argument);
        }

        // Nothing from the caller's environment may reconfigure the process behind its back.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ShipBot__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("Slack__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("Teams__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
            || k.Equals("Urls", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in options.Settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        if (options.ServerGc is { } server)
        {
            info.Environment["DOTNET_gcServer"] = server ? "1" : "0";
        }

        foreach (var (key, value) in options.Environment)
        {
            info.Environment[key] = value;
        }

        var log = options.LogPath is null ? null : new StreamWriter(options.LogPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var bot = new ShipBotProcess(process, options, new Uri($"http://127.0.0.1:{port}/"), log);
        process.OutputDataReceived += (_, e) => bot.Append(e.Data);
        process.ErrorDataReceived += (_, e) => bot.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await bot.WaitUntilReadyAsync().ConfigureAwait(false);
        }
        catch
        {
            await bot.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return bot;
    }

    /// <summary>
    /// The real host on <paramref name="redis"/> under <paramref name="keyPrefix"/>, with the fast
    /// demo settings (<see cref="ShipBotSettings.Fast"/>), one-second sweeps and evaluations, and
    /// short Redis retries; <paramref name="overrides"/> use configuration keys with ':'.
    /// </summary>
    public static Task<ShipBotProcess> StartAsync(string name, RedisServer redis, string keyPrefix, IDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var settings = ShipBotSettings.Fast();
        settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        settings["ShipBot:Redis:KeyPrefix"] = keyPrefix;
        settings["ShipBot:SweepInterval"] = "00:00:01";
        settings["ShipBot:EvaluationInterval"] = "00:00:01";
        settings["ShipBot:Redis:MaxRetries"] = "1";
        settings["ShipBot:Redis:BaseDelay"] = "00:00:00.050";
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return StartAsync(new ShipBotProcessOptions { Name = name, Settings = settings });
    }

    /// <summary>
    /// Runs the host to its end (it is expected not to start, for instance on a configuration
    /// error) and returns its exit code and everything it wrote.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyDictionary<string, string?> settings, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = HostDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(HostDll);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ShipBot__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["Urls"] = $"http://127.0.0.1:{Loopback.FreePort()}";
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"ShipBot did not exit within {timeout.TotalSeconds:0} s:\n{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    /// <summary>SIGKILL (Process.Kill on Linux), then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        Append($"--- {Name} killed (SIGKILL) ---");
    }

    /// <summary>SIGTERM: the host stops gracefully; SIGKILL if it has not within 15 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = Kill(_process.Id, 15);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await KillAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (_options.StopGracefully)
            {
                await StopAsync().ConfigureAwait(false);
            }
            else
            {
                await KillAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        catch (OperationCanceledException)
        {
            // left for the OS
        }

        _process.Dispose();
        lock (_gate)
        {
            _log?.Dispose();
        }
    }

    // ================================================================ the console and release API

    /// <summary>A console message as <paramref name="user"/>; a 429 of the console's rate limiter is waited out.</summary>
    public async Task<JsonObject> SayAsync(string user, string text, string channel = "releases", string? requestId = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await Http.PostAsJsonAsync(new Uri("api/console/messages", UriKind.Relative), new { user, channel, text, requestId }).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < 50)
            {
                await Task.Delay(200).ConfigureAwait(false);
                continue;
            }

            var body = await response.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false);
            return body ?? throw new InvalidOperationException($"{Name}: empty reply to '{text}'");
        }
    }

    public async Task<JsonObject> ReleaseAsync(string name) =>
        await Http.GetFromJsonAsync<JsonObject>(new Uri($"api/releases/{name}", UriKind.Relative)).ConfigureAwait(false) ?? throw new InvalidOperationException("no release");

    public async Task<string> StateAsync(string name) => (await ReleaseAsync(name).ConfigureAwait(false))["state"]!.GetValue<string>();

    /// <summary>Polls until the release reaches <paramref name="state"/>; fails with the last state, the audit and this process's log.</summary>
    public Task<JsonObject> WaitForStateAsync(string name, string state, TimeSpan? timeout = null) =>
        WaitForAsync(name, r => r["state"]!.GetValue<string>() == state, $"state {state}", timeout);

    /// <summary>Polls until the release's audit has an entry matching <paramref name="match"/>.</summary>
    public Task<JsonObject> WaitForAuditAsync(string name, Func<JsonObject, bool> match, string what, TimeSpan? timeout = null) =>
        WaitForAsync(name, r => Audit(r).Any(match), what, timeout);

    /// <summary>Polls the release until <paramref name="condition"/> holds (default deadline 60 s).</summary>
    public async Task<JsonObject> WaitForAsync(string name, Func<JsonObject, bool> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = Stopwatch.StartNew();
        JsonObject release;
        do
        {
            release = await ReleaseAsync(name).ConfigureAwait(false);
            if (condition(release))
            {
                return release;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)));

        throw new TimeoutException($"{name} on {Name} did not reach {what}: it is {release["state"]}.\n{Describe(release)}\n{Log()}");
    }

    /// <summary>The audit entries of a release view as objects with at, actor, action, detail.</summary>
    public static IReadOnlyList<JsonObject> Audit(JsonObject release)
    {
        ArgumentNullException.ThrowIfNull(release);
        return release["audit"]!.AsArray().OfType<JsonObject>().ToList();
    }

    public static string Describe(JsonObject release) =>
        "Audit:\n" + string.Join("\n", Audit(release).Select(a => $"  {a["at"]} {a["actor"]} {a["action"]}: {a["detail"]}"));

    /// <summary>This process's log, for failure messages.</summary>
    public string Log() => $"--- log of ShipBot process {Name} (pid {_process.Id}) ---\n{Output}";

    /// <summary>The last <paramref name="lines"/> lines of output.</summary>
    public string Tail(int lines = 60)
    {
        lock (_gate)
        {
            return string.Join('\n', _output.Skip(Math.Max(0, _output.Count - lines)));
        }
    }

    // ================================================================ measurements (benchmarks)

    /// <summary>User + system CPU time used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Resident set size now and its peak (VmRSS, VmHWM from /proc).</summary>
    public (long Rss, long Peak) Memory()
    {
        long Field(string name) => File.ReadLines($"/proc/{_process.Id}/status")
            .Where(l => l.StartsWith(name, StringComparison.Ordinal))
            .Select(l => long.Parse(l[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024)
            .FirstOrDefault();
        return (Field("VmRSS"), Field("VmHWM"));
    }

    /// <summary>Log lines at warning level or above (SimpleConsole: "warn:", "fail:", "crit:"), the in-memory store's start-up warning aside.</summary>
    public (int Warnings, int Errors, IReadOnlyList<string> Sample) LogProblems()
    {
        List<string> lines;
        lock (_gate)
        {
            lines = [.. _output];
        }

        // ShipBot logs JSON lines by default ("level":"Warning"); the simple console format says "warn:".
        var warnings = lines.Where(l => (l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains("\"level\":\"Warning\"", StringComparison.Ordinal)) && !l.Contains("in-memory store", StringComparison.Ordinal)).ToList();
        var errors = lines.Where(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal)
            || l.Contains("\"level\":\"Error\"", StringComparison.Ordinal) || l.Contains("\"level\":\"Critical\"", StringComparison.Ordinal)).ToList();
        return (warnings.Count, errors.Count, [.. errors.Concat(warnings).Take(5)]);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptLines)
            {
                _output.Dequeue();
            }

            _log?.WriteLine(line);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (deadline.Elapsed < _options.StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"ShipBot process {Name} exited with {_process.ExitCode} before answering {_options.ReadyPath}.\n{Log()}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri(_options.ReadyPath, UriKind.Relative)).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // slow start on a busy machine
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"ShipBot process {Name} did not answer {_options.ReadyPath} within {_options.StartTimeout.TotalSeconds:0} s.\n{Log()}");
    }

    private static string FindHostDirectory()
    {
        const string Marker = "ShipBot.Host.runtimeconfig.json";
        var own = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(own, Marker)) && File.Exists(Path.Combine(own, "ShipBot.Host.dll")))
        {
            return own;
        }

        // bin/<Configuration>/<framework> of the caller names the build to look for.
        var framework = new DirectoryInfo(own.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent?.Name ?? "Debug";
        for (var dir = framework; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "ShipBot.Host", "bin", configuration, framework.Name);
            if (File.Exists(Path.Combine(candidate, Marker)))
            {
                return candidate;
            }
        }

        return own;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
