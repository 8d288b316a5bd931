using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.AfterCare;
using ShipBot.Coordinator.Alerts;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Delivery;
using ShipBot.Coordinator.Flagger;
using ShipBot.Coordinator.Freezes;
using ShipBot.Coordinator.Handlers;
using ShipBot.Coordinator.Handlers.Approval;
using ShipBot.Coordinator.Handlers.Queries;
using ShipBot.Coordinator.Handlers.Rollout;
using ShipBot.Coordinator.Handlers.Simulation;
using ShipBot.Coordinator.Handlers.StopTheLine;
using ShipBot.Coordinator.Handlers.Tokens;
using ShipBot.Coordinator.Health;
using ShipBot.Coordinator.Identity;
using ShipBot.Coordinator.Routers;
using ShipBot.Coordinator.Signals;
using ShipBot.Coordinator.Timers;
using ShipBot.Coordinator.Transitions;
using ShipBot.Coordinator.Work;
using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator;

/// <summary>
/// The application layer as one object for the host: it composes the rooms (one job each, see the
/// README's architecture section) and hands every call to the room that owns it. It keeps no logic
/// of its own. Commands go through <see cref="CommandPipeline"/> and <see cref="CommandTable"/>;
/// every release change through <see cref="TransitionWriter"/>; timers through <see cref="TimerDispatcher"/>.
/// </summary>
public sealed class ReleaseCoordinator : IReleaseCommands, IAlertIntake, IReleaseTimers, IFlaggerGate, IDeliveryReports
{
    /// <summary>Metadata key whose value, when set and a valid version, names the release's version instead of the checksum.</summary>
    public const string FlaggerVersionKey = FlaggerGatekeeper.VersionKey;

    private readonly Integrations _integrations = new();
    private readonly ReleaseAccess _access;
    private readonly RouterStatusBoard _routers = new();
    private readonly CommandTable _table;
    private readonly CommandPipeline _commands;
    private readonly AlertIntake _alerts;
    private readonly TimerDispatcher _timers;
    private readonly FlaggerGatekeeper _flagger;
    private readonly DeliveryReports _delivery;

    /// <param name="leases">The lease store (work and evaluation leases); required: replicas share it, so it is the release store's own in production.</param>
    /// <param name="simulator">The simulated health source, when configured (<c>/ship simulate</c>); null otherwise.</param>
    /// <param name="observers">Integrations that hear about every committed transition. Default none.</param>
    public ReleaseCoordinator(
        IReleaseStore store,
        IIdempotencyStore idempotency,
        ILeaseStore leases,
        IReleaseScheduler scheduler,
        IDeploymentTarget deployment,
        IHealthSource health,
        IReadinessVerifier readiness,
        IEnumerable<IChatNotifier> notifiers,
        AccessPolicy access,
        CoordinatorSettings settings,
        TimeProvider time,
        ILogger<ReleaseCoordinator> log,
        IHealthSimulator? simulator = null,
        IEnumerable<IReleaseObserver>? observers = null)
    {
        ArgumentNullException.ThrowIfNull(leases);

        // One owner id per process (replicas differ): the evaluation and work leases are held under it.
        var instance = Guid.NewGuid().ToString("N");
        _access = new ReleaseAccess(access);
        var lookup = new ReleaseLookup(store, _access);
        var freezes = new FreezeGate(_integrations, _access, time);
        var cards = new CardPublisher(notifiers, store, lookup, _access, freezes, _routers, _integrations, time, log);
        var signals = new SignalRelay(_integrations, log);
        var reconciler = new TimerReconciler(scheduler, lookup, _access, settings, time);

        // The worker needs the writer and the writer's effects start a rollback's work: the effects call it late.
        LeasedWorker? worker = null;
        var effects = new TransitionEffects(cards, reconciler, new RouterPauseSync(deployment, store, _routers, time, log), store, _access, observers ?? [], settings,
            id => worker!.RollBackNowAsync(id), time, log);
        var writer = new TransitionWriter(store, effects, time);
        var work = new LeasedWorker(store, leases, writer, deployment, readiness, scheduler, cards, _routers, _access, settings, instance, time, log);
        worker = work;

        var reader = new HealthReader(health);
        var outcomes = new OutcomeMeasurement(_integrations, _access, store, signals, time, log);
        var gate = new HealthGate(reader, writer, lookup, _access, freezes, outcomes, cards, idempotency, store, time, log);
        var afterCare = new OutcomeCheckpoints(reader, outcomes, writer, lookup, _access, reconciler, cards, scheduler, store, settings, time);
        var actions = new ReleaseActions(lookup, _access, writer, time);
        var start = new StartHandler(writer, lookup, _access, freezes, cards, signals, deployment, scheduler, store, time);
        _delivery = new DeliveryReports(_access, store, _integrations, time, log);

        _table = new CommandTable(
            start,
            new ApprovalHandlers(lookup, _access, actions, time),
            new RolloutHandlers(lookup, _access, actions, gate, freezes, time),
            new HaltHandlers(store, _access, writer, cards, reconciler, scheduler, time),
            new SignalHandlers(store, lookup, signals, afterCare, time),
            new ReleaseQueries(store, lookup, _access, cards, time),
            new FreezesQuery(freezes, _access, time),
            new StatsQuery(_delivery),
            new HelpQuery(_access, simulator),
            new SimulateHandler(_access, simulator),
            new TokenHandler(_integrations));
        _commands = new CommandPipeline(_table, lookup, idempotency, store, settings, time, log);
        _alerts = new AlertIntake(_access, lookup, idempotency, writer, settings, time);
        _timers = new TimerDispatcher(store, leases, writer, work, gate, afterCare, reconciler, _access, settings, instance, time, log);
        _flagger = new FlaggerGatekeeper(settings, _access, store, start, lookup, freezes, _routers, cards, time);
    }

    public AccessPolicy Access => _access.Policy;

    /// <summary>Publishes the sequential judge's evidence chart for the release card (optional: without it the card shows the numbers only).</summary>
    public IJudgeCharts? JudgeCharts { get => _integrations.JudgeCharts; init => _integrations.JudgeCharts = value; }

    /// <summary>How writing release records goes; null or disabled: the card says nothing about records.</summary>
    public IReleaseRecordsStatus? Records { get => _integrations.Records; init => _integrations.Records = value; }

    /// <summary>Integrations that hear about every recorded or filled-in signal (release records in git). Default none.</summary>
    public IReadOnlyList<ISignalObserver> SignalObservers { get => _integrations.SignalObservers; init => _integrations.SignalObservers = value; }

    /// <summary>Publishes the stats chart; null: <c>/ship stats</c> gives the numbers only.</summary>
    public IDeliveryCharts? DeliveryCharts { get => _integrations.DeliveryCharts; init => _integrations.DeliveryCharts = value; }

    /// <summary>Reads outcome targets from the services' health sources. Without it, configured targets are reported "not measured".</summary>
    public IOutcomeSource? OutcomeSource { get => _integrations.OutcomeSource; init => _integrations.OutcomeSource = value; }

    /// <summary>The freeze calendars; null: no calendar is configured and nothing is ever frozen by one (halts still are).</summary>
    public IFreezeCalendar? Freezes { get => _integrations.Freezes; init => _integrations.Freezes = value; }

    /// <summary>API token management for <c>/ship token …</c>; without it (unit tests, the benchmark) the verb says it is unavailable.</summary>
    public ApiTokenService? Tokens { get => _integrations.Tokens; init => _integrations.Tokens = value; }

    /// <inheritdoc />
    public Task<CommandReply> HandleAsync(InboundCommand inbound, CancellationToken cancellationToken = default) =>
        _commands.HandleAsync(inbound, cancellationToken);

    /// <inheritdoc />
    public Task<AlertResult> OnAlertAsync(ExternalAlert alert, CancellationToken cancellationToken = default) =>
        _alerts.OnAlertAsync(alert, cancellationToken);

    /// <inheritdoc />
    public Task OnTimerAsync(ReleaseId id, TimerKind kind, CancellationToken cancellationToken = default) =>
        _timers.OnTimerAsync(id, kind, cancellationToken);

    /// <inheritdoc />
    public Task<int> RecoverAsync(CancellationToken cancellationToken = default) => _timers.RecoverAsync(cancellationToken);

    /// <inheritdoc />
    public Task<int> SweepAsync(CancellationToken cancellationToken = default) => _timers.SweepAsync(cancellationToken);

    /// <inheritdoc />
    public Task<FlaggerAnswer> OnFlaggerHookAsync(FlaggerHook hook, CancellationToken cancellationToken = default) =>
        _flagger.OnFlaggerHookAsync(hook, cancellationToken);

    /// <inheritdoc />
    public Task<DoraReport> DeliveryReportAsync(string? service, string? channel, int days, CancellationToken cancellationToken = default) =>
        _delivery.ReportAsync(service, channel, days, cancellationToken);

    /// <inheritdoc />
    public Task<string?> ChartLinkAsync(DoraReport report, CancellationToken cancellationToken = default) =>
        _delivery.ChartLinkAsync(report, cancellationToken);

    /// <summary>The command table's rows (for tests: one row per verb).</summary>
    internal IReadOnlyList<CommandRow> CommandRows => _table.Rows;

    /// <summary>What the router last reported for <paramref name="release"/> to this instance (null when nothing yet).</summary>
    public TargetStatus? RouterStatusOf(ReleaseId release) => _routers.Of(release);
}
