using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ShipBot.Telemetry;

/// <summary>
/// ShipBot's own meter and activity source (both named <c>ShipBot</c>) and every instrument the
/// layers record to. Names and units follow the OpenTelemetry semantic conventions: dotted
/// lower-case names under <c>shipbot.</c>, seconds (<c>s</c>) for durations, <c>{thing}</c> for
/// counts; the Prometheus exporter turns them into <c>shipbot_…_seconds</c> and <c>…_total</c>.
/// Attributes are low-cardinality (platform, kind, outcome…): release and service names go on
/// spans only. docs/observability.md lists every instrument.
/// </summary>
public static class ShipBotTelemetry
{
    /// <summary>The meter and activity source name: <c>ShipBot</c>.</summary>
    public const string Name = "ShipBot";

    private static readonly string? Version = typeof(ShipBotTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>Latency buckets in seconds, from a fast in-process ack to a slow deployment call.</summary>
    private static readonly IReadOnlyList<double> LatencyBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    public static Meter Meter { get; } = new(Name, Version);

    public static ActivitySource Source { get; } = new(Name, Version);

    /// <summary><c>shipbot.release.transitions</c>: committed release events, by <c>shipbot.kind</c> (Promoted, RollbackStarted…).</summary>
    public static Counter<long> Transitions { get; } = Meter.CreateCounter<long>(
        "shipbot.release.transitions", "{transition}", "Committed release transitions, one per release event, by kind.");

    /// <summary><c>shipbot.rollbacks</c>: rollbacks started, by <c>shipbot.trigger</c> (health, alert, deployment_failed, decision, decision_timeout, manual).</summary>
    public static Counter<long> Rollbacks { get; } = Meter.CreateCounter<long>(
        "shipbot.rollbacks", "{rollback}", "Rollbacks started, by what triggered them.");

    /// <summary><c>shipbot.rollback.breach_to_call.duration</c>: from the moment a rollback began (the breach was judged) to the start of its first deployment call.</summary>
    public static Histogram<double> BreachToRollbackCall { get; } = Meter.CreateHistogram(
        "shipbot.rollback.breach_to_call.duration", "s", "From the breach that started a rollback to the start of the rollback's deployment call.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary><c>shipbot.chat.ack.duration</c>: how long a chat request took to be acknowledged, by <c>shipbot.platform</c> and <c>shipbot.interaction</c> (command, click, event).</summary>
    public static Histogram<double> AckDuration { get; } = Meter.CreateHistogram(
        "shipbot.chat.ack.duration", "s", "Chat command and click acknowledgement latency, by platform and interaction.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary><c>shipbot.chat.api.calls</c>: outgoing chat API calls (each HTTP attempt), by <c>shipbot.platform</c> and <c>shipbot.method</c>.</summary>
    public static Counter<long> ChatApiCalls { get; } = Meter.CreateCounter<long>(
        "shipbot.chat.api.calls", "{call}", "Outgoing chat platform API calls (each attempt), by platform and method.");

    /// <summary><c>shipbot.chat.api.errors</c>: chat API calls that failed, by platform, method and <c>error.type</c> (HTTP status, Slack error code or exception type).</summary>
    public static Counter<long> ChatApiErrors { get; } = Meter.CreateCounter<long>(
        "shipbot.chat.api.errors", "{call}", "Chat platform API calls that failed, by platform, method and error type.");

    /// <summary><c>shipbot.chat.api.rate_limited</c>: chat API calls answered 429, by platform and method.</summary>
    public static Counter<long> ChatApiRateLimited { get; } = Meter.CreateCounter<long>(
        "shipbot.chat.api.rate_limited", "{call}", "Chat platform API calls answered 429 Too Many Requests, by platform and method.");

    /// <summary><c>shipbot.deployment.duration</c>: deployment target calls, by <c>shipbot.target</c>, <c>shipbot.operation</c> (apply, rollback, smoke) and <c>shipbot.outcome</c> (success, failure, error).</summary>
    public static Histogram<double> DeploymentDuration { get; } = Meter.CreateHistogram(
        "shipbot.deployment.duration", "s", "Deployment target calls by target, operation and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary><c>shipbot.health.evaluations</c>: health evaluations, by <c>shipbot.verdict</c> (healthy, breached, unknown).</summary>
    public static Counter<long> HealthEvaluations { get; } = Meter.CreateCounter<long>(
        "shipbot.health.evaluations", "{evaluation}", "Health evaluations of releases, by verdict.");

    /// <summary><c>shipbot.health.source.duration</c>: reads of one health source, by <c>shipbot.source</c> and <c>shipbot.outcome</c> (ok, failed).</summary>
    public static Histogram<double> HealthSourceDuration { get; } = Meter.CreateHistogram(
        "shipbot.health.source.duration", "s", "Health source read latency, by source and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary><c>shipbot.scheduler.lag</c>: how late a timer ran after its due time, by <c>shipbot.timer</c>.</summary>
    public static Histogram<double> SchedulerLag { get; } = Meter.CreateHistogram(
        "shipbot.scheduler.lag", "s", "How late each release timer ran after it was due, by timer kind.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary><c>shipbot.store.operation.duration</c>: state store operations (retries included), by <c>db.system.name</c>, <c>db.operation.name</c> and, on failure, <c>error.type</c>.</summary>
    public static Histogram<double> StoreDuration { get; } = Meter.CreateHistogram(
        "shipbot.store.operation.duration", "s", "State store operation latency (retries included), by store and operation.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    /// <summary><c>shipbot.store.errors</c>: state store operations that failed, by store, operation and <c>error.type</c>.</summary>
    public static Counter<long> StoreErrors { get; } = Meter.CreateCounter<long>(
        "shipbot.store.errors", "{error}", "State store operations that failed after their retries, by store, operation and error type.");

    /// <summary><c>shipbot.releases</c>: active releases by <c>shipbot.state</c>, from a snapshot (see <see cref="ReleaseStateSnapshot"/>).</summary>
    public static ObservableGauge<long> Releases { get; } = Meter.CreateObservableGauge(
        "shipbot.releases", ReleaseStateSnapshot.Observe, "{release}", "Active (not finished) releases by state, from a periodic snapshot of the store.");

    /// <summary><c>shipbot.readiness.status</c>: each readiness check, by <c>shipbot.check</c>: 1 healthy, 0.5 degraded, 0 unhealthy.</summary>
    public static ObservableGauge<double> Readiness { get; } = Meter.CreateObservableGauge(
        "shipbot.readiness.status", ReadinessSnapshot.Observe, "1", "Readiness checks (store, scheduler, chat platforms): 1 healthy, 0.5 degraded, 0 unhealthy.");

#pragma warning disable RS0030 // Durations in metrics are how long real work took on this machine: the one deliberate use of the real clock outside the host.
    /// <summary>A monotonic timestamp to measure a duration from with <see cref="SecondsSince"/>.</summary>
    public static long Timestamp() => Stopwatch.GetTimestamp();

    /// <summary>Seconds since <paramref name="startTimestamp"/> (a <see cref="Timestamp"/>).</summary>
    public static double SecondsSince(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
#pragma warning restore RS0030

    /// <summary>Records one chat acknowledgement.</summary>
    public static void RecordAck(string platform, string interaction, double seconds) =>
        AckDuration.Record(seconds, new KeyValuePair<string, object?>(Tags.Platform, platform), new KeyValuePair<string, object?>(Tags.Interaction, interaction));

    /// <summary>Attribute names, shared by the instruments, the dashboard and the alert rules.</summary>
    public static class Tags
    {
        public const string Kind = "shipbot.kind";
        public const string Trigger = "shipbot.trigger";
        public const string Platform = "shipbot.platform";
        public const string Interaction = "shipbot.interaction";
        public const string Method = "shipbot.method";
        public const string Target = "shipbot.target";
        public const string Operation = "shipbot.operation";
        public const string Outcome = "shipbot.outcome";
        public const string Verdict = "shipbot.verdict";
        public const string Source = "shipbot.source";
        public const string Timer = "shipbot.timer";
        public const string State = "shipbot.state";
        public const string Check = "shipbot.check";
        public const string ErrorType = "error.type";
        public const string DbSystem = "db.system.name";
        public const string DbOperation = "db.operation.name";

        /// <summary>Span attributes (never metric attributes: unbounded).</summary>
        public const string Release = "shipbot.release";
        public const string Service = "shipbot.service";
        public const string Command = "shipbot.command";
        public const string Alert = "shipbot.alert";
    }
}
