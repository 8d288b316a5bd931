using System.Collections.Concurrent;
using System.Reflection;
using NSubstitute;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>
/// How many store calls one command makes. When one store keeps releases and request ids (both stores ShipBot
/// ships): the claim reads the release and the halts in the same call, then one save also keeps the answer. With
/// separate stores: the claim, one read of the release, the halts read once, one save.
/// </summary>
public sealed partial class ReleaseCoordinatorTests
{
    [Fact]
    public async Task HandleAsync_ResumeWithARequestIdOnOneStore_TheClaimReadsTheReleaseAndHaltsThenOneSave()
    {
        var calls = new StoreCalls();
        var sut = new CoordinatorHarness(decorateStore: calls.WrapBoth);
        var id = await sut.ToCanaryBakeAsync();
        await sut.SendAsync(Alice, $"/ship pause {id}", "pause-1");
        calls.Clear();

        var reply = await sut.SendAsync(Alice, $"/ship resume {id}", "resume-1");

        Assert.True(reply.Changed);
        Assert.Equal(1, calls.Of(nameof(IIdempotencyStore.TryClaimAndReadAsync)));
        Assert.Equal(1, calls.Of(nameof(IReleaseStore.TrySaveAsync)));
        Assert.Equal(2, calls.Total);
    }

    [Fact]
    public async Task OnTimerAsync_QuietEvaluationOnOneStore_TheReadTakesTheLeaseAndTheReadingsBringTheHalts()
    {
        var calls = new StoreCalls();
        var sut = new CoordinatorHarness(decorateStore: calls.WrapBoth);
        var id = await sut.ToCanaryBakeAsync();
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);
        var revision = (await sut.GetAsync(id)).Revision;
        Assert.Equal(ShipBot.Core.Releases.ReleaseState.Canary, (await sut.GetAsync(id)).State);
        calls.Clear();

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);

        Assert.Equal(1, calls.Of(nameof(ILeaseStore.ReadForEvaluationAsync)));
        Assert.Equal(1, calls.Of(nameof(IReleaseStore.SetLatestHealthAsync)));
        Assert.Equal(2, calls.Total);
        Assert.Equal(revision, (await sut.GetAsync(id)).Revision);
    }

    [Fact]
    public async Task OnTimerAsync_QuietEvaluationOfAHaltedService_TheCardShowsTheHaltReadWithTheReadings()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);
        Assert.DoesNotContain("Promotion is blocked", CardText(sut, id), StringComparison.Ordinal);

        // Set behind the coordinator's back (another replica): only the readings' write can have read it.
        Assert.True(await sut.Store.TrySetHaltAsync(new ServiceHalt("demo", "latency spike", "carol", sut.Time.GetUtcNow())));
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);

        Assert.Contains("Promotion is blocked: demo is halted (latency spike)", CardText(sut, id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTimerAsync_HaltSetWhileTheHealthSourceIsAsked_TheGreenEvaluationDoesNotPromote()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);
        var healthy = await sut.Health.ReadAsync(new HealthQuery("demo", "1.0.0", "Canary", 5, []), CancellationToken.None);
        sut.Health.ReadAsync(Arg.Any<HealthQuery>(), Arg.Any<CancellationToken>()).Returns(async _ =>
        {
            // Another replica's /ship halt lands while this evaluation waits for its readings.
            await sut.Store.TrySetHaltAsync(new ServiceHalt("demo", "latency spike", "carol", sut.Time.GetUtcNow()));
            return healthy;
        });

        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.HealthEvaluation);

        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
        Assert.Contains("Promotion is blocked: demo is halted (latency spike)", CardText(sut, id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandleAsync_ClickOnOneStore_TheGuardAndTheHandlerJudgeTheOneOpeningRead()
    {
        var calls = new StoreCalls();
        var sut = new CoordinatorHarness(decorateStore: calls.WrapBoth);
        var id = await sut.ToCanaryBakeAsync();
        var pause = Button(sut.LastCard(id), "pause");
        calls.Clear();

        var reply = await sut.Coordinator.HandleAsync(ClickOf(Alice, $"card:{id}", pause));

        Assert.True(reply.Changed, reply.Text);
        Assert.Equal(1, calls.Of(nameof(IIdempotencyStore.TryClaimAndReadAsync)));
        Assert.Equal(0, calls.Of(nameof(IReleaseStore.GetAsync)));
        Assert.Equal(1, calls.Of(nameof(IReleaseStore.TrySaveAsync)));
    }

    [Fact]
    public async Task HandleAsync_ResumeWithARequestIdOnSeparateStores_ClaimThenOneReadOfTheReleaseHaltsReadOnceOneSave()
    {
        var calls = new StoreCalls();
        var sut = new CoordinatorHarness(decorateStore: calls.Wrap);
        var id = await sut.ToCanaryBakeAsync();
        await sut.SendAsync(Alice, $"/ship pause {id}", "pause-1");
        calls.Clear();

        var reply = await sut.SendAsync(Alice, $"/ship resume {id}", "resume-1");

        Assert.True(reply.Changed);
        Assert.Equal(1, calls.Of(nameof(IReleaseStore.GetAsync)));
        Assert.Equal(1, calls.Of(nameof(IReleaseStore.GetHaltsAsync)));
        Assert.Equal(1, calls.Of(nameof(IReleaseStore.TrySaveAsync)));
    }

    [Fact]
    public async Task HandleAsync_ResumeOfAHaltedServiceOnOneStore_RefusedOnTheHaltTheClaimRead()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.SendAsync(Alice, $"/ship pause {id}", "pause-1");
        await sut.SendAsync(Carol, "/ship halt demo checkout latency spike", "halt-1");
        var halted = await sut.GetAsync(id);

        var reply = await sut.SendAsync(Alice, $"/ship resume {id}", "resume-1");

        Assert.False(reply.Changed);
        Assert.Contains("halted", reply.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(halted.Revision, (await sut.GetAsync(id)).Revision);
    }

    [Fact]
    public async Task HandleAsync_OneStepCommandRepeated_TheAnswerKeptByItsSaveServesTheDuplicate()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        var first = await sut.SendAsync(Alice, $"/ship pause {id}", "pause-1");
        var version = (await sut.GetAsync(id)).Revision;

        var duplicate = await sut.SendAsync(Alice, $"/ship pause {id}", "pause-1");

        Assert.Equal(first, duplicate);
        Assert.Equal(version, (await sut.GetAsync(id)).Revision);
        Assert.Equal(first.Text, (await ((IIdempotencyStore)sut.Store).GetAsync($"console:alice:pause-1")) is { } kept && kept.Contains(first.Text, StringComparison.Ordinal) ? first.Text : null);
    }

    [Fact]
    public async Task HandleAsync_HaltThenUnhaltInLaterCommands_EachCardShowsTheHaltsAsTheyAreNow()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        await sut.SendAsync(Carol, "/ship halt demo checkout latency spike", "halt-1");
        Assert.Contains("demo halted — unhalt first", CardText(sut, id), StringComparison.Ordinal);

        await sut.SendAsync(Carol, "/ship unhalt demo latency back to normal", "unhalt-1");
        Assert.DoesNotContain("unhalt first", CardText(sut, id), StringComparison.Ordinal);
    }

    private static string CardText(CoordinatorHarness sut, ShipBot.Core.Releases.ReleaseId id) =>
        System.Text.Json.JsonSerializer.Serialize(sut.LastCard(id).Card, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>Counts the calls made through an <see cref="IReleaseStore"/>, by method name.</summary>
    private sealed class StoreCalls
    {
        private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

        /// <summary>A release store only: request ids go to the harness's own store.</summary>
        public IReleaseStore Wrap(IReleaseStore inner)
        {
            var proxy = DispatchProxy.Create<IReleaseStore, CountingProxy>();
            ((CountingProxy)(object)proxy).Attach(inner, _calls);
            return proxy;
        }

        /// <summary>One store for releases, request ids and leases, as ShipBot's own stores are.</summary>
        public IReleaseStore WrapBoth(IReleaseStore inner)
        {
            var proxy = DispatchProxy.Create<IReleaseAndRequestStore, CountingProxy>();
            ((CountingProxy)(object)proxy).Attach(inner, _calls);
            return proxy;
        }

        public int Of(string method) => _calls.TryGetValue(method, out var n) ? n : 0;

        public int Total => _calls.Values.Sum();

        public void Clear() => _calls.Clear();
    }

    public interface IReleaseAndRequestStore : IReleaseStore, IIdempotencyStore, ILeaseStore;

    public class CountingProxy : DispatchProxy
    {
        private IReleaseStore? _inner;
        private ConcurrentDictionary<string, int>? _calls;

        internal void Attach(IReleaseStore inner, ConcurrentDictionary<string, int> calls)
        {
            _inner = inner;
            _calls = calls;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            _calls!.AddOrUpdate(targetMethod.Name, 1, (_, n) => n + 1);
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }
    }
}
