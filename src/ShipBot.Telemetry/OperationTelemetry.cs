namespace ShipBot.Telemetry;

/// <summary>Recording helpers for the adapters: store operations, deployment calls, health source reads, timers.</summary>
public static class OperationTelemetry
{
    /// <summary>Records one store operation that started at <paramref name="startTimestamp"/>; <paramref name="errorType"/> null means it succeeded.</summary>
    public static void RecordStore(string system, string operation, long startTimestamp, string? errorType = null)
    {
        var system_ = new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.DbSystem, system);
        var op = new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.DbOperation, operation);
        if (errorType is null)
        {
            ShipBotTelemetry.StoreDuration.Record(ShipBotTelemetry.SecondsSince(startTimestamp), system_, op);
            return;
        }

        var error = new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.ErrorType, errorType);
        ShipBotTelemetry.StoreDuration.Record(ShipBotTelemetry.SecondsSince(startTimestamp), system_, op, error);
        ShipBotTelemetry.StoreErrors.Add(1, system_, op, error);
    }

    /// <summary>Records one deployment target call: <paramref name="operation"/> apply, rollback or smoke; <paramref name="outcome"/> success, failure (the target said no) or error (it threw).</summary>
    public static void RecordDeployment(string target, string operation, string outcome, double seconds) =>
        ShipBotTelemetry.DeploymentDuration.Record(
            seconds,
            new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Target, target),
            new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Operation, operation),
            new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Outcome, outcome));

    /// <summary>Records one read of a health source; <paramref name="ok"/> false when it failed (the sample is inconclusive).</summary>
    public static void RecordHealthSource(string source, bool ok, double seconds) =>
        ShipBotTelemetry.HealthSourceDuration.Record(
            seconds,
            new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Source, source),
            new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Outcome, ok ? "ok" : "failed"));

    /// <summary>Records how late a timer ran after it was due (negative lateness counts as 0).</summary>
    public static void RecordSchedulerLag(string timer, TimeSpan lateness) =>
        ShipBotTelemetry.SchedulerLag.Record(Math.Max(0, lateness.TotalSeconds), new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Timer, timer));
}
