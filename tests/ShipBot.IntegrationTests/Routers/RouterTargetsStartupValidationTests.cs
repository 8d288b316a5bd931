using Microsoft.Extensions.Options;

namespace ShipBot.IntegrationTests.Routers;

/// <summary>Start-up validation of the router targets and the HAProxy health source: a wrong value stops start-up naming the key.</summary>
public sealed class RouterTargetsStartupValidationTests
{
    private const string Demo = "ShipBot:Services:demo";

    [Theory]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts:Namespace 'Shop_Prod' is not a Kubernetes namespace name", Demo + ":Deployment:ArgoRollouts:Namespace", "Shop_Prod", Demo + ":Deployment:ArgoRollouts:Rollout", "demo")]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts:Rollout '' is not a Kubernetes object name", Demo + ":Deployment:Target", "ArgoRollouts", Demo + ":Deployment:ArgoRollouts:Namespace", "shop")]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts: set Namespace and Rollout", Demo + ":Deployment:Target", "ArgoRollouts")]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts:Image 'ghcr.io/acme/demo:latest' has no {{version}} placeholder", Demo + ":Deployment:ArgoRollouts:Namespace", "shop", Demo + ":Deployment:ArgoRollouts:Rollout", "demo", Demo + ":Deployment:ArgoRollouts:Image", "ghcr.io/acme/demo:latest")]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts:Kubeconfig '/nonexistent/kubeconfig' does not exist", Demo + ":Deployment:ArgoRollouts:Namespace", "shop", Demo + ":Deployment:ArgoRollouts:Rollout", "demo", Demo + ":Deployment:ArgoRollouts:Kubeconfig", "/nonexistent/kubeconfig")]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts:WatchInterval must be at least 1 second", Demo + ":Deployment:ArgoRollouts:Namespace", "shop", Demo + ":Deployment:ArgoRollouts:Rollout", "demo", Demo + ":Deployment:ArgoRollouts:WatchInterval", "00:00:00.100")]
    [InlineData("ShipBot:Services:demo:Deployment:ArgoRollouts:Staging:Rollout '' is not a Kubernetes object name", Demo + ":Deployment:ArgoRollouts:Namespace", "shop", Demo + ":Deployment:ArgoRollouts:Rollout", "demo", Demo + ":Deployment:ArgoRollouts:Staging:Namespace", "staging")]
    [InlineData("ShipBot:Services:demo:Deployment:GatewayApi:CanaryBackend '' is not a Service name", Demo + ":Deployment:GatewayApi:Namespace", "shop", Demo + ":Deployment:GatewayApi:Route", "demo", Demo + ":Deployment:GatewayApi:StableBackend", "demo-stable")]
    [InlineData("ShipBot:Services:demo:Deployment:GatewayApi: StableBackend and CanaryBackend are the same Service", Demo + ":Deployment:GatewayApi:Namespace", "shop", Demo + ":Deployment:GatewayApi:Route", "demo", Demo + ":Deployment:GatewayApi:StableBackend", "demo", Demo + ":Deployment:GatewayApi:CanaryBackend", "demo")]
    [InlineData("ShipBot:Services:demo:Deployment:HAProxy:RuntimeApi 'localhost' is not a runtime API address", Demo + ":Deployment:HAProxy:Backend", "be_demo", Demo + ":Deployment:HAProxy:RuntimeApi", "localhost", Demo + ":Deployment:HAProxy:StableServers:0", "s1", Demo + ":Deployment:HAProxy:CanaryServers:0", "c1")]
    [InlineData("ShipBot:Services:demo:Deployment:HAProxy: list both StableServers and CanaryServers", Demo + ":Deployment:HAProxy:Backend", "be_demo", Demo + ":Deployment:HAProxy:RuntimeApi", "/run/haproxy/admin.sock", Demo + ":Deployment:HAProxy:StableServers:0", "s1")]
    [InlineData("ShipBot:Services:demo:Deployment:HAProxy: server 's1' is listed as both stable and canary", Demo + ":Deployment:HAProxy:Backend", "be_demo", Demo + ":Deployment:HAProxy:RuntimeApi", "tcp:127.0.0.1:9999", Demo + ":Deployment:HAProxy:StableServers:0", "s1", Demo + ":Deployment:HAProxy:CanaryServers:0", "s1")]
    [InlineData("ShipBot:Services:demo:Health:HAProxy:Url must be the absolute http(s) URL of the Prometheus", Demo + ":Health:HAProxy:Backend", "be_demo", Demo + ":Health:HAProxy:CanaryServers:0", "c1", Demo + ":Health:HAProxy:StableServers:0", "s1")]
    [InlineData("ShipBot:Services:demo:Health:HAProxy:Backend is not set (nor Deployment:HAProxy:Backend)", Demo + ":Health:HAProxy:Url", "http://prometheus:9090/")]
    public async Task BadRouterConfiguration_FailsStartupNamingTheKey(string expected, params string[] keyValues)
    {
        var overrides = new Dictionary<string, string?>();
        for (var i = 0; i < keyValues.Length; i += 2)
        {
            overrides[keyValues[i]] = keyValues[i + 1];
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ShipBotHost.StartAsync(overrides);
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HAProxyHealth_BackendAndServersFromTheDeploymentTarget_StartsUp()
    {
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?>
        {
            [Demo + ":Deployment:HAProxy:RuntimeApi"] = "/run/haproxy/admin.sock",
            [Demo + ":Deployment:HAProxy:Backend"] = "be_demo",
            [Demo + ":Deployment:HAProxy:StableServers:0"] = "s1",
            [Demo + ":Deployment:HAProxy:CanaryServers:0"] = "c1",
            [Demo + ":Health:HAProxy:Url"] = "http://prometheus:9090/",
        });

        Assert.Equal("haproxy be_demo", host.Services.GetService(typeof(ShipBot.Core.Ports.IDeploymentTarget)) is ShipBot.Core.Ports.IDeploymentTarget target ? target.NameFor("demo") : null);
    }
}
