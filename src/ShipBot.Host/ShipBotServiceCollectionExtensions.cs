using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Quartz;
using ShipBot.Charts.Images;
using ShipBot.Console;
using ShipBot.Coordinator;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.Deploy;
using ShipBot.Deploy.Command;
using ShipBot.Deploy.Simulated;
using ShipBot.Deploy.Smoke;
using ShipBot.Deploy.Webhook;
using ShipBot.GitHub;
using ShipBot.Health;
using ShipBot.Health.Probes;
using ShipBot.Health.Prometheus;
using ShipBot.Health.Readiness;
using ShipBot.Health.Simulated;
using ShipBot.InMemory;
using ShipBot.Redis;
using ShipBot.Scheduling;
using StackExchange.Redis;

namespace ShipBot.Host;

/// <summary>Wires ShipBot's ports to adapters from configuration.</summary>
public static class ShipBotServiceCollectionExtensions
{
    public static IServiceCollection AddShipBotCore(this IServiceCollection services)
    {
        // Bound in linear time however many services are configured (the framework binder alone is quadratic in them).
        services.AddOptions<ShipBotOptions>().Configure<IConfiguration>((options, configuration) => ShipBotConfiguration.Bind(configuration, options)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ShipBotOptions>, ShipBotOptionsValidator>();
        services.TryAddSingletonTimeProvider();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            var policies = options.Services.ToDictionary(s => s.Key.ToLowerInvariant(), s => s.Value.ToPolicy(s.Key), StringComparer.OrdinalIgnoreCase);
            return new AccessPolicy(policies, options.Admins);
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            return new CoordinatorSettings
            {
                EvaluationInterval = options.EvaluationInterval,
                ReminderInterval = options.ReminderInterval,
                StartRollbackAtOnce = true,
                Admins = options.Admins,
                FlaggerCanaries = [.. options.Services.Where(s => s.Value.Flagger is not null).Select(s =>
                    new FlaggerCanary(s.Key.ToLowerInvariant(), s.Value.Flagger!.Namespace!, s.Value.Flagger.Canary!, s.Value.Flagger.Platform))],
            };
        });
        services.AddSingleton(sp => new ReleaseCoordinator(
            sp.GetRequiredService<IReleaseStore>(),
            sp.GetRequiredService<IIdempotencyStore>(),
            sp.GetRequiredService<ILeaseStore>(),
            sp.GetRequiredService<IReleaseScheduler>(),
            sp.GetRequiredService<IDeploymentTarget>(),
            sp.GetRequiredService<IHealthSource>(),
            sp.GetRequiredService<IReadinessVerifier>(),
            sp.GetServices<IChatNotifier>(),
            sp.GetRequiredService<AccessPolicy>(),
            sp.GetRequiredService<CoordinatorSettings>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ReleaseCoordinator>>(),
            sp.GetService<IHealthSimulator>(),
            sp.GetServices<IReleaseObserver>())
        {
            Tokens = sp.GetService<Coordinator.Identity.ApiTokenService>(),
            JudgeCharts = sp.GetService<IJudgeCharts>(),
            Freezes = sp.GetService<IFreezeCalendar>(),
            Records = sp.GetService<IReleaseRecordsStatus>(),
            SignalObservers = sp.GetServices<ISignalObserver>().ToList(),
            DeliveryCharts = sp.GetService<IDeliveryCharts>(),
            OutcomeSource = sp.GetService<IOutcomeSource>(),
        });

        // Adapters depend on the small interfaces, never on the coordinator itself.
        services.TryAddSingleton<IReleaseCommands>(sp => sp.GetRequiredService<ReleaseCoordinator>());
        services.TryAddSingleton<IAlertIntake>(sp => sp.GetRequiredService<ReleaseCoordinator>());
        services.TryAddSingleton<IReleaseTimers>(sp => sp.GetRequiredService<ReleaseCoordinator>());
        services.TryAddSingleton<IFlaggerGate>(sp => sp.GetRequiredService<ReleaseCoordinator>());
        services.TryAddSingleton<IDeliveryReports>(sp => sp.GetRequiredService<ReleaseCoordinator>());

        // The sequential judge's evidence charts, served at GET /charts/{token}.png (ShipBot:Charts); one store for
        // every chart (the delivery charts register it too when they come first).
        if (!services.Any(d => d.ServiceType == typeof(ChartImageStore)))
        {
            services.AddChartImages();
        }

        services.AddSingleton<IJudgeCharts, JudgeChartLinks>();
        return services;
    }

    /// <summary>
    /// Redis as the source of truth (<c>ConnectionStrings:Redis</c>, a StackExchange.Redis
    /// configuration string, so Sentinel and TLS work). The connection is made in the background:
    /// start-up never blocks on Redis, and commands answer "state store unavailable" until it is up.
    /// </summary>
    public static IServiceCollection AddRedisStore(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(connectionString);
            options.AbortOnConnectFail = false;

            // Fail fast while disconnected: the store's own bounded retries decide how long to wait,
            // instead of every command queueing for the full client timeout.
            options.BacklogPolicy = BacklogPolicy.FailFast;
            options.ClientName ??= "shipbot";

            // The readiness check (AspNetCore.HealthChecks.Redis) asks CLUSTER INFO on a cluster, an admin command for the client.
            options.AllowAdmin = true;
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton(sp => new RedisReleaseStore(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<ShipBotOptions>>().Value.Redis,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IReleaseStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        services.AddSingleton<IIdempotencyStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        services.AddSingleton<ILeaseStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        services.AddSingleton<IChatStateStore>(sp => sp.GetRequiredService<RedisReleaseStore>());
        return services;
    }

    /// <summary>The embedded default store (in memory). Redis replaces it when <c>ConnectionStrings:Redis</c> is set.</summary>
    public static IServiceCollection AddInMemoryStore(this IServiceCollection services)
    {
        services.AddSingleton<InMemoryReleaseStore>();
        services.AddSingleton<IReleaseStore>(sp => sp.GetRequiredService<InMemoryReleaseStore>());
        services.AddSingleton<IIdempotencyStore>(sp => sp.GetRequiredService<InMemoryReleaseStore>());
        services.AddSingleton<ILeaseStore>(sp => sp.GetRequiredService<InMemoryReleaseStore>());
        services.AddSingleton<IChatStateStore>(sp => sp.GetRequiredService<InMemoryReleaseStore>());
        return services;
    }

    /// <summary>
    /// Health sources and deployment targets: each service's own (Prometheus, HTTP probes; webhook,
    /// command, GitHub Actions) and the simulated ones as the default for services without their own, with the
    /// <c>/ship simulate</c> controls over those.
    /// </summary>
    public static IServiceCollection AddHealthAndDeployment(this IServiceCollection services)
    {
        services.AddHttpClient("health");
        // One network handler for every webhook target, kept for the process's life (connections recycled, so DNS changes are seen);
        // each target puts its own resilience (its own circuit) and signing in front of it.
        services.AddHttpClient("deployment")
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddShipBotGitHub();

        // Deployments and statuses on GitHub for the services that link a repository (a no-op for the others).
        services.AddGitHubDeployments(sp => sp.GetRequiredService<IOptions<ShipBotOptions>>().Value.Services.Select(s => KeyValuePair.Create(s.Key, s.Value.GitHub)));
        services.AddSingleton(sp => new SimulatedDeploymentTarget(
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<ShipBotOptions>>().Value.Deployment.SimulatedLatency));
        services.AddSingleton<SimulatedHealthSource>();
        services.AddSingleton<IHealthSimulator, SimulationControls>();
        services.AddSingleton<IHealthSource>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var http = sp.GetRequiredService<IHttpClientFactory>();
            var byService = new Dictionary<string, IReadOnlyList<IHealthSource>>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, service) in options.Services)
            {
                var sources = new List<IHealthSource>();
                if (service.Health.Prometheus is { } prometheus)
                {
                    sources.Add(new PrometheusHealthSource(http.CreateClient("health"), prometheus, time));
                }

                if (service.Health.Probes is { } probes)
                {
                    sources.Add(new HttpProbeHealthSource(http.CreateClient("health"), probes, time));
                }

                if (service.Health.HAProxy is { } haproxy)
                {
                    sources.Add(RouterTargets.CreateHealthSource(http.CreateClient("health"), haproxy, service.Deployment, time));
                }

                if (sources.Count > 0)
                {
                    byService[name.ToLowerInvariant()] = sources;
                }
            }

            var simulated = options.Health.Source == HealthSourceKind.Simulated;
            return new ServiceHealthSources(byService, simulated ? sp.GetRequiredService<SimulatedHealthSource>() : null);
        });
        // Measured outcome targets are read from the service's Prometheus, else (in demos) from the simulated source.
        services.AddSingleton<IOutcomeSource>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var http = sp.GetRequiredService<IHttpClientFactory>();
            var byService = options.Services
                .Where(s => s.Value.Health.Prometheus is not null)
                .ToDictionary(s => s.Key.ToLowerInvariant(), s => (IOutcomeSource)new PrometheusHealthSource(http.CreateClient("health"), s.Value.Health.Prometheus!, time), StringComparer.OrdinalIgnoreCase);
            var simulated = options.Health.Source == HealthSourceKind.Simulated;
            return new ServiceOutcomeSources(byService, simulated ? sp.GetRequiredService<SimulatedHealthSource>() : null);
        });
        services.AddSingleton<IDeploymentTarget>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var http = sp.GetRequiredService<IHttpClientFactory>();
            var network = new Lazy<HttpMessageHandler>(() => sp.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("deployment"));
            var byService = new Dictionary<string, IDeploymentTarget>(StringComparer.OrdinalIgnoreCase);
            var simulated = new ResilientDeploymentTarget(sp.GetRequiredService<SimulatedDeploymentTarget>(), new DeploymentResilienceOptions(), time);
            foreach (var (name, service) in options.Services)
            {
                var smoke = new HttpSmokeChecks(http.CreateClient("health"), service.SmokeChecks, time);
                switch (service.Deployment.EffectiveTarget(options.Deployment.Target))
                {
                    case DeploymentTargetKind.Webhook:
                        byService[name.ToLowerInvariant()] = new WebhookDeploymentTarget(network.Value, service.Deployment.Webhook!, smoke, time);
                        break;
                    case DeploymentTargetKind.Command:
                        byService[name.ToLowerInvariant()] = new CommandDeploymentTarget(service.Deployment.Command!, smoke, time);
                        break;
                    case DeploymentTargetKind.GitHubActions:
                        byService[name.ToLowerInvariant()] = new SmokeCheckedTarget(sp.CreateGitHubActionsTarget(service.Deployment.GitHubActions!, service.GitHub), smoke);
                        break;
                    case DeploymentTargetKind.ArgoRollouts or DeploymentTargetKind.GatewayApi or DeploymentTargetKind.HAProxy:
                        byService[name.ToLowerInvariant()] = sp.GetRequiredService<RouterTargets>().For(name, service.Deployment, smoke);
                        break;
                    default:
                        if (service.SmokeChecks.Urls.Count > 0)
                        {
                            // Configured smoke checks run whatever the target: a simulated deployment still gets real checks.
                            byService[name.ToLowerInvariant()] = new SmokeCheckedTarget(simulated, smoke);
                        }

                        break;
                }
            }

            return new ServiceDeploymentTargets(byService, simulated);
        });
        services.AddRouterTargets();
        return services;
    }

    public static IServiceCollection AddReadinessVerifier(this IServiceCollection services)
    {
        // The verifier times the health URL out on the injected clock (HttpReadinessVerifier.RequestTimeout), not the client.
        services.AddHttpClient<IReadinessVerifier, HttpReadinessVerifier>(c => c.Timeout = Timeout.InfiniteTimeSpan);
        return services;
    }

    public static IServiceCollection AddQuartzScheduling(this IServiceCollection services)
    {
        services.AddQuartz(q =>
        {
            q.UseInMemoryStore();
            q.UseDefaultThreadPool(16);
            q.AddJobType<ReleaseTimerJob>();
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddSingleton<IReleaseScheduler, QuartzReleaseScheduler>();
        services.TryAddSingleton<IReleaseTimers>(sp => sp.GetRequiredService<ReleaseCoordinator>());
        services.AddHostedService<ReleaseRecoveryService>();
        services.AddHostedService<ReleaseSweepService>();
        return services;
    }

    public static IServiceCollection AddConsole(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleChannelHub>();
        services.AddSingleton<IChatNotifier, ConsoleChatNotifier>();
        services.AddSingleton<IReadOnlyList<ConsoleUser>>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ShipBotOptions>>().Value;
            return options.Users.Select(u => new ConsoleUser(u.Key, u.Value.Name ?? u.Key, u.Value.Groups)).ToList();
        });
        return services;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
