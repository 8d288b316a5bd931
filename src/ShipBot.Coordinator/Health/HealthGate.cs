using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.AfterCare;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Freezes;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Freezes;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator.Health;

/// <summary>
/// Judges a rollout's health and moves it on: the periodic evaluation (threshold rule or sequential
/// judge), the baseline captured before production traffic, the promotion when a bake is over and
/// health is green (held by a halt or a freeze), the judge's early promotion, and the end of validation.
/// </summary>
internal sealed partial class HealthGate(
    HealthReader health,
    TransitionWriter writer,
    ReleaseLookup lookup,
    ReleaseAccess access,
    FreezeGate freezes,
    OutcomeMeasurement outcomes,
    CardPublisher cards,
    IIdempotencyStore idempotency,
    IReleaseStore store,
    TimeProvider time,
    ILogger log)
{
    public async Task PromoteIfDueAsync(Release release, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!release.IsPromotionDue(now))
        {
            return;
        }

        if (await lookup.HaltOfAsync(release.Id.Service, ct).ConfigureAwait(false) is not null)
        {
            return;
        }

        if (release.State == ReleaseState.Staging)
        {
            if (freezes.FreezeHolding(release) is { } freeze)
            {
                // Production traffic waits for the freeze to end; the tick promotes after it.
                await NoteFreezeHoldAsync(release, freeze, ct).ConfigureAwait(false);
                return;
            }

            var baseline = await CaptureBaselineAsync(release, ct).ConfigureAwait(false);
            await writer.MutateAsync(release.Id, Actor.System, "promote", r => r.Promote(time.GetUtcNow(), null, null, baseline), ct).ConfigureAwait(false);
            return;
        }

        // The evaluation promotes when the bake is over and health is green; a held promotion is retried
        // by every following evaluation, so no extra timer is needed.
        await EvaluateAndApplyAsync(release, ct).ConfigureAwait(false);
    }

    public async Task EvaluateAndApplyAsync(Release release, CancellationToken ct)
    {
        if (!release.IsUnderEvaluation)
        {
            return;
        }

        var (verdict, judged) = await EvaluateAsync(release, ct).ConfigureAwait(false);

        // Asking the health source takes time (seconds, at worst): halts read before it are not the ones the
        // promotion below must respect. The readings' write or the card reads them again.
        RequestScope.ForgetHalts();
        var policy = access.PolicyOf(release.Id.Service);
        var change = await writer.MutateAsync(release.Id, release, Actor.System, TransitionWriter.HealthEvaluation, r => judged is not null
            ? r.ApplyJudgement(judged, policy.ConsultTimeout, time.GetUtcNow(), policy.MaxInconclusive)
            : r.ApplyHealth(verdict, policy.ConsultTimeout, time.GetUtcNow(), policy.MaxInconclusive), ct).ConfigureAwait(false);
        var next = change.Next;
        if (next.State == ReleaseState.Validating)
        {
            await TryCompleteValidationAsync(next, ct).ConfigureAwait(false);
        }
        else if (next.IsPromotionDue(time.GetUtcNow()) && next.IsGreen(next.LastHealth)
            && await lookup.HaltOfAsync(next.Id.Service, ct).ConfigureAwait(false) is null)
        {
            if (freezes.FreezeHolding(next) is { } freeze)
            {
                // Held at this stage: health is still judged (and may roll back); the first evaluation after the freeze promotes.
                await NoteFreezeHoldAsync(next, freeze, ct).ConfigureAwait(false);
                return;
            }

            await writer.MutateAsync(next.Id, Actor.System, "promote",
                r => r.IsPromotionDue(time.GetUtcNow()) ? r.Promote(time.GetUtcNow(), r.LastHealth, null) : new ReleaseChange(r, [], "Already promoted.") { Modified = false }, ct).ConfigureAwait(false);
        }
        else if (judged is { Result.MayPromoteEarly: true } && next.State.IsProductionStage() && next.Judge?.Verdict == JudgeVerdict.Safe
            && await lookup.HaltOfAsync(next.Id.Service, ct).ConfigureAwait(false) is null)
        {
            // Safe with the minimum samples and time met, and the service allows it: the normal promotion, before the bake ends.
            await writer.MutateAsync(next.Id, Actor.System, "promote early", r => r.PromoteEarly(time.GetUtcNow()), ct).ConfigureAwait(false);
        }
    }

    public async Task TryCompleteValidationAsync(Release release, CancellationToken ct)
    {
        if (release.State != ReleaseState.Validating || release.ValidationEndsAt > time.GetUtcNow())
        {
            return;
        }

        var policy = access.PolicyOf(release.Id.Service);
        await writer.MutateAsync(release.Id, Actor.System, "validation", r => r.CompleteValidation(time.GetUtcNow(), r.LastHealth, policy.Runbook is not null), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// One health evaluation. A service judged by the threshold rule gets today's verdict. A service
    /// with <c>Judge: Sequential</c>, at a partial stage, also reads the canary's and the baseline's
    /// counts since the stage's traffic started, and the sequential judge decides (its step is
    /// returned to be stored with the release); the 100 % stage has no baseline left and keeps the
    /// threshold rule.
    /// </summary>
    public async Task<(HealthVerdict Verdict, JudgeStep? Judged)> EvaluateAsync(Release release, CancellationToken ct)
    {
        var policy = access.PolicyOf(release.Id.Service);
        var stage = release.CurrentStage;
        var metrics = HealthPolicy.MetricsFor(stage?.Kind, policy.Thresholds);
        var query = new HealthQuery(release.Id.Service, release.Id.Version, stage?.Kind.ToString() ?? "staging", stage?.Percent ?? 0, metrics);
        var judge = JudgeOf(release, policy);
        if (judge is not null)
        {
            query = query with { CountsSince = judge.StartedAt, CountMetrics = [.. judge.Metrics.Select(m => m.Metric)] };
        }

        var sample = await health.ReadAsync(query, ct).ConfigureAwait(false);
        if (judge is null)
        {
            var verdict = HealthPolicy.Evaluate(sample, metrics, release.Baseline, policy.Thresholds, time.GetUtcNow());
            ReleaseTelemetry.RecordEvaluation(verdict);
            return (verdict, null);
        }

        var step = SequentialJudge.Observe(judge, JudgeObservation.From(sample, time.GetUtcNow()));
        var judged = step.Result.ToHealthVerdict();
        ReleaseTelemetry.RecordEvaluation(judged);
        return (judged, step);
    }

    public async Task<IReadOnlyDictionary<string, double>> CaptureBaselineAsync(Release release, CancellationToken ct)
    {
        var sample = await health.ReadAsync(new HealthQuery(release.Id.Service, release.Id.Version, "baseline", 0, HealthPolicy.BaselineMetricsFor(access.PolicyOf(release.Id.Service).Thresholds)), ct).ConfigureAwait(false);
        if (sample.Error is not null)
        {
            // Without a baseline, relative thresholds judge against zero: stricter, never looser.
            LogBaselineFailed(release.Id.ToString(), sample.Error);
        }

        var baseline = sample.Readings.Where(r => double.IsFinite(r.Value)).GroupBy(r => r.Metric).ToDictionary(g => g.Key, g => g.Last().Value);
        foreach (var (key, value) in await outcomes.CaptureBaselineAsync(release, ct).ConfigureAwait(false))
        {
            baseline[key] = value;
        }

        return baseline;
    }

    /// <summary>
    /// The judge state to continue with: the release's own when it is about the current stage, else a
    /// fresh one whose counts start when the stage's traffic was confirmed (its bake's start). Null
    /// when the service uses the threshold rule or the stage has no baseline to compare with.
    /// </summary>
    private JudgeState? JudgeOf(Release release, ServicePolicy policy)
    {
        if (policy.Judge.Kind != JudgeKind.Sequential || release.CurrentStage is not { Percent: < 100 } stage)
        {
            return null;
        }

        if (release.JudgesCurrentStage(release.Judge))
        {
            return release.Judge;
        }

        var now = time.GetUtcNow();
        var started = release.BakeEndsAt is { } end ? end - stage.Bake : now;
        if (release.PhaseStartedAt is { } phase && started < phase)
        {
            started = phase;
        }

        if (started > now)
        {
            started = now;
        }

        var partial = release.Plan.Stages.Where(s => s.Percent < 100).ToList();
        var index = release.Plan.Stages.Take(release.StageIndex).Count(s => s.Percent < 100);
        return SequentialJudge.Start(policy.Judge, stage.Kind.ToString(), index, partial.Count, started);
    }

    /// <summary>
    /// A promotion that was due is held by a freeze: said once per freeze (audit and the card, which
    /// then reads "Frozen until …"), not at every evaluation.
    /// </summary>
    private async Task NoteFreezeHoldAsync(Release release, FreezeState freeze, CancellationToken ct)
    {
        var key = $"freeze-hold:{release.Id}:{freeze.Until?.ToUnixTimeSeconds()}";
        if (!await idempotency.TryClaimAsync(key, FreezeGate.ListHorizon, ct).ConfigureAwait(false))
        {
            return;
        }

        await store.AppendAuditAsync(release.Id, new AuditEntry(time.GetUtcNow(), Actor.System.Id, "held by change freeze", $"promotion from {release.Where} waits: {freeze.Explain()}"), ct).ConfigureAwait(false);
        await cards.PublishCardAsync(release, ct).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not capture the baseline of {Release}: {Reason}")]
    private partial void LogBaselineFailed(string release, string reason);
}
