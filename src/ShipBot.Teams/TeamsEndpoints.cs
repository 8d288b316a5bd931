using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ShipBot.Teams;

/// <summary>
/// <c>POST /api/messages</c> (public contract; the messaging endpoint of the Azure Bot): every
/// request's Bearer token is validated (<see cref="BotFrameworkAuthenticator"/>) before the activity
/// is acted on; a request without a valid token gets 401 and is logged without the token. An
/// <c>adaptiveCard/action</c> invoke is answered in the HTTP response with the updated card;
/// messages are acknowledged at once and answered through the Bot Connector.
/// </summary>
public static partial class TeamsEndpoints
{
    public const int MaxBody = 256 * 1024;

    public static IEndpointRouteBuilder MapShipBotTeams(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/api/messages", async (HttpContext context, TeamsInbound inbound, BotFrameworkAuthenticator auth, IOptions<TeamsOptions> options, IHostApplicationLifetime lifetime, ILoggerFactory loggers) =>
        {
            var log = loggers.CreateLogger("ShipBot.Teams.Requests");
            if (context.Request.ContentLength > MaxBody)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }

            JsonObject? activity;
            try
            {
                activity = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) as JsonObject;
            }
            catch (JsonException)
            {
                activity = null;
            }

            var authorization = (string?)context.Request.Headers.Authorization;
            if (string.IsNullOrEmpty(authorization) && options.Value.AllowUnauthenticatedLoopback && IsLoopback(context.Connection.RemoteIpAddress))
            {
                // A local emulator (Agents Playground). Only ever from this machine, only when configured.
            }
            else
            {
                var verdict = await auth.ValidateAsync(authorization, (string?)activity?["channelId"], (string?)activity?["serviceUrl"], context.RequestAborted).ConfigureAwait(false);
                if (!verdict.IsValid)
                {
                    LogRejected(log, verdict.Failure ?? "invalid", context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                    return Results.Unauthorized();
                }
            }

            if (activity is null)
            {
                return Results.BadRequest(new { error = "Expected a Bot Framework activity (JSON object)." });
            }

            if ((string?)activity["type"] == "invoke")
            {
                var answer = await inbound.OnActivityAsync(activity, context.RequestAborted).ConfigureAwait(false);
                return answer is null ? Results.Ok() : Results.Content(answer.ToJsonString(), "application/json; charset=utf-8");
            }

            // Messages are answered through the connector; the channel only needs a quick 200.
            _ = Task.Run(async () =>
            {
                try
                {
                    await inbound.OnActivityAsync(activity, lifetime.ApplicationStopping).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    LogFailed(log, ex);
                }
            }, CancellationToken.None);
            return Results.Ok();
        });
        return app;
    }

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a request to /api/messages from {Remote}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason, string remote);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling a Teams activity failed")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
