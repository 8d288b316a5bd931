using System.Text.Json;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.Redis.Tests;

/// <summary>The sequential judge's state stored with the release (source-generated JSON in Redis) comes back with every number.</summary>
public sealed class JudgedReleaseStoreTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task TryCreateAsync_ReleaseWithJudgeState_ReadBackWithTheWholeState()
    {
        var scenario = ReleaseScenario.In(ReleaseState.Canary).Advance(TimeSpan.FromMinutes(3));
        var state = SequentialJudge.Start(new JudgeSettings { Kind = JudgeKind.Sequential }, "Canary", 0, 3, scenario.Release.PhaseStartedAt!.Value);
        var step = SequentialJudge.Observe(state, new JudgeObservation(scenario.Now,
        [
            new MetricCounts(CountMetrics.Errors, 1000, 9, 19_000, 57, state.StartedAt, scenario.Now, "prometheus"),
            new MetricCounts(CountMetrics.SlowRequests, 1000, 10, 19_000, 190, state.StartedAt, scenario.Now, "prometheus"),
        ]));
        scenario.Do((r, now) => r.ApplyJudgement(step, TimeSpan.FromMinutes(15), now));
        var release = scenario.Release with { Id = new ReleaseId("judged", "1.0.0") };
        var store = redis.CreateStore();

        Assert.Equal(CreateOutcome.Created, (await store.TryCreateAsync(release, [])).Outcome);
        var back = await store.GetAsync(release.Id);

        Assert.NotNull(back?.Judge);
        Assert.Equal(JsonSerializer.Serialize(release.Judge), JsonSerializer.Serialize(back.Judge));
        Assert.NotEmpty(back.Judge.Metrics[0].Trace);
    }
}
