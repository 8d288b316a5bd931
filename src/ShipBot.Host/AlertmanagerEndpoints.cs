using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.Health.Alertmanager;
using ShipBot.Http;

namespace ShipBot.Host;

/// <summary>
/// <c>POST /hooks/alertmanager</c> (public contract): Alertmanager's webhook, payload version 4,
/// authenticated by a bearer token or basic auth (<c>ShipBot:Alertmanager</c>). A firing alert of a
/// configured severity whose <c>service</c> label names a service with a rollout in production
/// rolls it back at once (or consults on-call, if the service says so), without waiting for a poll.
/// Repeated notifications of one firing (same fingerprint and start) act once; resolved alerts
/// and alerts about other services are acknowledged and ignored. A store outage answers 503, so
/// Alertmanager retries and nothing is lost.
/// </summary>
public static partial class AlertmanagerEndpoints
{
    private static readonly TimeSpan DedupWindow = TimeSpan.FromDays(1);

    public static IEndpointRouteBuilder MapAlertmanager(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/hooks/alertmanager", async (HttpContext context, IAlertIntake coordinator, AccessPolicy access, InboundGuard guard, IOptions<ShipBotOptions> settings, ILoggerFactory loggers) =>
        {
            var options = settings.Value.Alertmanager;
            var log = loggers.CreateLogger("ShipBot.Alertmanager");
            var read = await guard.ReadBodyAsync(context.Request).ConfigureAwait(false);
            if (read.TooLarge)
            {
                return BoundedBody.TooLarge(guard.MaxBodyBytes);
            }

            if (!AlertmanagerWebhook.IsAuthorized(options, context.Request.Headers.Authorization))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"shipbot\", Basic realm=\"shipbot\"";
                return guard.OnVerificationFailed(
                    context,
                    Results.Json(new { error = "Authenticate with the bearer token or basic credentials of ShipBot:Alertmanager." }, statusCode: StatusCodes.Status401Unauthorized),
                    () => LogRejected(log, InboundGuard.AddressOf(context)));
            }

            if (!guard.TryAcquire(InboundPrincipal.Platform, "alertmanager", out var retryAfter))
            {
                return InboundGuard.TooMany(context, retryAfter);
            }

            JsonNode? body;
            try
            {
                body = JsonNode.Parse(read.Body);
            }
            catch (JsonException)
            {
                body = null;
            }

            if (AlertmanagerWebhook.Parse(body) is not { } alerts)
            {
                return Results.Json(new { error = "Expected Alertmanager's webhook payload, version 4." }, statusCode: StatusCodes.Status400BadRequest);
            }

            var severities = options.EffectiveSeverities;
            var alertList = alerts.ToList();
            var outcomes = new (object? Acted, object? Ignored)[alertList.Count];
            var toJudge = new List<(int Index, string Service, string Severity, string? Version)>();
            for (var i = 0; i < alertList.Count; i++)
            {
                var alert = alertList[i];
                alert.Labels.TryGetValue(options.ServiceLabel, out var service);
                alert.Labels.TryGetValue(options.SeverityLabel, out var severity);
                alert.Labels.TryGetValue(options.VersionLabel, out var version);
                string? reason = null;
                if (!alert.IsFiring)
                {
                    reason = "resolved";
                }
                else if (severity is null || !severities.Contains(severity, StringComparer.OrdinalIgnoreCase))
                {
                    reason = $"severity '{severity}' does not roll back (configured: {string.Join(", ", severities)})";
                }
                else if (string.IsNullOrWhiteSpace(service) || !access.Services.ContainsKey(service))
                {
                    reason = $"label '{options.ServiceLabel}' = '{service}' is not a configured service";
                }
                else
                {
                    toJudge.Add((i, service, severity, version));
                    continue;
                }

                outcomes[i] = (null, new { alert = alert.Name, fingerprint = alert.Fingerprint, reason });
            }

            // The services of one grouped notification are judged in parallel, so the last alert does
            // not wait for every other service's rollback; the alerts of one service stay in order,
            // so a service's release is rolled back once (the later alerts find it rolling back).
            async Task JudgeServiceAsync(IEnumerable<(int Index, string Service, string Severity, string? Version)> group)
            {
                foreach (var (index, service, severity, version) in group)
                {
                    var alert = alertList[index];
                    var result = await coordinator.OnAlertAsync(new ExternalAlert(service, version, alert.Name, severity, alert.Summary, "Alertmanager", alert.StartsAt, alert.DedupKey), context.RequestAborted).ConfigureAwait(false);
                    switch (result.Outcome)
                    {
                        case AlertOutcome.Acted:
                            LogActed(log, alert.Name, result.Release.ToString()!);
                            outcomes[index] = (new { alert = alert.Name, fingerprint = alert.Fingerprint, release = result.Release.ToString() }, null);
                            break;
                        case AlertOutcome.AlreadyActed:
                            outcomes[index] = (null, new { alert = alert.Name, fingerprint = alert.Fingerprint, reason = $"already acted on {result.Release} (repeated notification)" });
                            break;
                        default:
                            outcomes[index] = (null, new { alert = alert.Name, fingerprint = alert.Fingerprint, reason = $"{service} has no release with production traffic" });
                            break;
                    }
                }
            }

            try
            {
                var groups = toJudge.GroupBy(a => a.Service, StringComparer.OrdinalIgnoreCase).ToList();
                await (groups.Count == 1 ? JudgeServiceAsync(groups[0]) : Task.WhenAll(groups.Select(g => Task.Run(() => JudgeServiceAsync(g))))).ConfigureAwait(false);
            }
            catch (StoreUnavailableException)
            {
                return Results.Json(new { error = "State store unavailable — nothing was changed; Alertmanager will retry." }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            var acted = outcomes.Where(o => o.Acted is not null).Select(o => o.Acted!).ToList();
            var ignored = outcomes.Where(o => o.Ignored is not null).Select(o => o.Ignored!).ToList();
            return Results.Json(new { acted, ignored });
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected an unauthenticated Alertmanager notification from {Remote}")]
    private static partial void LogRejected(ILogger logger, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alertmanager alert {Alert} acted on {Release}")]
    private static partial void LogActed(ILogger logger, string alert, string release);
}
