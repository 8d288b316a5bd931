using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ShipBot.Testing;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package) on a free loopback port, with its
/// own temporary config and TSDB directory, scraping the given targets every
/// <c>scrapeInterval</c> (1 s by default). It never uses the system service the package may have
/// started: it is always a process of its own, killed and deleted on dispose. A missing binary
/// fails the test with that message rather than skipping it.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http;
    private Process? _process;

    private PrometheusServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
        Url = new Uri($"http://127.0.0.1:{port}/");
        _http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
    }

    public int Port { get; }

    /// <summary>The server's base URL, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Url { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the server logged so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a server scraping <paramref name="targets"/> (host:port, path /metrics) and waits until /-/ready answers.</summary>
    public static async Task<PrometheusServer> StartAsync(IEnumerable<string> targets, TimeSpan? scrapeInterval = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var directory = Directory.CreateTempSubdirectory("shipbot-prometheus-").FullName;
        var server = new PrometheusServer(RedisServer.FreePort(), directory);
        try
        {
            await server.RunAsync([.. targets], scrapeInterval ?? TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs an instant query (<c>GET /api/v1/query</c>) and returns Prometheus's JSON answer.</summary>
    public async Task<JsonObject> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri($"api/v1/query?query={Uri.EscapeDataString(promql)}", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken).ConfigureAwait(false) ?? [];
    }

    /// <summary>
    /// Waits until <paramref name="promql"/> returns at least <paramref name="series"/> series (a
    /// vector) — e.g. until rate() over a window has enough samples — and returns the result.
    /// </summary>
    public async Task<JsonArray> WaitForSeriesAsync(string promql, int series = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        JsonObject last = [];
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(promql).ConfigureAwait(false);
            if (last["data"]?["result"] is JsonArray result && result.Count >= series)
            {
                return result;
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        throw new TimeoutException($"Prometheus did not return {series} series for {promql} in time. Last answer: {last.ToJsonString()}\nServer output:\n{Output}");
    }

    private async Task RunAsync(IReadOnlyList<string> targets, TimeSpan scrapeInterval)
    {
        var interval = $"{(int)Math.Max(1, scrapeInterval.TotalMilliseconds)}ms";
        var config = Path.Combine(_directory, "prometheus.yml");
        var targetList = string.Join(", ", targets.Select(t => $"'{t}'"));
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: {interval}
              scrape_timeout: {interval}
              evaluation_interval: {interval}
            scrape_configs:
              - job_name: shipbot-test
                metrics_path: /metrics
                static_configs:
                  - targets: [{targetList}]
            """).ConfigureAwait(false);

        var binary = File.Exists("/usr/bin/prometheus") ? "/usr/bin/prometheus" : "prometheus";
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[]
        {
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(_directory, "data")}",
            $"--web.listen-address=127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}",
            "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("prometheus did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("prometheus is not installed: run the README's test command (bash scripts/test.sh), which installs Debian's prometheus package.", ex);
        }

        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var ready = await _http.GetAsync(new Uri("-/ready", UriKind.Relative)).ConfigureAwait(false);
                if (ready.IsSuccessStatusCode)
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
                // not answering yet
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"prometheus did not become ready on port {Port}:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync().ConfigureAwait(false);
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
        catch (UnauthorizedAccessException)
        {
            // best effort
        }
    }
}
