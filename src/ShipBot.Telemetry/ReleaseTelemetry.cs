using System.Diagnostics;
using ShipBot.Core.Commands;
using ShipBot.Core.Health;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Telemetry;

/// <summary>
/// What the coordinator records: one span per command, click, alert and timer (carrying the
/// release and the service), committed transitions by kind, rollbacks by trigger, the
/// breach-to-rollback-call latency and health verdicts. Each is one call at the coordinator's
/// entry point or commit point, so the coordinator stays about releases.
/// </summary>
public static class ReleaseTelemetry
{
    public const string Command = "command";
    public const string Click = "click";

    /// <summary>
    /// Starts the span of an inbound command or click. Typed commands start with <c>/ship</c> or
    /// <c>ship</c> (every adapter adds or keeps the prefix); a button's value is the bare verb and
    /// arguments, so a text without the prefix is a click. The kind is also handed to the chat
    /// acknowledgement being measured around this request, if any.
    /// </summary>
    public static Activity? StartInbound(string platform, string text)
    {
        var interaction = IsTyped(text) ? Command : Click;
        ChatInteraction.Current?.Interaction = interaction;
        var activity = ShipBotTelemetry.Source.StartActivity(interaction);
        activity?.SetTag(ShipBotTelemetry.Tags.Platform, platform);
        activity?.SetTag(ShipBotTelemetry.Tags.Interaction, interaction);
        return activity;
    }

    /// <summary>Names the span after the parsed verb and tags the release and service it is about.</summary>
    public static void TagCommand(this Activity? activity, ShipCommand? command)
    {
        if (activity is null || command is null)
        {
            return;
        }

        activity.DisplayName = $"{activity.OperationName} {command.Verb}";
        activity.SetTag(ShipBotTelemetry.Tags.Command, command.Verb);
        switch (command)
        {
            case IReleaseCommand { Release: var name }:
                if (ReleaseId.TryParse(name, out var id))
                {
                    activity.TagRelease(id.Value);
                }
                else
                {
                    activity.SetTag(ShipBotTelemetry.Tags.Service, name.ToLowerInvariant());
                }

                break;
            case StartCommand c:
                activity.TagRelease(new ReleaseId(c.Service.ToLowerInvariant(), c.Version));
                break;
            case HotfixCommand c:
                activity.TagRelease(new ReleaseId(c.Service.ToLowerInvariant(), c.Version));
                break;
            case HaltCommand { Service: { } service }:
                activity.SetTag(ShipBotTelemetry.Tags.Service, service);
                break;
            case UnhaltCommand { Service: { } service }:
                activity.SetTag(ShipBotTelemetry.Tags.Service, service);
                break;
        }
    }

    /// <summary>Starts the span of a pushed alert about <paramref name="service"/>.</summary>
    public static Activity? StartAlert(string service, string alertName)
    {
        var activity = ShipBotTelemetry.Source.StartActivity("alert");
        activity?.SetTag(ShipBotTelemetry.Tags.Service, service);
        activity?.SetTag(ShipBotTelemetry.Tags.Alert, alertName);
        return activity;
    }

    /// <summary>Starts the span of a timer (a new trace: timers have no inbound parent).</summary>
    public static Activity? StartTimer(ReleaseId release, string kind)
    {
        var activity = ShipBotTelemetry.Source.StartActivity($"timer {kind}", ActivityKind.Internal, parentContext: default);
        activity?.SetTag(ShipBotTelemetry.Tags.Timer, kind);
        activity.TagRelease(release);
        return activity;
    }

    public static void TagRelease(this Activity? activity, ReleaseId release)
    {
        activity?.SetTag(ShipBotTelemetry.Tags.Release, release.ToString());
        activity?.SetTag(ShipBotTelemetry.Tags.Service, release.Service);
    }

    /// <summary>Records a committed transition: one count per event kind, and the rollback's trigger when it starts one.</summary>
    public static void RecordTransition(ReleaseChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        foreach (var e in change.Events)
        {
            ShipBotTelemetry.Transitions.Add(1, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Kind, e.Kind.ToString()));
            if (e.Kind == ReleaseEventKind.RollbackStarted && change.Next.Rollback is { } rollback)
            {
                ShipBotTelemetry.Rollbacks.Add(1, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Trigger, TriggerOf(rollback)));
            }
        }

        if (change.Events.Count > 0)
        {
            Activity.Current?.AddEvent(new ActivityEvent("transition", tags: new ActivityTagsCollection { [ShipBotTelemetry.Tags.Kind] = string.Join(",", change.Events.Select(e => e.Kind)) }));
        }
    }

    /// <summary>
    /// Records that a rollback's deployment call is starting: the time since the rollback began
    /// (when the breach was judged), once per rollback; a retry after a failed call is not counted again.
    /// </summary>
    public static void RecordRollbackCall(Release release, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(release);
        if (release.Rollback is { } rollback && release.LastDeploymentError is null)
        {
            ShipBotTelemetry.BreachToRollbackCall.Record(
                Math.Max(0, (now - rollback.At).TotalSeconds),
                new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Trigger, TriggerOf(rollback)));
        }
    }

    /// <summary>Records a health evaluation's verdict.</summary>
    public static void RecordEvaluation(HealthVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        ShipBotTelemetry.HealthEvaluations.Add(1, new KeyValuePair<string, object?>(ShipBotTelemetry.Tags.Verdict, verdict.Status switch
        {
            HealthStatus.Healthy => "healthy",
            HealthStatus.Breached => "breached",
            _ => "unknown",
        }));
    }

    /// <summary>
    /// What started a rollback: <c>manual</c> (someone typed or clicked roll back), <c>decision</c>
    /// (on-call chose roll back when consulted), <c>decision_timeout</c> (nobody answered),
    /// <c>deployment_failed</c> (a stage's deployment call failed), <c>alert</c> (a pushed alert) or
    /// <c>health</c> (a polled evaluation breached).
    /// </summary>
    public static string TriggerOf(RollbackRecord rollback)
    {
        ArgumentNullException.ThrowIfNull(rollback);
        if (!string.Equals(rollback.By, Actor.System.Id, StringComparison.OrdinalIgnoreCase))
        {
            return rollback.Reason.Contains("decided to roll back", StringComparison.Ordinal) ? "decision" : "manual";
        }

        if (rollback.Reason.StartsWith("no decision within", StringComparison.Ordinal))
        {
            return "decision_timeout";
        }

        if (rollback.Reason.StartsWith("deployment to", StringComparison.Ordinal))
        {
            return "deployment_failed";
        }

        return rollback.Evidence.Any(e => e.Metric.StartsWith("alert", StringComparison.Ordinal)) ? "alert" : "health";
    }

    private static bool IsTyped(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        return trimmed.StartsWith("/ship", StringComparison.OrdinalIgnoreCase)
            || (trimmed.StartsWith("ship", StringComparison.OrdinalIgnoreCase) && (trimmed.Length == 4 || char.IsWhiteSpace(trimmed[4])));
    }
}

/// <summary>
/// The chat acknowledgement being measured on this call path (set by the host around a chat
/// request): the coordinator tells it whether the request was a command or a click.
/// </summary>
public sealed class ChatInteraction
{
    private static readonly AsyncLocal<ChatInteraction?> _current = new();

    private ChatInteraction(string platform, string interaction)
    {
        Platform = platform;
        Interaction = interaction;
    }

    public static ChatInteraction? Current => _current.Value;

    public string Platform { get; }

    /// <summary>command, click or event; the coordinator refines it.</summary>
    public string Interaction { get; set; }

    /// <summary>Begins measuring a chat request on this call path.</summary>
    public static ChatInteraction Begin(string platform, string interaction)
    {
        var current = new ChatInteraction(platform, interaction);
        _current.Value = current;
        return current;
    }
}
