using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ShipBot.Testing;

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port with its own temporary directory
/// (append-only file on, so a stop and start keeps the data). The test command installs Debian's
/// redis-server; a missing binary fails the test with that message rather than skipping it.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string[] _extraArguments;
    private Process? _process;

    private RedisServer(int port, string directory, string[]? extraArguments = null)
    {
        Port = port;
        _directory = directory;
        _extraArguments = extraArguments ?? [];
    }

    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for this server (short timeouts for tests).</summary>
    public string ConnectionString => $"127.0.0.1:{Port},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000,abortConnect=false";

    public bool IsRunning => _process is { HasExited: false };

    public static async Task<RedisServer> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("shipbot-redis-").FullName;
        var server = new RedisServer(FreePort(), directory);
        await server.StartAgainAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>Starts a server with extra <c>redis-server</c> arguments (for example <c>--replicaof 127.0.0.1 6379</c>), on <paramref name="port"/> or a free one.</summary>
    public static async Task<RedisServer> StartAsync(int? port, params string[] extraArguments)
    {
        var directory = Directory.CreateTempSubdirectory("shipbot-redis-").FullName;
        var server = new RedisServer(port ?? FreePort(), directory, extraArguments);
        await server.StartAgainAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>Starts (again) on the same port and directory; the data written before a stop is back.</summary>
    public async Task StartAgainAsync()
    {
        var binary = File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _directory, "--save", string.Empty, "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no" }.Concat(_extraArguments))
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not installed: run the README's test command (bash scripts/test.sh), which installs it.", ex);
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                await using var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray()).ConfigureAwait(false);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer).ConfigureAwait(false);
                if (read > 0 && buffer[0] == (byte)'+')
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

        throw new TimeoutException($"redis-server did not answer on port {Port}");
    }

    /// <summary>Stops the server abruptly (SIGKILL); with appendfsync always every acknowledged write is already on disk.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: false);
            await p.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
