using System.Text.Json.Nodes;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.GatewayApi;
using ShipBot.Deploy.Kubernetes;
using ShipBot.Deploy.Smoke;
using ShipBot.Testing;
using ShipBot.Testing.Kubernetes;

namespace ShipBot.Deploy.Tests.GatewayApi;

/// <summary>
/// The Gateway API target against the Kubernetes API emulation (published HTTPRoute schema,
/// JSON patches with a resourceVersion precondition, RBAC of infra/k8s) with an emulated gateway
/// controller that reports Accepted/ResolvedRefs per generation.
/// </summary>
public sealed class GatewayApiTargetTests : IAsyncLifetime
{
    private const string Ns = "shop";
    private static readonly ReleaseId Release = new("checkout", "1.4.2");

    private KubernetesApiEmulator _kube = null!;
    private EmulatedGatewayController _gateway = null!;
    private KubernetesApi _api = null!;

    public async Task InitializeAsync()
    {
        _kube = await KubernetesApiEmulator.StartAsync();
        _kube.Rbac = KubernetesRbac.FromManifest(RepositoryFiles.RouterRbacManifest);
        _gateway = new EmulatedGatewayController(_kube);
        _api = new KubernetesApi(new KubernetesConnection(_kube.KubeconfigPath, null));
        _gateway.SetEndpoints(Ns, "checkout-stable", ready: 4);
        _gateway.SetEndpoints(Ns, "checkout-canary", ready: 2);
        _gateway.CreateRoute(Ns, "checkout", "prod-gateway", "checkout-stable", "checkout-canary");
        await _gateway.WaitUntilAsync(Ns, "checkout", r => r["status"] is not null);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _gateway.DisposeAsync();
        await _kube.DisposeAsync();
    }

    [Fact]
    public async Task ApplyAsync_EveryStage_WeightsAcceptedForTheNewGeneration()
    {
        var target = CreateSut();

        foreach (var percent in new[] { 5, 25, 50, 100 })
        {
            var result = await ApplyAsync(target, percent);

            Assert.True(result.Succeeded, result.Detail);
            var route = _kube.Get(_kube.HttpRoutes, Ns, "checkout")!;
            var refs = route["spec"]!["rules"]![0]!["backendRefs"]!.AsArray();
            Assert.Equal(100 - percent, (int)refs[0]!["weight"]!);
            Assert.Equal(percent, (int)refs[1]!["weight"]!);
            var generation = KubernetesApiEmulator.Number(route["metadata"]!["generation"]);
            Assert.All(route["status"]!["parents"]![0]!["conditions"]!.AsArray(), c => Assert.Equal(generation, KubernetesApiEmulator.Number(c!["observedGeneration"])));
            Assert.Equal($"canary {percent} · stable {100 - percent}", result.Status!["weights"]);
            Assert.Equal("Accepted True, ResolvedRefs True", result.Status["parent prod-gateway"]);
            Assert.Equal("canary 2 · stable 4", result.Status["ready endpoints"]);
        }

        // Every weight change was a JSON patch guarded by the resourceVersion it was computed from.
        var patches = _kube.Requests.Where(r => r.Method == "PATCH").ToList();
        Assert.Equal(4, patches.Count(p => p.Status == 200));
        Assert.All(patches, p => Assert.StartsWith("application/json-patch+json", p.ContentType, StringComparison.Ordinal));
        Assert.All(patches, p => Assert.Contains("\"path\":\"/metadata/resourceVersion\"", p.Body, StringComparison.Ordinal));
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_Rollback_SendsEverythingToStableAndWaitsForTheGateway()
    {
        var target = CreateSut();
        Assert.True((await ApplyAsync(target, 25)).Succeeded);

        var rollback = await target.ApplyAsync(new DeploymentRequest(Release, new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "rb"));

        Assert.True(rollback.Succeeded, rollback.Detail);
        Assert.StartsWith("weights canary 0 · stable 100 accepted", rollback.Detail, StringComparison.Ordinal);
        var refs = _kube.Get(_kube.HttpRoutes, Ns, "checkout")!["spec"]!["rules"]![0]!["backendRefs"]!.AsArray();
        Assert.Equal(100, (int)refs[0]!["weight"]!);
        Assert.Equal(0, (int)refs[1]!["weight"]!);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_RouteChangedBetweenReadAndPatch_ConflictIsRetried()
    {
        var target = CreateSut();
        var raced = 0;
        _kube.BeforePatch = _ =>
        {
            if (Interlocked.Increment(ref raced) == 1)
            {
                // Someone else (GitOps, kubectl) labels the route just before ShipBot's patch lands.
                _kube.Update(_kube.HttpRoutes, Ns, "checkout", r =>
                {
                    r["metadata"]!["labels"] = new JsonObject { ["team"] = "payments" };
                    return true;
                });
            }

            return Task.CompletedTask;
        };

        var result = await ApplyAsync(target, 25);

        Assert.True(result.Succeeded, result.Detail);
        Assert.EndsWith("(1 write conflict retried)", result.Detail, StringComparison.Ordinal);
        Assert.Single(_kube.Requests, r => r.Status == 409 && r.Reason == "Conflict");
        Assert.Equal("payments", (string?)_kube.Get(_kube.HttpRoutes, Ns, "checkout")!["metadata"]!["labels"]!["team"]);
        AssertCleanApiUse();
    }

    [Fact]
    public async Task ApplyAsync_GatewayRefusesTheRoute_FailsAtOnceWithTheControllersReason()
    {
        _gateway.RefuseReason = "NotAllowedByListeners";

        var result = await ApplyAsync(CreateSut(), 5);

        Assert.False(result.Succeeded);
        Assert.Contains("the gateway refused HTTPRoute shop/checkout generation 2 on prod-gateway: Accepted False (NotAllowedByListeners: Route is not allowed: NotAllowedByListeners)", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_CanaryServiceMissing_ResolvedRefsFalseFailsTheStage()
    {
        _kube.Update(_kube.HttpRoutes, Ns, "checkout", r =>
        {
            r["spec"]!["rules"]![0]!["backendRefs"]![1]!["name"] = "checkout-next";
            return true;
        });
        var target = CreateSut(o => o.CanaryBackend = "checkout-next");

        var result = await ApplyAsync(target, 5);

        Assert.False(result.Succeeded);
        Assert.Contains("ResolvedRefs False (BackendNotFound: Service \"checkout-next\" not found)", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_CanaryHasNoReadyEndpoint_WaitsUntilItHasOne()
    {
        _gateway.SetEndpoints(Ns, "checkout-canary", ready: 0, notReady: 2);
        var target = CreateSut();

        var apply = ApplyAsync(target, 5);
        await _gateway.WaitUntilAsync(Ns, "checkout", r => KubernetesApiEmulator.Number(r["status"]?["parents"]?[0]?["conditions"]?[0]?["observedGeneration"]) == 2);
        Assert.False(apply.IsCompleted);
        _gateway.SetEndpoints(Ns, "checkout-canary", ready: 1, notReady: 1);
        var result = await apply;

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("canary 1 · stable 4", result.Status!["ready endpoints"]);
    }

    [Fact]
    public async Task ApplyAsync_RuleWithOnlyTheStableBackend_FailsNamingTheRule()
    {
        _kube.Update(_kube.HttpRoutes, Ns, "checkout", r =>
        {
            r["spec"]!["rules"]![0]!["backendRefs"]!.AsArray().RemoveAt(1);
            return true;
        });

        var result = await ApplyAsync(CreateSut(), 5);

        Assert.False(result.Succeeded);
        Assert.Contains("rule 1 routes to checkout-stable but not to checkout-canary", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_RouteMissing_FailsWithNotFound()
    {
        var result = await ApplyAsync(CreateSut(o => o.Route = "cart"), 5);

        Assert.False(result.Succeeded);
        Assert.Equal("HTTPRoute shop/cart not found", result.Detail);
    }

    private GatewayApiTarget CreateSut(Action<GatewayApiTargetOptions>? configure = null)
    {
        var options = new GatewayApiTargetOptions
        {
            Namespace = Ns,
            Route = "checkout",
            StableBackend = "checkout-stable",
            CanaryBackend = "checkout-canary",
            PollInterval = TimeSpan.FromMilliseconds(20),
            Timeout = TimeSpan.FromSeconds(60),
        };
        configure?.Invoke(options);
        return new GatewayApiTarget(_api, options, new HttpSmokeChecks(new HttpClient(), new SmokeCheckOptions(), TimeProvider.System), TimeProvider.System);
    }

    private static Task<DeploymentResult> ApplyAsync(GatewayApiTarget target, int percent) =>
        target.ApplyAsync(new DeploymentRequest(Release, new DeploymentIntent(DeploymentEnvironment.Production, percent), $"{Release}:{percent}"));

    private void AssertCleanApiUse()
    {
        Assert.Empty(_kube.Violations);
        Assert.Empty(_gateway.Errors);
        var refused = _kube.Requests.Where(r => r.Status is 400 or 401 or 403 or 415 or 422).ToList();
        Assert.True(refused.Count == 0, string.Join("\n", refused.Select(r => $"{r.Method} {r.Path} → {r.Status} {r.Reason}: {r.Body}")));
    }
}
