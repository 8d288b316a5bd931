using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ShipBot.Testing;

/// <summary>
/// Redis high availability as it runs in production, on loopback: a primary, one replica and three
/// Sentinels (Debian's <c>redis-sentinel</c>, quorum 2) watching the primary as <see cref="Name"/>.
/// Both data servers refuse writes without a connected replica (<c>min-replicas-to-write 1</c>), so
/// nothing is acknowledged that only one server has. <see cref="KillPrimaryAsync"/> is a SIGKILL;
/// the Sentinels then promote the replica (down after 1 s). <see cref="RestartOldPrimaryAsync"/>
/// brings the old primary back, and the Sentinels make it a replica of the new one.
/// </summary>
public sealed class RedisSentinelSet : IAsyncDisposable
{
    public const string Name = "shipbot";
    private static readonly string[] DataArguments = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10", "--repl-diskless-sync", "no"];
    private readonly List<Process> _sentinels = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("shipbot-sentinel-").FullName;
    private readonly StringBuilder _log = new();

    private RedisSentinelSet(RedisServer primary, RedisServer replica)
    {
        FirstPrimary = primary;
        FirstReplica = replica;
    }

    /// <summary>The server that starts as the primary.</summary>
    public RedisServer FirstPrimary { get; }

    /// <summary>The server that starts as the replica (and becomes the primary after a failover).</summary>
    public RedisServer FirstReplica { get; }

    public IReadOnlyList<int> SentinelPorts { get; private set; } = [];

    /// <summary>A StackExchange.Redis configuration string through the Sentinels (short timeouts for tests).</summary>
    public string ConnectionString =>
        string.Join(',', SentinelPorts.Select(p => $"127.0.0.1:{p}")) + $",serviceName={Name},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000,abortConnect=false";

    /// <summary>What the Sentinels logged (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<RedisSentinelSet> StartAsync()
    {
        var primary = await RedisServer.StartAsync(null, DataArguments).ConfigureAwait(false);
        var replica = await RedisServer.StartAsync(null, [.. DataArguments, "--replicaof", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false);
        var set = new RedisSentinelSet(primary, replica);
        try
        {
            await RedisCli.WaitForAsync(primary.Port, r => r.Contains("connected_slaves:1", StringComparison.Ordinal) && r.Contains("state=online", StringComparison.Ordinal),
                "the replica is in sync", TimeSpan.FromSeconds(30), "INFO", "replication").ConfigureAwait(false);
            set.SentinelPorts = [RedisServer.FreePort(), RedisServer.FreePort(), RedisServer.FreePort()];
            foreach (var port in set.SentinelPorts)
            {
                set.StartSentinel(port, primary.Port);
            }

            // Each Sentinel knows the replica and the two other Sentinels (hello messages every 2 s).
            foreach (var port in set.SentinelPorts)
            {
                await RedisCli.WaitForAsync(port, r => r.Contains($"\n{replica.Port}\n", StringComparison.Ordinal) || r.Contains($"127.0.0.1:{replica.Port}", StringComparison.Ordinal),
                    $"sentinel {port} knows the replica", TimeSpan.FromSeconds(30), "SENTINEL", "replicas", Name).ConfigureAwait(false);
                await RedisCli.WaitForAsync(port, r => r.Split('\n').Count(l => l.Trim() == "name") >= 2,
                    $"sentinel {port} knows the other sentinels", TimeSpan.FromSeconds(30), "SENTINEL", "sentinels", Name).ConfigureAwait(false);
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The port the Sentinels name as the primary now.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var reply = await RedisCli.RunAsync(SentinelPorts[0], "SENTINEL", "get-master-addr-by-name", Name).ConfigureAwait(false);
        return int.Parse(reply.Split('\n', StringSplitOptions.TrimEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>SIGKILLs the first primary.</summary>
    public Task KillPrimaryAsync() => FirstPrimary.StopAsync();

    /// <summary>Waits until every Sentinel names the first replica as the primary and it answers as one.</summary>
    public async Task WaitForFailoverAsync(TimeSpan timeout)
    {
        foreach (var port in SentinelPorts)
        {
            await RedisCli.WaitForAsync(port, r => r.EndsWith($"\n{FirstReplica.Port}", StringComparison.Ordinal), $"sentinel {port} names the replica as primary",
                timeout, "SENTINEL", "get-master-addr-by-name", Name).ConfigureAwait(false);
        }

        await RedisCli.WaitForAsync(FirstReplica.Port, r => r.Contains("role:master", StringComparison.Ordinal), "the replica is promoted", timeout, "INFO", "replication").ConfigureAwait(false);
    }

    /// <summary>Starts the old primary again (its data dir kept); the Sentinels turn it into a replica of the new primary. Waits until it is in sync.</summary>
    public async Task RestartOldPrimaryAsync(TimeSpan timeout)
    {
        await FirstPrimary.StartAgainAsync().ConfigureAwait(false);
        await RedisCli.WaitForAsync(FirstReplica.Port, r => r.Contains("connected_slaves:1", StringComparison.Ordinal) && r.Contains("state=online", StringComparison.Ordinal),
            "the old primary is back as a replica in sync", timeout, "INFO", "replication").ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sentinel in _sentinels)
        {
            if (!sentinel.HasExited)
            {
                sentinel.Kill();
                await sentinel.WaitForExitAsync().ConfigureAwait(false);
            }

            sentinel.Dispose();
        }

        await FirstReplica.DisposeAsync().ConfigureAwait(false);
        await FirstPrimary.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    private void StartSentinel(int port, int primaryPort)
    {
        // A Sentinel rewrites its own config file: each gets one in its own directory.
        var directory = Directory.CreateDirectory(Path.Combine(_directory, port.ToString(CultureInfo.InvariantCulture))).FullName;
        var config = Path.Combine(directory, "sentinel.conf");
        File.WriteAllText(config, $"""
            port {port}
            bind 127.0.0.1
            protected-mode no
            daemonize no
            dir {directory}
            sentinel resolve-hostnames no
            sentinel monitor {Name} 127.0.0.1 {primaryPort} 2
            sentinel down-after-milliseconds {Name} 1000
            sentinel failover-timeout {Name} 10000
            sentinel parallel-syncs {Name} 1

            """);
        var binary = File.Exists("/usr/bin/redis-sentinel") ? "/usr/bin/redis-sentinel" : "redis-sentinel";
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(config);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("redis-sentinel did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-sentinel is not installed: run bash scripts/test.sh, which installs Debian's redis-sentinel.", ex);
        }

        process.OutputDataReceived += (_, e) => Append(port, e.Data);
        process.ErrorDataReceived += (_, e) => Append(port, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _sentinels.Add(process);
    }

    private void Append(int port, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Append(port).Append(": ").AppendLine(line);
        }
    }
}
