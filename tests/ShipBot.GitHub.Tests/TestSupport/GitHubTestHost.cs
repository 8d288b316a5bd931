using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;
using ShipBot.GitHub.Actions;
using ShipBot.GitHub.Deployments;
using ShipBot.GitHub.Tests.Emulation;
using ShipBot.InMemory;

namespace ShipBot.GitHub.Tests.TestSupport;

/// <summary>
/// The system under test for GitHub tests: the GitHub emulation on Kestrel, one stepping fake
/// clock shared by ShipBot and the emulation, an in-memory state store, and ShipBot's GitHub
/// services registered the way the host registers them (<c>AddShipBotGitHub</c>) from
/// configuration that points at the emulation and authenticates as its GitHub App.
/// </summary>
internal sealed class GitHubTestHost : IAsyncDisposable
{
    public const string Owner = "acme";
    public const string Repo = "checkout";

    private readonly List<ServiceProvider> _providers = [];

    private GitHubTestHost(SteppingClock clock, GitHubEmulator github, EmulatedRepository repository)
    {
        Clock = clock;
        GitHub = github;
        Repository = repository;
        State = new InMemoryReleaseStore(clock);
    }

    public SteppingClock Clock { get; }

    public GitHubEmulator GitHub { get; }

    public EmulatedRepository Repository { get; }

    /// <summary>The state store ShipBot's GitHub integrations remember things in (shared by every "process" of a test unless it brings its own).</summary>
    public InMemoryReleaseStore State { get; }

    /// <summary>Extra configuration keys (over the defaults: app auth, the emulation's URL, a public URL).</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<GitHubTestHost> StartAsync()
    {
        var clock = new SteppingClock(SteppingClock.Start);
        var github = await GitHubEmulator.StartAsync(clock);
        var repository = github.AddRepository(Owner, Repo);
        repository.Refs.Add("v1.4.2");
        repository.Refs.Add("v1.5.0");
        var host = new GitHubTestHost(clock, github, repository);
        host.Settings["ShipBot:GitHub:ApiUrl"] = github.ApiUrl.ToString();
        host.Settings["ShipBot:GitHub:PublicUrl"] = "https://shipbot.example.com";
        host.Settings["ShipBot:GitHub:Auth:AppId"] = GitHubEmulator.AppClientId;
        host.Settings["ShipBot:GitHub:Auth:PrivateKey"] = github.AppPrivateKeyPem;
        return host;
    }

    /// <summary>A fresh "process": its own service provider (so its own token cache and rate-limit state).</summary>
    public IServiceProvider NewProcess(IChatStateStore? state = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton<IChatStateStore>(state ?? State);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Settings).Build());
        services.AddShipBotGitHub();
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }

    public static GitHubActionsTargetOptions TargetOptions() => new()
    {
        Owner = Owner,
        Repo = Repo,
        Workflow = "deploy.yml",
        Ref = "main",
        PollInterval = TimeSpan.FromSeconds(15),
    };

    public GitHubActionsDeploymentTarget Target(IServiceProvider? process = null, GitHubActionsTargetOptions? options = null) =>
        (process ?? NewProcess()).CreateGitHubActionsTarget(options ?? TargetOptions(), null);

    public static ServiceGitHubOptions Link() => new() { Owner = Owner, Repo = Repo };

    /// <summary>A Deployments observer for the service <c>checkout</c>, registered as the host would (<c>AddGitHubDeployments</c>).</summary>
    public GitHubDeploymentsObserver Observer(IChatStateStore? state = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton<IChatStateStore>(state ?? State);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Settings).Build());
        services.AddGitHubDeployments(_ => [new KeyValuePair<string, ServiceGitHubOptions?>("checkout", Link())]);
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        var observers = provider.GetServices<IReleaseObserver>().ToList();
        Assert.Single(observers);
        return Assert.IsType<GitHubDeploymentsObserver>(observers[0]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await GitHub.DisposeAsync();
    }
}
