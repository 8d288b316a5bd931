using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using ShipBot.Testing;

namespace ShipBot.Http.Tests;

/// <summary>
/// The resilience handler every outgoing client uses, over a scripted network, on a fake clock
/// that moves only while no attempt is in flight: retries, requested delays, the attempt timeout
/// and the circuit breaker are all on the injected clock.
/// </summary>
public sealed class HttpResilienceTests
{
    private static readonly Uri Target = new("https://api.test/call");
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));

    private HttpClient CreateSut(ScriptedHandler network, HttpResilienceSettings settings)
    {
        var handler = HttpResilience.CreateHandler(settings, _time);
        handler.InnerHandler = network;
        return new HttpClient(handler);
    }

    private Task DriveAsync(Task call, ScriptedHandler network) => _time.DriveAsync(call, () => network.Idle, Step, TimeSpan.FromMinutes(5));

    [Fact]
    public async Task SendAsync_TransientThenOk_RetriesAfterABackoffOnTheInjectedClock()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.OK));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 2, BaseDelay = TimeSpan.FromSeconds(1) });

        var call = sut.PostAsync(Target, new StringContent("payload"));
        await DriveAsync(call, network);

        Assert.Equal(HttpStatusCode.OK, (await call).StatusCode);
        var attempts = network.Attempts;
        Assert.Equal(2, attempts.Count);
        Assert.True(attempts[1].At > attempts[0].At, "the retry waits a backoff on the injected clock");
        Assert.All(attempts, a => Assert.Equal("payload", a.Body));
    }

    [Fact]
    public async Task SendAsync_MaxRetriesZero_CallsOnce()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.OK));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 0 });

        using var answer = await sut.GetAsync(Target);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Single(network.Attempts);
    }

    [Fact]
    public async Task SendAsync_TransientEveryTime_GivesUpAfterMaxRetriesWithTheLastAnswer()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.BadGateway));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 3 });

        var call = sut.GetAsync(Target);
        await DriveAsync(call, network);

        Assert.Equal(HttpStatusCode.BadGateway, (await call).StatusCode);
        Assert.Equal(4, network.Attempts.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task SendAsync_Refusal_IsNotRetried(HttpStatusCode status)
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(status), ScriptedHandler.Status(HttpStatusCode.OK));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 3 });

        using var answer = await sut.GetAsync(Target);

        Assert.Equal(status, answer.StatusCode);
        Assert.Single(network.Attempts);
    }

    [Fact]
    public async Task SendAsync_RetryableAnswerGiven_RetriesOnlyThose()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.InternalServerError), ScriptedHandler.Status(HttpStatusCode.OK));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 3, RetryableAnswer = r => r.StatusCode == HttpStatusCode.BadGateway });

        using var answer = await sut.GetAsync(Target);

        Assert.Equal(HttpStatusCode.InternalServerError, answer.StatusCode);
        Assert.Single(network.Attempts);
    }

    [Fact]
    public async Task SendAsync_AnswerRequestsADelay_WaitsExactlyThatLongOnTheInjectedClock()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(7)), ScriptedHandler.Status(HttpStatusCode.OK));
        var retries = new List<(HttpStatusCode?, int)>();
        using var sut = CreateSut(network, new HttpResilienceSettings
        {
            MaxRetries = 1,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            RequestedDelay = r => r.Headers.RetryAfter?.Delta,
            OnRetry = (status, attempt) => retries.Add((status, attempt)),
        });

        var call = sut.GetAsync(Target);
        await DriveAsync(call, network);

        var attempts = network.Attempts;
        Assert.Equal(2, attempts.Count);
        Assert.InRange(attempts[1].At - attempts[0].At, TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7) + Step + Step);
        Assert.Equal([(HttpStatusCode.TooManyRequests, 1)], retries);
    }

    [Fact]
    public async Task SendAsync_AttemptHangs_TimesOutOnTheInjectedClockAndIsRetried()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Hang, ScriptedHandler.Status(HttpStatusCode.OK));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 1, AttemptTimeout = TimeSpan.FromSeconds(5) });

        var call = sut.GetAsync(Target);
        await Eventually.UntilAsync(() => network.Attempts.Count == 1, "the first attempt");
        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.False(call.IsCompleted);
        Assert.Single(network.Attempts);
        _time.Advance(TimeSpan.FromTicks(1));
        await DriveAsync(call, network);

        Assert.Equal(HttpStatusCode.OK, (await call).StatusCode);
        Assert.Equal(2, network.Attempts.Count);
    }

    [Fact]
    public async Task SendAsync_CallerCancels_IsNotRetried()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Hang);
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 3, AttemptTimeout = TimeSpan.FromSeconds(30) });
        using var cancel = new CancellationTokenSource();

        var call = sut.GetAsync(Target, cancel.Token);
        await Eventually.UntilAsync(() => network.Attempts.Count == 1, "the first attempt");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(network.Attempts);
    }

    [Fact]
    public async Task SendAsync_RepeatedFailures_OpenTheCircuitUntilTheBreakIsOverOnTheInjectedClock()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.OK));
        using var sut = CreateSut(network, new HttpResilienceSettings { MaxRetries = 0, CircuitBreaker = new CircuitBreakerSettings(2, TimeSpan.FromSeconds(30)) });

        (await sut.GetAsync(Target)).Dispose();
        (await sut.GetAsync(Target)).Dispose();

        // Open: fails at once, on a clock that has not moved, and the network is not called.
        await Assert.ThrowsAsync<BrokenCircuitException>(() => sut.GetAsync(Target));
        Assert.Equal(2, network.Attempts.Count);
        _time.Advance(TimeSpan.FromSeconds(29));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => sut.GetAsync(Target));
        _time.Advance(TimeSpan.FromSeconds(1));
        using var recovered = await sut.GetAsync(Target);

        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(3, network.Attempts.Count);
    }

    [Fact]
    public async Task AddShipBotResilience_ClientOfTheFactory_RunsOnTheContainersClock()
    {
        var network = new ScriptedHandler(_time, ScriptedHandler.Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(20)), ScriptedHandler.Status(HttpStatusCode.OK));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddHttpClient("api", c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => network)
            .AddShipBotResilience(_ => new HttpResilienceSettings { MaxRetries = 1, RequestedDelay = r => r.Headers.RetryAfter?.Delta });
        using var provider = services.BuildServiceProvider();
        using var sut = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        var call = sut.GetAsync(Target);
        await DriveAsync(call, network);

        Assert.Equal(HttpStatusCode.OK, (await call).StatusCode);
        var attempts = network.Attempts;
        Assert.InRange(attempts[1].At - attempts[0].At, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20) + Step + Step);
    }
}
