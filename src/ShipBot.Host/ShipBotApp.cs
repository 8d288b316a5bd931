using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using ShipBot.Console;

namespace ShipBot.Host;

/// <summary>Builds the ShipBot web application; Program.cs and the integration tests both use it.</summary>
public static class ShipBotApp
{
    public const string InboundPolicy = "inbound";

    /// <param name="args">Command-line arguments (configuration overrides such as <c>--urls</c>).</param>
    /// <param name="configure">Extra configuration, for tests (applied after appsettings.json and environment variables).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot() });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.UseUtcTimestamp = true;
        });
        configure?.Invoke(builder);

        builder.Services
            .AddShipBotCore()
            .AddInMemoryStore()
            .AddSimulation()
            .AddReadinessVerifier()
            .AddQuartzScheduling()
            .AddConsole();
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(InboundPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new TokenBucketRateLimiterOptions { TokenLimit = 200, TokensPerPeriod = 100, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0 }));
        });

        var app = builder.Build();
        app.UseRateLimiter();
        app.MapReleaseApi();
        var users = app.Services.GetRequiredService<IReadOnlyList<ConsoleUser>>();
        var hub = app.Services.GetRequiredService<ConsoleChannelHub>();
        foreach (var channel in app.Services.GetRequiredService<Core.Settings.AccessPolicy>().Services.Values.Select(s => s.Channel).Distinct())
        {
            hub.EnsureChannel(channel);
        }

        app.MapShipBotConsole(users);
        return app;
    }

    /// <summary>The directory holding appsettings.json: the working directory when it has one (dotnet run from the repository root), else the build output.</summary>
    private static string ContentRoot() =>
        File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? Directory.GetCurrentDirectory() : AppContext.BaseDirectory;
}
