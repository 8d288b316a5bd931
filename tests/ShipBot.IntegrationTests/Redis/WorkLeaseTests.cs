using System.Diagnostics;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>One replica at a time, and one call at a time, calls the deployment target for a release (the work lease).</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class WorkLeaseTests(ITestOutputHelper output)
{
    private const string Release = "demo@1.0.0";

    /// <summary>
    /// A deployment call that takes longer than one tick must still be made once: the recurring tick
    /// of the same replica finds the release still waiting for that deployment (NeedsWork) and must
    /// not call the target again while the first call runs. Deterministic: 2.5 s calls, a tick every second.
    /// </summary>
    [Fact]
    public async Task DeploymentCallSlowerThanTheTick_IsMadeOnce()
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Deployment:SimulatedLatency"] = "00:00:02.500",
            ["ShipBot:Services:demo:StagingBake"] = "00:00:10",
        };
        await using var host = await ShipBotProcess.StartAsync("P", redis, $"lease-{Guid.NewGuid():N}", settings);
        await RedisScenario.StartAndConfirmAsync(host, host, "1.0.0");
        await RedisScenario.ApproveAsync(host, Release);

        // The staging deployment (2.5 s) and the smoke checks, then the (10 s) staging bake. A duplicate call could only have
        // started before the first one ended, and every call takes the target's 2.5 s: watching that long after the smoke
        // checks sees any duplicate finish. (A window set by the system under test, not a wait for something to happen.)
        await host.WaitForAuditAsync(Release, e => RedisScenario.Is(e, "SmokeChecksPassed"), "the staging smoke checks");
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var staged = await host.ReleaseAsync(Release);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: staging done");

        var audit = ShipBotProcess.Audit(staged);
        var calls = audit.Count(e => RedisScenario.Is(e, "deployment call") && RedisScenario.DetailContains(e, "staging at 100 %"));
        var smoke = audit.Count(e => RedisScenario.Is(e, "smoke checks"));
        Assert.True(calls == 1 && smoke == 1, $"staging deployment called {calls} times and smoke checks run {smoke} times, expected once each.\n{ShipBotProcess.Describe(staged)}\n{host.Log()}");
    }
}
