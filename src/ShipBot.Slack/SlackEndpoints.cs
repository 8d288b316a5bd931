using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using ShipBot.Core.Ports;
using ShipBot.Http;

namespace ShipBot.Slack;

/// <summary>
/// Slack's HTTP endpoints (public contract, configured in the app manifest):
/// <c>POST /slack/commands</c> (slash commands), <c>POST /slack/interactions</c> (buttons and
/// modals), <c>POST /slack/events</c> (Events API, with the <c>url_verification</c> challenge).
/// Every request's signature and timestamp are verified on the raw body before anything is
/// parsed; a forged, stale, future-dated or replayed request gets 401 and is logged without
/// secrets. Retried deliveries (<c>X-Slack-Retry-Num</c>) are acknowledged and change nothing.
/// </summary>
public static partial class SlackEndpoints
{
    private static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(11);

    public static IEndpointRouteBuilder MapShipBotSlack(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Created once here, not on every request (the factory takes a lock per CreateLogger).
        var requests = app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Slack.Requests");
        var slack = app.MapGroup("/slack");

        slack.MapPost("/commands", async (HttpContext context, SlackInbound inbound) =>
        {
            var (body, refusal) = await VerifiedBodyAsync(context, requests).ConfigureAwait(false);
            if (body is null)
            {
                return refusal!;
            }

            var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
            if (SlashCommand.From(f => form.TryGetValue(f, out var v) ? (string?)v : null) is not { } command)
            {
                return Results.BadRequest(new { error = "A slash command needs user_id and channel_id." });
            }

            if (Limited(context, command.TeamId) is { } limited)
            {
                return limited;
            }

            var answer = await inbound.OnSlashCommandAsync(command, context.RequestAborted).ConfigureAwait(false);
            return Json(answer);
        });

        slack.MapPost("/interactions", async (HttpContext context, SlackInbound inbound) =>
        {
            var (body, refusal) = await VerifiedBodyAsync(context, requests).ConfigureAwait(false);
            if (body is null)
            {
                return refusal!;
            }

            var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
            if (!form.TryGetValue("payload", out var raw) || Parse(raw) is not { } payload)
            {
                return Results.BadRequest(new { error = "An interaction needs a JSON payload field." });
            }

            if (Limited(context, (string?)payload["team"]?["id"] ?? (string?)payload["user"]?["team_id"]) is { } limited)
            {
                return limited;
            }

            var answer = await inbound.OnInteractionAsync(payload, context.RequestAborted).ConfigureAwait(false);
            return answer is null ? Results.Ok() : Json(answer);
        });

        slack.MapPost("/events", async (HttpContext context, SlackInbound inbound, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime) =>
        {
            var (body, refusal) = await VerifiedBodyAsync(context, requests).ConfigureAwait(false);
            if (body is null)
            {
                return refusal!;
            }

            if (Parse(Encoding.UTF8.GetString(body)) is not { } envelope)
            {
                return Results.BadRequest(new { error = "An event must be a JSON object." });
            }

            if (Limited(context, (string?)envelope["team_id"]) is { } limited)
            {
                return limited;
            }

            if ((string?)envelope["type"] == "url_verification")
            {
                return Results.Json(new { challenge = (string?)envelope["challenge"] });
            }

            // Slack wants an answer within 3 seconds and retries otherwise: acknowledge now, handle after.
            _ = Task.Run(() => inbound.OnEventAsync(envelope, lifetime.ApplicationStopping), CancellationToken.None);
            return Results.Ok();
        });

        return app;
    }

    /// <summary>The verified body, or the answer to give instead: 413 past the body bound (before any check), 401 for a bad signature or a replay (429 once the address's failure budget is spent).</summary>
    private static async Task<(byte[]? Body, IResult? Refusal)> VerifiedBodyAsync(HttpContext context, ILogger logger)
    {
        var services = context.RequestServices;
        var guard = services.GetRequiredService<InboundGuard>();
        var read = await guard.ReadBodyAsync(context.Request).ConfigureAwait(false);
        if (read.TooLarge)
        {
            LogRejected(logger, context.Request.Path, "body larger than the bound");
            return (null, BoundedBody.TooLarge(guard.MaxBodyBytes));
        }

        var body = read.Body!;
        var signature = (string?)context.Request.Headers[SlackSignature.SignatureHeader];
        var verdict = services.GetRequiredService<SlackSignature>().Verify(context.Request.Headers[SlackSignature.TimestampHeader], signature, body);
        if (verdict != SignatureVerdict.Valid)
        {
            return (null, guard.OnVerificationFailed(context, Results.Unauthorized(), () => LogRejected(logger, context.Request.Path, verdict.ToString())));
        }

        // An exact copy of a request already seen (same signature) is a replay, unless Slack says
        // it is a retry of a delivery it did not see acknowledged (X-Slack-Retry-Num), which is
        // recognised by its event or trigger id further on.
        if (StringValues.IsNullOrEmpty(context.Request.Headers["X-Slack-Retry-Num"]))
        {
            try
            {
                // Hex is case-insensitive, so the replay key is too: a re-cased copy is the same request.
                if (!await services.GetRequiredService<IIdempotencyStore>().TryClaimAsync($"slack:sig:{signature!.ToLowerInvariant()}", ReplayWindow, context.RequestAborted).ConfigureAwait(false))
                {
                    return (null, guard.OnVerificationFailed(context, Results.Unauthorized(), () => LogRejected(logger, context.Request.Path, "replayed request")));
                }
            }
            catch (StoreUnavailableException)
            {
                // The command itself will report the outage; nothing can change without the store.
            }
        }

        return (body, null);
    }

    /// <summary>Spends the verified workspace's budget (per Slack team); the 429 to answer when it is spent.</summary>
    private static IResult? Limited(HttpContext context, string? team) =>
        context.RequestServices.GetRequiredService<InboundGuard>().TryAcquire(InboundPrincipal.Platform, "slack:" + (team ?? "unknown"), out var retryAfter)
            ? null
            : InboundGuard.TooMany(context, retryAfter, "Too many requests from this Slack workspace.");

    private static JsonObject? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult Json(JsonObject body) => Results.Content(body.ToJsonString(), "application/json; charset=utf-8");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a Slack request to {Path}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string path, string reason);
}
