using NSubstitute;
using Quartz;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Testing;

namespace ShipBot.Scheduling.Tests;

/// <summary>The timer job as Quartz runs it: built from the container, calling the real coordinator.</summary>
[Collection(QuartzCollection.Name)]
public sealed class ReleaseTimerJobTests : IAsyncLifetime
{
    private QuartzHarness _harness = null!;

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    public async Task InitializeAsync() => _harness = await QuartzHarness.StartAsync();

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Execute_WorkTimerOfAStartedRelease_RunsReadinessVerification()
    {
        var reply = await _harness.Coordinator.HandleAsync(
            new InboundCommand("req-1", QuartzHarness.Alice, QuartzHarness.Channel, "/ship start demo 2.0.0"));

        Assert.StartsWith("Started demo@2.0.0", reply.Text, StringComparison.Ordinal);
        Assert.True(await Eventually.TrueAsync(_harness.ReadinessWasVerified), "the Work timer scheduled by start should have verified readiness");
        await _harness.Readiness.Received(1).VerifyAsync(Arg.Is<ServicePolicy>(p => p.Name == "demo"), Arg.Any<CancellationToken>());
        Assert.True(await Eventually.TrueAsync(async () => (await _harness.InnerStore.GetAsync(new ReleaseId("demo", "2.0.0")))?.ReadinessChecked == true));
    }

    [Fact]
    public async Task Execute_StoreUnavailable_RearmsTheOneShotTimerThreeSecondsLater()
    {
        var ghost = new ReleaseId("ghost", "store-down");
        _harness.Store.FailReads(ghost, 1);
        var runs = new FireRecorder();
        _harness.Quartz.ListenerManager.AddJobListener(runs, [Matchers.Key(new JobKey("ghost@store-down:Promotion", QuartzReleaseScheduler.Group))]);

        await CreateSut().ScheduleAsync(ghost, TimerKind.Promotion, Now);

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count == 2), "the timer should have been re-armed after the store failure");
        var reads = _harness.Store.ReadsOf(ghost);
        Assert.True(reads[1] - reads[0] >= TimeSpan.FromSeconds(2.8), $"re-run {reads[1] - reads[0]} after the failure");

        // Re-armed for three seconds after the failed run, not later: Quartz's planned time for the second run, however late the machine ran it.
        var fires = runs.Fires;
        Assert.Equal(2, fires.Count);
        Assert.InRange(fires[1].Scheduled, reads[0] + TimeSpan.FromSeconds(2.8), fires[0].Finished + TimeSpan.FromSeconds(3) + TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task Execute_StoreUnavailableOnHealthEvaluation_IsNotRearmed()
    {
        var ghost = new ReleaseId("ghost", "store-down-eval");
        var job = new JobKey("ghost@store-down-eval:HealthEvaluation", QuartzReleaseScheduler.Group);
        _harness.Store.FailReads(ghost, 1);

        await CreateSut().ScheduleAsync(ghost, TimerKind.HealthEvaluation, Now);

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count == 1));
        Assert.True(
            await Eventually.TrueAsync(async () => await _harness.Quartz.GetJobDetail(job) is null),
            "the one-shot evaluation should be gone once it ran; the recurring trigger, not a retry, runs the next one");
        Assert.Single(_harness.Store.ReadsOf(ghost));
    }

    [Fact]
    public async Task Execute_JobDataWithoutValidKind_DoesNotCallTheCoordinator()
    {
        var ghost = new ReleaseId("ghost", "bad-data");
        var sentinel = new ReleaseId("ghost", "sentinel");
        var job = JobBuilder.Create<ReleaseTimerJob>()
            .WithIdentity("bad-data", "test")
            .UsingJobData(ReleaseTimerJob.ReleaseKey, ghost.ToString())
            .UsingJobData(ReleaseTimerJob.KindKey, "NoSuchKind")
            .Build();
        var trigger = TriggerBuilder.Create<ReleaseTimerJob>(TimeProvider.System)
            .WithIdentity("bad-data", "test")
            .StartAt(Now)
            .Build();

        await _harness.Quartz.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing);
        await CreateSut().ScheduleAsync(sentinel, TimerKind.Promotion, Now.AddMilliseconds(300));

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(sentinel).Count == 1));
        Assert.Empty(_harness.Store.ReadsOf(ghost));
    }

    private IReleaseScheduler CreateSut() => _harness.Scheduler;
}
