using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.Bench;

/// <summary>
/// Moments observed by the benchmark process, as <see cref="Stopwatch"/> timestamps of this
/// process (one clock for the send, the webhook arrival and the chat message), keyed by
/// "release|what". The first mark of a key wins.
/// </summary>
public sealed class Marks
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _marks = new(StringComparer.Ordinal);

    public void Mark(string key, long timestamp) => Slot(key).TrySetResult(timestamp);

    public bool Has(string key) => _marks.TryGetValue(key, out var slot) && slot.Task.IsCompleted;

    /// <summary>The timestamp of <paramref name="key"/>, or null if it is not marked within <paramref name="timeout"/>.</summary>
    public async Task<long?> WaitAsync(string key, TimeSpan timeout)
    {
        var task = Slot(key).Task;
        if (await Task.WhenAny(task, Task.Delay(timeout)).ConfigureAwait(false) == task)
        {
            return await task.ConfigureAwait(false);
        }

        return null;
    }

    private TaskCompletionSource<long> Slot(string key) =>
        _marks.GetOrAdd(key, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

    public static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}

/// <summary>
/// A console channel followed over server-sent events (<c>GET /api/console/stream</c>), as the
/// browser does. Marks "release|alert" when the rollback alert (card title "🔴 Rolling back …" or
/// "🔴 Rolled back …") first appears, and "release|rolledback" when it says "Rolled back".
/// </summary>
public sealed partial class ChannelListener : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;
    private long _messages;

    private ChannelListener(Uri baseAddress)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public long Messages => Interlocked.Read(ref _messages);

    public static async Task<ChannelListener> StartAsync(Uri baseAddress, string channel, Marks marks)
    {
        var listener = new ChannelListener(baseAddress);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener._reading = listener.ReadAsync(channel, marks, connected);
        if (await Task.WhenAny(connected.Task, Task.Delay(TimeSpan.FromSeconds(20))).ConfigureAwait(false) != connected.Task)
        {
            throw new TimeoutException("the console event stream did not connect");
        }

        await connected.Task.ConfigureAwait(false);
        return listener;
    }

    private async Task ReadAsync(string channel, Marks marks, TaskCompletionSource connected)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"/api/console/stream?channel={channel}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, _stop.Token).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token).ConfigureAwait(false), Encoding.UTF8);
            while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
            {
                var now = Stopwatch.GetTimestamp();
                if (line.StartsWith(": connected", StringComparison.Ordinal))
                {
                    connected.TrySetResult();
                    continue;
                }

                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                Interlocked.Increment(ref _messages);
                using var message = JsonDocument.Parse(line.AsMemory(6));
                if (message.RootElement.TryGetProperty("card", out var card) && card.ValueKind == JsonValueKind.Object
                    && card.TryGetProperty("title", out var title) && RollbackTitle().Match(title.GetString() ?? string.Empty) is { Success: true } m)
                {
                    var release = m.Groups["release"].Value;
                    marks.Mark($"{release}|alert", now);
                    if (m.Groups["what"].Value == "Rolled back")
                    {
                        marks.Mark($"{release}|rolledback", now);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
            connected.TrySetException(ex);
        }
    }

    [GeneratedRegex(@"^🔴 (?<what>Rolling back|Rolled back) (?<release>\S+) ")]
    private static partial Regex RollbackTitle();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reading.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        _http.Dispose();
        _stop.Dispose();
    }
}

/// <summary>
/// The real ShipBot host (the Release build of src/ShipBot.Host) as a separate process on a free
/// loopback port, configured through environment variables (<c>ShipBot__…</c>) as in production,
/// with workstation GC as in the Dockerfile. Its output is drained and the last lines kept for
/// error messages.
/// </summary>
public sealed class ShipBotUnderTest : IAsyncDisposable
{
    /// <summary>Start-up (to /readyz) may take minutes with 10,000 configured services: see docs/benchmarks.md.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly Lock _gate = new();

    private ShipBotUnderTest(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public int Pid => _process.Id;

    /// <summary>src/ShipBot.Host/bin/&lt;configuration of this benchmark build&gt;/net10.0, found from the benchmark's own output folder.</summary>
    public static string HostDirectory()
    {
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = own.Parent?.Name ?? "Release";
        for (var dir = own; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "ShipBot.Host", "bin", configuration, own.Name);
            if (File.Exists(Path.Combine(candidate, "ShipBot.Host.dll")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"Cannot find src/ShipBot.Host/bin/{configuration}/{own.Name}/ShipBot.Host.dll: build bench/ShipBot.Bench (bench/run.sh does).");
    }

    /// <param name="settings">Configuration keys with ':'; passed as environment variables with '__'.</param>
    /// <param name="workingDirectory">Where the host looks for appsettings.json (default: its build folder, with the repository's file).</param>
    public static async Task<ShipBotUnderTest> StartAsync(IDictionary<string, string?> settings, string? workingDirectory = null)
    {
        var directory = HostDirectory();
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(directory, "ShipBot.Host.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ShipBot__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
            || k.Equals("Urls", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        var host = new ShipBotUnderTest(process, new Uri($"http://127.0.0.1:{port}"));
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

    /// <summary>A console message as <paramref name="user"/>; a 429 of the console's rate limiter is waited out.</summary>
    public async Task<JsonObject> SayAsync(string user, string text, string channel = "releases")
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await Http.PostAsJsonAsync("/api/console/messages", new { user, channel, text }).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < 50)
            {
                await Task.Delay(200).ConfigureAwait(false);
                continue;
            }

            var body = await response.Content.ReadFromJsonAsync<JsonObject>().ConfigureAwait(false);
            return body ?? throw new InvalidOperationException($"empty reply to '{text}'");
        }
    }

    public async Task<JsonObject> ReleaseAsync(string name) =>
        await Http.GetFromJsonAsync<JsonObject>(new Uri($"/api/releases/{name}", UriKind.Relative)).ConfigureAwait(false) ?? throw new InvalidOperationException("no release");

    public string Tail()
    {
        lock (_gate)
        {
            return string.Join('\n', _tail);
        }
    }

    public (long Rss, long Peak) Memory() => ProcCpu.Memory(_process.Id);

    /// <summary>Lines ShipBot logged at Error or Critical so far (JSON or simple console format).</summary>
    public long LogErrors => Interlocked.Read(ref _logErrors);

    private long _logErrors;

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains("\"level\":\"Error\"", StringComparison.Ordinal) || line.Contains("\"level\":\"Critical\"", StringComparison.Ordinal)
            || line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _logErrors);
        }

        lock (_gate)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 60)
            {
                _tail.Dequeue();
            }
        }
    }

    private async Task WaitUntilLiveAsync()
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"ShipBot exited with {_process.ExitCode} before answering /readyz:\n{Tail()}");
            }

            try
            {
                using var response = await probe.GetAsync(new Uri("/readyz", UriKind.Relative)).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"ShipBot did not answer /readyz within {StartTimeout.TotalSeconds:0} s:\n{Tail()}");
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // left for the OS
        }

        _process.Dispose();
    }
}
