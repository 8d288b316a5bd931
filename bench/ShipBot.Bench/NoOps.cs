using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Bench;

/// <summary>Arms nothing: the transition benchmark measures the store and the coordinator only.</summary>
public sealed class NoOpScheduler : IReleaseScheduler
{
    public Task ScheduleAsync(ReleaseId release, TimerKind kind, DateTimeOffset dueAt, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task ScheduleRecurringAsync(ReleaseId release, TimerKind kind, TimeSpan interval, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task CancelAsync(ReleaseId release, TimerKind kind, CancellationToken cancellationToken = default) => Task.CompletedTask;
}

/// <summary>Posts nothing (the card is still rendered by the coordinator, as in production).</summary>
public sealed class NoOpNotifier : IChatNotifier
{
    public string Platform => "console";

    public Task PublishAsync(Conversation conversation, string key, Card card, string? threadKey = null, CancellationToken cancellationToken = default) => Task.CompletedTask;
}

/// <summary>Every call succeeds at once.</summary>
public sealed class NoOpDeploymentTarget : IDeploymentTarget
{
    public string Name => "bench";

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new DeploymentResult(true, "ok", TimeSpan.Zero));

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        Task.FromResult(new DeploymentResult(true, "ok", TimeSpan.Zero));
}

/// <summary>Always healthy readings, at once (so a health tick stores a verdict and never rolls back).</summary>
public sealed class HealthyHealthSource(TimeProvider time) : IHealthSource
{
    public string Name => "bench";

    public Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Task.FromResult(Fixtures.HealthySample(query.Metrics, time.GetUtcNow()));
    }
}

/// <summary>Verifies nothing.</summary>
public sealed class NoOpReadinessVerifier : IReadinessVerifier
{
    public Task<IReadOnlyList<ItemVerification>> VerifyAsync(ServicePolicy service, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ItemVerification>>([]);
}
