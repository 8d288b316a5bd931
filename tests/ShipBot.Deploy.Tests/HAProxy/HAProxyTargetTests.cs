using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.HAProxy;
using ShipBot.Deploy.Smoke;
using ShipBot.Testing.HAProxy;

namespace ShipBot.Deploy.Tests.HAProxy;

/// <summary>
/// The HAProxy target against a real HAProxy (Debian's 2.6) in front of two small HTTP services
/// on loopback: the measured traffic split follows every stage, and the runtime API is confirmed
/// with <c>show servers state</c>.
/// </summary>
public sealed class HAProxyTargetTests : IAsyncLifetime
{
    private const string Backend = "be_checkout";
    private static readonly ReleaseId Release = new("checkout", "1.4.2");

    private VersionedHttpService _stable = null!;
    private VersionedHttpService _new = null!;
    private HAProxyServer _haproxy = null!;
    private TrafficMeter _traffic = null!;

    public async Task InitializeAsync()
    {
        _stable = await VersionedHttpService.StartAsync("stable");
        _new = await VersionedHttpService.StartAsync("new");
        _haproxy = await HAProxyServer.StartAsync(Backend, [new("stable1", _stable.Address, 100), new("new1", _new.Address, 0)]);
        await _haproxy.WaitForServersAsync(["stable1", "new1"]);
        _traffic = new TrafficMeter(_haproxy.Frontend);
    }

    public async Task DisposeAsync()
    {
        await _traffic.DisposeAsync();
        await _haproxy.DisposeAsync();
        await _new.DisposeAsync();
        await _stable.DisposeAsync();
    }

    [Fact]
    public async Task ApplyAsync_EveryStageThenRollback_MeasuredSplitFollowsWithin3Points()
    {
        var target = CreateSut();

        foreach (var percent in new[] { 5, 25, 50, 100 })
        {
            var result = await ApplyAsync(target, percent);
            Assert.True(result.Succeeded, result.Detail);

            var sample = await _traffic.MeasureSettledAsync("new");
            Assert.Equal(0, sample.Failed);
            Assert.InRange(sample.PercentOf("new"), percent - 3, percent + 3);
            Assert.Equal($"{percent:0.#} %", result.Status!["canary share"]);
        }

        var rollback = await target.ApplyAsync(new DeploymentRequest(Release, new DeploymentIntent(DeploymentEnvironment.Production, 0, IsRollback: true), "rb"));
        Assert.True(rollback.Succeeded, rollback.Detail);
        Assert.StartsWith("rolled back, traffic back on stable: stable1 weight 100 UP, new1 weight 0 UP", rollback.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _traffic.MeasureAsync(200)).PercentOf("new"));
    }

    [Fact]
    public async Task ApplyAsync_OverTcpRuntimeApi_SetsAndConfirmsTheWeights()
    {
        var target = CreateSut(o => o.RuntimeApi = _haproxy.RuntimeTcp);

        var result = await ApplyAsync(target, 25);

        Assert.True(result.Succeeded, result.Detail);
        var state = HAProxyRuntimeApi.ParseServersState(await _haproxy.CommandAsync($"show servers state {Backend}"));
        Assert.Equal(75, state.Single(s => s.Server == "stable1").Weight);
        Assert.Equal(25, state.Single(s => s.Server == "new1").Weight);
    }

    [Fact]
    public async Task ApplyAsync_NewServerFailsItsHealthCheck_WaitsThenFailsNamingIt()
    {
        _new.Healthy = false;
        await _haproxy.WaitForServersAsync(["new1"], up: false);
        var target = CreateSut(o => o.Timeout = TimeSpan.FromSeconds(2));

        var result = await ApplyAsync(target, 5);

        Assert.False(result.Succeeded);
        Assert.Contains("new1 gets traffic but is DOWN", result.Detail, StringComparison.Ordinal);
        Assert.Equal("new1 5 DOWN", result.Status!["canary servers"]);
    }

    [Fact]
    public async Task ApplyAsync_UnknownServer_FailsAtOnceWithHAProxysAnswer()
    {
        var target = CreateSut(o => o.CanaryServers = ["new9"]);

        var result = await ApplyAsync(target, 5);

        Assert.False(result.Succeeded);
        Assert.Equal("HAProxy refused the weights: No such server.", result.Detail);
    }

    [Fact]
    public async Task ApplyAsync_RepeatedCall_IsIdempotent()
    {
        var target = CreateSut();

        var first = await ApplyAsync(target, 25);
        var second = await ApplyAsync(target, 25);

        Assert.True(first.Succeeded && second.Succeeded, second.Detail);
        Assert.Equal(first.Status!["canary share"], second.Status!["canary share"]);
    }

    [Fact]
    public async Task ApplyAsync_StagingWithoutAStagingBackend_SaysSoAndChangesNothing()
    {
        var result = await CreateSut().ApplyAsync(new DeploymentRequest(Release, new DeploymentIntent(DeploymentEnvironment.Staging, 100), "staging"));

        Assert.True(result.Succeeded);
        Assert.Contains("no staging backend is configured", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _traffic.MeasureAsync(50)).PercentOf("new"));
    }

    [Theory]
    [InlineData(1, 1, 5, 95, 5)]
    [InlineData(1, 1, 100, 0, 100)]
    [InlineData(1, 1, 0, 100, 0)]
    [InlineData(3, 2, 25, 150, 75)]
    [InlineData(4, 1, 50, 50, 200)]
    public void Weights_AnyServerCounts_GiveTheCanaryExactlyItsShare(int stableServers, int canaryServers, int percent, int stableWeight, int canaryWeight)
    {
        var where = new HAProxyRouteRef
        {
            StableServers = [.. Enumerable.Range(1, stableServers).Select(i => $"s{i}")],
            CanaryServers = [.. Enumerable.Range(1, canaryServers).Select(i => $"c{i}")],
        };

        var weights = HAProxyTarget.Weights(where, percent);

        Assert.All(where.StableServers, s => Assert.Equal(stableWeight, weights[s]));
        Assert.All(where.CanaryServers, c => Assert.Equal(canaryWeight, weights[c]));
        var canaryTotal = canaryWeight * canaryServers;
        Assert.Equal(percent, 100.0 * canaryTotal / (canaryTotal + (stableWeight * stableServers)), 1);
        Assert.All(weights.Values, w => Assert.InRange(w, 0, HAProxyTarget.MaxWeight));
    }

    [Fact]
    public void ParseServersState_HAProxy26Answer_ReadsWeightsAndStates()
    {
        const string answer = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n4 be_app 1 stable 127.0.0.1 2 0 95 100 2 6 3 4 6 0 0 0 - 18081 - 0 0 - - 0\n4 be_app 2 new 127.0.0.1 0 1 5 0 1 8 2 0 6 0 0 0 - 18082 - 0 0 - - 0\n\n";

        var servers = HAProxyRuntimeApi.ParseServersState(answer);

        Assert.Equal(2, servers.Count);
        Assert.Equal(("stable", 95, true, "UP"), (servers[0].Server, servers[0].Weight, servers[0].IsUp, servers[0].Describe()));
        Assert.Equal(("new", 5, false, "MAINT"), (servers[1].Server, servers[1].Weight, servers[1].IsUp, servers[1].Describe()));
    }

    private HAProxyTarget CreateSut(Action<HAProxyTargetOptions>? configure = null)
    {
        var options = new HAProxyTargetOptions
        {
            RuntimeApi = _haproxy.RuntimeSocket,
            Backend = Backend,
            StableServers = ["stable1"],
            CanaryServers = ["new1"],
            PollInterval = TimeSpan.FromMilliseconds(20),
            Timeout = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        return new HAProxyTarget(options, new HttpSmokeChecks(new HttpClient(), new SmokeCheckOptions(), TimeProvider.System), TimeProvider.System);
    }

    private static Task<DeploymentResult> ApplyAsync(HAProxyTarget target, int percent) =>
        target.ApplyAsync(new DeploymentRequest(Release, new DeploymentIntent(DeploymentEnvironment.Production, percent), $"{Release}:{percent}"));
}
