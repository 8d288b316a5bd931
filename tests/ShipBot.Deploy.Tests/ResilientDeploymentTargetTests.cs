using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Polly.Timeout;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy.Tests;

/// <summary>
/// Runs the real Polly pipeline on the system clock with tiny delays, so retries and attempt
/// time-outs actually happen, in milliseconds.
/// </summary>
public sealed class ResilientDeploymentTargetTests
{
    private static readonly ReleaseId Demo = new("demo", "1.4.2");
    private static readonly DeploymentRequest Request = new(Demo, new DeploymentIntent("production", 10), "demo@1.4.2:production:10");
    private static readonly DeploymentResult Ok = new(true, "applied", TimeSpan.FromMilliseconds(3));

    private static readonly DeploymentResilienceOptions FastOptions = new()
    {
        MaxRetries = 3,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        AttemptTimeout = TimeSpan.FromMilliseconds(100),
    };

    private readonly IDeploymentTarget _inner = Substitute.For<IDeploymentTarget>();

    [Fact]
    public void Name_Always_IsTheInnerTargetsName()
    {
        _inner.Name.Returns("webhook");
        var sut = CreateSut();

        Assert.Equal("webhook", sut.Name);
    }

    [Fact]
    public async Task ApplyAsync_HttpRequestExceptionTwiceThenSuccess_RetriesAndReturnsSuccess()
    {
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>()).Returns(
            Task.FromException<DeploymentResult>(new HttpRequestException("connection reset")),
            Task.FromException<DeploymentResult>(new HttpRequestException("connection reset")),
            Task.FromResult(Ok));
        var sut = CreateSut();

        var result = await sut.ApplyAsync(Request);

        Assert.Same(Ok, result);
        await _inner.Received(3).ApplyAsync(Request, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ApplyAsync_SynchronousThrowThenSuccess_Retries()
    {
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>()).Returns(
            _ => throw new IOException("broken pipe"),
            _ => Task.FromResult(Ok));
        var sut = CreateSut();

        var result = await sut.ApplyAsync(Request);

        Assert.Same(Ok, result);
        await _inner.Received(2).ApplyAsync(Request, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ApplyAsync_FailedResult_ReturnedAsIsAfterOneCall()
    {
        var failed = new DeploymentResult(false, "target refused: image not found", TimeSpan.FromMilliseconds(7));
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>()).Returns(failed);
        var sut = CreateSut();

        var result = await sut.ApplyAsync(Request);

        Assert.Same(failed, result);
        await _inner.Received(1).ApplyAsync(Request, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ApplyAsync_FaultsOnEveryAttempt_RethrowsAfterMaxRetries()
    {
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(_ => Task.FromException<DeploymentResult>(new HttpRequestException("no route to host")));
        var sut = CreateSut();

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => sut.ApplyAsync(Request));

        Assert.Equal("no route to host", ex.Message);
        await _inner.Received(FastOptions.MaxRetries + 1).ApplyAsync(Request, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ApplyAsync_UnhandledException_RethrowsWithoutRetry()
    {
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new InvalidOperationException("misconfigured target"));
        var sut = CreateSut();

        await Assert.ThrowsAsync<InvalidOperationException>(() => sut.ApplyAsync(Request));

        await _inner.Received(1).ApplyAsync(Request, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ApplyAsync_AttemptHangsPastAttemptTimeout_CancelsItAndRetries()
    {
        var tokens = new List<CancellationToken>();
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>()).Returns(
            ci => Hang(tokens, ci.ArgAt<CancellationToken>(1)),
            ci => Answer(tokens, ci.ArgAt<CancellationToken>(1)));
        var sut = CreateSut();

        var result = await sut.ApplyAsync(Request);

        Assert.Same(Ok, result);
        Assert.Equal(2, tokens.Count);
        Assert.True(tokens[0].IsCancellationRequested, "the hung attempt's token should have been cancelled by the attempt timeout");
        await _inner.Received(2).ApplyAsync(Request, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ApplyAsync_EveryAttemptHangs_ThrowsTimeoutRejectedAfterMaxRetries()
    {
        var tokens = new List<CancellationToken>();
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(ci => Hang(tokens, ci.ArgAt<CancellationToken>(1)));
        var sut = CreateSut(FastOptions with { MaxRetries = 1 });

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => sut.ApplyAsync(Request));

        Assert.Equal(2, tokens.Count);
    }

    [Fact]
    public async Task ApplyAsync_CallerCancels_StopsWithoutRetry()
    {
        var tokens = new List<CancellationToken>();
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(ci => Hang(tokens, ci.ArgAt<CancellationToken>(1)));
        var sut = CreateSut(FastOptions with { AttemptTimeout = TimeSpan.FromSeconds(30) });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sut.ApplyAsync(Request, cts.Token));

        Assert.Single(tokens);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_IOExceptionThenSuccess_RetriesWithSameArguments()
    {
        _inner.RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(
            Task.FromException<DeploymentResult>(new IOException("connection closed")),
            Task.FromResult(Ok));
        var sut = CreateSut();

        var result = await sut.RunSmokeChecksAsync(Demo, "staging");

        Assert.Same(Ok, result);
        await _inner.Received(2).RunSmokeChecksAsync(Demo, "staging", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunSmokeChecksAsync_FailedResult_ReturnedAsIsAfterOneCall()
    {
        var failed = new DeploymentResult(false, "2 of 5 smoke checks failed", TimeSpan.FromMilliseconds(40));
        _inner.RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(failed);
        var sut = CreateSut();

        var result = await sut.RunSmokeChecksAsync(Demo, "staging");

        Assert.Same(failed, result);
        await _inner.Received(1).RunSmokeChecksAsync(Demo, "staging", Arg.Any<CancellationToken>());
    }

    [Fact]
    public void Constructor_NullInnerOrOptions_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new ResilientDeploymentTarget(null!, FastOptions, TimeProvider.System));
        Assert.Throws<ArgumentNullException>(() => new ResilientDeploymentTarget(_inner, null!, TimeProvider.System));
    }

    private static async Task<DeploymentResult> Hang(List<CancellationToken> tokens, CancellationToken cancellationToken)
    {
        lock (tokens)
        {
            tokens.Add(cancellationToken);
        }

        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        return Ok;
    }

    private static Task<DeploymentResult> Answer(List<CancellationToken> tokens, CancellationToken cancellationToken)
    {
        lock (tokens)
        {
            tokens.Add(cancellationToken);
        }

        return Task.FromResult(Ok);
    }

    private ResilientDeploymentTarget CreateSut(DeploymentResilienceOptions? options = null) =>
        new(_inner, options ?? FastOptions, TimeProvider.System);
}
