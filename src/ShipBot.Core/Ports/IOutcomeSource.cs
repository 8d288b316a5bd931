using ShipBot.Core.Outcomes;

namespace ShipBot.Core.Ports;

/// <summary>One read of an outcome target: the value, or why there is none.</summary>
/// <param name="Value">The measured value; null when it could not be read.</param>
/// <param name="Error">Why there is no value ("no answer within 5 s", "no series"); null when read.</param>
public sealed record OutcomeReading(double? Value, string? Error = null)
{
    public static OutcomeReading Failed(string error) => new(null, error);
}

/// <summary>
/// Reads an outcome target's value from the service's health source (an instant PromQL query for
/// Prometheus, a value set with <c>/ship simulate</c> for the simulated source). Never throws for
/// a source that cannot answer: the reading carries the error, and the target is "not measured".
/// </summary>
public interface IOutcomeSource
{
    Task<OutcomeReading> ReadAsync(string service, OutcomeTarget target, CancellationToken cancellationToken = default);
}
