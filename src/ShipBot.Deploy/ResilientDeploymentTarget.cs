using Polly;
using Polly.Retry;
using Polly.Timeout;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy;

/// <summary>Retry and timeout settings for deployment target calls.</summary>
public sealed record DeploymentResilienceOptions
{
    /// <summary>Attempts after the first one for a call that throws (a fault, not a "failed" answer). Default 3.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>First backoff delay; it doubles with jitter. Default 500 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Time limit of one attempt. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Wraps any deployment target with Polly: each attempt has a time limit, and a call that faults
/// (network error, timeout) is retried with exponential backoff. A target that answers "failed"
/// is not retried: that answer is the evidence the coordinator acts on (rollback or halt). Every
/// call carries its idempotency key, so a retry after a lost answer cannot apply a change twice.
/// </summary>
public sealed class ResilientDeploymentTarget : IDeploymentTarget
{
    private readonly IDeploymentTarget _inner;
    private readonly ResiliencePipeline _pipeline;

    public ResilientDeploymentTarget(IDeploymentTarget inner, DeploymentResilienceOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        _inner = inner;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.BaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().Handle<IOException>(),
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    public string Name => _inner.Name;

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(static async (state, ct) => await state.Inner.ApplyAsync(state.Request, ct).ConfigureAwait(false), (Inner: _inner, Request: request), cancellationToken).AsTask();

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        _pipeline.ExecuteAsync(static async (state, ct) => await state.Inner.RunSmokeChecksAsync(state.Release, state.Environment, ct).ConfigureAwait(false), (Inner: _inner, Release: release, Environment: environment), cancellationToken).AsTask();
}
