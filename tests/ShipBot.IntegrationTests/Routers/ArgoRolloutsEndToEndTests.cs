using System.Text.Json.Nodes;
using ShipBot.IntegrationTests.Health;
using ShipBot.Testing;
using ShipBot.Testing.Kubernetes;
using Xunit.Abstractions;

namespace ShipBot.IntegrationTests.Routers;

/// <summary>
/// ShipBot drives an Argo Rollouts Rollout through the Kubernetes API emulation (kubeconfig with
/// a certificate authority and a token, the least-privilege RBAC of infra/k8s, the published
/// Rollout schema) with the emulated Argo controller: a release moves the Rollout through every
/// stage, and an abort Argo makes on its own (a failed AnalysisRun) rolls the release back with
/// Argo's reason, through the watcher.
/// </summary>
public sealed class ArgoRolloutsEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Release = "demo@1.0.0";
    private KubernetesApiEmulator _kube = null!;
    private EmulatedArgoRolloutsController _argo = null!;

    public async Task InitializeAsync()
    {
        _kube = await KubernetesApiEmulator.StartAsync();
        _kube.Rbac = KubernetesRbac.FromManifest(RepositoryFiles.RouterRbacManifest);
        _argo = new EmulatedArgoRolloutsController(_kube);
        await _argo.CreateRolloutAsync("shop", "demo", "ghcr.io/acme/demo:0.9.0");
    }

    public async Task DisposeAsync()
    {
        await _argo.DisposeAsync();
        await _kube.DisposeAsync();
    }

    [Fact]
    public async Task Release_EveryStage_RolloutEndsFullyPromotedAtTheReleasesImage()
    {
        await using var host = await ShipBotHost.StartAsync(Settings());

        await PrometheusScenario.ApproveAsync(host);
        var validating = await host.WaitForStateAsync(Release, "Validating", TimeSpan.FromSeconds(60));
        output.WriteLine(HAProxyScenario.Describe(validating));

        var rollout = _kube.Get(_kube.Rollouts, "shop", "demo")!;
        Assert.Equal("ghcr.io/acme/demo:1.0.0", (string?)rollout["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Equal((string?)rollout["status"]!["currentPodHash"], (string?)rollout["status"]!["stableRS"]);
        var calls = validating["audit"]!.AsArray().Where(a => (string?)a!["action"] == "deployment call").Select(a => (string)a!["detail"]!).ToList();
        foreach (var percent in new[] { 5, 25, 50 })
        {
            Assert.Contains(calls, c => c.StartsWith($"production at {percent} %: argo-rollouts shop/demo → ok", StringComparison.Ordinal) && c.Contains($"weights canary {percent} % · stable {100 - percent} %", StringComparison.Ordinal));
        }

        Assert.Contains(calls, c => c.StartsWith("production at 100 %: argo-rollouts shop/demo → ok", StringComparison.Ordinal) && c.Contains("fully promoted", StringComparison.Ordinal));
        Assert.Empty(_kube.Violations);
        Assert.DoesNotContain(_kube.Requests, r => r.Status is 400 or 401 or 403 or 415 or 422);
    }

    [Fact]
    public async Task ArgoAbortsOnAFailedAnalysis_ReleaseRolledBackWithArgosReason()
    {
        var settings = Settings();
        settings["ShipBot:Services:demo:Stages:0:Bake"] = "00:10:00";
        await using var host = await ShipBotHost.StartAsync(settings);
        await PrometheusScenario.ApproveAsync(host);
        await host.WaitForStateAsync(Release, "Canary", TimeSpan.FromSeconds(30));
        await HAProxyScenario.WaitForDeployedAsync(host, 5);

        _argo.FailAnalysis("shop", "demo", "Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)");
        var rolledBack = await host.WaitForStateAsync(Release, "RolledBack", TimeSpan.FromSeconds(30));
        output.WriteLine(HAProxyScenario.Describe(rolledBack));

        var reason = (string)rolledBack["rollback"]!["reason"]!;
        Assert.StartsWith("automatic: alert ArgoRolloutAborted firing (critical", reason, StringComparison.Ordinal);
        Assert.Contains("Argo Rollouts aborted shop/demo: RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase error/failed: Metric \"success-rate\" assessed Failed due to failed (3) > failureLimit (2)", reason, StringComparison.Ordinal);
        Assert.Equal("Canary 5 %", (string?)rolledBack["rollback"]!["stage"]);
        Assert.Contains(rolledBack["audit"]!.AsArray(), a => (string?)a!["action"] == "deployment call"
            && ((string)a["detail"]!).StartsWith("rollback to the previous version: argo-rollouts shop/demo → ok", StringComparison.Ordinal)
            && ((string)a["detail"]!).Contains("weights canary 0 % · stable 100 %", StringComparison.Ordinal));
        var alert = await host.CardMessageAsync($"Rolled back {Release}");
        Assert.NotNull(alert);
        Assert.Contains("success-rate", ShipBotHost.Text(alert["card"]), StringComparison.Ordinal);
        Assert.Empty(_kube.Violations);
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:Namespace"] = "shop",
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:Rollout"] = "demo",
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:Image"] = "ghcr.io/acme/demo:{{version}}",
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:Kubeconfig"] = _kube.KubeconfigPath,
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:PollInterval"] = "00:00:00.100",
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:WatchInterval"] = "00:00:01",
        ["ShipBot:Services:demo:Deployment:ArgoRollouts:Timeout"] = "00:01:00",
    };
}
