using System.Buffers;
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
    public const int MaxBody = 256 * 1024;
    private static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(11);

    public static IEndpointRouteBuilder MapShipBotSlack(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Created once here, not on every request (the factory takes a lock per CreateLogger).
        var requests = app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Slack.Requests");
        var slack = app.MapGroup("/slack");

        slack.MapPost("/commands", async (HttpContext context, SlackInbound inbound) =>
        {
            if (await VerifiedBodyAsync(context, requests).ConfigureAwait(false) is not { } body)
            {
                return Results.Unauthorized();
            }

            var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
            if (SlashCommand.From(f => form.TryGetValue(f, out var v) ? (string?)v : null) is not { } command)
            {
                return Results.BadRequest(new { error = "A slash command needs user_id and channel_id." });
            }

            var answer = await inbound.OnSlashCommandAsync(command, context.RequestAborted).ConfigureAwait(false);
            return Json(answer);
        });

        slack.MapPost("/interactions", async (HttpContext context, SlackInbound inbound) =>
        {
            if (await VerifiedBodyAsync(context, requests).ConfigureAwait(false) is not { } body)
            {
                return Results.Unauthorized();
            }

            var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
            if (!form.TryGetValue("payload", out var raw) || Parse(raw) is not { } payload)
            {
                return Results.BadRequest(new { error = "An interaction needs a JSON payload field." });
            }

            var answer = await inbound.OnInteractionAsync(payload, context.RequestAborted).ConfigureAwait(false);
            return answer is null ? Results.Ok() : Json(answer);
        });

        slack.MapPost("/events", async (HttpContext context, SlackInbound inbound, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime) =>
        {
            if (await VerifiedBodyAsync(context, requests).ConfigureAwait(false) is not { } body)
            {
                return Results.Unauthorized();
            }

            if (Parse(Encoding.UTF8.GetString(body)) is not { } envelope)
            {
                return Results.BadRequest(new { error = "An event must be a JSON object." });
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

    private static async Task<byte[]?> VerifiedBodyAsync(HttpContext context, ILogger logger)
    {
        var services = context.RequestServices;
        var body = await ReadBodyAsync(context.Request).ConfigureAwait(false);
        if (body is null)
        {
            LogRejected(logger, context.Request.Path, "body larger than 256 KiB");
            return null;
        }

        var signature = (string?)context.Request.Headers[SlackSignature.SignatureHeader];
        var verdict = services.GetRequiredService<SlackSignature>().Verify(context.Request.Headers[SlackSignature.TimestampHeader], signature, body);
        if (verdict != SignatureVerdict.Valid)
        {
            LogRejected(logger, context.Request.Path, verdict.ToString());
            return null;
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
                    LogRejected(logger, context.Request.Path, "replayed request");
                    return null;
                }
            }
            catch (StoreUnavailableException)
            {
                // The command itself will report the outage; nothing can change without the store.
            }
        }

        return body;
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBody)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBody)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

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
