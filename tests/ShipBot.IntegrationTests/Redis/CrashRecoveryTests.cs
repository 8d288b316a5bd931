using System.Diagnostics;
using ShipBot.Core.Releases;
using ShipBot.Redis;
using ShipBot.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>Durability: kill -9 mid-bake, restart, the rollout continues from its last committed state.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const string Release = "demo@1.0.0";

    [Fact]
    public async Task KilledMidCanaryBake_RestartedProcessContinuesFromRedis_EachStagePromotedExactlyOnce()
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisServer.StartAsync();
        var prefix = $"crash-{Guid.NewGuid():N}";

        // A longer canary bake, so the kill surely lands inside it.
        var settings = new Dictionary<string, string?> { ["ShipBot:Services:demo:Stages:0:Bake"] = "00:00:05" };
        await using var a = await ShipBotProcess.StartAsync("A", redis, prefix, settings);
        await RedisScenario.StartAndConfirmAsync(a, a, "1.0.0");
        await RedisScenario.ApproveAsync(a, Release);

        // The 5 % deployment is applied and recorded: the canary bake is running. Kill -9 now.
        var canary = await a.WaitForAuditAsync(Release, RedisScenario.Deployed(5), "the canary deployment recorded");
        Assert.Equal("Canary", canary["state"]!.GetValue<string>());
        await a.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: A killed in Canary");

        // What Redis holds with no ShipBot running: Canary, 5 % applied, bake not over.
        Release stored;
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            var store = new RedisReleaseStore(connection, new RedisStoreOptions { KeyPrefix = prefix }, TimeProvider.System);
            stored = await store.GetAsync(new ReleaseId("demo", "1.0.0")) ?? throw new InvalidOperationException("the release is not in Redis");
        }

        Assert.Equal(ReleaseState.Canary, stored.State);
        Assert.Equal(0, stored.StageIndex);
        Assert.Null(stored.PendingDeployment);
        Assert.True(stored.BakeEndsAt > killedAt, $"the kill should land mid-bake (bake ends {stored.BakeEndsAt:HH:mm:ss.fff}, killed {killedAt:HH:mm:ss.fff})");

        // B: a fresh process on the same Redis and prefix rebuilds the timers and carries on.
        await using var b = await ShipBotProcess.StartAsync("B", redis, prefix, settings);
        var first = await b.ReleaseAsync(Release);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: B up, sees {first["state"]}");
        Assert.True(
            first["state"]!.GetValue<string>() == "Canary" || DateTimeOffset.UtcNow >= stored.BakeEndsAt,
            $"B must read the committed Canary state while the bake runs.\n{ShipBotProcess.Describe(first)}\n{b.Log()}");
        Assert.True(first["stageIndex"]!.GetValue<int>() >= 0, $"B must not go back before Canary.\n{b.Log()}");

        await b.WaitForStateAsync(Release, "Validating");
        await RedisScenario.VerifyAsync(b, Release);
        var operating = await b.WaitForStateAsync(Release, "Operating");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: Operating on B");

        Assert.Contains("Recovered the timers of 1 active release(s)", b.Log(), StringComparison.Ordinal);
        foreach (var note in RedisScenario.AssertEachStepExactlyOnce(operating, b.Log()))
        {
            output.WriteLine(note);
        }

        Assert.Single(ShipBotProcess.Audit(operating), e => RedisScenario.Is(e, "HandedOver"));

        // Every promotion after Canary was made after A died, i.e. by B from the state in Redis.
        var later = ShipBotProcess.Audit(operating).Where(e => RedisScenario.Is(e, "Promoted") && !RedisScenario.DetailContains(e, "starts Canary"));
        Assert.All(later, e => Assert.True(e["at"]!.GetValue<DateTimeOffset>() >= killedAt, $"promoted before the kill: {e["detail"]}"));
    }
}
