using System.Collections.Concurrent;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Deploy.Simulated;

/// <summary>
/// A deployment target for demos and tests: it keeps each service's traffic split in memory,
/// takes a configurable time per call, and can be told to fail deployments or smoke checks
/// (<c>/ship simulate demo deploy_fail 1</c>, <c>smoke_fail 1</c>). A repeated idempotency key
/// returns the first result without applying twice. It remembers the last
/// <see cref="Remembered"/> keys and calls only, so a long-running demo does not grow without limit.
/// </summary>
public sealed class SimulatedDeploymentTarget(TimeProvider time, TimeSpan latency) : IDeploymentTarget
{
    /// <summary>How many idempotency keys and calls are kept: 1,000 (retries of one call come within seconds).</summary>
    public const int Remembered = 1_000;

    private readonly ConcurrentQueue<string> _keys = new();

    private readonly ConcurrentDictionary<string, int> _traffic = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<DeploymentResult>>> _applied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failDeploy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failSmoke = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DeploymentRequest> _calls = new();

    public string Name => "simulated";

    /// <summary>Every call received, in order (for tests and the demo's audit).</summary>
    public IReadOnlyCollection<DeploymentRequest> Calls => _calls;

    public int TrafficOf(string service) => _traffic.GetValueOrDefault(service);

    public void FailDeployments(string service, bool fail) => _failDeploy[service] = fail;

    public void FailSmokeChecks(string service, bool fail) => _failSmoke[service] = fail;

    public void Reset(string service)
    {
        _failDeploy.TryRemove(service, out _);
        _failSmoke.TryRemove(service, out _);
    }

    public Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        // One execution per key, even for calls that overlap: later callers await the first one's result.
        var added = false;
        var first = _applied.GetOrAdd(request.IdempotencyKey, _ =>
        {
            added = true;
            return new Lazy<Task<DeploymentResult>>(() => ApplyOnceAsync(request, cancellationToken));
        });
        if (added)
        {
            _keys.Enqueue(request.IdempotencyKey);
            while (_keys.Count > Remembered && _keys.TryDequeue(out var oldest))
            {
                _applied.TryRemove(oldest, out _);
            }
        }

        return first.Value;
    }

    private async Task<DeploymentResult> ApplyOnceAsync(DeploymentRequest request, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, time, cancellationToken).ConfigureAwait(false);
        }

        _calls.Enqueue(request);
        while (_calls.Count > Remembered && _calls.TryDequeue(out _))
        {
        }
        var service = request.Release.Service;
        DeploymentResult result;
        if (_failDeploy.GetValueOrDefault(service) && !request.Intent.IsRollback)
        {
            result = new DeploymentResult(false, "simulated deployment failure", time.GetElapsedTime(started));
        }
        else
        {
            var key = request.Intent.Environment == DeploymentEnvironment.Staging ? $"{service}/staging" : service;
            _traffic[key] = request.Intent.IsRollback ? 0 : request.Intent.Percent;
            var what = request.Intent.IsRollback ? "traffic back on the previous version" : $"{request.Release.Version} at {request.Intent.Percent} % in {request.Intent.Environment.Name()}";
            result = new DeploymentResult(true, what, time.GetElapsedTime(started));
        }

        return result;
    }

    public async Task<DeploymentResult> RunSmokeChecksAsync(Core.Releases.ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, time, cancellationToken).ConfigureAwait(false);
        }

        return _failSmoke.GetValueOrDefault(release.Service)
            ? new DeploymentResult(false, "3 of 5 simulated smoke checks failed (checkout, login, search)", time.GetElapsedTime(started))
            : new DeploymentResult(true, "5 of 5 simulated smoke checks passed", time.GetElapsedTime(started));
    }
}
