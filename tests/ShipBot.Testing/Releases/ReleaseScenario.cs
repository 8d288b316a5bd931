using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Checklists;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Testing;

/// <summary>The people of every scenario: a requester, two approvers and an on-call engineer.</summary>
public static class People
{
    public static Person Alice { get; } = new("U01ALICE", "alice");

    public static Person Bob { get; } = new("U02BOB", "bob");

    public static Person Carol { get; } = new("U03CAROL", "carol");

    public static Person Olga { get; } = new("U04OLGA", "olga");
}

/// <summary>Health verdicts built through <see cref="HealthPolicy.Evaluate"/>, as the coordinator builds them.</summary>
public static class Verdicts
{
    public static IReadOnlyDictionary<string, double> Baseline { get; } = new Dictionary<string, double>
    {
        [Metrics.ErrorRate] = 0.003,
        [Metrics.LatencyP99] = 180,
        [Metrics.Cpu] = 0.4,
        [Metrics.Business] = 0.05,
    };

    public static HealthSample Sample(params (string Metric, double Value)[] readings) =>
        new(readings.Select(r => new HealthReading(r.Metric, r.Value, "prometheus", ReleaseScenario.Start)).ToList());

    public static HealthSample GreenSample() => Sample(
        (Metrics.ErrorRate, 0.004),
        (Metrics.LatencyP99, 210),
        (Metrics.Cpu, 0.45),
        (Metrics.ProbeFailures, 0),
        (Metrics.UserFeedback, 4.2),
        (Metrics.Adoption, 0.3),
        (Metrics.Business, 0.051));

    public static HealthVerdict Healthy(DateTimeOffset now, StageKind stage = StageKind.Canary) =>
        HealthPolicy.Evaluate(GreenSample(), HealthPolicy.MetricsFor(stage), Baseline, new HealthThresholds(), now);

    /// <summary>Error rate 4.8 % against a 0.3 % baseline + 1 pt: a rollback trigger.</summary>
    public static HealthVerdict ErrorRateBreach(DateTimeOffset now) =>
        HealthPolicy.Evaluate(
            Sample((Metrics.ErrorRate, 0.048), (Metrics.LatencyP99, 210), (Metrics.Cpu, 0.45), (Metrics.ProbeFailures, 0)),
            HealthPolicy.MetricsFor(StageKind.Canary),
            Baseline,
            new HealthThresholds(),
            now);

    /// <summary>User feedback 2.1/5 (minimum 3): a consult breach.</summary>
    public static HealthVerdict FeedbackConsult(DateTimeOffset now) =>
        HealthPolicy.Evaluate(
            Sample((Metrics.ErrorRate, 0.004), (Metrics.LatencyP99, 210), (Metrics.Cpu, 0.45), (Metrics.ProbeFailures, 0), (Metrics.UserFeedback, 2.1)),
            HealthPolicy.MetricsFor(StageKind.EarlyAdopters),
            Baseline,
            new HealthThresholds(),
            now);

    /// <summary>Business metric 0.03 against a 0.05 baseline (at most 10 % below): a consult breach at GA.</summary>
    public static HealthVerdict BusinessConsult(DateTimeOffset now) =>
        HealthPolicy.Evaluate(
            Sample((Metrics.ErrorRate, 0.004), (Metrics.LatencyP99, 210), (Metrics.Cpu, 0.45), (Metrics.ProbeFailures, 0), (Metrics.UserFeedback, 4.2), (Metrics.Business, 0.03)),
            HealthPolicy.MetricsFor(StageKind.GeneralAvailability),
            Baseline,
            new HealthThresholds(),
            now);

    /// <summary>The health source could not be read.</summary>
    public static HealthVerdict Unknown(DateTimeOffset now) =>
        HealthPolicy.Evaluate(HealthSample.Failed("prometheus: connection refused"), HealthPolicy.MetricsFor(StageKind.Canary), Baseline, new HealthThresholds(), now);
}

/// <summary>
/// The system under test for release tests, and the release builder of the benchmarks: a release
/// (by default <c>checkout@1.4.2</c> with a small four-stage plan) on a fake clock, and walkers
/// that take it to any lifecycle state through the aggregate's own commands. Every step asserts
/// that it changed the release and raised the version by exactly one.
/// </summary>
public sealed class ReleaseScenario
{
    public static readonly DateTimeOffset Start = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    public static readonly ReleaseId Id = new("checkout", "1.4.2");

    public const string Flag = "new-cart";

    private ReleaseScenario(ServicePolicy policy, Release release, FakeTimeProvider time)
    {
        Policy = policy;
        Release = release;
        Time = time;
    }

    /// <summary>Staging 5 min → canary 5 % 10 min → early adopters 25 % 20 min → GA 50 % 30 min → full 100 % 10 min → validation 15 min.</summary>
    public static StagePlan SmallPlan { get; } = new(
        TimeSpan.FromMinutes(5),
        [
            new Stage(StageKind.Canary, 5, TimeSpan.FromMinutes(10)),
            new Stage(StageKind.EarlyAdopters, 25, TimeSpan.FromMinutes(20)),
            new Stage(StageKind.GeneralAvailability, 50, TimeSpan.FromMinutes(30)),
            new Stage(StageKind.Full, 100, TimeSpan.FromMinutes(10)),
        ],
        TimeSpan.FromMinutes(15));

    public static ReleaseContract Contract { get; } = new(
        ["faster cart", "fix tax rounding"],
        "Checkout is faster.",
        "Redeploy 1.4.1 through the pipeline",
        [Flag],
        ["conversion +2 %"]);

    public static ServicePolicy DefaultPolicy { get; } = new()
    {
        Name = "checkout",
        Requesters = [People.Alice.Id],
        Approvers = [People.Bob.Id, People.Carol.Id],
        OnCall = [People.Olga.Id],
        Plan = SmallPlan,
        Runbook = "https://runbooks.example/checkout",
    };

    public ServicePolicy Policy { get; }

    public Release Release { get; private set; }

    public FakeTimeProvider Time { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public ReleaseChange? LastChange { get; private set; }

    /// <summary>How many modifying changes were applied since <see cref="Release.Create"/>.</summary>
    public int ChangeCount { get; private set; }

    /// <summary>A Draft release (the CreateSut of the release tests): <see cref="Id"/> at <see cref="Start"/> unless told otherwise.</summary>
    public static ReleaseScenario Create(ServicePolicy? policy = null, ReleaseKind kind = ReleaseKind.Standard, ReleaseContract? contract = null, ReleaseId? id = null, DateTimeOffset? start = null)
    {
        policy ??= DefaultPolicy;
        var time = new FakeTimeProvider(start ?? Start);
        var change = Release.Create(
            id ?? Id,
            kind,
            People.Alice,
            new Conversation("console", "releases"),
            policy,
            contract ?? Contract,
            kind == ReleaseKind.Standard ? null : "payments are down",
            time.GetUtcNow());
        return new ReleaseScenario(policy, change.Next, time);
    }

    /// <summary>A scenario over an existing Draft <paramref name="release"/> of <paramref name="policy"/>, on a clock at <paramref name="now"/>.</summary>
    public static ReleaseScenario From(Release release, ServicePolicy policy, DateTimeOffset now) => new(policy, release, new FakeTimeProvider(now));

    /// <summary>A release in <paramref name="state"/>. Paused and Halted are at Canary; Staging is baking.</summary>
    public static ReleaseScenario In(ReleaseState state) => Create().To(state);

    /// <summary>Walks this Draft release to <paramref name="state"/>. Paused and Halted are at Canary; Staging is baking.</summary>
    public ReleaseScenario To(ReleaseState state) => state switch
    {
        ReleaseState.Draft => this,
        ReleaseState.AwaitingApproval => ToAwaitingApproval(),
        ReleaseState.Staging => ToStaging(),
        ReleaseState.Canary => ToStage(0),
        ReleaseState.EarlyAdopters => ToStage(1),
        ReleaseState.GeneralAvailability => ToStage(2),
        ReleaseState.Full => ToStage(3),
        ReleaseState.Validating => ToValidating(),
        ReleaseState.Operating => ToOperating(),
        ReleaseState.Completed => ToCompleted(),
        ReleaseState.Rejected => ToAwaitingApproval().Do((r, now) => r.Reject(People.Bob, "not this week", now)),
        ReleaseState.Aborted => Do((r, now) => r.Abort(People.Alice, "wrong version", now)),
        ReleaseState.RollingBack => ToStage(0).Do((r, now) => r.BeginRollback("customer reports", People.Olga.Name, [], now)),
        ReleaseState.RolledBack => To(ReleaseState.RollingBack).ConfirmPendingDeployment(),
        ReleaseState.Halted => ToStage(0).Do((r, now) => r.Halt($"{Release.Id.Service} halted by on-call", People.Olga.Name, now)),
        ReleaseState.Paused => ToStage(0).Do((r, now) => r.Pause(People.Alice, now)),
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static TheoryData<ReleaseState> AllStates()
    {
        var data = new TheoryData<ReleaseState>();
        foreach (var state in Enum.GetValues<ReleaseState>())
        {
            data.Add(state);
        }

        return data;
    }

    public static TheoryData<ReleaseState> StatesExcept(params ReleaseState[] excluded)
    {
        var data = new TheoryData<ReleaseState>();
        foreach (var state in Enum.GetValues<ReleaseState>().Except(excluded))
        {
            data.Add(state);
        }

        return data;
    }

    public static TheoryData<ReleaseState> States(params ReleaseState[] states)
    {
        var data = new TheoryData<ReleaseState>();
        foreach (var state in states)
        {
            data.Add(state);
        }

        return data;
    }

    /// <summary>Applies a command that must change the release, and checks the version rule.</summary>
    public ReleaseScenario Do(Func<Release, DateTimeOffset, ReleaseChange> command)
    {
        Apply(command);
        return this;
    }

    /// <summary>Applies a command that must change the release; returns the change.</summary>
    public ReleaseChange Apply(Func<Release, DateTimeOffset, ReleaseChange> command)
    {
        var before = Release;
        var change = command(before, Now);
        Assert.True(change.Modified, $"expected a change, got: {change.Message}");
        Assert.Equal(before.Revision + 1, change.Next.Revision);
        Assert.Equal(Now, change.Next.UpdatedAt);
        Release = change.Next;
        LastChange = change;
        ChangeCount++;
        return change;
    }

    /// <summary>Applies a command that must leave the release as it was; returns the change.</summary>
    public ReleaseChange ApplyUnchanged(Func<Release, DateTimeOffset, ReleaseChange> command)
    {
        var before = Release;
        var change = command(before, Now);
        Assert.False(change.Modified, $"expected no change, got: {change.Message}");
        Assert.Same(before, change.Next);
        Assert.Equal(before.Revision, change.Next.Revision);
        Assert.Empty(change.Events);
        return change;
    }

    public ReleaseScenario Advance(TimeSpan by)
    {
        Time.Advance(by);
        return this;
    }

    public ReleaseScenario ToAwaitingApproval()
    {
        if (Release.State != ReleaseState.Draft)
        {
            return this;
        }

        if (Release.Checklist.Any(i => i.Id == ChecklistCatalog.OnCallNotified && !i.IsDone))
        {
            // A release created with its on-call already told has this item settled.
            Do((r, now) => r.TickBySystem(ChecklistCatalog.OnCallNotified, "on-call notified in #releases", now));
        }

        var human = Release.BlockingItems.Select(i => i.Id).ToList();
        Do((r, now) => r.Confirm(People.Alice, human, now));
        Assert.Equal(ReleaseState.AwaitingApproval, Release.State);
        return this;
    }

    public ReleaseScenario ToStaging(StagingStep step = StagingStep.Baking)
    {
        ToAwaitingApproval();
        if (Release.State == ReleaseState.AwaitingApproval)
        {
            foreach (var approver in new[] { People.Bob, People.Carol }.Take(Release.RequiredApprovals))
            {
                Do((r, now) => r.Approve(approver, now));
            }
        }

        Assert.Equal(ReleaseState.Staging, Release.State);
        if (step >= StagingStep.SmokeChecking && Release.StagingStep == StagingStep.Deploying)
        {
            ConfirmPendingDeployment();
            Assert.Equal(StagingStep.SmokeChecking, Release.StagingStep);
        }

        if (step >= StagingStep.Baking && Release.StagingStep == StagingStep.SmokeChecking)
        {
            Do((r, now) => r.RecordSmokeChecks(true, "3 of 3 smoke checks passed", now));
        }

        Assert.Equal(step, Release.StagingStep);
        return this;
    }

    /// <summary>Walks to production stage <paramref name="index"/>: deployed, healthy, baking.</summary>
    public ReleaseScenario ToStage(int index)
    {
        if (Release.StageIndex < 0)
        {
            ToStaging();
            Advance(Release.Plan.StagingBake);
            Do((r, now) => r.Promote(now, null, null, Verdicts.Baseline));
            ConfirmPendingDeployment();
            Do((r, now) => r.ApplyHealth(Verdicts.Healthy(now), Policy.ConsultTimeout, now));
        }

        while (Release.StageIndex < index)
        {
            Advance(Release.CurrentStage!.Bake);
            Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null));
            ConfirmPendingDeployment();
            Do((r, now) => r.ApplyHealth(Verdicts.Healthy(now), Policy.ConsultTimeout, now));
        }

        Assert.Equal(Release.Plan.Stages[index].State, Release.State);
        return this;
    }

    public ReleaseScenario ToValidating()
    {
        if (Release.State == ReleaseState.Validating)
        {
            return this;
        }

        ToStage(Release.Plan.Stages.Count - 1);
        Advance(Release.CurrentStage!.Bake);
        Do((r, now) => r.Promote(now, Verdicts.Healthy(now), null));
        Assert.Equal(ReleaseState.Validating, Release.State);
        return this;
    }

    public ReleaseScenario ToOperating()
    {
        if (Release.State == ReleaseState.Operating)
        {
            return this;
        }

        ToValidating();
        Do((r, now) => r.Confirm(People.Bob, [ChecklistCatalog.UserFacingVerified], now));
        Advance(Release.Plan.ValidationWindow);
        Do((r, now) => r.CompleteValidation(now, Verdicts.Healthy(now), hasRunbook: true));
        Assert.Equal(ReleaseState.Operating, Release.State);
        return this;
    }

    public ReleaseScenario ToCompleted()
    {
        ToOperating();
        Do((r, now) => r.MarkFlagRemoved(People.Alice, Flag, checkpointsDone: false, now));
        for (var checkpoint = 1; checkpoint <= 3; checkpoint++)
        {
            var n = checkpoint;
            Advance(TimeSpan.FromDays(1));
            Do((r, now) => r.RecordOutcome(new OutcomeReport(n, now, [$"conversion: actual +{n} % vs target +2 %"]), lastCheckpoint: n == 3, now));
        }

        Assert.Equal(ReleaseState.Completed, Release.State);
        return this;
    }

    /// <summary>The deployment target confirms the pending traffic change.</summary>
    public ReleaseScenario ConfirmPendingDeployment(bool succeeded = true, string detail = "200 OK in 120 ms")
    {
        var intent = Release.PendingDeployment;
        Assert.NotNull(intent);
        return Do((r, now) => r.RecordDeployment(intent, succeeded, detail, now));
    }
}
