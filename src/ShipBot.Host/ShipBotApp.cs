using Microsoft.AspNetCore.Diagnostics;
using ShipBot.Charts.Images;
using ShipBot.Console;
using ShipBot.Host.Api;
using ShipBot.Host.Telemetry;
using ShipBot.Slack;
using ShipBot.Teams;

namespace ShipBot.Host;

/// <summary>Builds the ShipBot web application; Program.cs and the integration tests both use it.</summary>
public static class ShipBotApp
{
    /// <param name="args">Command-line arguments (configuration overrides such as <c>--urls</c>).</param>
    /// <param name="configure">Extra configuration, for tests (applied after appsettings.json and environment variables).</param>
    /// <param name="overrides">Service registrations that replace the composed ones, for tests (applied last).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<IServiceCollection>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot() });
        builder.AddShipBotLogging();
        configure?.Invoke(builder);

        var redis = builder.Configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
        {
            builder.Services.AddInMemoryStore();
        }
        else
        {
            builder.Services.AddRedisStore(redis);
        }

        builder.Services
            .AddShipBotCore()
            .AddHealthAndDeployment()
            .AddReadinessVerifier()
            .AddQuartzScheduling()
            .AddConsole();
        builder.Services.AddShipBotDelivery(builder.Configuration);
        var slack = builder.Services.AddShipBotSlack(builder.Configuration);
        var teams = builder.Services.AddShipBotTeams(builder.Configuration);
        builder.AddShipBotTelemetry();
        builder.Services.AddShipBotOpenApi();
        var consoleMode = builder.AddShipBotIdentityAndLimits(slack || teams, redis);

        // Malformed requests get a JSON error like every other refusal, never an empty 400 or a stack trace.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        overrides?.Invoke(builder.Services);

        var app = builder.Build();

        // Every option is validated here, before anything starts or logs: a configuration error stops
        // start-up at this line (Program prints it on one line), not later inside the host's start.
        app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
        var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ShipBot.Startup");
        if (string.IsNullOrWhiteSpace(redis))
        {
            startup.LogWarning("No ConnectionStrings:Redis: using the in-memory store. Releases are lost when the process stops, and only one replica may run.");
        }
        else
        {
            // Log where, never the whole string: it may carry a password.
            startup.LogInformation("State store: Redis at {Endpoints}", string.Join(", ", StackExchange.Redis.ConfigurationOptions.Parse(redis).EndPoints));
        }

        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var (status, message) = error is BadHttpRequestException bad
                ? (bad.StatusCode, "The request is malformed: send JSON with the documented fields (docs/console-api.md).")
                : (StatusCodes.Status500InternalServerError, "ShipBot hit an internal error; nothing secret is shown here, see the server log.");
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = message }).ConfigureAwait(false);
        }));
        app.UseShipBotTelemetry();
        app.UseShipBotIdentity(startup);
        app.MapReleaseApi();
        app.MapChartImages();
        app.MapShipBotDelivery();
        app.MapReleaseWriteApi();
        var users = app.Services.GetRequiredService<IReadOnlyList<ConsoleUser>>();
        var hub = app.Services.GetRequiredService<ConsoleChannelHub>();
        foreach (var channel in app.Services.GetRequiredService<Core.Settings.AccessPolicy>().Services.Values.Select(s => s.Channel).Distinct())
        {
            hub.EnsureChannel(channel);
        }

        if (consoleMode != ShipBot.Identity.ConsoleMode.Off)
        {
            app.MapShipBotConsole(users);
        }
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ShipBotOptions>>().Value.Alertmanager.IsEnabled)
        {
            app.MapAlertmanager();
        }
        else
        {
            startup.LogInformation("Alertmanager receiver off: set ShipBot:Alertmanager:BearerToken (or Username and Password) to enable POST /hooks/alertmanager.");
        }

        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ShipBotOptions>>().Value.Flagger.IsEnabled)
        {
            app.MapFlagger();
        }

        if (teams)
        {
            app.MapShipBotTeams();
            var teamsOptions = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ShipBot.Teams.TeamsOptions>>().Value;
            startup.LogInformation("Teams enabled: /api/messages for app {AppId}", teamsOptions.AppId);
            if (teamsOptions.AllowUnauthenticatedLoopback)
            {
                startup.LogWarning("!!! Teams:AllowUnauthenticatedLoopback is ON: /api/messages accepts requests WITHOUT a token from loopback addresses (local emulators). Never enable this on a reachable host. !!!");
            }
        }

        if (slack)
        {
            app.MapShipBotSlack();
            startup.LogInformation("Slack enabled: /slack/commands, /slack/interactions, /slack/events{SocketMode}", app.Services.GetService<ShipBot.Slack.SlackSocketMode>() is null ? string.Empty : " and Socket Mode");
        }

        return app;
    }

    /// <summary>The directory holding appsettings.json: the working directory when it has one (dotnet run from the repository root), else the build output.</summary>
    private static string ContentRoot() =>
        File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? Directory.GetCurrentDirectory() : AppContext.BaseDirectory;
}
