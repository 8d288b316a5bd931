using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ShipBot.Http;

/// <summary>How an outgoing HTTP client retries, breaks its circuit and times out. Defaults are stated per property.</summary>
public sealed record HttpResilienceSettings
{
    /// <summary>Retries after the first attempt of a call whose outcome is transient; 0 calls once. Default 3.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>First backoff delay; it doubles on each retry, with jitter. Default 500 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Time limit of one attempt (a timed-out attempt is transient); null: none. Default null.</summary>
    public TimeSpan? AttemptTimeout { get; init; }

    /// <summary>Which answers are transient; null: <see cref="TransientHttpFailure.IsTransientAnswer"/> (408, 429, 5xx). Default null.</summary>
    public Func<HttpResponseMessage, bool>? RetryableAnswer { get; init; }

    /// <summary>The wait an answer asks for before the next attempt (such as its <c>Retry-After</c>), or null for the backoff. Default: always the backoff.</summary>
    public Func<HttpResponseMessage, TimeSpan?>? RequestedDelay { get; init; }

    /// <summary>Told before each retry: the status that caused it (null for an exception) and the retry's number (1 for the first). Default: nothing.</summary>
    public Action<HttpStatusCode?, int>? OnRetry { get; init; }

    /// <summary>A circuit breaker around the attempts; null: none. Default null.</summary>
    public CircuitBreakerSettings? CircuitBreaker { get; init; }
}

/// <summary>
/// After <paramref name="FailuresBeforeBreaking"/> transient failures in a row (at least 2, within a
/// minute) the circuit opens: calls fail at once with
/// <see cref="Polly.CircuitBreaker.BrokenCircuitException"/> for <paramref name="BreakDuration"/>
/// (at least 0.5 s), then one trial call decides whether it closes again.
/// </summary>
public sealed record CircuitBreakerSettings(int FailuresBeforeBreaking, TimeSpan BreakDuration);

/// <summary>
/// Resilience for outgoing HTTP clients from <c>Microsoft.Extensions.Http.Resilience</c>: a
/// <see cref="ResilienceHandler"/> in the client's handler chain runs each call through retry (on
/// <see cref="TransientHttpFailure"/>), an optional circuit breaker and an attempt timeout, in that
/// order, on the injected <see cref="TimeProvider"/>. Each attempt re-sends the same request, so
/// the handlers below the resilience handler (and the network) see every attempt.
/// </summary>
public static class HttpResilience
{
    /// <summary>The name of the resilience handler (and the prefix of its pipeline's name) in a client's handler chain.</summary>
    public const string HandlerName = "shipbot";

    /// <summary>Adds the strategies of <paramref name="settings"/> to <paramref name="builder"/>: retry, circuit breaker, attempt timeout.</summary>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddShipBotResilience(this ResiliencePipelineBuilder<HttpResponseMessage> builder, HttpResilienceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        ValueTask<bool> Transient(Outcome<HttpResponseMessage> outcome) => ValueTask.FromResult(TransientHttpFailure.IsTransient(outcome, settings.RetryableAnswer));
        if (settings.MaxRetries > 0)
        {
            // Polly needs at least one retry; 0 means "call once", so no retry strategy at all.
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.BaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,

                // The framework reads Retry-After dates on the system clock; a client that honours Retry-After says so in RequestedDelay, on the injected clock.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => Transient(args.Outcome),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } answer ? settings.RequestedDelay?.Invoke(answer) : null),
                OnRetry = args =>
                {
                    settings.OnRetry?.Invoke(args.Outcome.Result?.StatusCode, args.AttemptNumber + 1);
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }

        if (settings.CircuitBreaker is { } breaker)
        {
            builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = Math.Max(2, breaker.FailuresBeforeBreaking),
                SamplingDuration = TimeSpan.FromMinutes(1),
                BreakDuration = breaker.BreakDuration,
                ShouldHandle = args => Transient(args.Outcome),
            });
        }

        if (settings.AttemptTimeout is { } timeout)
        {
            builder.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = timeout });
        }

        return builder;
    }

    /// <summary>The pipeline of <paramref name="settings"/> on <paramref name="time"/>.</summary>
    public static ResiliencePipeline<HttpResponseMessage> CreatePipeline(HttpResilienceSettings settings, TimeProvider time) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }.AddShipBotResilience(settings).Build();

    /// <summary>
    /// A resilience handler of its own (its own circuit), for a client built by hand, such as one
    /// per deployment webhook: <c>new HttpClient(CreateHandler(…) { InnerHandler = network })</c>.
    /// </summary>
    public static DelegatingHandler CreateHandler(HttpResilienceSettings settings, TimeProvider time) => new ResilienceHandler(CreatePipeline(settings, time));

    /// <summary>
    /// Adds the resilience handler to a client of the HTTP client factory. Its pipeline runs on the
    /// container's <see cref="TimeProvider"/> and lives as long as the container (so does a circuit).
    /// Give the client an infinite <see cref="HttpClient.Timeout"/>: the attempt timeout bounds each
    /// attempt, and a client timeout would also cut the waits between attempts.
    /// </summary>
    public static IHttpClientBuilder AddShipBotResilience(this IHttpClientBuilder builder, Func<IServiceProvider, HttpResilienceSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        builder.AddResilienceHandler(HandlerName, (pipeline, context) =>
        {
            pipeline.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
            pipeline.AddShipBotResilience(settings(context.ServiceProvider));
        });
        return builder;
    }
}
