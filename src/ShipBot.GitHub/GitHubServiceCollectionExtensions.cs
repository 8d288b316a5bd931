using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Ports;
using ShipBot.GitHub.Actions;
using ShipBot.GitHub.Deployments;
using ShipBot.GitHub.Rest;

namespace ShipBot.GitHub;

public static class GitHubServiceCollectionExtensions
{
    /// <summary>
    /// Registers what every GitHub integration needs: the <c>ShipBot:GitHub</c> options, the
    /// <c>github</c> HTTP client (timeout <c>RequestTimeout</c>, pooled connections renewed every
    /// 2 minutes) and <see cref="GitHubConnections"/>. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddShipBotGitHub(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(GitHubConnections)))
        {
            return services;
        }

        services.AddOptions<GitHubOptions>().BindConfiguration(GitHubOptions.Section);
        services.AddHttpClient(GitHubRestClient.HttpClientName, (sp, c) => c.Timeout = sp.GetRequiredService<IOptions<GitHubOptions>>().Value.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton<GitHubConnections>();
        return services;
    }

    /// <summary>
    /// The GitHub Actions deployment target of a service (<c>ShipBot:Services:&lt;name&gt;:Deployment:GitHubActions</c>),
    /// with the repository and credentials resolved from the target, else the service's <c>GitHub</c>
    /// link, else <c>ShipBot:GitHub:Auth</c>. Needs <see cref="AddShipBotGitHub"/> and an <see cref="IChatStateStore"/>.
    /// </summary>
    public static GitHubActionsDeploymentTarget CreateGitHubActionsTarget(this IServiceProvider services, GitHubActionsTargetOptions target, ServiceGitHubOptions? link)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(target);
        var owner = string.IsNullOrWhiteSpace(target.Owner) ? link?.Owner : target.Owner;
        var repo = string.IsNullOrWhiteSpace(target.Repo) ? link?.Repo : target.Repo;
        if (string.IsNullOrWhiteSpace(owner) || string.IsNullOrWhiteSpace(repo))
        {
            throw new InvalidOperationException("The GitHub Actions target needs Owner and Repo (or the service's GitHub:Owner and GitHub:Repo).");
        }

        var client = services.GetRequiredService<GitHubConnections>().For(target.Auth ?? link?.Auth, owner, repo);
        return new GitHubActionsDeploymentTarget(
            client,
            owner,
            repo,
            target,
            services.GetService<IChatStateStore>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<GitHubActionsDeploymentTarget>());
    }

    /// <summary>
    /// Registers <see cref="GitHubDeploymentsObserver"/> (also as an <see cref="IReleaseObserver"/>)
    /// for the services that <paramref name="links"/> returns with a repository and
    /// <c>Deployments</c> on (service name → its <c>ShipBot:Services:&lt;name&gt;:GitHub</c>). Calls
    /// <see cref="AddShipBotGitHub"/>; needs an <see cref="IChatStateStore"/>.
    /// </summary>
    public static IServiceCollection AddGitHubDeployments(this IServiceCollection services, Func<IServiceProvider, IEnumerable<KeyValuePair<string, ServiceGitHubOptions?>>> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        services.AddShipBotGitHub();
        services.AddSingleton(sp =>
        {
            var connections = sp.GetRequiredService<GitHubConnections>();
            var linked = links(sp)
                .Where(l => l.Value is { IsLinked: true, Deployments: true })
                .Select(l => new GitHubDeploymentLink(l.Key.ToLowerInvariant(), l.Value!, connections.For(l.Value!.Auth, l.Value.Owner!, l.Value.Repo!)))
                .ToList();
            return new GitHubDeploymentsObserver(
                linked,
                sp.GetRequiredService<IChatStateStore>(),
                connections.Options.Deployments,
                connections.Options.PublicUrl,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<GitHubDeploymentsObserver>>());
        });
        services.AddSingleton<IReleaseObserver>(sp => sp.GetRequiredService<GitHubDeploymentsObserver>());
        return services;
    }
}
