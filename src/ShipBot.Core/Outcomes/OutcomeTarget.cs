using System.Globalization;

namespace ShipBot.Core.Outcomes;

/// <summary>How a measured value is compared with a target's value.</summary>
public enum TargetComparison
{
    /// <summary>≥</summary>
    AtLeast,

    /// <summary>≤</summary>
    AtMost,

    /// <summary>&gt;</summary>
    Above,

    /// <summary>&lt;</summary>
    Below,
}

/// <summary>
/// A measured outcome target, for example "checkout conversion ≥ 2.1 %": a name, a query against
/// the service's health source whose result is compared as it is (write the query in the unit of
/// <see cref="Value"/>, e.g. <c>100 * sum(rate(orders_total[1d])) / sum(rate(sessions_total[1d]))</c> for a
/// percentage), a comparison and a value. <see cref="Unit"/> is for display only.
/// </summary>
public sealed record OutcomeTarget(string Name, string Query, TargetComparison Comparison, double Value)
{
    /// <summary>Shown after numbers ("%", "ms", "orders/min"); null for none.</summary>
    public string? Unit { get; init; }

    /// <summary>The key under which the value measured before the rollout is kept in <see cref="Releases.Release.Baseline"/>.</summary>
    public string BaselineKey => BaselineKeyOf(Name);

    public static string BaselineKeyOf(string name) => $"outcome:{name}";

    /// <summary>Whether <paramref name="actual"/> meets the target. NaN and infinities never do.</summary>
    public bool IsMetBy(double actual) => double.IsFinite(actual) && Comparison switch
    {
        TargetComparison.AtLeast => actual >= Value,
        TargetComparison.AtMost => actual <= Value,
        TargetComparison.Above => actual > Value,
        _ => actual < Value,
    };

    /// <summary>"checkout conversion ≥ 2.1 %", as the contract lists it.</summary>
    public string Describe() => $"{Name} {Symbol(Comparison)} {Format(Value)}";

    /// <summary>A number in this target's unit: "2.1 %", "180 ms", "0.35".</summary>
    public string Format(double value) =>
        Unit is null or "" ? Number(value) : $"{Number(value)} {Unit}";

    public override string ToString() => Describe();

    public static string Symbol(TargetComparison comparison) => comparison switch
    {
        TargetComparison.AtLeast => "≥",
        TargetComparison.AtMost => "≤",
        TargetComparison.Above => ">",
        _ => "<",
    };

    /// <summary>Reads "&gt;=", "≥", "AtLeast", "&lt;=", "≤", "AtMost", "&gt;", "Above", "&lt;", "Below" (case-insensitive).</summary>
    public static bool TryParseComparison(string? text, out TargetComparison comparison)
    {
        comparison = default;
        switch (text?.Trim().ToLowerInvariant())
        {
            case ">=" or "≥" or "atleast" or "at-least" or "min":
                comparison = TargetComparison.AtLeast;
                return true;
            case "<=" or "≤" or "atmost" or "at-most" or "max":
                comparison = TargetComparison.AtMost;
                return true;
            case ">" or "above":
                comparison = TargetComparison.Above;
                return true;
            case "<" or "below":
                comparison = TargetComparison.Below;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A number with up to four decimals and no trailing zeros, invariant culture.</summary>
    public static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
