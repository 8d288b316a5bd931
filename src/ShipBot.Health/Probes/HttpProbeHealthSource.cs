using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Health.Probes;

/// <summary>HTTP probes across a service's instances (<c>ShipBot:Services:&lt;name&gt;:Health:Probes</c>).</summary>
public sealed class ProbeOptions
{
    /// <summary>Base URLs of the instances running the new version, e.g. http://10.0.0.7:8080.</summary>
    public List<Uri> Instances { get; set; } = [];

    /// <summary>The health path on each instance. Default /healthz.</summary>
    public string Path { get; set; } = "/healthz";

    /// <summary>Time limit of one probe. Default 2 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Probes every configured instance in parallel; an instance fails when it does not answer 2xx in
/// time. The reading is the failed fraction (<c>probe_failure_ratio</c>), judged against the
/// service's <c>MaxProbeFailureRatio</c> (Y); the source names the failed instances and why.
/// </summary>
public sealed class HttpProbeHealthSource(HttpClient http, ProbeOptions options, TimeProvider time) : IHealthSource
{
    public string Name => "HTTP probes";

    public async Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!query.Metrics.Contains(Metrics.ProbeFailures) || options.Instances.Count == 0)
        {
            return new HealthSample([], null, []);
        }

        var results = await Task.WhenAll(options.Instances.Select(i => ProbeAsync(i, cancellationToken))).ConfigureAwait(false);
        var failed = results.Where(r => r.Failure is not null).ToList();
        var detail = failed.Count == 0
            ? $"{Name}: {results.Length} of {results.Length} healthy"
            : $"{Name}: {failed.Count} of {results.Length} failed ({string.Join("; ", failed.Take(5).Select(f => $"{f.Instance.Authority} {f.Failure}"))})";
        return new HealthSample([new HealthReading(Metrics.ProbeFailures, (double)failed.Count / results.Length, detail, time.GetUtcNow())], null, [Metrics.ProbeFailures]);
    }

    private async Task<(Uri Instance, string? Failure)> ProbeAsync(Uri instance, CancellationToken ct)
    {
        // The probe's deadline is on the injected clock, so a test decides when an instance is too slow.
        using var deadline = new CancellationTokenSource(options.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            // Appended to the instance URL, so an instance behind a path prefix (http://host/app/) keeps it.
            var url = new Uri(instance.AbsoluteUri.TrimEnd('/') + "/" + options.Path.TrimStart('/'));
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? (instance, null) : (instance, $"HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (instance, $"no answer in {options.Timeout.TotalMilliseconds:0} ms");
        }
        catch (HttpRequestException ex)
        {
            return (instance, ex.HttpRequestError == HttpRequestError.Unknown ? ex.Message : ex.HttpRequestError.ToString());
        }
    }
}
