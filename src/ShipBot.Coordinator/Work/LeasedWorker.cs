using ShipBot.Coordinator.Commands;
using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Routers;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator.Work;

/// <summary>
/// The slow work of a release — readiness probes, deployment calls, staging's smoke checks — done
/// under the release's work lease, so one caller at a time (across replicas and within one) calls
/// the deployment target, and a replica that dies mid-call holds the release up for one lease at most.
/// </summary>
internal sealed partial class LeasedWorker(
    IReleaseStore store,
    ILeaseStore leases,
    TransitionWriter writer,
    IDeploymentTarget deployment,
    IReadinessVerifier readiness,
    IReleaseScheduler scheduler,
    CardPublisher cards,
    RouterStatusBoard routers,
    ReleaseAccess access,
    CoordinatorSettings settings,
    string instance,
    TimeProvider time,
    ILogger log)
{
    /// <summary>A release's work lease; renewed every third of it while the work runs.</summary>
    private static readonly TimeSpan WorkLease = TimeSpan.FromSeconds(15);

    public async Task DoWorkAsync(Release release, CancellationToken ct)
    {
        // One caller at a time — across replicas and within this one (the Work timer and the tick may
        // overlap) — calls the deployment target for a release: the owner is unique per attempt.
        var lease = $"work:{release.Id}";
        var owner = $"{instance}:{Guid.NewGuid():N}";
        if (!await leases.TryAcquireAsync(lease, owner, WorkLease, ct).ConfigureAwait(false))
        {
            return;
        }

        // The lease is short and renewed while the work runs, so a replica that dies mid-call
        // holds up the release for at most one lease period.
        using var working = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewal = RenewLeaseAsync(lease, owner, working.Token);
        try
        {
            var fresh = await store.GetAsync(release.Id, ct).ConfigureAwait(false) ?? release;
            await DoWorkUnderLeaseAsync(fresh, ct).ConfigureAwait(false);
        }
        finally
        {
            await working.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            await leases.ReleaseAsync(lease, owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a rollback's deployment call at once (off the transition's thread); the Work timer is the safety net.</summary>
    public async Task RollBackNowAsync(ReleaseId id)
    {
        // Runs beside the command that started the rollback, and outlives it.
        RequestScope.Leave();
        try
        {
            if (await store.GetAsync(id).ConfigureAwait(false) is { PendingDeployment.IsRollback: true } release)
            {
                await DoWorkAsync(release, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is StoreUnavailableException or ReleaseRuleException)
        {
            // The Work timer tries again.
            LogWorkRefused(id.ToString(), "rollback", ex.Message);
        }
    }

    private async Task RenewLeaseAsync(string lease, string owner, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(WorkLease / 3, time, ct).ConfigureAwait(false);
                await leases.TryAcquireAsync(lease, owner, WorkLease, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The work is done.
        }
        catch (StoreUnavailableException)
        {
            // The lease lapses; at worst another replica repeats an idempotent call.
        }
    }

    private async Task DoWorkUnderLeaseAsync(Release release, CancellationToken ct)
    {
        var id = release.Id;
        if (!release.ReadinessChecked && release.State is ReleaseState.Draft or ReleaseState.AwaitingApproval)
        {
            var results = await readiness.VerifyAsync(access.PolicyOf(id.Service), ct).ConfigureAwait(false);
            release = (await writer.MutateAsync(id, Actor.System, "verify readiness",
                r => r.RecordReadiness(results.Select(x => (x.ItemId, x.Passed, x.Evidence)).ToList(), time.GetUtcNow()), ct).ConfigureAwait(false)).Next;
        }

        if (release.PendingDeployment is { } intent && release.State is not ReleaseState.Halted)
        {
            var request = new DeploymentRequest(id, intent, $"{id}:{release.Revision}:{intent.Environment.Name()}:{intent.Percent}:{intent.IsRollback}");
            DeploymentResult result;
            if (intent.IsRollback)
            {
                ReleaseTelemetry.RecordRollbackCall(release, time.GetUtcNow());
            }

            var started = time.GetTimestamp();
            try
            {
                result = await deployment.ApplyAsync(request, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                result = new DeploymentResult(false, $"{ex.GetType().Name}: {ex.Message}", time.GetElapsedTime(started));
            }

            routers.Remember(id, result.Status);
            var detail = $"{deployment.NameFor(id.Service)} → {(result.Succeeded ? "ok" : "failed")} in {result.Duration.TotalMilliseconds:0} ms: {result.Detail}";
            await store.AppendAuditAsync(id, new AuditEntry(time.GetUtcNow(), Actor.System.Id, "deployment call", $"{intent.Describe()}: {detail}"), ct).ConfigureAwait(false);
            var change = await writer.MutateAsync(id, Actor.System, "deployment result", r => r.RecordDeployment(intent, result.Succeeded, detail, time.GetUtcNow()), ct).ConfigureAwait(false);
            release = change.Next;
            if (intent.IsRollback)
            {
                if (release.State == ReleaseState.RolledBack)
                {
                    await cards.PublishAsync(release, ReleaseCards.AlertKey(id, "rollback"), ReleaseCards.RollbackAlert(release, access.PolicyOf(id.Service), detail, time.GetUtcNow()), ct).ConfigureAwait(false);
                }
                else if (!result.Succeeded)
                {
                    await scheduler.ScheduleAsync(id, TimerKind.Work, time.GetUtcNow() + settings.RetryDelay, ct).ConfigureAwait(false);
                }
            }
        }

        if (release.State == ReleaseState.Staging && release.StagingStep == StagingStep.SmokeChecking)
        {
            var smoke = await deployment.RunSmokeChecksAsync(id, DeploymentEnvironment.Staging, ct).ConfigureAwait(false);
            await store.AppendAuditAsync(id, new AuditEntry(time.GetUtcNow(), Actor.System.Id, "smoke checks", $"staging: {(smoke.Succeeded ? "passed" : "failed")}: {smoke.Detail}"), ct).ConfigureAwait(false);
            await writer.MutateAsync(id, Actor.System, "smoke checks", r => r.RecordSmokeChecks(smoke.Succeeded, smoke.Detail, time.GetUtcNow()), ct).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Kind} of {Release} refused: {Reason}")]
    private partial void LogWorkRefused(string release, string kind, string reason);
}
