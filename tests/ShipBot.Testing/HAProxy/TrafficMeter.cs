using System.Collections.Concurrent;

namespace ShipBot.Testing.HAProxy;

/// <summary>What a sample of requests through the load balancer reached.</summary>
public sealed record TrafficSample(IReadOnlyDictionary<string, int> ByVersion, int Failed)
{
    public int Total => ByVersion.Values.Sum() + Failed;

    /// <summary>The share of answered requests that <paramref name="version"/> served, in percent.</summary>
    public double PercentOf(string version)
    {
        var answered = ByVersion.Values.Sum();
        return answered == 0 ? 0 : 100.0 * ByVersion.GetValueOrDefault(version) / answered;
    }

    public override string ToString() => $"{string.Join(", ", ByVersion.Select(v => $"{v.Key} {v.Value}"))}{(Failed > 0 ? $", failed {Failed}" : string.Empty)} of {Total}";
}

/// <summary>
/// Sends real HTTP requests through a load balancer and counts which version answered (the body
/// of a <see cref="VersionedHttpService"/>), counting 5xx answers under the version that sent them.
/// A background loop can keep traffic flowing (for the exporter's rates) while samples are taken.
/// </summary>
public sealed class TrafficMeter : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private const string Failed = "\0failed";
    private readonly ConcurrentDictionary<string, int> _all = new(StringComparer.Ordinal);
    private Task? _loop;

    public TrafficMeter(Uri target)
    {
        _target = target;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>
    /// Sends <paramref name="requests"/> requests (4 at a time) and counts every answer the load
    /// balancer gave meanwhile, background traffic included: round robin interleaves all requests,
    /// so a subset of them alone could be biased (at 50 % two interleaved streams can alias).
    /// </summary>
    public async Task<TrafficSample> MeasureAsync(int requests)
    {
        var before = Snapshot();
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            await SendAsync(i, ct).ConfigureAwait(false)).ConfigureAwait(false);
        var after = Snapshot();
        return new TrafficSample(
            after.Where(a => a.Key != Failed).ToDictionary(a => a.Key, a => a.Value - before.GetValueOrDefault(a.Key), StringComparer.Ordinal),
            after.GetValueOrDefault(Failed) - before.GetValueOrDefault(Failed));
    }

    /// <summary>
    /// The split once the load balancer has settled: samples of <paramref name="requests"/> until two
    /// in a row agree within 2 points (at most <paramref name="maxSamples"/>), and returns the last.
    /// HAProxy applies a new weight at once, but its weighted round robin catches up over roughly
    /// the next round of requests (a first sample after a change can be off by 10 points or more;
    /// the ones after it are exact), so a single sample right after a change measures the catch-up,
    /// not the split.
    /// </summary>
    public async Task<TrafficSample> MeasureSettledAsync(string version, int requests = 400, int maxSamples = 6)
    {
        var last = await MeasureAsync(requests).ConfigureAwait(false);
        for (var i = 1; i < maxSamples; i++)
        {
            var next = await MeasureAsync(requests).ConfigureAwait(false);
            if (Math.Abs(next.PercentOf(version) - last.PercentOf(version)) <= 2)
            {
                return next;
            }

            last = next;
        }

        return last;
    }

    /// <summary>Keeps about <paramref name="perSecond"/> requests a second flowing until disposed.</summary>
    public void StartBackground(int perSecond)
    {
        var pause = TimeSpan.FromSeconds(1.0 / perSecond);
        _loop = Task.Run(async () =>
        {
            var i = 0;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await SendAsync(i++, _stop.Token).ConfigureAwait(false);
                    await Task.Delay(pause, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>Sends one request and counts the version that answered (its body), or a failure without one.</summary>
    private async Task SendAsync(int i, CancellationToken ct)
    {
        string version;
        try
        {
            using var response = await _http.GetAsync(new Uri(_target, $"/checkout?i={i}"), ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            version = body.Length is > 0 and < 40 ? body : Failed;
        }
        catch (HttpRequestException)
        {
            version = Failed;
        }

        _all.AddOrUpdate(version, 1, (_, n) => n + 1);
    }

    private Dictionary<string, int> Snapshot() => new(_all, StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
