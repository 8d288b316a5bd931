using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Quartz;
using ShipBot.Slack;
using ShipBot.Teams;
using ShipBot.Telemetry;

namespace ShipBot.Host.Telemetry;

/// <summary>The Quartz scheduler that runs every release timer is started and not shut down.</summary>
public sealed class SchedulerHealthCheck(ISchedulerFactory schedulers) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        return scheduler.Status == SchedulerStatus.Running
            ? HealthCheckResult.Healthy("running")
            : HealthCheckResult.Unhealthy($"not running ({scheduler.Status})");
    }
}

/// <summary>
/// Slack: in Socket Mode, whether the WebSocket is connected (and Slack said hello); over HTTP,
/// whether <c>auth.test</c> accepts the bot token (answer reused for <see cref="ManagementOptions.ChatCheckCacheDuration"/>).
/// A failure degrades readiness, never fails it: ShipBot keeps running rollouts without chat.
/// </summary>
public sealed class SlackHealthCheck(IServiceProvider services, IOptions<ManagementOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly CachedCheck _cache = new(time);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (services.GetService<SlackSocketMode>() is { } socket)
        {
            return socket.IsConnected
                ? HealthCheckResult.Healthy($"Socket Mode connected ({socket.Connections} connection(s) so far)")
                : new HealthCheckResult(context.Registration.FailureStatus, "Socket Mode is not connected; reconnecting");
        }

        var api = services.GetRequiredService<SlackWebApi>();
        return await _cache.GetAsync(options.Value.ChatCheckCacheDuration, async () =>
        {
            try
            {
                var answer = await api.CallAsync("auth.test", new JsonObject(), cancellationToken).ConfigureAwait(false);
                return HealthCheckResult.Healthy($"auth.test ok (team {(string?)answer["team"] ?? "?"})");
            }
            catch (Exception ex) when (ex is SlackApiException or HttpRequestException or TaskCanceledException or JsonException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"auth.test failed: {(ex is SlackApiException s ? s.Error : ex.GetType().Name)}");
            }
        }).ConfigureAwait(false);
    }
}

/// <summary>Teams: whether a Bot Connector token can be had (the cached one, or a fresh one). A failure degrades readiness.</summary>
public sealed class TeamsHealthCheck(BotConnectorClient connector, IOptions<ManagementOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly CachedCheck _cache = new(time);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return _cache.GetAsync(options.Value.ChatCheckCacheDuration, async () =>
        {
            try
            {
                return await connector.CheckTokenAsync(cancellationToken).ConfigureAwait(false)
                    ? HealthCheckResult.Healthy("connector token ok")
                    : HealthCheckResult.Healthy("no token needed (unauthenticated loopback emulator)");
            }
            catch (Exception ex) when (ex is BotConnectorException or HttpRequestException or TaskCanceledException or JsonException or UriFormatException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, $"connector token unavailable: {(ex is BotConnectorException b ? b.Message : ex.GetType().Name)}");
            }
        });
    }
}

/// <summary>The embedded store is always reachable: it lives in this process.</summary>
public sealed class InMemoryStoreHealthCheck : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy("in memory (one replica only; lost on restart)"));
}

/// <summary>Reuses a check's answer for a while, so probes every few seconds do not call a chat platform every time.</summary>
internal sealed class CachedCheck(TimeProvider time)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (HealthCheckResult Result, DateTimeOffset Until)? _last;

    public async Task<HealthCheckResult> GetAsync(TimeSpan duration, Func<Task<HealthCheckResult>> check)
    {
        if (_last is { } cached && cached.Until > time.GetUtcNow())
        {
            return cached.Result;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_last is { } again && again.Until > time.GetUtcNow())
            {
                return again.Result;
            }

            var result = await check().ConfigureAwait(false);
            _last = (result, time.GetUtcNow() + duration);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>
/// The body of <c>/readyz</c>: <c>{"status": "ready" | "degraded" | "not ready", "checks": {name: {status, description, durationMs}}}</c>.
/// Ready and degraded answer 200 (a chat outage must not take ShipBot out of service); not ready answers 503.
/// </summary>
public static class ReadinessResponse
{
    public static string StatusOf(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "ready",
        HealthStatus.Degraded => "degraded",
        _ => "not ready",
    };

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        var redactor = context.RequestServices.GetRequiredService<SecretRedactor>();
        var checks = new JsonObject();
        foreach (var (name, entry) in report.Entries)
        {
            checks[name] = new JsonObject
            {
                ["status"] = entry.Status.ToString().ToLowerInvariant(),
                ["description"] = redactor.Redact(Describe(entry)),
                ["durationMs"] = Math.Round(entry.Duration.TotalMilliseconds, 1),
            };
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new JsonObject { ["status"] = StatusOf(report.Status), ["checks"] = checks };
        return context.Response.WriteAsync(body.ToJsonString());
    }

    /// <summary>What a check said: its description, else a short, secret-free account of its exception.</summary>
    private static string Describe(HealthReportEntry entry)
    {
        if (entry.Exception is { } ex)
        {
            var message = ex.Message.Split('\n')[0];
            var reason = $"unavailable: {ex.GetType().Name}: {(message.Length > 200 ? message[..200] + "…" : message)}";
            return entry.Description is { Length: > 0 } d ? $"{d} ({reason})" : reason;
        }

        return entry.Description ?? entry.Status.ToString().ToLowerInvariant();
    }
}

/// <summary>Publishes each readiness check's latest status as the <c>shipbot.readiness.status</c> gauge (1 healthy, 0.5 degraded, 0 unhealthy).</summary>
public sealed class ReadinessGaugePublisher : IHealthCheckPublisher
{
    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ReadinessSnapshot.Update(report.Entries.ToDictionary(e => e.Key, e => e.Value.Status switch
        {
            HealthStatus.Healthy => 1.0,
            HealthStatus.Degraded => 0.5,
            _ => 0.0,
        }));
        return Task.CompletedTask;
    }
}
