using System.Diagnostics;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>
/// Redis high availability: a real primary, a replica and three Sentinels. ShipBot connects
/// through the Sentinels and waits for one replica to confirm every durable write
/// (<c>ShipBot:Redis:WaitForReplicas = 1</c>) before it acknowledges anything. The primary is
/// SIGKILLed mid-rollout: ShipBot follows the promoted replica, the rollout completes, and every
/// command and approval ShipBot acknowledged is still there — including each request id's stored
/// answer, so a retried delivery after the failover is answered the same and changes nothing.
/// </summary>
[Collection(RedisProcessCollection.Name)]
public sealed class SentinelFailoverTests(ITestOutputHelper output)
{
    private const string Release = "demo@1.0.0";
    private const string Unavailable = "State store unavailable";

    [Fact]
    public async Task PrimaryKilledMidRollout_ShipBotFollowsThePromotedReplica_RolloutCompletesWithEveryAcknowledgedCommand()
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisSentinelSet.StartAsync();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: primary {redis.FirstPrimary.Port}, replica {redis.FirstReplica.Port}, sentinels {string.Join(", ", redis.SentinelPorts)}");
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["ShipBot:Redis:WaitForReplicas"] = "1",
            ["ShipBot:Redis:MaxRetries"] = "2",
            ["ShipBot:Services:demo:Stages:0:Bake"] = "00:00:08",
        };
        await using var host = await ShipBotProcess.StartAsync("S", redis.FirstPrimary, $"sentinel-{Guid.NewGuid():N}", settings);

        await RedisScenario.StartAndConfirmAsync(host, host, "1.0.0");
        var approved = await host.SayAsync("bob", $"/ship approve {Release}", requestId: "approve-before-failover");
        Assert.Contains("goes to staging", RedisScenario.Text(approved), StringComparison.Ordinal);
        var acknowledged = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var text = $"before-failover-{i}";
            var reply = await host.SayAsync("carol", $"/ship signal customer {Release} {text}");
            Assert.Contains("signal recorded", RedisScenario.Text(reply), StringComparison.Ordinal);
            acknowledged.Add(text);
        }

        await host.WaitForAuditAsync(Release, RedisScenario.Deployed(5), "the canary deployment recorded");
        await redis.KillPrimaryAsync();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: primary SIGKILLed in Canary");

        // Commands go on while the Sentinels fail over: each is either acknowledged (and must survive) or refused as unavailable.
        var refused = 0;
        var failover = redis.WaitForFailoverAsync(TimeSpan.FromSeconds(60));
        var restarted = false;
        for (var i = 0; !restarted || i < 40; i++)
        {
            var text = $"during-failover-{i}";
            var reply = RedisScenario.Text(await host.SayAsync("carol", $"/ship signal customer {Release} {text}"));
            if (reply.Contains("signal recorded", StringComparison.Ordinal))
            {
                acknowledged.Add(text);
            }
            else
            {
                Assert.True(reply.StartsWith(Unavailable, StringComparison.Ordinal), $"'{reply}'\n{host.Log()}");
                refused++;
            }

            if (failover.IsCompleted && !restarted)
            {
                await failover;
                output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: the Sentinels promoted {redis.FirstReplica.Port}; {refused} command(s) refused so far, {acknowledged.Count} acknowledged");

                // With one replica gone, nothing can be confirmed on a replica: bring the old primary back, as a replica.
                await redis.RestartOldPrimaryAsync(TimeSpan.FromSeconds(60));
                restarted = true;
                output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: the old primary is back as a replica of {await redis.PrimaryPortAsync()}");
            }

            await Task.Delay(100);
        }

        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {acknowledged.Count} signal commands acknowledged, {refused} refused as unavailable");

        // A retried delivery of the approval after the failover gets the first answer and changes nothing.
        var retried = await host.SayAsync("bob", $"/ship approve {Release}", requestId: "approve-before-failover");
        Assert.Equal(RedisScenario.Text(approved), RedisScenario.Text(retried));

        await host.WaitForStateAsync(Release, "Validating", TimeSpan.FromSeconds(120));
        await RedisScenario.VerifyAsync(host, Release);
        var operating = await host.WaitForStateAsync(Release, "Operating", TimeSpan.FromSeconds(60));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: Operating on the promoted primary {await redis.PrimaryPortAsync()}");

        Assert.Equal(redis.FirstReplica.Port, await redis.PrimaryPortAsync());
        Assert.Equal(["bob"], operating["approvals"]!.AsArray().Select(a => a!.GetValue<string>()));
        var audit = ShipBotProcess.Audit(operating);
        foreach (var text in acknowledged)
        {
            Assert.True(audit.Count(e => RedisScenario.Is(e, "signal") && RedisScenario.DetailEndsWith(e, $": {text}")) == 1, $"acknowledged signal '{text}' is missing or doubled.\n{ShipBotProcess.Describe(operating)}");
        }

        Assert.Single(audit, e => RedisScenario.Is(e, "Approved"));
        foreach (var note in RedisScenario.AssertEachStepExactlyOnce(operating, host.Log()))
        {
            output.WriteLine(note);
        }
    }
}
