using ShipBot.Core.Releases;

namespace ShipBot.Core.Ports;

/// <summary>
/// Hears about every committed transition, after it is stored and its cards are posted: for
/// integrations that mirror a release somewhere else (GitHub Deployments, release records in git,
/// telemetry). Called at least once per transition on the replica that made it; an observer must be
/// idempotent and must not throw for an outage of its own system (the transition is already
/// committed and is never undone by an observer).
/// </summary>
public interface IReleaseObserver
{
    Task OnTransitionAsync(Release previous, Release next, IReadOnlyList<ReleaseEvent> events, CancellationToken cancellationToken = default);
}
