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
using ShipBot.Http;

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
    public static IEndpointRouteBuilder MapShipBotTeams(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/api/messages", async (HttpContext context, TeamsInbound inbound, BotFrameworkAuthenticator auth, InboundGuard guard, IOptions<TeamsOptions> options, IHostApplicationLifetime lifetime, ILoggerFactory loggers) =>
        {
            var log = loggers.CreateLogger("ShipBot.Teams.Requests");
            var read = await guard.ReadBodyAsync(context.Request).ConfigureAwait(false);
            if (read.TooLarge)
            {
                return BoundedBody.TooLarge(guard.MaxBodyBytes);
            }

            // The token is validated before the activity is parsed; only the checks that need the
            // activity (endorsed channel, service URL) come after.
            var authorization = (string?)context.Request.Headers.Authorization;
            var emulator = string.IsNullOrEmpty(authorization) && options.Value.AllowUnauthenticatedLoopback && IsLoopback(context.Connection.RemoteIpAddress);
            var token = emulator ? null : await auth.ValidateTokenAsync(authorization, context.RequestAborted).ConfigureAwait(false);
            if (token is { IsValid: false })
            {
                return guard.OnVerificationFailed(context, Results.Unauthorized(), () => LogRejected(log, token.Failure ?? "invalid", InboundGuard.AddressOf(context)));
            }

            JsonObject? activity;
            try
            {
                activity = JsonNode.Parse(read.Body) as JsonObject;
            }
            catch (JsonException)
            {
                activity = null;
            }

            if (token is not null)
            {
                // A local emulator (Agents Playground) skips this: only from this machine, only when configured.
                var verdict = BotFrameworkAuthenticator.CheckActivity(token, (string?)activity?["channelId"], (string?)activity?["serviceUrl"]);
                if (!verdict.IsValid)
                {
                    return guard.OnVerificationFailed(context, Results.Unauthorized(), () => LogRejected(log, verdict.Failure ?? "invalid", InboundGuard.AddressOf(context)));
                }
            }

            if (activity is null)
            {
                return Results.BadRequest(new { error = "Expected a Bot Framework activity (JSON object)." });
            }

            var tenant = (string?)activity["conversation"]?["tenantId"] ?? (string?)activity["channelData"]?["tenant"]?["id"] ?? "unknown";
            if (!guard.TryAcquire(InboundPrincipal.Platform, "teams:" + tenant, out var retryAfter))
            {
                return InboundGuard.TooMany(context, retryAfter, "Too many requests from this Teams tenant.");
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
