using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Cards;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator.Alerts;

/// <summary>
/// A pushed alert (Alertmanager) about a service: if the service has a release with production
/// traffic, the alert is judged like a failed health check at once, without waiting for a poll:
/// it rolls the release back (or consults on-call when the service sets <c>alert</c> to Consult).
/// One firing acts once per release, however often it is delivered; a firing that finds no
/// rollout yet is not used up, so a repeat acts once the release reaches production.
/// </summary>
internal sealed class AlertIntake(ReleaseAccess access, ReleaseLookup lookup, IIdempotencyStore idempotency, TransitionWriter writer, CoordinatorSettings settings, TimeProvider time)
{
    public async Task<AlertResult> OnAlertAsync(ExternalAlert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        using var span = ReleaseTelemetry.StartAlert(alert.Service, alert.Name);
        if (!access.Services.TryGetValue(alert.Service, out var policy))
        {
            return new AlertResult(AlertOutcome.NoRollout);
        }

        // Only the service's active release: an older one still operating is not what the target now serves.
        var activeRelease = await lookup.ActiveReleaseOfAsync(policy.Name, cancellationToken).ConfigureAwait(false);
        foreach (var id in activeRelease is null ? [] : new[] { activeRelease.Id })
        {
            if (alert.Version is { } v && !string.Equals(v, id.Version, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // Production traffic, even while a stage's deployment call is in flight, and not rolling back already.
            // The release was just read to find it: the transition below starts from it and re-reads only after a conflict.
            var release = activeRelease;
            if (release is null || release.StageIndex < 0 || release.State.IsTerminal() || release.State is ReleaseState.RollingBack)
            {
                continue;
            }

            var action = policy.Thresholds.Actions.TryGetValue(ExternalAlert.Metric, out var a) ? a : BreachAction.Rollback;
            if (action == BreachAction.Consult && !release.IsUnderEvaluation)
            {
                // A decision needs a settled stage; the next notification of this firing asks once the deployment call is done.
                continue;
            }

            if (!await idempotency.TryClaimAsync($"alert:{alert.DedupKey}:{id}", settings.IdempotencyWindow, cancellationToken).ConfigureAwait(false))
            {
                return new AlertResult(AlertOutcome.AlreadyActed, id);
            }

            span.TagRelease(id);

            // Remembers which release this firing acted on, to say so when it is delivered again after the rollback.
            await idempotency.SetAsync($"alert:{alert.DedupKey}", id.ToString(), settings.IdempotencyWindow, cancellationToken).ConfigureAwait(false);

            var check = new CheckResult(
                $"{ExternalAlert.Metric} {alert.Name}",
                CheckStatus.Breach,
                null,
                $"firing ({alert.Severity}, since {ReleaseCards.Clock(alert.StartsAt)}){(string.IsNullOrWhiteSpace(alert.Summary) ? string.Empty : $": {alert.Summary}")}",
                null,
                action,
                alert.Source);
            var verdict = new HealthVerdict(HealthStatus.Breached, [check], time.GetUtcNow());
            await writer.MutateAsync(id, release, Actor.System, "alert", r => r.IsUnderEvaluation
                ? r.ApplyHealth(verdict, policy.ConsultTimeout, time.GetUtcNow())
                : r.BeginRollback($"automatic: {check.DescribeBreach()}", Actor.System.Id, [check], time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            return new AlertResult(AlertOutcome.Acted, id);
        }

        return await idempotency.GetAsync($"alert:{alert.DedupKey}", cancellationToken).ConfigureAwait(false) is { } acted && ReleaseId.TryParse(acted, out var actedOn)
            ? new AlertResult(AlertOutcome.AlreadyActed, actedOn)
            : new AlertResult(AlertOutcome.NoRollout);
    }
}
