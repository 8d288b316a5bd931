using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Signals;
using ShipBot.Core.Commands;
using ShipBot.Core.Outcomes;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.AfterCare;

/// <summary>
/// Measured outcome targets: their values before the rollout (kept in the release's baseline under
/// <see cref="OutcomeTarget.BaselineKey"/>), their measurement at each outcome checkpoint, and the
/// signal a missed target opens.
/// </summary>
internal sealed partial class OutcomeMeasurement(Integrations integrations, ReleaseAccess access, IReleaseStore store, SignalRelay signals, TimeProvider time, ILogger log)
{
    /// <summary>Checks the <c>--outcome</c> names against the service's targets; returns their configured spelling, or the refusal.</summary>
    public static (IReadOnlyList<string> Names, string? Error) ResolveRequested(ServicePolicy policy, IReadOnlyList<string>? requested)
    {
        if (requested is not { Count: > 0 })
        {
            return ([], null);
        }

        if (!policy.Outcomes.TryResolve(requested, out _, out var error))
        {
            return ([], error);
        }

        var names = policy.Outcomes.All
            .Where(t => requested.Any(r => string.Equals(r.Trim(), t.Name, StringComparison.OrdinalIgnoreCase)))
            .Select(t => t.Name)
            .ToList();
        return (names, null);
    }

    /// <summary>Each target's value before the rollout, keyed by <see cref="OutcomeTarget.BaselineKey"/>; a target that cannot be read has no baseline.</summary>
    public async Task<IReadOnlyDictionary<string, double>> CaptureBaselineAsync(Release release, CancellationToken ct)
    {
        var baseline = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var result in await MeasureAsync(release, ct).ConfigureAwait(false))
        {
            if (result.Actual is { } value)
            {
                baseline[result.Target.BaselineKey] = value;
            }
            else
            {
                LogOutcomeBaselineFailed(release.Id.ToString(), result.Target.Name, result.Error ?? "no value");
            }
        }

        return baseline;
    }

    /// <summary>Reads every target of the release, one after the other (each read is bounded by its source's timeout).</summary>
    public async Task<IReadOnlyList<OutcomeResult>> MeasureAsync(Release release, CancellationToken ct)
    {
        var targets = TargetsOf(release);
        var results = new List<OutcomeResult>(targets.Count);
        foreach (var target in targets)
        {
            var reading = await ReadAsync(release.Id.Service, target, ct).ConfigureAwait(false);
            double? baseline = release.Baseline.TryGetValue(target.BaselineKey, out var b) ? b : null;
            results.Add(OutcomeEvaluation.Evaluate(target, reading.Value, baseline, reading.Error));
        }

        return results;
    }

    /// <summary>
    /// Opens the signal of a checkpoint's missed targets, audited, as <c>/ship signal unexpected</c>
    /// would: the team fills it in with what they learned (<c>/ship signal unexpected &lt;release&gt; …</c>).
    /// </summary>
    public async Task OpenSignalAsync(Release release, OutcomeReport report, IReadOnlyList<OutcomeResult> missed, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var text = $"Outcome report #{report.Checkpoint} missed {string.Join("; ", missed.Select(m => m.Line))}";
        var signal = new Signal($"outcome:{release.Id}:{report.Checkpoint}", SignalKind.Unexpected, release.Id.ToString(), text, Actor.System.Id, now, Open: true);
        await store.AddSignalAsync(signal, ct).ConfigureAwait(false);
        await signals.NotifyAsync(signal, ct).ConfigureAwait(false);
        await store.AppendAuditAsync(release.Id, new AuditEntry(now, Actor.System.Id, "signal", $"{SignalKind.Unexpected}: {text}"), ct).ConfigureAwait(false);
    }

    /// <summary>The targets <paramref name="release"/> measures: the service's always-measured ones plus those named at start that are still configured.</summary>
    private IReadOnlyList<OutcomeTarget> TargetsOf(Release release)
    {
        var catalog = access.PolicyOf(release.Id.Service).Outcomes;
        var known = release.RequestedOutcomes.Where(n => catalog.All.Any(t => string.Equals(t.Name, n, StringComparison.OrdinalIgnoreCase))).ToList();
        return catalog.TryResolve(known, out var targets, out _) ? targets : [];
    }

    private async Task<OutcomeReading> ReadAsync(string service, OutcomeTarget target, CancellationToken ct)
    {
        if (integrations.OutcomeSource is not { } source)
        {
            return OutcomeReading.Failed("no outcome source is configured");
        }

        try
        {
            return await source.ReadAsync(service, target, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or InvalidOperationException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return OutcomeReading.Failed(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not capture the outcome baseline of {Release}'s target '{Target}': {Reason}")]
    private partial void LogOutcomeBaselineFailed(string release, string target, string reason);
}
