using NSubstitute;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy.Tests;

public sealed class ServiceDeploymentTargetsRouterTests
{
    private static readonly ReleaseId Checkout = new("checkout", "1.4.2");
    private static readonly ReleaseId Cart = new("cart", "2.0.0");

    [Fact]
    public async Task ReadStatusAndPause_RouterService_GoToItsTargetAndOthersAreNull()
    {
        var router = Substitute.For<IDeploymentTarget, IRouterTarget>();
        var status = new TargetStatus("Argo Rollouts", "shop/checkout", [new("step", "2/6 (pause)")], DateTimeOffset.UnixEpoch);
        ((IRouterTarget)router).ReadStatusAsync(Checkout, Arg.Any<CancellationToken>()).Returns(status);
        ((IRouterTarget)router).SetPausedAsync(Checkout, true, Arg.Any<CancellationToken>()).Returns(new DeploymentResult(true, "paused", TimeSpan.Zero));
        var targets = new ServiceDeploymentTargets(new Dictionary<string, IDeploymentTarget> { ["checkout"] = router }, Substitute.For<IDeploymentTarget>());

        Assert.Same(status, await targets.ReadStatusAsync(Checkout));
        Assert.Equal("paused", (await targets.SetPausedAsync(Checkout, paused: true))!.Detail);
        Assert.Null(await targets.ReadStatusAsync(Cart));
        Assert.Null(await targets.SetPausedAsync(Cart, paused: true));
        Assert.Equal("Argo Rollouts shop/checkout: step 2/6 (pause)", status.Summary);
        Assert.Equal("2/6 (pause)", status["step"]);
    }

    [Fact]
    public void DeploymentResult_ExistingConstructor_HasNoRouterStatus()
    {
        var result = new DeploymentResult(true, "HTTP 200", TimeSpan.FromMilliseconds(5));

        Assert.Null(result.Status);
        Assert.Equal("x", (result with { Status = new TargetStatus("HAProxy", "backend be", [new("canary share", "5 %")], DateTimeOffset.UnixEpoch) }).Status!.Facts.Count switch { 1 => "x", _ => "y" });
    }
}
