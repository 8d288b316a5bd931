using NSubstitute;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy.Tests;

public sealed class ServiceDeploymentTargetsTests
{
    private static readonly DeploymentResult Ok = new(true, "ok", TimeSpan.Zero);
    private readonly IDeploymentTarget _webhook = Target("webhook");
    private readonly IDeploymentTarget _fallback = Target("simulated");

    [Fact]
    public async Task ApplyAsync_ServiceWithItsOwnTarget_GoesToThatTarget()
    {
        var sut = CreateSut();
        var request = new DeploymentRequest(new ReleaseId("checkout", "1.0.0"), new DeploymentIntent(DeploymentEnvironment.Production, 5), "k");

        await sut.ApplyAsync(request);

        await _webhook.Received(1).ApplyAsync(request, Arg.Any<CancellationToken>());
        await _fallback.DidNotReceiveWithAnyArgs().ApplyAsync(default!, default);
    }

    [Fact]
    public async Task ApplyAsync_ServiceWithoutATarget_GoesToTheFallback()
    {
        var sut = CreateSut();
        var request = new DeploymentRequest(new ReleaseId("demo", "1.0.0"), new DeploymentIntent(DeploymentEnvironment.Production, 5), "k");

        await sut.ApplyAsync(request);

        await _fallback.Received(1).ApplyAsync(request, Arg.Any<CancellationToken>());
        await _webhook.DidNotReceiveWithAnyArgs().ApplyAsync(default!, default);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_RoutesByService()
    {
        var sut = CreateSut();

        await sut.RunSmokeChecksAsync(new ReleaseId("checkout", "1.0.0"), DeploymentEnvironment.Staging);
        await sut.RunSmokeChecksAsync(new ReleaseId("demo", "1.0.0"), DeploymentEnvironment.Staging);

        await _webhook.Received(1).RunSmokeChecksAsync(new ReleaseId("checkout", "1.0.0"), DeploymentEnvironment.Staging, Arg.Any<CancellationToken>());
        await _fallback.Received(1).RunSmokeChecksAsync(new ReleaseId("demo", "1.0.0"), DeploymentEnvironment.Staging, Arg.Any<CancellationToken>());
    }

    [Fact]
    public void NameFor_NamesEachServicesTarget()
    {
        var sut = CreateSut();

        Assert.Equal("webhook", sut.NameFor("checkout"));
        Assert.Equal("simulated", sut.NameFor("demo"));
        Assert.Equal("simulated", sut.Name);
    }

    private ServiceDeploymentTargets CreateSut() =>
        new(new Dictionary<string, IDeploymentTarget>(StringComparer.OrdinalIgnoreCase) { ["checkout"] = _webhook }, _fallback);

    private static IDeploymentTarget Target(string name)
    {
        var target = Substitute.For<IDeploymentTarget>();
        target.Name.Returns(name);
        target.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>()).Returns(Ok);
        target.RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<DeploymentEnvironment>(), Arg.Any<CancellationToken>()).Returns(Ok);
        return target;
    }
}
