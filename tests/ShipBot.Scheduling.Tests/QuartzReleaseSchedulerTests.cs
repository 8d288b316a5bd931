using Quartz;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.Scheduling.Tests;

/// <summary>
/// The scheduler port on a real, started Quartz scheduler. A "ghost" release is one the store
/// does not hold: its timer makes the coordinator read it and stop, so its reads count its fires.
/// Absence of a fire is shown by a later sentinel timer having fired, never by a long sleep.
/// </summary>
[Collection(QuartzCollection.Name)]
public sealed class QuartzReleaseSchedulerTests : IAsyncLifetime
{
    private QuartzHarness _harness = null!;

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    public async Task InitializeAsync() => _harness = await QuartzHarness.StartAsync();

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task ScheduleAsync_DueIn200Ms_FiresJobThatRunsTheCoordinator()
    {
        var id = await _harness.CreateDraftAsync("1.0.0");
        var sut = CreateSut();
        var scheduledAt = Now;

        await sut.ScheduleAsync(id, TimerKind.Work, scheduledAt.AddMilliseconds(200));

        Assert.False(_harness.ReadinessWasVerified());
        Assert.True(await Eventually.TrueAsync(_harness.ReadinessWasVerified), "the Work timer should have run readiness verification");
        Assert.True(_harness.Store.ReadsOf(id)[0] >= scheduledAt.AddMilliseconds(150), "the timer fired well before it was due");
        Assert.True(await Eventually.TrueAsync(async () => (await _harness.InnerStore.GetAsync(id))?.ReadinessChecked == true));
    }

    [Fact]
    public async Task ScheduleAsync_SameReleaseAndKindTwice_ReplacesTheFirst()
    {
        var ghost = Ghost("replaced");
        var sentinel = Ghost("sentinel");
        var sut = CreateSut();
        var start = Now;

        await sut.ScheduleAsync(ghost, TimerKind.Promotion, start.AddMilliseconds(200));
        await sut.ScheduleAsync(ghost, TimerKind.Promotion, start.AddMilliseconds(400));
        await sut.ScheduleAsync(sentinel, TimerKind.Promotion, start.AddMilliseconds(900));

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(sentinel).Count == 1));
        var fired = Assert.Single(_harness.Store.ReadsOf(ghost));
        Assert.True(fired >= start.AddMilliseconds(350), "the first (earlier) timer fired instead of the replacement");
    }

    [Fact]
    public async Task ScheduleAsync_TwoKindsOfOneRelease_BothFire()
    {
        var ghost = Ghost("two-kinds");
        var sut = CreateSut();

        await sut.ScheduleAsync(ghost, TimerKind.Promotion, Now.AddMilliseconds(100));
        await sut.ScheduleAsync(ghost, TimerKind.ValidationEnd, Now.AddMilliseconds(100));

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count == 2));
    }

    [Fact]
    public async Task ScheduleAsync_Scheduled_IsKeyedByReleaseAndKindInTheShipBotGroup()
    {
        var ghost = Ghost("keyed");
        var sut = CreateSut();
        var due = Now.AddMinutes(10);

        await sut.ScheduleAsync(ghost, TimerKind.DecisionTimeout, due);

        var trigger = await _harness.Quartz.GetTrigger(new TriggerKey("ghost@keyed:DecisionTimeout", QuartzReleaseScheduler.Group));
        Assert.NotNull(trigger);
        Assert.Equal(due.ToUnixTimeMilliseconds(), trigger.NextFireTimeUtc?.ToUnixTimeMilliseconds());
        var job = await _harness.Quartz.GetJobDetail(trigger.JobKey);
        Assert.NotNull(job);
        Assert.Equal("ghost@keyed", job.JobDataMap.GetString(ReleaseTimerJob.ReleaseKey));
        Assert.Equal("DecisionTimeout", job.JobDataMap.GetString(ReleaseTimerJob.KindKey));
    }

    [Fact]
    public async Task CancelAsync_BeforeDue_PreventsFiring()
    {
        var ghost = Ghost("cancelled");
        var sentinel = Ghost("sentinel");
        var sut = CreateSut();

        await sut.ScheduleAsync(ghost, TimerKind.Promotion, Now.AddMilliseconds(300));
        await sut.CancelAsync(ghost, TimerKind.Promotion);
        await sut.ScheduleAsync(sentinel, TimerKind.Promotion, Now.AddMilliseconds(700));

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(sentinel).Count == 1));
        Assert.Empty(_harness.Store.ReadsOf(ghost));
        Assert.Null(await _harness.Quartz.GetJobDetail(new JobKey("ghost@cancelled:Promotion", QuartzReleaseScheduler.Group)));
    }

    [Fact]
    public async Task CancelAsync_OneKind_LeavesOtherKindsOfTheRelease()
    {
        var ghost = Ghost("partly-cancelled");
        var sut = CreateSut();

        await sut.ScheduleAsync(ghost, TimerKind.Promotion, Now.AddMilliseconds(200));
        await sut.ScheduleAsync(ghost, TimerKind.ValidationEnd, Now.AddMilliseconds(200));
        await sut.CancelAsync(ghost, TimerKind.ValidationEnd);

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count == 1));
        Assert.Null(await _harness.Quartz.GetTrigger(new TriggerKey("ghost@partly-cancelled:ValidationEnd", QuartzReleaseScheduler.Group)));
    }

    [Fact]
    public async Task CancelAsync_NothingScheduled_DoesNotThrow()
    {
        var sut = CreateSut();

        var exception = await Record.ExceptionAsync(() => sut.CancelAsync(Ghost("never"), TimerKind.Work));

        Assert.Null(exception);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(300)]
    public async Task ScheduleAsync_DueInThePast_FiresOnceAtOnce(int secondsLate)
    {
        var ghost = Ghost($"late-{secondsLate}");
        var next = Ghost($"next-{secondsLate}");
        var sentinel = Ghost("sentinel");
        var sut = CreateSut();
        var scheduledAt = Now;

        // At once: well before a timer armed right after it for 30 s later (the generous deadline of a busy machine).
        await sut.ScheduleAsync(ghost, TimerKind.Promotion, scheduledAt.AddSeconds(-secondsLate));
        await sut.ScheduleAsync(next, TimerKind.Promotion, scheduledAt.AddSeconds(30));

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count == 1), "a missed one-shot timer should fire at once");
        Assert.Empty(_harness.Store.ReadsOf(next));
        await sut.CancelAsync(next, TimerKind.Promotion);
        await sut.ScheduleAsync(sentinel, TimerKind.Promotion, Now.AddMilliseconds(300));
        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(sentinel).Count == 1));
        Assert.Single(_harness.Store.ReadsOf(ghost));
    }

    [Fact]
    public async Task ScheduleRecurringAsync_Interval_FiresRepeatedlyStartingAtTheReleasesPhase()
    {
        var ghost = Ghost("recurring");
        var sut = CreateSut();
        var interval = TimeSpan.FromMilliseconds(250);
        var scheduledAt = Now;

        await sut.ScheduleRecurringAsync(ghost, TimerKind.HealthEvaluation, interval);

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count >= 3));
        var phase = QuartzReleaseScheduler.Phase(ghost, interval);
        Assert.InRange(phase, TimeSpan.FromTicks(1), interval);
        Assert.True(_harness.Store.ReadsOf(ghost)[0] >= scheduledAt + phase - TimeSpan.FromMilliseconds(50), "the first tick comes at the release's own phase within the interval");
    }

    [Fact]
    public void Phase_ManyReleases_SpreadAcrossTheIntervalAndStable()
    {
        var interval = TimeSpan.FromSeconds(30);
        var phases = Enumerable.Range(0, 10_000).Select(i => QuartzReleaseScheduler.Phase(new ShipBot.Core.Releases.ReleaseId($"svc{i}", "1.0.0"), interval)).ToList();

        Assert.All(phases, p => Assert.InRange(p, TimeSpan.FromTicks(1), interval));
        // spread: every tenth of the interval gets roughly a tenth of the releases
        var buckets = phases.GroupBy(p => (int)(p / interval * 10)).Select(g => g.Count()).ToList();
        Assert.Equal(10, buckets.Count);
        Assert.All(buckets, c => Assert.InRange(c, 700, 1300));
        Assert.Equal(phases[42], QuartzReleaseScheduler.Phase(new ShipBot.Core.Releases.ReleaseId("svc42", "1.0.0"), interval));
    }

    [Fact]
    public async Task ScheduleRecurringAsync_CalledAgain_DoesNotResetTheSchedule()
    {
        var ghost = Ghost("rearmed");
        var key = new TriggerKey("ghost@rearmed:HealthEvaluation", QuartzReleaseScheduler.Group);
        var interval = TimeSpan.FromMilliseconds(600);
        var sut = CreateSut();
        var scheduledAt = Now;

        await sut.ScheduleRecurringAsync(ghost, TimerKind.HealthEvaluation, interval);
        var armedBy = Now;
        var firstDue = (await _harness.Quartz.GetTrigger(key))?.NextFireTimeUtc;

        // Time passes before the next call, so a reset schedule would start later than the first.
        await Task.Delay(100);
        await sut.ScheduleRecurringAsync(ghost, TimerKind.HealthEvaluation, interval);
        var dueAfterSecondCall = (await _harness.Quartz.GetTrigger(key))?.NextFireTimeUtc;

        // A caller re-arming on every transition (every 100 ms here) must not keep pushing the evaluation back.
        var fired = await Eventually.TrueAsync(
            async () =>
            {
                await sut.ScheduleRecurringAsync(ghost, TimerKind.HealthEvaluation, interval);
                return _harness.Store.ReadsOf(ghost).Count > 0;
            });

        Assert.NotNull(firstDue);
        Assert.Equal(firstDue, dueAfterSecondCall);
        Assert.True(fired, "repeated ScheduleRecurringAsync calls kept the evaluation from ever firing");

        // It fired on the schedule of the first call: every fire time Quartz planned is on that first grid, however late the machine ran it.
        var previous = (await _harness.Quartz.GetTrigger(key))?.PreviousFireTimeUtc;
        Assert.NotNull(previous);
        var periods = Math.Round((previous.Value - firstDue.Value) / interval);
        Assert.True(periods >= 0 && (previous.Value - (firstDue.Value + (interval * periods))).Duration() < TimeSpan.FromMilliseconds(1), $"fired at {previous:O}, off the schedule that started at {firstDue:O}");
        Assert.InRange(firstDue.Value, scheduledAt, armedBy + interval);
    }

    [Fact]
    public async Task CancelAsync_Recurring_StopsFurtherFires()
    {
        var ghost = Ghost("stopped");
        var sentinel = Ghost("sentinel");
        var sut = CreateSut();
        var runs = new FireRecorder();
        _harness.Quartz.ListenerManager.AddJobListener(runs, [Matchers.Key(new JobKey("ghost@stopped:HealthEvaluation", QuartzReleaseScheduler.Group))]);
        await sut.ScheduleRecurringAsync(ghost, TimerKind.HealthEvaluation, TimeSpan.FromMilliseconds(200));
        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(ghost).Count >= 1));

        await sut.CancelAsync(ghost, TimerKind.HealthEvaluation);

        // A fire already under way finishes its read: wait until no run of the job is in progress.
        Assert.True(await Eventually.TrueAsync(() => runs.Running == 0));
        var afterCancel = _harness.Store.ReadsOf(ghost).Count;
        await sut.ScheduleAsync(sentinel, TimerKind.Promotion, Now.AddMilliseconds(700));

        Assert.True(await Eventually.TrueAsync(() => _harness.Store.ReadsOf(sentinel).Count == 1));
        Assert.Equal(afterCancel, _harness.Store.ReadsOf(ghost).Count);
    }

    private static ReleaseId Ghost(string version) => new("ghost", version);

    private IReleaseScheduler CreateSut() => _harness.Scheduler;
}
