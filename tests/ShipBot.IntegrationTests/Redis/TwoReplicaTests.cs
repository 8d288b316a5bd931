using System.Diagnostics;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>High availability: two replicas on one Redis, each transition exactly once; losing a replica loses nothing.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class TwoReplicaTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoReplicasOnOneRedis_ConcurrentClicksAndTimers_MakeEachTransitionOnce_AndTheSurvivorFinishesAfterAKill()
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisServer.StartAsync();
        var prefix = $"replicas-{Guid.NewGuid():N}";

        // A canary bake long enough that the kill of A below lands inside it (not during a deployment call).
        var settings = new Dictionary<string, string?> { ["ShipBot:Services:demo:Stages:0:Bake"] = "00:00:04" };
        await using var a = await ShipBotProcess.StartAsync("A", redis, prefix, settings);
        await using var b = await ShipBotProcess.StartAsync("B", redis, prefix, settings);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: A and B up");

        // Started on A, confirmed on B, approved by bob on both at once (different request ids).
        const string First = "demo@1.0.0";
        await RedisScenario.StartAndConfirmAsync(a, b, "1.0.0");
        var replies = await Task.WhenAll(a.SayAsync("bob", $"/ship approve {First}"), b.SayAsync("bob", $"/ship approve {First}"));
        var texts = replies.Select(RedisScenario.Text).ToList();
        var context = $"replies: {string.Join(" | ", texts)}\n{a.Log()}\n{b.Log()}";
        Assert.True(texts.Count(t => t.Contains("goes to staging", StringComparison.Ordinal)) == 1, $"exactly one approval should win. {context}");
        Assert.True(texts.Count(t => t.Contains("already approved by @bob", StringComparison.Ordinal)) == 1, $"the loser is told. {context}");
        var approved = await a.ReleaseAsync(First);
        Assert.Single(approved["approvals"]!.AsArray());
        Assert.Single(ShipBotProcess.Audit(approved), e => RedisScenario.Is(e, "Approved"));
        Assert.Single(ShipBotProcess.Audit(approved), e => RedisScenario.Is(e, "StagingStarted"));

        // Both replicas tick every second and both may fire the promotion timers.
        await b.WaitForStateAsync(First, "Validating");
        await RedisScenario.VerifyAsync(b, First);
        var operating = await a.WaitForStateAsync(First, "Operating");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {First} Operating");
        foreach (var note in RedisScenario.AssertEachStepExactlyOnce(operating, $"{a.Log()}\n{b.Log()}"))
        {
            output.WriteLine(note);
        }

        Assert.Single(ShipBotProcess.Audit(operating), e => RedisScenario.Is(e, "HandedOver"));

        // A second release (the service lock is free once the first operates), driven by A; A dies mid-canary-bake.
        const string Second = "demo@1.0.1";
        var logBefore = b.Output.Length;
        await RedisScenario.StartAndConfirmAsync(a, a, "1.0.1");
        await RedisScenario.ApproveAsync(a, Second);
        await b.WaitForAuditAsync(Second, RedisScenario.Deployed(5), "the canary deployment recorded");
        await a.KillAsync();
        var killedAt = DateTimeOffset.UtcNow;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: A killed with {Second} in Canary");

        // B alone: its sweep armed A's release, its recurring tick promotes.
        Assert.True(
            b.Output[logBefore..].Contains("Armed the timers of 1 release(s) started or left by another replica", StringComparison.Ordinal),
            $"B's sweep should have armed {Second}, which only A knew.\n{b.Log()}");
        await b.WaitForStateAsync(Second, "Validating");
        await RedisScenario.VerifyAsync(b, Second);
        var survivor = await b.WaitForStateAsync(Second, "Operating");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {Second} Operating on B alone");
        foreach (var note in RedisScenario.AssertEachStepExactlyOnce(survivor, b.Log()))
        {
            output.WriteLine(note);
        }

        Assert.Single(ShipBotProcess.Audit(survivor), e => RedisScenario.Is(e, "HandedOver"));
        var afterKill = ShipBotProcess.Audit(survivor).Where(e => RedisScenario.Is(e, "Promoted") && !RedisScenario.DetailContains(e, "starts Canary"));
        Assert.All(afterKill, e => Assert.True(e["at"]!.GetValue<DateTimeOffset>() >= killedAt, $"promoted before A died: {e["detail"]}"));
    }
}
