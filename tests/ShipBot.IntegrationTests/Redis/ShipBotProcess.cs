using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>
/// The REAL ShipBot host as a separate OS process (<c>dotnet ShipBot.Host.dll</c>) on a free
/// loopback port, on a given Redis and key prefix, with the fast demo settings of
/// <see cref="ShipBotHost.FastSettings"/> passed as environment variables. Its stdout and stderr
/// are kept for failure messages. <see cref="KillAsync"/> is a SIGKILL (kill -9): no shutdown
/// code runs, exactly like a crashed or OOM-killed replica.
/// </summary>
public sealed class ShipBotProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private ShipBotProcess(string name, Process process, Uri baseAddress)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A short name for messages ("A", "B").</summary>
    public string Name { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The host's build output: the test's own output folder (the Host project is referenced), else src/ShipBot.Host/bin/&lt;Configuration&gt;/net10.0.</summary>
    public static string HostDirectory { get; } = FindHostDirectory();

    /// <summary>
    /// Starts a host process. <paramref name="overrides"/> use configuration keys with ':' (as
    /// <see cref="ShipBotHost.FastSettings"/>); they are passed as environment variables with '__'.
    /// </summary>
    public static async Task<ShipBotProcess> StartAsync(string name, RedisServer redis, string keyPrefix, IDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var settings = ShipBotHost.FastSettings();
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

        var port = RedisServer.FreePort();
        var directory = HostDirectory;
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(directory, "ShipBot.Host.dll"), "--urls", $"http://127.0.0.1:{port}" })
        {
            info.ArgumentList.Add(arg);
        }

        // Nothing from the test runner's environment may reconfigure the host behind the test's back.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ShipBot__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
            || k.Equals("Urls", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var host = new ShipBotProcess(name, process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await host.WaitUntilLiveAsync().ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return host;
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
        Append($"--- {Name} killed (SIGKILL) at {DateTime.UtcNow:HH:mm:ss.fff} ---");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // never started
        }

        _process.Dispose();
    }

    // ================================================================ the console and release API

    public async Task<JsonObject> SayAsync(string user, string text, string channel = "releases", string? requestId = null)
    {
        using var response = await Http.PostAsJsonAsync("/api/console/messages", new { user, channel, text, requestId }).ConfigureAwait(false);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false);
        return body ?? throw new InvalidOperationException($"{Name}: empty reply to '{text}'");
    }

    public async Task<JsonObject> ReleaseAsync(string name) =>
        await Http.GetFromJsonAsync<JsonObject>($"/api/releases/{name}").ConfigureAwait(false) ?? throw new InvalidOperationException("no release");

    public async Task<string> StateAsync(string name) => (await ReleaseAsync(name).ConfigureAwait(false))["state"]!.GetValue<string>();

    /// <summary>Polls until the release reaches <paramref name="state"/>; fails with the last state, the audit and this process's log.</summary>
    public Task<JsonObject> WaitForStateAsync(string name, string state, TimeSpan? timeout = null) =>
        WaitForAsync(name, r => r["state"]!.GetValue<string>() == state, $"state {state}", timeout);

    /// <summary>Polls until the release's audit has an entry matching <paramref name="match"/>.</summary>
    public Task<JsonObject> WaitForAuditAsync(string name, Func<JsonObject, bool> match, string what, TimeSpan? timeout = null) =>
        WaitForAsync(name, r => Audit(r).Any(match), what, timeout);

    public async Task<JsonObject> WaitForAsync(string name, Func<JsonObject, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
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
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"{name} on {Name} did not reach {what}: it is {release["state"]}.\n{Describe(release)}\n{Log()}");
    }

    /// <summary>The audit entries of a release view as objects with at, actor, action, detail.</summary>
    public static IReadOnlyList<JsonObject> Audit(JsonObject release) =>
        release["audit"]!.AsArray().OfType<JsonObject>().ToList();

    public static string Describe(JsonObject release) =>
        "Audit:\n" + string.Join("\n", Audit(release).Select(a => $"  {a["at"]} {a["actor"]} {a["action"]}: {a["detail"]}"));

    /// <summary>This process's log, for failure messages.</summary>
    public string Log() => $"--- log of ShipBot process {Name} (pid {_process.Id}) ---\n{Output}";

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilLiveAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"ShipBot process {Name} exited with {_process.ExitCode} before answering /healthz.\n{Log()}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri("/healthz", UriKind.Relative)).ConfigureAwait(false);
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

        throw new TimeoutException($"ShipBot process {Name} did not answer /healthz within {StartTimeout.TotalSeconds:0} s.\n{Log()}");
    }

    private static string FindHostDirectory()
    {
        const string Marker = "ShipBot.Host.runtimeconfig.json";
        var own = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(own, Marker)) && File.Exists(Path.Combine(own, "ShipBot.Host.dll")))
        {
            return own;
        }

        // bin/<Configuration>/net10.0 of this test project names the configuration to look for.
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

        throw new InvalidOperationException(
            $"Cannot find the ShipBot host build ({Marker}) in {own} or in src/ShipBot.Host/bin/{configuration}/{framework.Name}: build the solution first.");
    }
}
