using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ShipBot.Slack;
using ShipBot.Teams;
using ShipBot.Telemetry;
using StackExchange.Redis;

namespace ShipBot.Host.Telemetry;

/// <summary>
/// ShipBot's observability, composed in one place: JSON console logs with trace and span ids,
/// OpenTelemetry metrics and traces (OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set;
/// a Prometheus scrape endpoint on the management port or behind a token), readiness through
/// ASP.NET Core health checks and the chat acknowledgement timer. docs/observability.md describes it.
/// </summary>
public static class TelemetryExtensions
{
    public const string MetricsPath = "/metrics";

    /// <summary>The console log: ShipBot's JSON lines unless <c>Logging:Console:FormatterName</c> names another formatter (<c>simple</c> for people).</summary>
    public static WebApplicationBuilder AddShipBotLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(sp => SecretRedactor.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
        builder.Logging.AddConsole();
        builder.Logging.AddConsoleFormatter<ShipBotJsonConsoleFormatter, ConsoleFormatterOptions>(o => o.UseUtcTimestamp = true);
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.PostConfigure<ConsoleLoggerOptions>(o => o.FormatterName ??= ShipBotJsonConsoleFormatter.FormatterName);
        return builder;
    }

    /// <summary>Metrics, traces, readiness checks, the management listener and the chat API counters. Call after the adapters are registered.</summary>
    public static WebApplicationBuilder AddShipBotTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddOptions<ManagementOptions>().BindConfiguration(ManagementOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ManagementOptions>, ManagementOptionsValidator>();
        var management = configuration.GetSection(ManagementOptions.Section).Get<ManagementOptions>() ?? new ManagementOptions();
        AddManagementUrls(builder, management);

        var redis = services.Any(d => d.ServiceType == typeof(IConnectionMultiplexer));
        var slack = services.Any(d => d.ServiceType == typeof(SlackWebApi));
        var teams = services.Any(d => d.ServiceType == typeof(BotConnectorClient));
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

        // Chat API calls, errors and 429s are counted on the clients' own HTTP pipelines (every attempt).
        if (slack)
        {
            services.AddHttpClient(nameof(SlackWebApi)).AddHttpMessageHandler(ChatApiMetricsHandler.ForSlack);
        }

        if (teams)
        {
            services.AddHttpClient(nameof(BotConnectorClient)).AddHttpMessageHandler(ChatApiMetricsHandler.ForTeams);
        }

        var version = typeof(TelemetryExtensions).Assembly.GetName().Version?.ToString();
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] ?? "shipbot", serviceVersion: version))
            .WithMetrics(m => m
                .AddMeter(ShipBotTelemetry.Name, "System.Runtime")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0))
            .WithTracing(t =>
            {
                t.AddSource(ShipBotTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsPlumbing(context.Request.Path))
                    .AddHttpClientInstrumentation(o => o.EnrichWithHttpRequestMessage = RedactUrl);

                // Redis spans (one per command) only when they go somewhere: they cost on every store call.
                if (redis && otlp)
                {
                    t.AddRedisInstrumentation();
                }
            });
        if (otlp)
        {
            telemetry.UseOtlpExporter();
        }

        var checks = services.AddHealthChecks();
        if (redis)
        {
            checks.AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), name: "store", failureStatus: HealthStatus.Unhealthy, timeout: TimeSpan.FromSeconds(5));
        }
        else
        {
            checks.AddCheck<InMemoryStoreHealthCheck>("store");
        }

        checks.AddCheck<SchedulerHealthCheck>("scheduler", HealthStatus.Unhealthy);
        if (slack)
        {
            checks.AddCheck<SlackHealthCheck>("slack", HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(10));
        }

        if (teams)
        {
            checks.AddCheck<TeamsHealthCheck>("teams", HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(10));
        }

        services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(2);
            o.Period = TimeSpan.FromSeconds(15);
        });
        services.AddSingleton<IHealthCheckPublisher, ReadinessGaugePublisher>();
        services.AddHostedService<ReleaseStateGaugeService>();
        return builder;
    }

    /// <summary>
    /// The chat acknowledgement timer, <c>/healthz</c> (liveness: the process answers), <c>/readyz</c>
    /// (readiness, JSON) and <c>/metrics</c> (management port or token only). Call before the rate limiter.
    /// </summary>
    public static WebApplication UseShipBotTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var management = app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value;
        var ports = management.Ports.ToHashSet();
        var token = string.IsNullOrWhiteSpace(management.MetricsToken) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(management.MetricsToken.Trim()));
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Startup");
        if (ports.Count > 0)
        {
            log.LogInformation("Metrics: GET {Path} on the management port(s) {Ports} only", MetricsPath, string.Join(", ", ports));
        }

        if (token is not null)
        {
            log.LogInformation("Metrics: GET {Path} on the public port with the bearer token (Management:MetricsToken)", MetricsPath);
        }

        if (ports.Count == 0 && token is null)
        {
            log.LogInformation("Metrics: no scrape endpoint (set Management:Urls for a management port, or Management:MetricsToken); OTLP export {Otlp}",
                string.IsNullOrWhiteSpace(app.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) ? "off (OTEL_EXPORTER_OTLP_ENDPOINT not set)" : "on");
        }

        app.UseMiddleware<ChatAckMiddleware>();
        if (ports.Count > 0 || token is not null)
        {
            // Anywhere else /metrics does not exist (404), so the public port does not even show it is there.
            app.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider: null,
                predicate: context => context.Request.Path == MetricsPath
                    && (ports.Contains(context.Connection.LocalPort) || (token is not null && HasToken(context, token))),
                path: null,
                configureBranchedPipeline: null,
                optionsName: null);
        }

        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = (context, _) => context.Response.WriteAsync("ok"),
        });
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            ResponseWriter = ReadinessResponse.WriteAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        return app;
    }

    /// <summary>Adds the management URLs to the server's URLs (Urls / ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS, else Kestrel's default).</summary>
    private static void AddManagementUrls(WebApplicationBuilder builder, ManagementOptions management)
    {
        var extra = ManagementOptions.ParseUrls(management.Urls);
        if (extra.Count == 0)
        {
            return;
        }

        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(urls))
        {
            var ports = builder.Configuration["HTTP_PORTS"] ?? builder.Configuration["ASPNETCORE_HTTP_PORTS"];
            urls = string.IsNullOrWhiteSpace(ports)
                ? "http://localhost:5000"
                : string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"));
        }

        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, string.Join(';', [urls, .. (management.Urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]));
    }

    private static bool HasToken(HttpContext context, byte[] expected) =>
        AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization, out var header)
        && string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)
        && header.Parameter is { Length: > 0 } given
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected);

    /// <summary>Probes, the scrape and the console's event stream are not traced (noise, or hours-long spans).</summary>
    private static bool IsPlumbing(PathString path) =>
        path == "/healthz" || path == "/readyz" || path == MetricsPath || path.StartsWithSegments("/api/console/stream");

    /// <summary>An interaction's response_url is itself a credential: its path never reaches a span.</summary>
    private static void RedactUrl(System.Diagnostics.Activity activity, HttpRequestMessage request)
    {
        if (request.RequestUri is { IsAbsoluteUri: true } uri && uri.AbsolutePath.StartsWith("/actions/", StringComparison.Ordinal))
        {
            activity.SetTag("url.full", $"{uri.Scheme}://{uri.Authority}/actions/{SecretRedactor.Mask}");
        }
    }
}
