using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Routers;

/// <summary>
/// The traffic router as an effect of ShipBot's transitions: a committed pause or resume pauses or
/// resumes the router's own progression. It never blocks or undoes a transition: a router that
/// cannot be paused is shown on the card and audited.
/// </summary>
internal sealed partial class RouterPauseSync(IDeploymentTarget deployment, IReleaseStore store, RouterStatusBoard board, TimeProvider time, ILogger log)
{
    /// <summary>
    /// After a committed transition into or out of Paused, asks the service's router to pause or
    /// resume. Leaving Paused for a rollback or an end does not resume: the rollback call moves the
    /// router itself, and a paused router stays still for a finished release.
    /// </summary>
    public async Task SyncAsync(Release previous, Release release, CancellationToken ct)
    {
        if (deployment is not IRouterTarget router)
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

        var target = deployment.NameFor(release.Id.Service);
        var detail = $"{target} → {(result.Succeeded ? "ok" : "failed")} in {result.Duration.TotalMilliseconds:0} ms: {result.Detail}";
        await store.AppendAuditAsync(release.Id, new AuditEntry(time.GetUtcNow(), Actor.System.Id, $"router {verb}", detail), ct).ConfigureAwait(false);
        var status = result.Status ?? board.Of(release.Id) ?? new TargetStatus(target, string.Empty, [], time.GetUtcNow());
        var facts = status.Facts.Where(f => f.Label is not ("pause failed" or "resume failed")).ToList();
        if (!result.Succeeded)
        {
            LogRouterPauseFailed(release.Id.ToString(), verb, result.Detail);
            facts.Add(new TargetFact($"{verb} failed", $"{result.Detail} — ShipBot's release is {(paused ? "paused" : "resumed")} regardless; check the router"));
        }

        board.Remember(release.Id, status with { Facts = facts });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Router {Verb} of {Release} failed: {Reason}")]
    private partial void LogRouterPauseFailed(string release, string verb, string reason);
}
