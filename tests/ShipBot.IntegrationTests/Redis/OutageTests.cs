using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ShipBot.Testing;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Redis;

/// <summary>Faults: a Redis outage mid-rollout is surfaced clearly, changes nothing, and the rollout resumes by itself.</summary>
[Collection(RedisProcessCollection.Name)]
public sealed class OutageTests(ITestOutputHelper output)
{
    private const string Release = "demo@1.0.0";
    private const string Unavailable = "State store unavailable — nothing was changed, try again.";

    [Fact]
    public async Task RedisStoppedMidRollout_CommandsGetClearErrorsAndChangeNothing_RolloutCompletesWhenRedisIsBack()
    {
        var clock = Stopwatch.StartNew();
        await using var redis = await RedisServer.StartAsync();
        var prefix = $"outage-{Guid.NewGuid():N}";
        await using var host = await ShipBotProcess.StartAsync("P", redis, prefix);
        await RedisScenario.StartAndConfirmAsync(host, host, "1.0.0");
        await RedisScenario.ApproveAsync(host, Release);
        await host.WaitForAuditAsync(Release, RedisScenario.Deployed(5), "the canary deployment recorded");
        using (var ready = await host.Http.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await redis.StopAsync();
        var stoppedAt = DateTimeOffset.UtcNow;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: redis-server stopped in Canary");

        foreach (var command in new[] { $"/ship pause {Release}", $"/ship status {Release}" })
        {
            var watch = Stopwatch.StartNew();
            var reply = await host.SayAsync("alice", command);
            output.WriteLine($"'{command}' answered in {watch.ElapsedMilliseconds} ms: {RedisScenario.Text(reply)}");
            Assert.True(reply["visibility"]?.GetValue<string>() == "ephemeral", $"'{command}': {ShipBotHost.Text(reply)}\n{host.Log()}");
            Assert.True(RedisScenario.Text(reply) == Unavailable, $"'{command}': {ShipBotHost.Text(reply)}\n{host.Log()}");
        }

        using (var notReady = await host.Http.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            var body = await notReady.Content.ReadAsStringAsync();
            output.WriteLine($"/readyz during the outage: {(int)notReady.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            var ready = JsonNode.Parse(body)!;
            Assert.Equal("not ready", ready["status"]!.GetValue<string>());
            Assert.Equal("unhealthy", ready["checks"]!["store"]!["status"]!.GetValue<string>());
            Assert.Equal("healthy", ready["checks"]!["scheduler"]!["status"]!.GetValue<string>());
        }

        // Keep Redis down until the canary's promotion timer has come due and failed on the store, so
        // the rollout has really been stalled by the outage and must resume by itself.
        await WaitForLogAsync(host, $"Timer Promotion of {Release} could not reach the store");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: the promotion timer failed on the store");

        await redis.StartAgainAsync();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: redis-server started again");
        await WaitUntilReadyAsync(host);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: /readyz 200 again");

        // The failed pause changed nothing: not paused, nothing of alice's was recorded during the outage.
        var after = await host.ReleaseAsync(Release);
        Assert.NotEqual("Paused", after["state"]!.GetValue<string>());
        Assert.DoesNotContain(ShipBotProcess.Audit(after), e => RedisScenario.Is(e, "Paused") || RedisScenario.Is(e, "refused pause"));
        Assert.DoesNotContain(ShipBotProcess.Audit(after), e => e["actor"]!.GetValue<string>() == "alice" && e["at"]!.GetValue<DateTimeOffset>() >= stoppedAt);

        // Without anyone doing anything, the rollout carries on to validation; then to operations.
        await host.WaitForStateAsync(Release, "Validating");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: Validating");
        await RedisScenario.VerifyAsync(host, Release);
        var operating = await host.WaitForStateAsync(Release, "Operating");
        foreach (var note in RedisScenario.AssertEachStepExactlyOnce(operating, host.Log()))
        {
            output.WriteLine(note);
        }
    }

    private static async Task WaitForLogAsync(ShipBotProcess host, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!host.Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the log never said '{text}'.\n{host.Log()}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilReadyAsync(ShipBotProcess host)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await host.Http.GetAsync(new Uri("/readyz", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            await Task.Delay(200);
        }

        throw new TimeoutException($"/readyz did not answer 200 within 60 s after Redis came back; last: {last}\n{host.Log()}");
    }
}
