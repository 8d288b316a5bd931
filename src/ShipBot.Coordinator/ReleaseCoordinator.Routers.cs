using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator;

/// <summary>
/// The traffic router as an effect of ShipBot's transitions: its last report is kept for the release
/// card, and a committed pause or resume pauses or resumes the router's own progression. Neither
/// ever blocks or undoes a transition: a router that cannot be paused is shown on the card and audited.
/// </summary>
public sealed partial class ReleaseCoordinator
{
    /// <summary>The last router (or Flagger) report per release, as this instance saw it; the card shows it.</summary>
    private readonly ConcurrentDictionary<ReleaseId, TargetStatus> _routerStatus = new();

    /// <summary>What the router last reported for <paramref name="release"/> to this instance (null when nothing yet).</summary>
    public TargetStatus? RouterStatusOf(ReleaseId release) => _routerStatus.TryGetValue(release, out var status) ? status : null;

    private void RememberRouterStatus(ReleaseId release, TargetStatus? status)
    {
        if (status is not null)
        {
            _routerStatus[release] = status;
        }
    }

    /// <summary>
    /// After a committed transition into or out of Paused, asks the service's router to pause or
    /// resume. Leaving Paused for a rollback or an end does not resume: the rollback call moves the
    /// router itself, and a paused router stays still for a finished release.
    /// </summary>
    private async Task SyncRouterPauseAsync(Release previous, Release release, CancellationToken ct)
    {
        if (_deployment is not IRouterTarget router)
        {
            return;
        }

        bool paused;
        if (previous.State != ReleaseState.Paused && release.State == ReleaseState.Paused)
        {
            paused = true;
        }
        else if (previous.State == ReleaseState.Paused && release.State is not (ReleaseState.Paused or ReleaseState.RollingBack) && !release.State.IsTerminal())
        {
            paused = false;
        }
        else
        {
            return;
        }

        var verb = paused ? "pause" : "resume";
        DeploymentResult? result;
        try
        {
            result = await router.SetPausedAsync(release.Id, paused, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            result = new DeploymentResult(false, $"{ex.GetType().Name}: {ex.Message}", TimeSpan.Zero);
        }

        if (result is null)
        {
            // The service's target has nothing to pause (webhook, command, a Gateway API route, HAProxy).
            return;
        }

        var target = _deployment.NameFor(release.Id.Service);
        var detail = $"{target} → {(result.Succeeded ? "ok" : "failed")} in {result.Duration.TotalMilliseconds:0} ms: {result.Detail}";
        await _store.AppendAuditAsync(release.Id, new AuditEntry(_time.GetUtcNow(), "shipbot", $"router {verb}", detail), ct).ConfigureAwait(false);
        var status = result.Status ?? RouterStatusOf(release.Id) ?? new TargetStatus(target, string.Empty, [], _time.GetUtcNow());
        var facts = status.Facts.Where(f => f.Label is not ("pause failed" or "resume failed")).ToList();
        if (!result.Succeeded)
        {
            LogRouterPauseFailed(release.Id.ToString(), verb, result.Detail);
            facts.Add(new TargetFact($"{verb} failed", $"{result.Detail} — ShipBot's release is {(paused ? "paused" : "resumed")} regardless; check the router"));
        }

        RememberRouterStatus(release.Id, status with { Facts = facts });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Router {Verb} of {Release} failed: {Reason}")]
    private partial void LogRouterPauseFailed(string release, string verb, string reason);
}
