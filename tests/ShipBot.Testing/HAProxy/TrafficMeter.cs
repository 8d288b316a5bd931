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
    private readonly ConcurrentDictionary<string, int> _background = new(StringComparer.Ordinal);
    private Task? _loop;

    public TrafficMeter(Uri target)
    {
        _target = target;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Requests served by the background loop so far, by version.</summary>
    public IReadOnlyDictionary<string, int> Background => _background;

    /// <summary>Sends <paramref name="requests"/> requests (4 at a time) and counts the answers.</summary>
    public async Task<TrafficSample> MeasureAsync(int requests)
    {
        var counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var failed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            var version = await SendAsync(i, ct).ConfigureAwait(false);
            if (version is null)
            {
                Interlocked.Increment(ref failed);
            }
            else
            {
                counts.AddOrUpdate(version, 1, (_, n) => n + 1);
            }
        }).ConfigureAwait(false);
        return new TrafficSample(new Dictionary<string, int>(counts), failed);
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
                    var version = await SendAsync(i++, _stop.Token).ConfigureAwait(false);
                    if (version is not null)
                    {
                        _background.AddOrUpdate(version, 1, (_, n) => n + 1);
                    }

                    await Task.Delay(pause, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>The version that answered (its body), or null when the request failed without one.</summary>
    private async Task<string?> SendAsync(int i, CancellationToken ct)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(_target, $"/checkout?i={i}"), ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return body.Length is > 0 and < 40 ? body : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

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
