using ShipBot.Core.Releases;

namespace ShipBot.Core.Outcomes;

public enum OutcomeVerdict
{
    Pass,
    Miss,

    /// <summary>The query could not be read: neither a pass nor a miss (and it opens no signal).</summary>
    NotMeasured,
}

/// <summary>One target at one checkpoint: the measured value against the target and the change since the baseline.</summary>
/// <param name="Target">The target.</param>
/// <param name="Verdict">Pass, miss, or not measured.</param>
/// <param name="Actual">The measured value; null when not measured.</param>
/// <param name="Baseline">The value measured before the rollout; null when none was captured.</param>
/// <param name="Error">Why it could not be measured, for <see cref="OutcomeVerdict.NotMeasured"/>.</param>
public sealed record OutcomeResult(OutcomeTarget Target, OutcomeVerdict Verdict, double? Actual, double? Baseline, string? Error = null)
{
    /// <summary>Actual minus baseline; null without both.</summary>
    public double? Delta => Actual - Baseline;

    /// <summary>The change relative to the baseline (0.1 = +10 %); null without both or with a zero baseline.</summary>
    public double? RelativeDelta => Actual is { } a && Baseline is { } b && b != 0 ? (a - b) / Math.Abs(b) : null;

    public bool IsMiss => Verdict == OutcomeVerdict.Miss;

    /// <summary>
    /// The report line: "checkout conversion: 2.3 % vs target ≥ 2.1 % — pass (Δ +0.2 % since baseline 2.1 %)",
    /// "… — miss (…)", or "checkout conversion: not measured (timeout) — target ≥ 2.1 %".
    /// </summary>
    public string Line
    {
        get
        {
            var target = $"target {TargetComparisonText}";
            if (Verdict == OutcomeVerdict.NotMeasured || Actual is not { } actual)
            {
                return $"{Target.Name}: not measured ({Error ?? "no value"}) — {target}";
            }

            var verdict = Verdict == OutcomeVerdict.Pass ? "pass" : "miss";
            var since = Baseline is { } baseline
                ? $"Δ {Signed(actual - baseline)} since baseline {Target.Format(baseline)}{(RelativeDelta is { } r ? $", {Signed(Math.Round(r * 100, 1), "%")}" : string.Empty)}"
                : "no baseline";
            return $"{Target.Name}: {Target.Format(actual)} vs {target} — {verdict} ({since})";
        }
    }

    private string TargetComparisonText => $"{OutcomeTarget.Symbol(Target.Comparison)} {Target.Format(Target.Value)}";

    private string Signed(double value, string? unit = null)
    {
        var text = (value >= 0 ? "+" : "−") + OutcomeTarget.Number(Math.Abs(value));
        unit ??= Target.Unit;
        return unit is null or "" ? text : $"{text} {unit}";
    }
}

/// <summary>Measured values against targets, and the outcome report of a checkpoint.</summary>
public static class OutcomeEvaluation
{
    /// <summary>
    /// Judges one measurement. <paramref name="actual"/> null (or not a finite number) is "not
    /// measured" with <paramref name="error"/>; otherwise pass or miss by the target's comparison.
    /// </summary>
    public static OutcomeResult Evaluate(OutcomeTarget target, double? actual, double? baseline, string? error = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        var usableBaseline = baseline is { } b && double.IsFinite(b) ? baseline : null;
        if (actual is not { } value || !double.IsFinite(value))
        {
            return new OutcomeResult(target, OutcomeVerdict.NotMeasured, null, usableBaseline, error ?? (actual is null ? "no value" : $"the query returned {actual}"));
        }

        return new OutcomeResult(target, target.IsMetBy(value) ? OutcomeVerdict.Pass : OutcomeVerdict.Miss, value, usableBaseline);
    }

    /// <summary>
    /// The report of a checkpoint: one line per result, then a summary line ("2 of 3 targets met;
    /// missed: checkout conversion"). Without targets, the single line says so.
    /// </summary>
    public static OutcomeReport Report(int checkpoint, DateTimeOffset at, IReadOnlyList<OutcomeResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            return new OutcomeReport(checkpoint, at, ["No measured outcome target is configured."]);
        }

        var lines = results.Select(r => r.Line).ToList();
        var met = results.Count(r => r.Verdict == OutcomeVerdict.Pass);
        var missed = results.Where(r => r.IsMiss).Select(r => r.Target.Name).ToList();
        var unmeasured = results.Count(r => r.Verdict == OutcomeVerdict.NotMeasured);
        var summary = $"{met} of {results.Count} target(s) met";
        if (missed.Count > 0)
        {
            summary += $"; missed: {string.Join(", ", missed)}";
        }

        if (unmeasured > 0)
        {
            summary += $"; {unmeasured} not measured";
        }

        lines.Add(summary + ".");
        return new OutcomeReport(checkpoint, at, lines);
    }
}
