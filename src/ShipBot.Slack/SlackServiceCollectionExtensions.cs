using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;
using ShipBot.Http;

namespace ShipBot.Slack;

public static class SlackServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Slack adapter when the <c>Slack</c> section enables it (a bot token is set, or
    /// <c>Slack:Enabled</c> is true); start-up then fails with a clear message if a required
    /// setting is missing. Returns whether Slack is enabled (the host maps the endpoints then).
    /// </summary>
    public static bool AddShipBotSlack(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SlackOptions.Section);
        services.AddOptions<SlackOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SlackOptions>, SlackOptionsValidator>();
        var settings = section.Get<SlackOptions>() ?? new SlackOptions();
        if (!settings.IsEnabled)
        {
            return false;
        }

        services.AddInboundGuard();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SlackOptions>>().Value;
            return new SlackSignature(options.SigningSecret ?? string.Empty, sp.GetRequiredService<TimeProvider>(), options.MaxClockSkew);
        });

        services.AddSlackWebApi();
        services.AddSingleton<SlackUserDirectory>();
        services.AddSingleton<SlackInbound>();
        services.AddSingleton<SlackChatNotifier>();
        services.AddSingleton<IChatNotifier>(sp => sp.GetRequiredService<SlackChatNotifier>());
        if (settings.UsesSocketMode)
        {
            services.AddSingleton<SlackSocketMode>();
            services.AddHostedService(sp => sp.GetRequiredService<SlackSocketMode>());
        }

        return true;
    }

    /// <summary>
    /// The Web API client (<see cref="SlackWebApi"/>, a singleton) over the factory's
    /// <c>SlackWebApi</c> client: one long-lived client whose connections are recycled (so DNS
    /// changes are seen), with the resilience handler of <see cref="SlackWebApi.Resilience"/> on
    /// the container's clock. Needs <see cref="IOptions{SlackOptions}"/>, a <see cref="TimeProvider"/>
    /// and logging. Returns the client's builder (tests give it another primary handler).
    /// </summary>
    public static IHttpClientBuilder AddSlackWebApi(this IServiceCollection services)
    {
        var client = services.AddHttpClient(nameof(SlackWebApi), c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddShipBotResilience(sp => SlackWebApi.Resilience(
                sp.GetRequiredService<IOptions<SlackOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<SlackWebApi>>()));
        services.AddSingleton(sp => new SlackWebApi(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(SlackWebApi)),
            sp.GetRequiredService<IOptions<SlackOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SlackWebApi>>()));
        return client;
    }
}

/// <summary>Start-up validation of the <c>Slack</c> section, with messages that say what to set.</summary>
public sealed class SlackOptionsValidator : IValidateOptions<SlackOptions>
{
    public ValidateOptionsResult Validate(string? name, SlackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.SigningSecret))
        {
            errors.Add("Slack is enabled but Slack:SigningSecret is missing: copy it from the app's Basic Information page into the environment variable Slack__SigningSecret.");
        }

        if (string.IsNullOrWhiteSpace(options.BotToken))
        {
            errors.Add("Slack is enabled but Slack:BotToken is missing: install the app and put its Bot User OAuth Token (xoxb-…) in Slack__BotToken.");
        }

        if (!options.ApiBaseUrl.IsAbsoluteUri || options.ApiBaseUrl.Scheme is not ("https" or "http") || !options.ApiBaseUrl.AbsolutePath.EndsWith('/'))
        {
            errors.Add($"Slack:ApiBaseUrl must be an absolute http(s) URL ending in '/', such as https://slack.com/api/ (got '{options.ApiBaseUrl}').");
        }

        if (string.IsNullOrWhiteSpace(options.Command) || !options.Command.StartsWith('/'))
        {
            errors.Add("Slack:Command must be a slash command such as /ship.");
        }

        if (options.AckBudget <= TimeSpan.Zero || options.AckBudget >= TimeSpan.FromSeconds(3))
        {
            errors.Add("Slack:AckBudget must be between 0 and 3 seconds (Slack's limit).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
