using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Health;

/// <summary>
/// A small service under test on loopback (Kestrel), exposing <c>/metrics</c> in Prometheus text
/// format for the versions it runs, and <c>/healthz</c> on each of its instance ports. A
/// background loop serves <see cref="RequestsPerTick"/> requests per version every 50 ms, of which
/// the test controls the failed (5xx) share exactly, so Prometheus's rate() ratio is exact:
/// <c>http_requests_total{service,version,code}</c>, a latency histogram
/// <c>http_request_duration_seconds</c> (every request takes the version's latency) and
/// <c>process_cpu_seconds_total</c> (20 % CPU) — what ShipBot's default queries read.
/// </summary>
public sealed class DemoMetricsService : IAsyncDisposable
{
    public const int RequestsPerTick = 200;

    private static readonly double[] Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly WebApplication _app;
    private readonly Dictionary<string, VersionTraffic> _versions = new(StringComparer.Ordinal);
    private readonly HashSet<int> _sickPorts = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _gate = new();

    private DemoMetricsService(WebApplication app, IReadOnlyList<Uri> instances, bool emitIdleErrorSeries)
    {
        _app = app;
        Instances = instances;
        EmitIdleErrorSeries = emitIdleErrorSeries;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The base URL of each instance (one port each); the first one serves /metrics to Prometheus.</summary>
    public IReadOnlyList<Uri> Instances { get; }

    /// <summary>host:port of the first instance, for Prometheus's scrape config.</summary>
    public string Target => Instances[0].Authority;

    /// <summary>
    /// Whether the <c>code="500"</c> series is exposed (at 0) before the first failed request.
    /// Many client libraries only create a labelled series at its first observation.
    /// </summary>
    public bool EmitIdleErrorSeries { get; }

    public static async Task<DemoMetricsService> StartAsync(int instances = 1, bool emitIdleErrorSeries = true)
    {
        DemoMetricsService? service = null;
        var app = await Loopback.StartAsync(
            app =>
            {
                app.MapGet("/metrics", () => Results.Text(service!.Render(), "text/plain; version=0.0.4; charset=utf-8"));
                app.MapGet("/healthz", (HttpContext context) => service!.IsSick(context.Connection.LocalPort)
                    ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
                    : Results.Text("ok"));
            },
            builder => builder.WebHost.ConfigureKestrel(k =>
            {
                // One listener per instance (the first comes with every loopback server).
                for (var i = 1; i < instances; i++)
                {
                    k.Listen(IPAddress.Loopback, 0);
                }
            }));
        service = new DemoMetricsService(app, [.. app.Urls.Select(u => new Uri(u))], emitIdleErrorSeries);
        return service;
    }

    /// <summary>Serves <paramref name="version"/> from now on with this share of failed requests (0–1, in steps of 1/<see cref="RequestsPerTick"/>).</summary>
    public void Serve(string version, double errorRatio, double latencySeconds = 0.03)
    {
        lock (_gate)
        {
            if (!_versions.TryGetValue(version, out var traffic))
            {
                traffic = new VersionTraffic();
                _versions[version] = traffic;
            }

            traffic.ErrorsPerTick = (int)Math.Round(errorRatio * RequestsPerTick);
            traffic.LatencySeconds = latencySeconds;
        }
    }

    /// <summary>Makes the instance at <paramref name="instance"/> answer 503 on /healthz.</summary>
    public void MakeSick(Uri instance)
    {
        lock (_gate)
        {
            _sickPorts.Add(instance.Port);
        }
    }

    private bool IsSick(int port)
    {
        lock (_gate)
        {
            return _sickPorts.Contains(port);
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                lock (_gate)
                {
                    foreach (var traffic in _versions.Values)
                    {
                        traffic.Ok += RequestsPerTick - traffic.ErrorsPerTick;
                        traffic.Failed += traffic.ErrorsPerTick;
                        traffic.LatencySum += RequestsPerTick * traffic.LatencySeconds;
                        for (var b = 0; b < Buckets.Length; b++)
                        {
                            if (traffic.LatencySeconds <= Buckets[b])
                            {
                                traffic.BucketCounts[b] += RequestsPerTick;
                            }
                        }

                        traffic.CpuSeconds += 0.01;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // disposed
        }
    }

    private string Render()
    {
        var text = new StringBuilder();
        lock (_gate)
        {
            text.AppendLine("# TYPE http_requests_total counter");
            foreach (var (version, t) in _versions)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"http_requests_total{{service=\"demo\",version=\"{version}\",code=\"200\"}} {t.Ok}");
                if (t.Failed > 0 || EmitIdleErrorSeries)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"http_requests_total{{service=\"demo\",version=\"{version}\",code=\"500\"}} {t.Failed}");
                }
            }

            text.AppendLine("# TYPE http_request_duration_seconds histogram");
            foreach (var (version, t) in _versions)
            {
                var labels = $"service=\"demo\",version=\"{version}\"";
                for (var b = 0; b < Buckets.Length; b++)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"http_request_duration_seconds_bucket{{{labels},le=\"{Buckets[b]}\"}} {t.BucketCounts[b]}");
                }

                text.AppendLine(CultureInfo.InvariantCulture, $"http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {t.Ok + t.Failed}");
                text.AppendLine(CultureInfo.InvariantCulture, $"http_request_duration_seconds_sum{{{labels}}} {t.LatencySum}");
                text.AppendLine(CultureInfo.InvariantCulture, $"http_request_duration_seconds_count{{{labels}}} {t.Ok + t.Failed}");
            }

            text.AppendLine("# TYPE process_cpu_seconds_total counter");
            foreach (var (version, t) in _versions)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"process_cpu_seconds_total{{service=\"demo\",version=\"{version}\"}} {t.CpuSeconds}");
            }
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class VersionTraffic
    {
        public int ErrorsPerTick { get; set; }

        public double LatencySeconds { get; set; }

        public long Ok { get; set; }

        public long Failed { get; set; }

        public double LatencySum { get; set; }

        public long[] BucketCounts { get; } = new long[Buckets.Length];

        public double CpuSeconds { get; set; }
    }
}
