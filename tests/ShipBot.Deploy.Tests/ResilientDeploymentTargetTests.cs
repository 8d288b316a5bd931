using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Polly.Timeout;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Testing;

namespace ShipBot.Deploy.Tests;

/// <summary>
/// Runs the real Polly pipeline. Retries back off for a millisecond on the system clock; attempt
/// time-outs run on a fake clock that the test moves only while an attempt hangs, so an attempt
/// that answers is never timed out because the machine was slow.
/// </summary>
public sealed class ResilientDeploymentTargetTests
{
    private static readonly ReleaseId Demo = new("demo", "1.4.2");
    private static readonly DeploymentRequest Request = new(Demo, new DeploymentIntent(DeploymentEnvironment.Production, 10), "demo@1.4.2:production:10");
    private static readonly DeploymentResult Ok = new(true, "applied", TimeSpan.FromMilliseconds(3));

    private static readonly DeploymentResilienceOptions FastOptions = new()
    {
        MaxRetries = 3,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        AttemptTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>For the time-out tests, on <see cref="_time"/>.</summary>
    private static readonly DeploymentResilienceOptions ShortTimeout = FastOptions with { AttemptTimeout = TimeSpan.FromMilliseconds(100) };

    private readonly IDeploymentTarget _inner = Substitute.For<IDeploymentTarget>();
    private readonly WatchedTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));

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
        var sut = CreateSut(ShortTimeout, _time);

        // The clock moves while the first attempt hangs and during the backoff, never once the second attempt has started.
        var call = sut.ApplyAsync(Request);
        await _time.DriveAsync(call, () => Count(tokens) < 2, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
        var result = await call;

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
        var sut = CreateSut(ShortTimeout with { MaxRetries = 1 }, _time);

        // Every attempt hangs: moving the clock is what times each one out.
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => _time.DriveAsync(sut.ApplyAsync(Request), () => true, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10)));

        Assert.Equal(2, tokens.Count);
    }

    [Fact]
    public async Task ApplyAsync_CallerCancels_StopsWithoutRetry()
    {
        var tokens = new List<CancellationToken>();
        _inner.ApplyAsync(Arg.Any<DeploymentRequest>(), Arg.Any<CancellationToken>())
            .Returns(ci => Hang(tokens, ci.ArgAt<CancellationToken>(1)));
        var sut = CreateSut();
        using var cts = new CancellationTokenSource();

        var call = sut.ApplyAsync(Request, cts.Token);
        await Eventually.UntilAsync(() => Count(tokens) == 1, "the first attempt");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Single(tokens);
    }

    [Fact]
    public async Task RunSmokeChecksAsync_IOExceptionThenSuccess_RetriesWithSameArguments()
    {
        _inner.RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<DeploymentEnvironment>(), Arg.Any<CancellationToken>()).Returns(
            Task.FromException<DeploymentResult>(new IOException("connection closed")),
            Task.FromResult(Ok));
        var sut = CreateSut();

        var result = await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging);

        Assert.Same(Ok, result);
        await _inner.Received(2).RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunSmokeChecksAsync_FailedResult_ReturnedAsIsAfterOneCall()
    {
        var failed = new DeploymentResult(false, "2 of 5 smoke checks failed", TimeSpan.FromMilliseconds(40));
        _inner.RunSmokeChecksAsync(Arg.Any<ReleaseId>(), Arg.Any<DeploymentEnvironment>(), Arg.Any<CancellationToken>()).Returns(failed);
        var sut = CreateSut();

        var result = await sut.RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging);

        Assert.Same(failed, result);
        await _inner.Received(1).RunSmokeChecksAsync(Demo, DeploymentEnvironment.Staging, Arg.Any<CancellationToken>());
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

    private static int Count(List<CancellationToken> tokens)
    {
        lock (tokens)
        {
            return tokens.Count;
        }
    }

    private ResilientDeploymentTarget CreateSut(DeploymentResilienceOptions? options = null, TimeProvider? time = null) =>
        new(_inner, options ?? FastOptions, time ?? TimeProvider.System);
}
