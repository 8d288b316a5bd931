using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Host.Api;
using ShipBot.InMemory;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Api;

/// <summary>The long poll's waiting on its clock: it reads the store until the state, an end or the timeout, and time only moves when the test moves it.</summary>
public sealed class ReleaseWaitTests
{
    private static readonly ReleaseId Id = new("demo", "1.0.0");

    [Fact]
    public async Task WaitAsync_StateNeverReached_AnswersWhenTheClockPassesTheTimeout()
    {
        var (store, time) = await CreateSutAsync();

        var waiting = ReleaseWriteApi.WaitAsync(store, Id, ReleaseState.Canary, TimeSpan.FromSeconds(10), time);

        var advanced = await time.DriveAsync(waiting, () => true, ReleaseWriteApi.PollInterval, TimeSpan.FromMinutes(5));

        // It cannot answer before its deadline on the clock, and it answers with the state it found.
        Assert.True(advanced >= TimeSpan.FromSeconds(10), $"answered after {advanced}");
        Assert.Equal(ReleaseState.Draft, (await waiting)?.State);
    }

    [Fact]
    public async Task WaitAsync_ReleaseEnds_AnswersAtTheNextReadWithTheEnd()
    {
        var (store, time) = await CreateSutAsync();
        var waiting = ReleaseWriteApi.WaitAsync(store, Id, ReleaseState.Operating, TimeSpan.FromSeconds(120), time);
        var draft = (await store.GetAsync(Id))!;
        var aborted = draft.Abort(new Person("alice", "alice"), "wrong build", time.GetUtcNow());
        Assert.True(await store.TrySaveAsync(aborted.Next, draft.Revision, []));

        await time.DriveAsync(waiting, () => true, ReleaseWriteApi.PollInterval, TimeSpan.FromSeconds(120));

        Assert.Equal(ReleaseState.Aborted, (await waiting)?.State);
    }

    [Theory]
    [InlineData(ReleaseState.Canary, ReleaseState.Canary, true)]
    [InlineData(ReleaseState.Full, ReleaseState.Canary, true)]
    [InlineData(ReleaseState.Staging, ReleaseState.Canary, false)]
    [InlineData(ReleaseState.Paused, ReleaseState.Canary, false)]
    [InlineData(ReleaseState.RollingBack, ReleaseState.Full, false)]
    [InlineData(ReleaseState.RolledBack, ReleaseState.Full, true)]
    [InlineData(ReleaseState.Paused, ReleaseState.Paused, true)]
    public void Reached_StateAgainstTheWantedOne_MainLineOrderAndEnds(ReleaseState state, ReleaseState wanted, bool expected) =>
        Assert.Equal(expected, ReleaseWriteApi.Reached(state, wanted));

    private static async Task<(InMemoryReleaseStore Store, FakeTimeProvider Time)> CreateSutAsync()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
        var store = new InMemoryReleaseStore(time);
        var contract = new ReleaseContract(["a change"], "notes", "rollback", [], []);
        var created = Release.Create(Id, ReleaseKind.Standard, new Person("alice", "alice"), new Conversation("console", "releases"), new ServicePolicy { Name = "demo" }, contract, null, time.GetUtcNow());
        await store.TryCreateAsync(created.Next, []);
        return (store, time);
    }
}
