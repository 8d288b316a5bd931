using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Core.Ports;

public enum TimerKind
{
    /// <summary>Pending slow work: a deployment call, smoke checks, readiness verification.</summary>
    Work,

    /// <summary>The end of a bake time.</summary>
    Promotion,

    /// <summary>A periodic health evaluation.</summary>
    HealthEvaluation,

    /// <summary>A consult decision nobody answered.</summary>
    DecisionTimeout,

    /// <summary>The end of the post-deployment validation window.</summary>
    ValidationEnd,

    /// <summary>An outcome checkpoint or a flag-cleanup reminder.</summary>
    OutcomeCheckpoint,
}

/// <summary>
/// Runs the coordinator's timers (Quartz.NET in production). Scheduling a kind replaces that
/// release's previous timer of the same kind. A timer that fires late fires once, at once; a timer
/// that fires twice is harmless because the coordinator re-checks the release's state.
/// </summary>
public interface IReleaseScheduler
{
    Task ScheduleAsync(ReleaseId release, TimerKind kind, DateTimeOffset dueAt, CancellationToken cancellationToken = default);

    Task ScheduleRecurringAsync(ReleaseId release, TimerKind kind, TimeSpan interval, CancellationToken cancellationToken = default);

    Task CancelAsync(ReleaseId release, TimerKind kind, CancellationToken cancellationToken = default);
}

/// <summary>A deployment target call; <see cref="IdempotencyKey"/> lets the target ignore a repeated call.</summary>
public sealed record DeploymentRequest(ReleaseId Release, DeploymentIntent Intent, string IdempotencyKey);

public sealed partial record DeploymentResult(bool Succeeded, string Detail, TimeSpan Duration);

/// <summary>How a stage actually changes traffic: webhook, command or simulated.</summary>
public interface IDeploymentTarget
{
    string Name { get; }

    /// <summary>The name of the target that serves <paramref name="service"/> (a routing target serves several).</summary>
    string NameFor(string service) => Name;

    /// <summary>Sets the new version's traffic share (or rolls back). Must be idempotent for one key.</summary>
    Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default);

    /// <summary>Runs the service's smoke checks against an environment.</summary>
    Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default);
}

/// <summary>Where health is measured (Prometheus, HTTP probes, simulated). A source that cannot read returns <see cref="HealthSample.Failed"/>.</summary>
public interface IHealthSource
{
    string Name { get; }

    Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default);
}

/// <summary>The simulated health source's controls (<c>/ship simulate</c>); registered only when that source is configured.</summary>
public interface IHealthSimulator
{
    IReadOnlyCollection<string> KnownMetrics { get; }

    void Set(string service, string metric, double value);

    void Reset(string service);
}

/// <summary>ShipBot's own check of a checklist item, with the evidence.</summary>
public sealed record ItemVerification(string ItemId, bool Passed, string Evidence);

/// <summary>Checks the items ShipBot can check itself (the health URL answers 200; it is HTTPS with a valid certificate).</summary>
public interface IReadinessVerifier
{
    Task<IReadOnlyList<ItemVerification>> VerifyAsync(ServicePolicy service, CancellationToken cancellationToken = default);
}

/// <summary>
/// Posts cards to one chat platform. <paramref name="key"/> names the message: publishing the same
/// key again updates that message in place; <paramref name="threadKey"/> threads it under another.
/// </summary>
public interface IChatNotifier
{
    /// <summary>The <see cref="Conversation.Platform"/> this notifier serves.</summary>
    string Platform { get; }

    Task PublishAsync(Conversation conversation, string key, Card card, string? threadKey = null, CancellationToken cancellationToken = default);
}
