using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Http;

namespace ShipBot.Host;

/// <summary>
/// <c>POST /hooks/flagger/{gate}</c> (public contract): ShipBot as a Flagger webhook for the gates
/// <c>confirm-rollout</c>, <c>confirm-traffic-increase</c>, <c>confirm-promotion</c> and
/// <c>rollback</c>. Authenticated before anything is read: <c>Authorization: Bearer</c> with
/// <c>ShipBot:Flagger:BearerToken</c>, compared in constant time (401 otherwise). The body is bounded
/// (<c>ShipBot:RateLimits:MaxBodyBytes</c>, 413 beyond) and is Flagger's payload: <c>name</c>,
/// <c>namespace</c>, <c>phase</c>, <c>checksum</c>, <c>metadata</c>. The answer is ShipBot's rule
/// (the coordinator decides): 200 to let Flagger go on, 403 with a short reason otherwise — Flagger
/// treats any non-2xx as "not yet" and logs the body in its failed checks. A store outage answers 503.
/// </summary>
public static partial class FlaggerEndpoints
{
    /// <summary>The longest reason sent back (Flagger shows it in its events).</summary>
    private const int MaxReason = 300;

    public static IEndpointRouteBuilder MapFlagger(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/hooks/flagger/{gate}", async (string gate, HttpContext context, IFlaggerGate coordinator, InboundGuard guard, IOptions<ShipBotOptions> settings, ILoggerFactory loggers) =>
        {
            var log = loggers.CreateLogger("ShipBot.Flagger");
            if (!IsAuthorized(settings.Value.Flagger, context.Request.Headers.Authorization))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"shipbot\"";
                return guard.OnVerificationFailed(
                    context,
                    Results.Json(new { error = "Authenticate with the bearer token of ShipBot:Flagger." }, statusCode: StatusCodes.Status401Unauthorized),
                    () => LogRejected(log, InboundGuard.AddressOf(context)));
            }

            if (!guard.TryAcquire(InboundPrincipal.Platform, "flagger", out var retryAfter))
            {
                return InboundGuard.TooMany(context, retryAfter);
            }

            if (!FlaggerGates.TryParse(gate, out var kind))
            {
                return Results.Json(new { error = $"Unknown gate '{gate}': use confirm-rollout, confirm-traffic-increase, confirm-promotion or rollback." }, statusCode: StatusCodes.Status404NotFound);
            }

            var read = await guard.ReadBodyAsync(context.Request).ConfigureAwait(false);
            if (read.TooLarge)
            {
                return BoundedBody.TooLarge(guard.MaxBodyBytes);
            }

            if (Parse(kind, read.Body) is not { } hook)
            {
                return Results.Json(new { error = "Expected Flagger's webhook payload: a JSON object with name, namespace, phase, checksum and metadata." }, statusCode: StatusCodes.Status400BadRequest);
            }

            FlaggerAnswer answer;
            try
            {
                answer = await coordinator.OnFlaggerHookAsync(hook, context.RequestAborted).ConfigureAwait(false);
            }
            catch (StoreUnavailableException)
            {
                return Results.Text("ShipBot's state store is unavailable; not yet.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            var reason = answer.Reason.Length > MaxReason ? answer.Reason[..(MaxReason - 1)] + "…" : answer.Reason;
            return Results.Text(reason, "text/plain; charset=utf-8", statusCode: answer.Allowed ? StatusCodes.Status200OK : StatusCodes.Status403Forbidden);
        });
        return app;
    }

    /// <summary>Whether the header carries the configured bearer token (constant time; false when the gate has no token).</summary>
    public static bool IsAuthorized(FlaggerOptions options, string? authorization)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.BearerToken) || string.IsNullOrEmpty(authorization)
            || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashing first makes the comparison independent of the lengths too.
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(authorization[7..].Trim())),
            SHA256.HashData(Encoding.UTF8.GetBytes(options.BearerToken)));
    }

    /// <summary>Flagger's payload, or null when it is not one (never throws for bad input).</summary>
    public static FlaggerHook? Parse(FlaggerGate gate, byte[]? body)
    {
        if (body is null || body.Length == 0)
        {
            return null;
        }

        JsonObject? payload;
        try
        {
            payload = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }

        if (payload is null || Str(payload["name"]) is not { Length: > 0 } name || Str(payload["namespace"]) is not { Length: > 0 } ns)
        {
            return null;
        }

        var metadata = payload["metadata"] is JsonObject m
            ? m.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => Str(p.Value) ?? p.Value!.ToJsonString(), StringComparer.Ordinal)
            : [];
        return new FlaggerHook(gate, name, ns, Str(payload["phase"]), Str(payload["checksum"]), metadata);
    }

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected an unauthenticated Flagger webhook from {Remote}")]
    private static partial void LogRejected(ILogger logger, string remote);
}
