using System.Diagnostics;
using ShipBot.Telemetry;

namespace ShipBot.Host.Telemetry;

/// <summary>
/// Measures how long each chat request takes to be acknowledged (<c>shipbot.chat.ack.duration</c>):
/// Slack's commands, interactions and events, Teams' activities and the console's messages and
/// actions, from the request's arrival to the end of its answer. The coordinator tells whether a
/// Teams activity was a command or a click (<see cref="ChatInteraction"/>). Socket Mode acks are
/// measured by the Slack adapter itself.
/// </summary>
public sealed class ChatAckMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!HttpMethods.IsPost(context.Request.Method) || Classify(context.Request.Path) is not var (platform, interaction))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var measured = ChatInteraction.Begin(platform, interaction);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            ShipBotTelemetry.RecordAck(platform, measured.Interaction, ShipBotTelemetry.SecondsSince(started));
        }
    }

    internal static (string Platform, string Interaction)? Classify(PathString path) => path.Value switch
    {
        "/slack/commands" => ("slack", "command"),
        "/slack/interactions" => ("slack", "click"),
        "/slack/events" => ("slack", "event"),
        "/api/messages" => ("teams", "activity"),
        "/api/console/messages" => ("console", "command"),
        "/api/console/actions" => ("console", "click"),
        _ => null,
    };
}
