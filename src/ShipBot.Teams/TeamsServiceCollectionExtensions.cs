using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;
using ShipBot.Http;


namespace ShipBot.Teams;

public static class TeamsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Teams adapter when the <c>Teams</c> section enables it (an app id is set, or
    /// <c>Teams:Enabled</c> is true); start-up then fails with a clear message if a required setting
    /// is missing. Returns whether Teams is enabled (the host maps <c>/api/messages</c> then).
    /// </summary>
    public static bool AddShipBotTeams(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(TeamsOptions.Section);
        services.AddOptions<TeamsOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TeamsOptions>, TeamsOptionsValidator>();
        var settings = section.Get<TeamsOptions>() ?? new TeamsOptions();
        if (!settings.IsEnabled)
        {
            return false;
        }

        services.AddBotConnectorClient();
        services.AddSingleton(sp => new BotFrameworkAuthenticator(
            sp.GetRequiredService<IOptions<TeamsOptions>>(),
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(BotFrameworkAuthenticator)),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<BotFrameworkAuthenticator>>()));
        services.AddSingleton<TeamsConversations>();
        services.AddSingleton<TeamsChatNotifier>();
        services.AddSingleton<IChatNotifier>(sp => sp.GetRequiredService<TeamsChatNotifier>());
        services.AddSingleton<TeamsInbound>();
        services.AddInboundGuard();
        return true;
    }

    /// <summary>
    /// The Bot Connector client (<see cref="BotConnectorClient"/>, a singleton) over the factory's
    /// <c>BotConnectorClient</c> client: long-lived, connections recycled (so DNS changes are seen),
    /// with the resilience handler of <see cref="BotConnectorClient.Resilience"/> on the container's
    /// clock. Needs <see cref="IOptions{TeamsOptions}"/>, a <see cref="TimeProvider"/> and logging.
    /// Returns the client's builder (tests give it another primary handler).
    /// </summary>
    public static IHttpClientBuilder AddBotConnectorClient(this IServiceCollection services)
    {
        var client = services.AddHttpClient(nameof(BotConnectorClient), c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddShipBotResilience(sp => BotConnectorClient.Resilience(
                sp.GetRequiredService<IOptions<TeamsOptions>>().Value,
                sp.GetRequiredService<ILogger<BotConnectorClient>>()));
        services.AddSingleton(sp => new BotConnectorClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(BotConnectorClient)),
            sp.GetRequiredService<IOptions<TeamsOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        return client;
    }
}

/// <summary>Start-up validation of the <c>Teams</c> section, with messages that say what to set.</summary>
public sealed class TeamsOptionsValidator : IValidateOptions<TeamsOptions>
{
    public ValidateOptionsResult Validate(string? name, TeamsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.AppId))
        {
            errors.Add("Teams is enabled but Teams:AppId is missing: set the Azure Bot's Microsoft App ID (Teams__AppId); it is the audience every inbound token is checked against.");
        }

        if (string.IsNullOrWhiteSpace(options.AppPassword) && !options.AllowUnauthenticatedLoopback)
        {
            errors.Add("Teams is enabled but Teams:AppPassword is missing: put the app registration's client secret in Teams__AppPassword (ShipBot needs it to post to Teams).");
        }

        var metadata = options.OpenIdMetadataUrl;
        if (!metadata.IsAbsoluteUri || !(metadata.Scheme == "https" || (metadata.Scheme == "http" && metadata.IsLoopback)))
        {
            errors.Add($"Teams:OpenIdMetadataUrl must be an https URL (http only on loopback, for tests); got '{metadata}'.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(10))
        {
            errors.Add("Teams:ClockSkew must be between 0 and 10 minutes.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
