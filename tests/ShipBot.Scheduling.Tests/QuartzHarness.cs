using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NSubstitute;
using Quartz;
using ShipBot.Coordinator;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.InMemory;

namespace ShipBot.Scheduling.Tests;

/// <summary>
/// A real, started Quartz scheduler (in-memory store) wired like the host's AddQuartzScheduling,
/// running <see cref="ReleaseTimerJob"/> against a real <see cref="ReleaseCoordinator"/> on the
/// in-memory release store, with NSubstitute substitutes for the other ports. System clock: the
/// timers really fire.
/// </summary>
internal sealed class QuartzHarness : IAsyncDisposable
{
    public static readonly Actor Alice = new("alice", "Alice", []);
    public static readonly Conversation Channel = new("console", "releases");
    public static readonly ServicePolicy Demo = new() { Name = "demo", Requesters = ["alice"], Approvers = ["bob"], OnCall = ["carol"] };

    private readonly ServiceProvider _services;

    private QuartzHarness(ServiceProvider services, IScheduler quartz, IReadinessVerifier readiness)
    {
        _services = services;
        Quartz = quartz;
        Readiness = readiness;
    }

    public IScheduler Quartz { get; }

    public InMemoryReleaseStore InnerStore => _services.GetRequiredService<InMemoryReleaseStore>();

    public ObservedReleaseStore Store => _services.GetRequiredService<ObservedReleaseStore>();

    public IReadinessVerifier Readiness { get; }

    public ReleaseCoordinator Coordinator => _services.GetRequiredService<ReleaseCoordinator>();

    public IReleaseScheduler Scheduler => _services.GetRequiredService<IReleaseScheduler>();

    public static async Task<QuartzHarness> StartAsync()
    {
        var readiness = Substitute.For<IReadinessVerifier>();
        readiness.VerifyAsync(Arg.Any<ServicePolicy>(), Arg.Any<CancellationToken>())
            .Returns(Task.FromResult<IReadOnlyList<ItemVerification>>([new ItemVerification("health", true, "health URL answered 200 in 3 ms")]));
        var deployment = Substitute.For<IDeploymentTarget>();
        deployment.Name.Returns("fake-target");
        var health = Substitute.For<IHealthSource>();
        health.Name.Returns("fake-health");
        var notifier = Substitute.For<IChatNotifier>();
        notifier.Platform.Returns("console");

        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(TimeProvider.System);
        services.AddQuartz(q =>
        {
            q.UseInMemoryStore();
            q.AddJobType<ReleaseTimerJob>();
        });
        services.AddSingleton<IReleaseScheduler, QuartzReleaseScheduler>();
        services.AddSingleton<InMemoryReleaseStore>();
        services.AddSingleton(sp => new ObservedReleaseStore(sp.GetRequiredService<InMemoryReleaseStore>()));
        services.AddSingleton(sp => new ReleaseCoordinator(
            sp.GetRequiredService<ObservedReleaseStore>(),
            sp.GetRequiredService<InMemoryReleaseStore>(),
            sp.GetRequiredService<InMemoryReleaseStore>(),
            sp.GetRequiredService<IReleaseScheduler>(),
            deployment,
            health,
            readiness,
            [notifier],
            new AccessPolicy(new Dictionary<string, ServicePolicy>(StringComparer.Ordinal) { [Demo.Name] = Demo }, []),
            new CoordinatorSettings(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ReleaseCoordinator>>()));
        services.AddSingleton<IReleaseTimers>(sp => sp.GetRequiredService<ReleaseCoordinator>());

        var provider = services.BuildServiceProvider();
        var quartz = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await quartz.Start();
        return new QuartzHarness(provider, quartz, readiness);
    }

    /// <summary>A release in Draft whose readiness has not been verified, stored without any timer.</summary>
    public async Task<ReleaseId> CreateDraftAsync(string version)
    {
        var id = new ReleaseId(Demo.Name, version);
        var contract = new ReleaseContract(["a change"], "notes", "roll back", [], []);
        var change = Release.Create(id, ReleaseKind.Standard, new Person(Alice.Id, Alice.DisplayName), Channel, Demo, contract, null, TimeProvider.System.GetUtcNow());
        var created = await InnerStore.TryCreateAsync(change.Next, []);
        Assert.Equal(CreateOutcome.Created, created.Outcome);
        return id;
    }

    public bool ReadinessWasVerified() =>
        Readiness.ReceivedCalls().Any(c => c.GetMethodInfo().Name == nameof(IReadinessVerifier.VerifyAsync));

    public async ValueTask DisposeAsync()
    {
        await Quartz.Shutdown(waitForJobsToComplete: true);
        await _services.DisposeAsync();
    }
}
