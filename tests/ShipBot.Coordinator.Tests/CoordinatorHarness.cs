using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.InMemory;

namespace ShipBot.Coordinator.Tests;

/// <summary>A chat post the coordinator made through the substituted <see cref="IChatNotifier"/>.</summary>
internal sealed record Publication(Conversation Conversation, string Key, Card Card, string? ThreadKey);

/// <summary>A timer the coordinator asked the substituted <see cref="IReleaseScheduler"/> for.</summary>
internal sealed record ScheduledTimer(ReleaseId Release, TimerKind Kind, DateTimeOffset? DueAt, TimeSpan? Interval);

/// <summary>
/// The coordinator wired to the real <see cref="InMemoryReleaseStore"/> and a <see cref="FakeTimeProvider"/>,
/// with NSubstitute substitutes for every other port. Timers are driven by calling
/// <see cref="ReleaseCoordinator.OnTimerAsync"/> directly after advancing the clock.
/// </summary>
internal sealed class CoordinatorHarness
{
    public static readonly Actor Alice = new("alice", "Alice", []);
    public static readonly Actor Bob = new("bob", "Bob", []);
    public static readonly Actor Carol = new("carol", "Carol", []);
    public static readonly Actor Dave = new("dave", "Dave", []);
    public static readonly Actor Erin = new("erin", "Erin", []);
    public static readonly Actor Mallory = new("mallory", "Mallory", []);

    public static readonly Conversation Channel = new("console", "releases");

    public static readonly DateTimeOffset Start = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan StagingBake = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan StageBake = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan ValidationWindow = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly List<Publication> _publications = [];
    private readonly List<ScheduledTimer> _scheduled = [];
    private readonly List<(ReleaseId Release, TimerKind Kind)> _cancelled = [];
    private readonly Dictionary<string, double> _metrics = [];
    private int _requests;

    public CoordinatorHarness(
        Func<ServicePolicy, ServicePolicy>? configure = null,
        IHealthSimulator? simulator = null,
        IReadOnlyList<ServicePolicy>? extraServices = null,
        IReleaseStore? storeOverride = null,
        bool routerTarget = false,

        IFreezeCalendar? freezes = null,
        IReleaseRecordsStatus? records = null,
        IReadOnlyList<ISignalObserver>? signalObservers = null,
        Func<CoordinatorSettings, CoordinatorSettings>? settings = null,
        IOutcomeSource? outcomes = null,
        Func<IReleaseStore, IReleaseStore>? decorateStore = null)
    {
        Time = new FakeTimeProvider(Start);
        Store = new InMemoryReleaseStore(Time);
        ResetHealth();

        Scheduler = Substitute.For<IReleaseScheduler>();
        Scheduler.ScheduleAsync(Arg.Any<ReleaseId>(), Arg.Any<TimerKind>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(ci => Record(_scheduled, new ScheduledTimer(ci.ArgAt<ReleaseId>(0), ci.ArgAt<TimerKind>(1), ci.ArgAt<DateTimeOffset>(2), null)));
        Scheduler.ScheduleRecurringAsync(Arg.Any<ReleaseId>(), Arg.Any<TimerKind>(), Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>())
            .Returns(ci => Record(_scheduled, new ScheduledTimer(ci.ArgAt<ReleaseId>(0), ci.ArgAt<TimerKind>(1), null, ci.ArgAt<TimeSpan>(2))));
        Scheduler.CancelAsync(Arg.Any<ReleaseId>(), Arg.Any<TimerKind>(), Arg.Any<CancellationToken>())
            .Returns(ci => Record(_cancelled, (ci.ArgAt<ReleaseId>(0), ci.ArgAt<TimerKind>(1))));

        // A router target also pauses and reports status (IRouterTarget), as ServiceDeploymentTargets does.
        Deployment = routerTarget ? Substitute.For<IDeploymentTarget, IRouterTarget>() : Substitute.For<IDeploymentTarget>();
        Deployment.Name.Returns("fake-target");
        Deployment.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(true, "applied", TimeSpan.FromMilliseconds(12)));
        Deployment.RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<DeploymentEnvironment>(), Arg.Any<CancellationToken>())
            .Returns(new DeploymentResult(true, "3/3 smoke checks passed", TimeSpan.FromMilliseconds(40)));

        Health = Substitute.For<IHealthSource>();
        Health.Name.Returns("fake-health");
        Health.ReadAsync(Arg.Any<HealthQuery>(), Arg.Any<CancellationToken>()).Returns(_ => Task.FromResult(Sample()));

        Readiness = Substitute.For<IReadinessVerifier>();
        Readiness.VerifyAsync(Arg.Any<ServicePolicy>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromResult<IReadOnlyList<ItemVerification>>(
            [
                new ItemVerification("health", true, "https://demo.example/healthz answered 200"),
                new ItemVerification("https", true, "certificate valid until 2026-01-01"),
            ]));

        Notifier = Substitute.For<IChatNotifier>();
        Notifier.Platform.Returns("console");
        Notifier.PublishAsync(Arg.Any<Conversation>(), Arg.Any<string>(), Arg.Any<Card>(), Arg.Any<string?>(), Arg.Any<CancellationToken>())
            .Returns(ci => Record(_publications, new Publication(ci.ArgAt<Conversation>(0), ci.ArgAt<string>(1), ci.ArgAt<Card>(2), ci.ArgAt<string?>(3))));

        Policy = (configure ?? (p => p))(DemoPolicy());
        var services = new Dictionary<string, ServicePolicy>(StringComparer.Ordinal) { [Policy.Name] = Policy };
        foreach (var extra in extraServices ?? [])
        {
            services[extra.Name] = extra;
        }

        Access = new AccessPolicy(services, ["dave"]);
        Settings = (settings ?? (s => s))(new CoordinatorSettings { Admins = ["dave"] });
        Simulator = simulator;
        ReleaseStore = storeOverride ?? decorateStore?.Invoke(Store) ?? Store;
        Coordinator = new ReleaseCoordinator(
            ReleaseStore,
            storeOverride is null && ReleaseStore is IIdempotencyStore decorated ? decorated : Store,
            storeOverride is null && ReleaseStore is ILeaseStore decoratedLeases ? decoratedLeases : Store,
            Scheduler,
            Deployment,
            Health,
            Readiness,
            [Notifier],
            Access,
            Settings,
            Time,
            NullLogger<ReleaseCoordinator>.Instance,
            simulator)
        {
            Freezes = freezes,
            Records = records,
            SignalObservers = signalObservers ?? [],
            OutcomeSource = outcomes,
        };
    }

    public FakeTimeProvider Time { get; }

    /// <summary>Appended to the <c>/ship start</c> of <see cref="StartAsync"/>, e.g. <c> --outcome "refund rate"</c>. Default none.</summary>
    public string StartOptions { get; set; } = string.Empty;

    public InMemoryReleaseStore Store { get; }

    /// <summary>The store the coordinator uses: <see cref="Store"/> unless a substitute was given.</summary>
    public IReleaseStore ReleaseStore { get; }

    public IIdempotencyStore Idempotency => Store;

    public IReleaseScheduler Scheduler { get; }

    public IDeploymentTarget Deployment { get; }

    public IHealthSource Health { get; }

    public IReadinessVerifier Readiness { get; }

    public IChatNotifier Notifier { get; }

    public IHealthSimulator? Simulator { get; }

    public ServicePolicy Policy { get; }

    public AccessPolicy Access { get; }

    public CoordinatorSettings Settings { get; }

    public ReleaseCoordinator Coordinator { get; }

    public IReadOnlyList<Publication> Publications
    {
        get
        {
            lock (_gate)
            {
                return [.. _publications];
            }
        }
    }

    public IReadOnlyList<ScheduledTimer> Scheduled
    {
        get
        {
            lock (_gate)
            {
                return [.. _scheduled];
            }
        }
    }

    public IReadOnlyList<(ReleaseId Release, TimerKind Kind)> Cancelled
    {
        get
        {
            lock (_gate)
            {
                return [.. _cancelled];
            }
        }
    }

    /// <summary>The service of the tests: alice requests, bob approves, carol is on call; a small plan in seconds.</summary>
    public static ServicePolicy DemoPolicy(string name = "demo") => new()
    {
        Name = name,
        Channel = "releases",
        Requesters = ["alice"],
        Approvers = ["bob"],
        OnCall = ["carol"],
        RequiredApprovals = 1,
        Plan = new StagePlan(
            StagingBake,
            [
                new Stage(StageKind.Canary, 5, StageBake),
                new Stage(StageKind.EarlyAdopters, 25, StageBake),
                new Stage(StageKind.GeneralAvailability, 50, StageBake),
                new Stage(StageKind.Full, 100, StageBake),
            ],
            ValidationWindow),
        OutcomeCheckpoints = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)],
    };

    // ---------------------------------------------------------------- health

    public void ResetHealth()
    {
        lock (_gate)
        {
            _metrics.Clear();
            _metrics[Metrics.ErrorRate] = 0.003;
            _metrics[Metrics.LatencyP99] = 120;
            _metrics[Metrics.Cpu] = 0.3;
            _metrics[Metrics.ProbeFailures] = 0;
            _metrics[Metrics.UserFeedback] = 4.5;
            _metrics[Metrics.Adoption] = 0.2;
            _metrics[Metrics.Business] = 1.0;
        }
    }

    public void SetMetric(string metric, double value)
    {
        lock (_gate)
        {
            _metrics[metric] = value;
        }
    }

    /// <summary>The error rate jumps to 20 % (baseline 0.3 %, limit baseline + 1 pt).</summary>
    public void BreachErrorRate() => SetMetric(Metrics.ErrorRate, 0.2);

    private HealthSample Sample()
    {
        lock (_gate)
        {
            var now = Time.GetUtcNow();
            return new HealthSample(_metrics.Select(m => new HealthReading(m.Key, m.Value, "fake-health", now)).ToList());
        }
    }

    // ---------------------------------------------------------------- commands and timers

    public string NextRequestId() => $"req-{Interlocked.Increment(ref _requests)}";

    public Task<CommandReply> SendAsync(Actor actor, string text, string? requestId = null) =>
        Coordinator.HandleAsync(new InboundCommand(requestId ?? NextRequestId(), actor, Channel, text));

    public Task FireAsync(ReleaseId id, TimerKind kind) => Coordinator.OnTimerAsync(id, kind);

    public async Task AdvanceAndFireAsync(TimeSpan by, ReleaseId id, TimerKind kind)
    {
        Time.Advance(by);
        await FireAsync(id, kind);
    }

    public async Task<Release> GetAsync(ReleaseId id) =>
        await Store.GetAsync(id) ?? throw new InvalidOperationException($"{id} is not in the store.");

    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(ReleaseId id) => await Store.GetAuditAsync(id);

    /// <summary>The latest release card posted for <paramref name="id"/> (key <c>card:&lt;id&gt;</c>).</summary>
    public Publication LastCard(ReleaseId id) => Publications.Last(p => p.Key == $"card:{id}");

    public IReadOnlyList<Publication> PublicationsWithKey(string key) => Publications.Where(p => p.Key == key).ToList();

    public IReadOnlyList<DeploymentRequest> DeploymentRequests() =>
        Deployment.ReceivedCalls()
            .Where(c => c.GetMethodInfo().Name == nameof(IDeploymentTarget.ApplyAsync))
            .Select(c => (DeploymentRequest)c.GetArguments()[0]!)
            .ToList();

    // ---------------------------------------------------------------- driving a release

    public static ReleaseId Id(string version = "1.0.0", string service = "demo") => new(service, version);

    public async Task<ReleaseId> StartAsync(string version = "1.0.0", Actor? by = null)
    {
        var reply = await SendAsync(by ?? Alice, $"/ship start demo {version} new checkout flow; faster search{StartOptions}");
        Assert.StartsWith($"Started demo@{version}", reply.Text, StringComparison.Ordinal);
        return Id(version);
    }

    /// <summary>The requester ticks every blocking item in one <c>/ship check</c>.</summary>
    public async Task<CommandReply> SettleChecklistAsync(ReleaseId id)
    {
        var release = await GetAsync(id);
        var items = release.BlockingItems.Select(i => i.Id).ToList();
        Assert.NotEmpty(items);
        return await SendAsync(Alice, $"/ship check {id} {string.Join(' ', items)}");
    }

    /// <summary>Started, readiness verified, checklist settled: Awaiting approval.</summary>
    public async Task<ReleaseId> ToAwaitingApprovalAsync(string version = "1.0.0")
    {
        var id = await StartAsync(version);
        await FireAsync(id, TimerKind.Work);
        await SettleChecklistAsync(id);
        Assert.Equal(ReleaseState.AwaitingApproval, (await GetAsync(id)).State);
        return id;
    }

    /// <summary>Approved, deployed to staging, smoke checks passed: baking in staging.</summary>
    public async Task<ReleaseId> ToStagingBakeAsync(string version = "1.0.0")
    {
        var id = await ToAwaitingApprovalAsync(version);
        await SendAsync(Bob, $"/ship approve {id}");
        await FireAsync(id, TimerKind.Work);
        var release = await GetAsync(id);
        Assert.Equal(ReleaseState.Staging, release.State);
        Assert.Equal(StagingStep.Baking, release.StagingStep);
        return id;
    }

    /// <summary>Promoted out of staging and the 5 % applied: the canary bake is running.</summary>
    public async Task<ReleaseId> ToCanaryBakeAsync(string version = "1.0.0")
    {
        var id = await ToStagingBakeAsync(version);
        await AdvanceAndFireAsync(StagingBake, id, TimerKind.Promotion);
        await FireAsync(id, TimerKind.Work);
        var release = await GetAsync(id);
        Assert.Equal(ReleaseState.Canary, release.State);
        Assert.NotNull(release.BakeEndsAt);
        return id;
    }

    /// <summary>The current bake ends, the promotion timer fires and the deployment work runs.</summary>
    public async Task BakeAndPromoteAsync(ReleaseId id)
    {
        await AdvanceAndFireAsync(StageBake, id, TimerKind.Promotion);
        await FireAsync(id, TimerKind.Work);
    }

    /// <summary>Through canary and early adopters: GA 50 % applied and baking.</summary>
    public async Task<ReleaseId> ToGeneralAvailabilityBakeAsync(string version = "1.0.0")
    {
        var id = await ToCanaryBakeAsync(version);
        await BakeAndPromoteAsync(id);
        await BakeAndPromoteAsync(id);
        var release = await GetAsync(id);
        Assert.Equal(ReleaseState.GeneralAvailability, release.State);
        Assert.NotNull(release.BakeEndsAt);
        return id;
    }

    private Task Record<T>(List<T> list, T item)
    {
        lock (_gate)
        {
            list.Add(item);
        }

        return Task.CompletedTask;
    }
}
