using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ShipBot.Testing.HAProxy;

/// <summary>One server line of the test backend.</summary>
public sealed record HAProxyBackendServer(string Name, Uri Address, int Weight);

/// <summary>
/// A real HAProxy (Debian's <c>haproxy</c> package, 2.6, built with the Prometheus exporter) as a
/// plain process on free loopback ports, with its own temporary config: one HTTP frontend in front
/// of one <c>balance roundrobin</c> backend whose servers are health-checked on <c>/healthz</c>
/// every 300 ms, the runtime API on a unix socket and on TCP (<c>level admin</c>), and the built-in
/// exporter on <c>/metrics</c> of a frontend of its own. A missing binary fails the test with the
/// install command rather than skipping it.
/// </summary>
public sealed class HAProxyServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private HAProxyServer(string directory, string backend, int frontendPort, int metricsPort, int runtimePort)
    {
        _directory = directory;
        Backend = backend;
        Frontend = new Uri($"http://127.0.0.1:{frontendPort}/");
        MetricsTarget = $"127.0.0.1:{metricsPort}";
        RuntimeSocket = Path.Combine(directory, "admin.sock");
        RuntimeTcp = $"tcp:127.0.0.1:{runtimePort}";
    }

    public string Backend { get; }

    /// <summary>Where clients send traffic.</summary>
    public Uri Frontend { get; }

    /// <summary>host:port of the exporter, for Prometheus's scrape config (path /metrics).</summary>
    public string MetricsTarget { get; }

    /// <summary>The runtime API's unix socket path.</summary>
    public string RuntimeSocket { get; }

    /// <summary>The runtime API over TCP, <c>tcp:127.0.0.1:port</c>.</summary>
    public string RuntimeTcp { get; }

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

    public static Task<HAProxyServer> StartAsync(string backend, IReadOnlyList<HAProxyBackendServer> servers) =>
        StartAsync(new Dictionary<string, IReadOnlyList<HAProxyBackendServer>> { [backend] = servers });

    /// <summary>Several backends (the frontend sends its traffic to the first one), e.g. one per service for a benchmark.</summary>
    public static async Task<HAProxyServer> StartAsync(IReadOnlyDictionary<string, IReadOnlyList<HAProxyBackendServer>> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        var backend = backends.Keys.First();
        var directory = Directory.CreateTempSubdirectory("shipbot-haproxy-").FullName;
        var server = new HAProxyServer(directory, backend, RedisServer.FreePort(), RedisServer.FreePort(), RedisServer.FreePort());
        try
        {
            await server.RunAsync(backends).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends one runtime API command over the unix socket and returns the answer.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(RuntimeSocket)).ConfigureAwait(false);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n")).ConfigureAwait(false);
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer).ConfigureAwait(false)) > 0)
        {
            answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return answer.ToString();
    }

    /// <summary>Waits until every listed server is UP (or DOWN) by HAProxy's health checks.</summary>
    public async Task WaitForServersAsync(IEnumerable<string> servers, bool up = true)
    {
        var names = servers.ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            last = await CommandAsync($"show servers state {Backend}").ConfigureAwait(false);
            var lines = last.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(' ')).Where(f => f.Length > 6).ToList();
            if (names.All(n => lines.Any(f => f[3] == n && (f[5] == "2") == up)))
            {
                return;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        throw new TimeoutException($"HAProxy servers {string.Join(", ", names)} never became {(up ? "UP" : "DOWN")}: {last}\n{Output}");
    }

    private async Task RunAsync(IReadOnlyDictionary<string, IReadOnlyList<HAProxyBackendServer>> backends)
    {
        var config = Path.Combine(_directory, "haproxy.cfg");
        var lines = new StringBuilder();
        lines.AppendLine(CultureInfo.InvariantCulture, $"""
            global
              stats socket {RuntimeSocket} mode 600 level admin
              stats socket ipv4@127.0.0.1:{RuntimeTcp.Split(':')[2]} level admin
              maxconn 2000
              nbthread 2

            defaults
              mode http
              timeout connect 2s
              timeout client 30s
              timeout server 30s
              # Without it a check's whole time limit is 'inter': a busy test machine would flap servers DOWN.
              timeout check 5s

            frontend fe_{Backend}
              bind 127.0.0.1:{Frontend.Port}
              default_backend {Backend}

            frontend prometheus
              bind {MetricsTarget}
              http-request use-service prometheus-exporter if {"{ path /metrics }"}
              no log
            """);
        foreach (var (name, servers) in backends)
        {
            lines.AppendLine(CultureInfo.InvariantCulture, $"""

                backend {name}
                  balance roundrobin
                  option httpchk GET /healthz
                  default-server inter 300ms fastinter 100ms downinter 300ms fall 3 rise 1
                """);
            foreach (var server in servers)
            {
                lines.AppendLine(CultureInfo.InvariantCulture, $"  server {server.Name} {server.Address.Host}:{server.Address.Port} weight {server.Weight} check");
            }
        }

        await File.WriteAllTextAsync(config, lines.ToString()).ConfigureAwait(false);
        var binary = File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy";
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        info.ArgumentList.Add("-db");
        info.ArgumentList.Add("-f");
        info.ArgumentList.Add(config);
        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("haproxy did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("haproxy is not installed: run the test command (bash scripts/test.sh), which installs Debian's haproxy package.", ex);
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
                throw new InvalidOperationException($"haproxy exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                if ((await CommandAsync("show info").ConfigureAwait(false)).Contains("Name: HAProxy", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // not listening yet
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        throw new TimeoutException($"haproxy did not answer on its runtime API:\n{Output}");
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
    }
}
