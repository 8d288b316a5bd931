using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using ShipBot.Core.Plans;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.ArgoRollouts;
using ShipBot.Deploy.Kubernetes;
using ShipBot.Deploy.Smoke;
using ShipBot.Testing;
using ShipBot.Testing.Kubernetes;

namespace ShipBot.Deploy.Tests.ArgoRollouts;

/// <summary>The watcher reports each abort Argo makes once, only for a release with production traffic that is not rolling back already.</summary>
public sealed class ArgoRolloutsWatcherTests : IAsyncLifetime
{
    private static readonly ReleaseId Id = new("checkout", "1.4.2");
    private readonly IReleaseStore _store = Substitute.For<IReleaseStore>();
    private readonly List<RouterAlarm> _reported = [];
    private KubernetesApiEmulator _kube = null!;
    private EmulatedArgoRolloutsController _argo = null!;
    private KubernetesApi _api = null!;
    private ArgoRolloutsTarget _target = null!;

    public async Task InitializeAsync()
    {
        _kube = await KubernetesApiEmulator.StartAsync();
        _kube.Rbac = KubernetesRbac.FromManifest(RepositoryFiles.RouterRbacManifest);
        _argo = new EmulatedArgoRolloutsController(_kube);
        _api = new KubernetesApi(new KubernetesConnection(_kube.KubeconfigPath, null));
        await _argo.CreateRolloutAsync("shop", "checkout", "ghcr.io/acme/checkout:1.4.1");
        _target = new ArgoRolloutsTarget(
            _api,
            new ArgoRolloutsTargetOptions { Namespace = "shop", Rollout = "checkout", Image = "ghcr.io/acme/checkout:{{version}}", PollInterval = TimeSpan.FromMilliseconds(20) },
            new HttpSmokeChecks(new HttpClient(), new SmokeCheckOptions(), TimeProvider.System),
            TimeProvider.System);
        var canary = await _target.ApplyAsync(new DeploymentRequest(Id, new DeploymentIntent(DeploymentEnvironment.Production, 5), "k"));
        Assert.True(canary.Succeeded, canary.Detail);
        _store.ListActiveIdsAsync(Arg.Any<CancellationToken>()).Returns([Id]);
        Holds(ReleaseState.Canary, stageIndex: 0);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _argo.DisposeAsync();
        await _kube.DisposeAsync();
    }

    [Fact]
    public async Task CheckOnceAsync_AbortSeenOnEveryPoll_ReportedOnceWithArgosReason()
    {
        var watcher = CreateSut();
        Assert.Empty(await watcher.CheckOnceAsync());

        _argo.FailAnalysis("shop", "checkout", "Metric \"error-ratio\" assessed Failed");
        await _argo.WaitUntilAsync("shop", "checkout", r => (string?)r["status"]?["phase"] == "Degraded");
        var first = await watcher.CheckOnceAsync();
        var second = await watcher.CheckOnceAsync();

        var alarm = Assert.Single(first);
        Assert.Empty(second);
        Assert.Single(_reported);
        Assert.Equal(("checkout", "1.4.2", "ArgoRolloutAborted", "Argo Rollouts shop/checkout"), (alarm.Service, alarm.Version, alarm.Name, alarm.Source));
        Assert.Contains("Metric \"error-ratio\" assessed Failed", alarm.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckOnceAsync_ReportNotHandled_TriesAgainNextPoll()
    {
        var handled = false;
        var watcher = CreateSut(() => handled);
        _argo.FailAnalysis("shop", "checkout", "Metric \"latency\" assessed Failed");
        await _argo.WaitUntilAsync("shop", "checkout", r => (string?)r["status"]?["phase"] == "Degraded");

        Assert.Empty(await watcher.CheckOnceAsync());
        handled = true;
        Assert.Single(await watcher.CheckOnceAsync());
        Assert.Empty(await watcher.CheckOnceAsync());
        Assert.Equal(2, _reported.Count);
    }

    [Theory]
    [InlineData(ReleaseState.RollingBack, 0)]
    [InlineData(ReleaseState.RolledBack, 0)]
    [InlineData(ReleaseState.Staging, -1)]
    public async Task CheckOnceAsync_ReleaseRollingBackOrNotInProduction_NothingReported(ReleaseState state, int stageIndex)
    {
        Holds(state, stageIndex);
        _argo.FailAnalysis("shop", "checkout", "Metric \"latency\" assessed Failed");
        await _argo.WaitUntilAsync("shop", "checkout", r => (string?)r["status"]?["phase"] == "Degraded");

        Assert.Empty(await CreateSut().CheckOnceAsync());
        Assert.Empty(_reported);
    }

    private ArgoRolloutsWatcher CreateSut(Func<bool>? handled = null) => new(
        new Dictionary<string, ArgoRolloutsTarget> { ["checkout"] = _target },
        _store,
        (alarm, _) =>
        {
            _reported.Add(alarm);
            return Task.FromResult(handled?.Invoke() ?? true);
        },
        TimeSpan.FromSeconds(10),
        TimeProvider.System,
        NullLogger<ArgoRolloutsWatcher>.Instance);

    private void Holds(ReleaseState state, int stageIndex)
    {
        var release = new Release
        {
            Id = Id,
            Requester = new Person("alice", "alice"),
            Conversation = new Conversation("console", "releases"),
            Contract = new ReleaseContract([], string.Empty, string.Empty, [], []),
            Plan = StagePlan.Default,
            Checklist = [],
            State = state,
            StageIndex = stageIndex,
            CreatedAt = DateTimeOffset.UnixEpoch,
            UpdatedAt = DateTimeOffset.UnixEpoch,
        };
        _store.GetAsync(Id, Arg.Any<CancellationToken>()).Returns(release);
    }
}
