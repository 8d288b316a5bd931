using System.Diagnostics;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>
/// ShipBot on a real three-primary Redis Cluster: every key shares the hash tag <c>{prefix}</c>,
/// so the Lua scripts that write a release, its audit, the lock and the indexes together run on
/// the one node that owns that slot. A whole rollout runs, and a second release rolls back.
/// </summary>
[Collection(RedisProcessCollection.Name)]
public sealed class ClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreePrimaryCluster_RolloutToOperatingAndABreachRollback_AllOnTheSlotOwner()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await RedisClusterSet.StartAsync();
        var prefix = $"cluster-{Guid.NewGuid():N}";
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: cluster of {string.Join(", ", cluster.Nodes.Select(n => n.Port))}");
        await using var host = await ShipBotProcess.StartAsync("C", cluster.Nodes[0], prefix, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = cluster.ConnectionString,
        });

        using (var ready = await host.Http.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.True(ready.IsSuccessStatusCode, $"{await ready.Content.ReadAsStringAsync()}\n{host.Log()}");
        }

        await RedisScenario.StartAndConfirmAsync(host, host, "1.0.0");
        await RedisScenario.ApproveAsync(host, "demo@1.0.0");
        await host.WaitForStateAsync("demo@1.0.0", "Validating");
        await RedisScenario.VerifyAsync(host, "demo@1.0.0");
        var operating = await host.WaitForStateAsync("demo@1.0.0", "Operating");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: demo@1.0.0 Operating");
        foreach (var note in RedisScenario.AssertEachStepExactlyOnce(operating, host.Log()))
        {
            output.WriteLine(note);
        }

        await host.WaitForStateAsync("demo@1.0.0", "Completed");
        await RedisScenario.StartAndConfirmAsync(host, host, "1.0.1");
        await RedisScenario.ApproveAsync(host, "demo@1.0.1");
        await host.WaitForStateAsync("demo@1.0.1", "Canary");
        await host.SayAsync("carol", "/ship simulate demo error_rate 0.2");
        await host.WaitForStateAsync("demo@1.0.1", "RolledBack");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: demo@1.0.1 rolled back");

        // Everything ShipBot wrote lives on the node that owns the prefix's slot, and nowhere else.
        var owner = await cluster.NodeForAsync($"{{{prefix}}}:active");
        foreach (var node in cluster.Nodes)
        {
            var keys = await RedisCli.RunAsync(node.Port, "--scan", "--pattern", $"{{{prefix}}}:*");
            var count = keys.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            output.WriteLine($"node {node.Port}: {count} key(s)");
            Assert.True(node == owner ? count > 5 : count == 0, $"node {node.Port} holds {count} of ShipBot's keys (slot owner: {owner.Port})");
        }
    }
}
