using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ShipBot.Testing;

/// <summary>
/// A real three-primary Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c>
/// joined by <c>redis-cli --cluster create</c> (no replicas). Each node also needs its cluster bus
/// port (its port + 10000) free.
/// </summary>
public sealed class RedisClusterSet : IAsyncDisposable
{
    private readonly List<RedisServer> _nodes;

    private RedisClusterSet(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>A StackExchange.Redis configuration string naming every node (short timeouts for tests).</summary>
    public string ConnectionString =>
        string.Join(',', _nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000,abortConnect=false";

    public static async Task<RedisClusterSet> StartAsync()
    {
        var nodes = new List<RedisServer>();
        var set = new RedisClusterSet(nodes);
        try
        {
            foreach (var port in ClusterPorts(3))
            {
                nodes.Add(await RedisServer.StartAsync(port, "--cluster-enabled", "yes", "--cluster-config-file", $"nodes-{port}.conf", "--cluster-node-timeout", "2000").ConfigureAwait(false));
            }

            await RedisCli.RunAsync(nodes[0].Port, ["--cluster", "create", .. nodes.Select(n => $"127.0.0.1:{n.Port}"), "--cluster-replicas", "0", "--cluster-yes"]).ConfigureAwait(false);
            foreach (var node in nodes)
            {
                await RedisCli.WaitForAsync(node.Port, r => r.Contains("cluster_state:ok", StringComparison.Ordinal) && r.Contains("cluster_known_nodes:3", StringComparison.Ordinal),
                    $"node {node.Port} sees a healthy cluster", TimeSpan.FromSeconds(60), "CLUSTER", "INFO").ConfigureAwait(false);
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The node that serves <paramref name="key"/>'s hash slot.</summary>
    public async Task<RedisServer> NodeForAsync(string key)
    {
        var slot = int.Parse(await RedisCli.RunAsync(_nodes[0].Port, "CLUSTER", "KEYSLOT", key).ConfigureAwait(false), CultureInfo.InvariantCulture);
        foreach (var node in _nodes)
        {
            if (int.Parse(await RedisCli.RunAsync(node.Port, "CLUSTER", "COUNTKEYSINSLOT", slot.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0)
            {
                return node;
            }
        }

        throw new InvalidOperationException($"no node holds keys of slot {slot} ({key})");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Free ports whose cluster bus ports (+10000) are free too.</summary>
    private static IEnumerable<int> ClusterPorts(int count)
    {
        var found = new List<int>();
        for (var attempt = 0; found.Count < count && attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(20000, 50000);
            if (!found.Contains(port) && IsFree(port) && IsFree(port + 10000))
            {
                found.Add(port);
            }
        }

        return found.Count == count ? found : throw new InvalidOperationException("no free port pairs for the cluster");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
