using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using static ShipBot.Coordinator.Tests.CoordinatorHarness;

namespace ShipBot.Coordinator.Tests;

/// <summary>Approvals and promotion gates that need a human, validation, outcome checkpoints, reminders, and health reads that fail.</summary>
public sealed partial class ReleaseCoordinatorTests
{
    /// <summary>From the GA bake to Operating: full 100 %, validation, user-facing functionality verified.</summary>
    private static async Task ToOperatingAsync(CoordinatorHarness sut, ReleaseId id)
    {
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.SendAsync(Alice, $"/ship check {id} ufv");
        await sut.AdvanceAndFireAsync(ValidationWindow, id, TimerKind.ValidationEnd);
        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(id)).State);
    }

    /// <summary>A P0 hotfix of demo@1.0.1 from <c>/ship hotfix</c> to Operating.</summary>
    private static async Task<ReleaseId> HotfixToOperatingAsync(CoordinatorHarness sut)
    {
        var id = Id("1.0.1");
        await sut.SendAsync(Alice, "/ship hotfix demo 1.0.1 p0 checkout returns 500");
        await sut.FireAsync(id, TimerKind.Work);
        await sut.SettleChecklistAsync(id);
        await sut.SendAsync(Bob, $"/ship approve {id}");
        await sut.FireAsync(id, TimerKind.Work);
        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);
        await sut.FireAsync(id, TimerKind.Work);
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.SendAsync(Alice, $"/ship check {id} ufv");
        await sut.AdvanceAndFireAsync(ValidationWindow, id, TimerKind.ValidationEnd);
        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(id)).State);
        return id;
    }

    // ================================================================ approvals and gates that need a human

    [Fact]
    public async Task HandleAsync_TwoApprovalsRequired_StagingOnlyAfterTheSecondDistinctApprover()
    {
        var sut = CreateSut(p => p with { Approvers = ["bob", "erin"], RequiredApprovals = 2 });
        var id = await sut.ToAwaitingApprovalAsync();

        var first = await sut.SendAsync(Bob, $"/ship approve {id}");
        var repeat = await sut.SendAsync(Bob, $"/ship approve {id}");

        Assert.Contains("Approved (1 of 2)", first.Text, StringComparison.Ordinal);
        Assert.Contains("already approved by @Bob", repeat.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.AwaitingApproval, (await sut.GetAsync(id)).State);

        var second = await sut.SendAsync(Erin, $"/ship approve {id}");

        Assert.Contains("goes to staging", second.Text, StringComparison.Ordinal);
        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Staging, release.State);
        Assert.Equal(["bob", "erin"], release.Approvals.Select(a => a.By.Id));
    }

    [Fact]
    public async Task OnTimerAsync_StageNeedsApproval_WaitsForAnApproversPromote()
    {
        var sut = CreateSut(p => p with
        {
            Plan = p.Plan with { Stages = [.. p.Plan.Stages.Select(s => s.Kind == StageKind.EarlyAdopters ? s with { NeedsApproval = true } : s)] },
        });
        var id = await sut.ToCanaryBakeAsync();
        await sut.BakeAndPromoteAsync(id);

        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.AdvanceAndFireAsync(TimeSpan.FromMinutes(5), id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.EarlyAdopters, release.State);
        Assert.True(release.AwaitingPromotionApproval);
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.PromotionNeedsApproval));
        var status = sut.LastCard(id).Card.Blocks.OfType<TextBlock>().First().Text;
        Assert.Contains("the promotion waits for @bob (not the requester)", status, StringComparison.Ordinal);

        // The approvers are mentioned, on a message of their own with the button.
        var call = Assert.Single(sut.PublicationsWithKey($"alert:{id}:promotion"));
        Assert.Equal(["bob"], call.Card.Mentions);
        Assert.Contains(call.Card.Blocks.OfType<ActionsBlock>().SelectMany(b => b.Actions), a => a.Value == $"promote {id}" && a.Basis is not null);

        var reply = await sut.SendAsync(Bob, $"/ship promote {id}");

        Assert.Contains("promoted to GA 50 %", reply.Text, StringComparison.Ordinal);
        Assert.Equal(ReleaseState.GeneralAvailability, (await sut.GetAsync(id)).State);
    }

    // ================================================================ validation

    [Fact]
    public async Task OnTimerAsync_UserFacingCheckAfterTheWindow_NextHealthEvaluationHandsOver()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await sut.AdvanceAndFireAsync(ValidationWindow, id, TimerKind.ValidationEnd);
        Assert.Equal(ReleaseState.Validating, (await sut.GetAsync(id)).State);

        await sut.SendAsync(Alice, $"/ship check {id} ufv");
        await sut.AdvanceAndFireAsync(sut.Settings.EvaluationInterval, id, TimerKind.HealthEvaluation);

        Assert.Equal(ReleaseState.Operating, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task OnTimerAsync_BreachDuringValidation_RollsBack()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await sut.BakeAndPromoteAsync(id);
        await sut.AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        Assert.Equal(ReleaseState.Validating, (await sut.GetAsync(id)).State);

        sut.BreachErrorRate();
        await sut.FireAsync(id, TimerKind.HealthEvaluation);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.RollingBack, release.State);
        Assert.Equal("Validating", release.Rollback!.Stage);
    }

    // ================================================================ outcome checkpoints and reminders

    [Fact]
    public async Task OnTimerAsync_CheckpointFiresEarly_ReArmsForTheDueTime()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, id);
        var since = (await sut.GetAsync(id)).OperatingSince!.Value;

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(2), id, TimerKind.OutcomeCheckpoint);

        Assert.Empty((await sut.GetAsync(id)).Outcomes);
        Assert.Equal(since + TimeSpan.FromSeconds(5), sut.Scheduled.Last(t => t.Release == id && t.Kind == TimerKind.OutcomeCheckpoint).DueAt);
    }

    [Fact]
    public async Task OnTimerAsync_CheckpointFiresTwice_OneReport()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, id);
        sut.Time.Advance(TimeSpan.FromSeconds(5));

        await Task.WhenAll(
            Task.Run(() => sut.FireAsync(id, TimerKind.OutcomeCheckpoint)),
            Task.Run(() => sut.FireAsync(id, TimerKind.OutcomeCheckpoint)));

        Assert.Single((await sut.GetAsync(id)).Outcomes);
        Assert.Single(sut.PublicationsWithKey("outcome:demo@1.0.0:1"));
        var outcome = await sut.SendAsync(Mallory, $"/ship outcome {id}");
        Assert.Contains("Outcome report #1 for demo@1.0.0", outcome.Text, StringComparison.Ordinal);
        Assert.Contains("error rate: actual 0.3 %", outcome.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTimerAsync_HotfixWithOpenIncidentSignal_RemindsAtCheckpoints()
    {
        var sut = CreateSut();
        var id = await HotfixToOperatingAsync(sut);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var reminder = Assert.Single(sut.PublicationsWithKey("reminder:demo@1.0.1"));
        Assert.Contains("post-incident signal is not filled in", reminder.Card.Fallback, StringComparison.Ordinal);
        Assert.Contains("alice", reminder.Card.Mentions);
    }

    [Fact]
    public async Task OnTimerAsync_HotfixCompletesWithIncidentSignalStillOpen_KeepsReminding()
    {
        var sut = CreateSut();
        var id = await HotfixToOperatingAsync(sut);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);
        var reminders = sut.PublicationsWithKey("reminder:demo@1.0.1").Count;
        Assert.True(Assert.Single(await sut.Store.ListSignalsAsync()).Open);

        await sut.AdvanceAndFireAsync(sut.Settings.ReminderInterval, id, TimerKind.OutcomeCheckpoint);

        Assert.True(sut.PublicationsWithKey("reminder:demo@1.0.1").Count > reminders, "no reminder after the last checkpoint although the incident signal is still open");
    }

    [Fact]
    public async Task OnTimerAsync_OutcomeReportPosted_AuditedAsChatPost()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, id);

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        Assert.Single(sut.PublicationsWithKey("outcome:demo@1.0.0:1"));
        Assert.Contains(await sut.AuditAsync(id), a => a.Action == "chat post" && a.Detail.Contains("Outcome report #1", StringComparison.Ordinal));
    }

    // ================================================================ health reads

    [Fact]
    public async Task OnTimerAsync_HealthEvaluationUnchanged_AddsNoAuditEntry()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);
        var audit = (await sut.AuditAsync(id)).Count;

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);
        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);

        Assert.Equal(audit, (await sut.AuditAsync(id)).Count);
    }

    [Fact]
    public async Task OnTimerAsync_HealthChangesStatus_AuditedAsHealthChanged()
    {
        var sut = CreateSut();
        var id = await sut.ToCanaryBakeAsync();

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(1), id, TimerKind.HealthEvaluation);

        var entry = Assert.Single(await sut.AuditAsync(id), a => a.Action == nameof(ReleaseEventKind.HealthChanged));
        Assert.Contains("health healthy at Canary 5 %", entry.Detail, StringComparison.Ordinal);
        Assert.Equal("shipbot", entry.Actor);
    }

    [Fact]
    public async Task OnTimerAsync_BaselineReadFails_PromotesOutOfStagingWithoutBaseline()
    {
        var sut = CreateSut();
        var id = await sut.ToStagingBakeAsync();
        sut.Health.ReadAsync(Arg.Is<HealthQuery>(q => q.Stage == "baseline"), Arg.Any<CancellationToken>())
            .Returns(Task.FromException<HealthSample>(new HttpRequestException("prometheus: 503")));

        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);

        var release = await sut.GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.Empty(release.Baseline);
    }

    [Fact]
    public async Task OnTimerAsync_BaselineReadTimesOut_PromotesOutOfStagingWithoutBaseline()
    {
        var sut = CreateSut();
        var id = await sut.ToStagingBakeAsync();
        sut.Health.ReadAsync(Arg.Is<HealthQuery>(q => q.Stage == "baseline"), Arg.Any<CancellationToken>())
            .Returns(Task.FromException<HealthSample>(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 10 seconds elapsing.")));

        await sut.AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);

        Assert.Equal(ReleaseState.Canary, (await sut.GetAsync(id)).State);
    }

    [Fact]
    public async Task OnTimerAsync_CheckpointHealthReadThrows_RecordsUnreadableOrRetries()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, id);
        sut.Health.ReadAsync(Arg.Any<HealthQuery>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromException<HealthSample>(new HttpRequestException("prometheus: connection refused")));
        sut.Time.Advance(TimeSpan.FromSeconds(5));
        var timers = sut.Scheduled.Count;

        var thrown = await Record.ExceptionAsync(() => sut.FireAsync(id, TimerKind.OutcomeCheckpoint));

        Assert.Null(thrown);
        var recorded = (await sut.GetAsync(id)).Outcomes.Count == 1;
        var retried = sut.Scheduled.Skip(timers).Any(t => t.Release == id && t.Kind == TimerKind.OutcomeCheckpoint);
        Assert.True(recorded || retried, "the checkpoint was neither recorded nor re-armed");
    }

    [Fact]
    public async Task OnTimerAsync_CheckpointHealthSourceReportsFailure_RecordsUnreadableValues()
    {
        var sut = CreateSut();
        var id = await sut.ToGeneralAvailabilityBakeAsync();
        await ToOperatingAsync(sut, id);
        sut.Health.ReadAsync(Arg.Any<HealthQuery>(), Arg.Any<CancellationToken>())
            .Returns(HealthSample.Failed("prometheus: connection refused"));

        await sut.AdvanceAndFireAsync(TimeSpan.FromSeconds(5), id, TimerKind.OutcomeCheckpoint);

        var report = Assert.Single((await sut.GetAsync(id)).Outcomes);
        Assert.Contains(report.Lines, l => l.StartsWith("error rate: actual unreadable", StringComparison.Ordinal));
    }
}
