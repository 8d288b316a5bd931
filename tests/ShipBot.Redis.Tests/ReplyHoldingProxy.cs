using System.Net;
using System.Net.Sockets;

namespace ShipBot.Redis.Tests;

/// <summary>
/// A loopback TCP proxy in front of redis-server that can hold back the server's replies while
/// still passing commands through: a command then runs on the server, but the client times out
/// waiting for its answer. That is the one failure a retry cannot tell apart from "not run".
/// </summary>
public sealed class ReplyHoldingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _open = NewOpenGate();
    private int _scripts;

    private ReplyHoldingProxy(int serverPort) => _serverPort = serverPort;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string ConnectionString => $"127.0.0.1:{Port},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000,abortConnect=false";

    /// <summary>Scripts (EVAL or EVALSHA) the client has sent through the proxy so far.</summary>
    public int ScriptsSent => Volatile.Read(ref _scripts);

    public static ReplyHoldingProxy Start(int serverPort)
    {
        var proxy = new ReplyHoldingProxy(serverPort);
        proxy._listener.Start();
        proxy._pumps.Add(proxy.AcceptAsync());
        return proxy;
    }

    /// <summary>From now on, replies wait (commands still reach the server).</summary>
    public void HoldReplies()
    {
        lock (_gate)
        {
            if (_open.Task.IsCompleted)
            {
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Lets the held replies, and every later one, through.</summary>
    public void ReleaseReplies()
    {
        lock (_gate)
        {
            _open.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseReplies();
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await Task.WhenAll(_pumps);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // the connections end with the proxy
        }

        _stop.Dispose();
    }

    private static int Occurrences(ReadOnlySpan<byte> data, ReadOnlySpan<byte> value)
    {
        var count = 0;
        var offset = 0;
        while (data[offset..].IndexOf(value) is var at and >= 0)
        {
            count++;
            offset += at + 1;
        }

        return count;
    }

    private static TaskCompletionSource NewOpenGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _serverPort, _stop.Token);
            lock (_gate)
            {
                _pumps.Add(PumpAsync(client, server, gated: false));
                _pumps.Add(PumpAsync(server, client, gated: true));
            }
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool gated)
    {
        var buffer = new byte[16 * 1024];
        var carried = Array.Empty<byte>();
        try
        {
            var input = from.GetStream();
            var output = to.GetStream();
            while (true)
            {
                var read = await input.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (!gated)
                {
                    // Count the commands that are scripts; a name split across two reads is still seen once.
                    byte[] seen = [.. carried, .. buffer.AsSpan(0, read)];
                    Interlocked.Add(ref _scripts, Occurrences(seen, "\r\nEVAL"u8) - Occurrences(carried, "\r\nEVAL"u8));
                    carried = seen[Math.Max(0, seen.Length - 5)..];
                }

                if (gated)
                {
                    Task open;
                    lock (_gate)
                    {
                        open = _open.Task;
                    }

                    await open.WaitAsync(_stop.Token);
                }

                await output.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // one side went away
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
