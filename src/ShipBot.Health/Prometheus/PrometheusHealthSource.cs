using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShipBot.Core.Health;
using ShipBot.Core.Ports;

namespace ShipBot.Health.Prometheus;

/// <summary>
/// One service's Prometheus settings (<c>ShipBot:Services:&lt;name&gt;:Health:Prometheus</c>).
/// Queries are PromQL templates per metric; placeholders: <c>{{service}}</c>, <c>{{version}}</c>,
/// <c>{{stage}}</c> (Canary, EarlyAdopters, GeneralAvailability, Full, or baseline),
/// <c>{{percent}}</c>, <c>{{window}}</c> (<see cref="Window"/>) and <c>{{selector}}</c>, which is
/// <c>version="1.4.2"</c> when the new version is measured and <c>version!="1.4.2"</c> when the
/// baseline is captured before the rollout (the version in production).
/// </summary>
public sealed class PrometheusOptions
{
    /// <summary>The Prometheus server, e.g. http://prometheus:9090.</summary>
    public Uri? Url { get; set; }

    /// <summary>Metric → PromQL template. Unset metrics use <see cref="DefaultQueries"/> (error_rate, latency_p99_ms, cpu); an empty string turns a default off.</summary>
    public Dictionary<string, string> Queries { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Stage kind → (metric → PromQL): queries that only apply from that stage on, or replace a query at that stage.</summary>
    public Dictionary<string, Dictionary<string, string>> StageQueries { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The label that carries the version in <c>{{selector}}</c>. Default "version".</summary>
    public string VersionLabel { get; set; } = "version";

    /// <summary>The range of rate() windows, <c>{{window}}</c>. Default 1m.</summary>
    public string Window { get; set; } = "1m";

    /// <summary>Time limit of one query. Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Optional bearer token for a protected Prometheus (set it through the environment).</summary>
    public string? BearerToken { get; set; }

    /// <summary>Count metric → its two templates (<see cref="CountQueryOptions"/>), read when the sequential judge asks for counts. Unset metrics use <see cref="PrometheusCountQueries.Defaults"/> (errors, slow_requests); an empty template turns a default off.</summary>
    public Dictionary<string, CountQueryOptions> CountQueries { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The histogram bucket (<c>le</c> label, seconds) that marks a slow request, <c>{{latency_le}}</c>: it must be one of the service's buckets. Default "0.3".</summary>
    public string LatencyBucket { get; set; } = "0.3";

    /// <summary>The built-in rollback triggers on conventional metric names: 5xx ratio, p99 latency in ms, CPU seconds per second.</summary>
    public static IReadOnlyDictionary<string, string> DefaultQueries { get; } = new Dictionary<string, string>
    {
        [Metrics.ErrorRate] = "(sum(rate(http_requests_total{service=\"{{service}}\",{{selector}},code=~\"5..\"}[{{window}}])) or vector(0)) / sum(rate(http_requests_total{service=\"{{service}}\",{{selector}}}[{{window}}]))",
        [Metrics.LatencyP99] = "1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service=\"{{service}}\",{{selector}}}[{{window}}])))",
        [Metrics.Cpu] = "avg(rate(process_cpu_seconds_total{service=\"{{service}}\",{{selector}}}[{{window}}]))",
    };

    /// <summary>Metrics where a lower value is worse, so a vector is judged by its lowest series. Default: user_feedback, adoption, business.</summary>
    public List<string> LowerIsWorse { get; set; } = [];

    public IReadOnlyCollection<string> EffectiveLowerIsWorse => LowerIsWorse.Count > 0 ? LowerIsWorse : [Metrics.UserFeedback, Metrics.Adoption, Metrics.Business];

    /// <summary>The templates that apply at a stage; the baseline (and any non-stage evaluation) gets every stage's queries, so relative limits of later stages have a baseline.</summary>
    public IReadOnlyDictionary<string, string> TemplatesFor(string stage)
    {
        var templates = new Dictionary<string, string>(DefaultQueries, StringComparer.Ordinal);
        foreach (var (metric, query) in Queries)
        {
            templates[metric] = query;
        }

        var isStage = Enum.TryParse<Core.Plans.StageKind>(stage, ignoreCase: true, out var kind);
        foreach (var (stageName, queries) in StageQueries
            .Select(q => (Ok: Enum.TryParse<Core.Plans.StageKind>(q.Key, true, out var k), Kind: k, q.Value))
            .Where(q => q.Ok)
            .OrderBy(q => q.Kind)
            .Select(q => (q.Kind, q.Value)))
        {
            foreach (var (metric, query) in queries)
            {
                if (isStage && stageName <= kind)
                {
                    templates[metric] = query;
                }
                else if (!isStage && !string.IsNullOrWhiteSpace(query) && !templates.ContainsKey(metric))
                {
                    // The baseline (and any evaluation outside a stage) also reads the metrics only later stages
                    // define, with the first stage's query, so their relative limits have a baseline.
                    templates[metric] = query;
                }
            }
        }

        return templates.Where(t => !string.IsNullOrWhiteSpace(t.Value)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }
}

/// <summary>
/// Reads health from Prometheus's HTTP API (<c>GET /api/v1/query</c>, instant queries), one query
/// per requested metric, in parallel. A query that fails, times out or answers an error makes the
/// sample failed (inconclusive, never healthy) while the other readings are kept, so a breach seen
/// by one query still acts. An empty result is "no reading" for that metric.
/// </summary>
public sealed class PrometheusHealthSource(HttpClient http, PrometheusOptions options, TimeProvider time) : IHealthSource, IOutcomeSource
{
    public string Name => "Prometheus";

    public async Task<HealthSample> ReadAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var templates = options.TemplatesFor(query.Stage);
        var wanted = query.Metrics.Where(templates.ContainsKey).ToList();
        var results = await Task.WhenAll(wanted.Select(m => ReadOneAsync(m, Render(templates[m], query), cancellationToken))).ConfigureAwait(false);
        var readings = results.Where(r => r.Reading is not null).Select(r => r.Reading!).ToList();
        var errors = results.Where(r => r.Error is not null).Select(r => r.Error!).ToList();
        var counts = new List<MetricCounts>();
        if (query.CountsSince is { } since && query.CountMetrics.Count > 0)
        {
            var countTemplates = PrometheusCountQueries.Effective(options);
            var read = await Task.WhenAll(query.CountMetrics.Where(countTemplates.ContainsKey)
                .Select(m => ReadCountsAsync(m, countTemplates[m], query, since, cancellationToken))).ConfigureAwait(false);
            counts.AddRange(read.Where(r => r.Counts is not null).Select(r => r.Counts!));
            errors.AddRange(read.Where(r => r.Error is not null).Select(r => r.Error!));
        }

        return new HealthSample(readings, errors.Count == 0 ? null : $"Prometheus: {string.Join("; ", errors)}", wanted) { Counts = counts };
    }

    /// <summary>The PromQL a count template becomes for the canary (<paramref name="canary"/>) or the baseline, over the stage so far.</summary>
    public string RenderCount(string template, HealthQuery query, bool canary, DateTimeOffset since, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(query);
        var selector = $"{options.VersionLabel}{(canary ? "=" : "!=")}\"{Escape(query.Version)}\"";
        return template
            .Replace("{{service}}", Escape(query.Service), StringComparison.Ordinal)
            .Replace("{{version}}", Escape(query.Version), StringComparison.Ordinal)
            .Replace("{{stage}}", Escape(query.Stage), StringComparison.Ordinal)
            .Replace("{{percent}}", query.Percent.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{window}}", options.Window, StringComparison.Ordinal)
            .Replace("{{range}}", PrometheusCountQueries.Range(since, now), StringComparison.Ordinal)
            .Replace("{{latency_le}}", Escape(options.LatencyBucket), StringComparison.Ordinal)
            .Replace("{{selector}}", selector, StringComparison.Ordinal);
    }

    private async Task<(MetricCounts? Counts, string? Error)> ReadCountsAsync(string metric, CountQueryOptions templates, HealthQuery query, DateTimeOffset since, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var parts = await Task.WhenAll(
            QueryNumberAsync(RenderCount(templates.Total, query, canary: true, since, now), ct),
            QueryNumberAsync(RenderCount(templates.Events, query, canary: true, since, now), ct),
            QueryNumberAsync(RenderCount(templates.Total, query, canary: false, since, now), ct),
            QueryNumberAsync(RenderCount(templates.Events, query, canary: false, since, now), ct)).ConfigureAwait(false);
        if (parts.FirstOrDefault(p => p.Error is not null).Error is { } error)
        {
            return (null, $"{metric} counts: {error}");
        }

        // A count that cannot be a count (NaN, infinite, negative beyond extrapolation noise) is unreadable, never zero.
        var values = parts.Select(p => p.Value).ToArray();
        if (values.Any(v => !double.IsFinite(v) || v < -0.5))
        {
            return (null, $"{metric} counts: not a count ({string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))})");
        }

        return (new MetricCounts(metric, Math.Max(0, values[0]), Math.Max(0, values[1]), Math.Max(0, values[2]), Math.Max(0, values[3]), since, now, Name), null);
    }

    /// <summary>
    /// An outcome target's value: its query as an instant query (<c>{{service}}</c> replaced), a
    /// scalar or the sum of a vector's samples, bounded by <see cref="PrometheusOptions.Timeout"/>.
    /// An empty vector is "no series", never 0: a target is not met by missing data.
    /// </summary>
    public async Task<OutcomeReading> ReadAsync(string service, Core.Outcomes.OutcomeTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(target);
        var promql = target.Query.Replace("{{service}}", Escape(service), StringComparison.Ordinal);
        var (value, error) = await QueryNumberAsync(promql, cancellationToken, emptyIsNoValue: true).ConfigureAwait(false);
        return error is null && double.IsFinite(value) ? new OutcomeReading(value) : OutcomeReading.Failed(error ?? $"the query returned {value.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>One instant query whose answer is a number: a scalar, or the sum of a vector's samples (an empty vector is 0: no series means nothing was counted; with <paramref name="emptyIsNoValue"/>, an error).</summary>
    private async Task<(double Value, string? Error)> QueryNumberAsync(string promql, CancellationToken ct, bool emptyIsNoValue = false)
    {
        using var deadline = new CancellationTokenSource(options.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            var root = options.Url!.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(root, $"api/v1/query?query={Uri.EscapeDataString(promql)}"));
            if (!string.IsNullOrEmpty(options.BearerToken))
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.BearerToken);
            }

            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            JsonObject? json;
            try
            {
                json = JsonNode.Parse(body) as JsonObject;
            }
            catch (JsonException)
            {
                return (double.NaN, $"HTTP {(int)response.StatusCode}, not a Prometheus API answer");
            }

            if (json is null || (string?)json["status"] != "success")
            {
                return (double.NaN, (string?)json?["error"] ?? $"HTTP {(int)response.StatusCode}");
            }

            var data = json["data"];
            return (string?)data?["resultType"] switch
            {
                "scalar" => (Parse(data?["result"]?[1]) ?? double.NaN, null),
                "vector" when data?["result"] is JsonArray { Count: 0 } && emptyIsNoValue => (double.NaN, "no series"),
                "vector" when data?["result"] is JsonArray series => (series.Sum(s => Parse(s?["value"]?[1]) ?? double.NaN), null),
                var type => (double.NaN, $"the query returns {type ?? "nothing"}; use an instant query that sums to a number"),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (double.NaN, $"no answer within {options.Timeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or FormatException or InvalidOperationException)
        {
            return (double.NaN, ex.Message);
        }
    }

    /// <summary>The PromQL a template becomes for a query.</summary>
    public string Render(string template, HealthQuery query)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(query);
        var baseline = string.Equals(query.Stage, "baseline", StringComparison.OrdinalIgnoreCase);
        var selector = $"{options.VersionLabel}{(baseline ? "!=" : "=")}\"{Escape(query.Version)}\"";
        return template
            .Replace("{{service}}", Escape(query.Service), StringComparison.Ordinal)
            .Replace("{{version}}", Escape(query.Version), StringComparison.Ordinal)
            .Replace("{{stage}}", Escape(query.Stage), StringComparison.Ordinal)
            .Replace("{{percent}}", query.Percent.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{window}}", options.Window, StringComparison.Ordinal)
            .Replace("{{selector}}", selector, StringComparison.Ordinal);
    }

    private async Task<(HealthReading? Reading, string? Error)> ReadOneAsync(string metric, string promql, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(options.Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            var root = options.Url!.AbsoluteUri.EndsWith('/') ? options.Url : new Uri(options.Url.AbsoluteUri + "/");
            var url = new Uri(root, $"api/v1/query?query={Uri.EscapeDataString(promql)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (!string.IsNullOrEmpty(options.BearerToken))
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.BearerToken);
            }

            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            JsonObject? json = null;
            try
            {
                json = JsonNode.Parse(body) as JsonObject;
            }
            catch (JsonException)
            {
                return (null, $"{metric}: HTTP {(int)response.StatusCode}, not a Prometheus API answer");
            }

            if (json is null || (string?)json["status"] != "success")
            {
                var error = (string?)json?["error"] ?? $"HTTP {(int)response.StatusCode}";
                return (null, $"{metric}: {error}");
            }

            if ((string?)json["data"]?["resultType"] == "matrix")
            {
                return (null, $"{metric}: the query returns a range vector; use an instant query");
            }

            var value = Value(json["data"], options.EffectiveLowerIsWorse.Contains(metric));
            return value is null ? (null, null) : (new HealthReading(metric, value.Value, Name, time.GetUtcNow()), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"{metric}: no answer within {options.Timeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or FormatException or InvalidOperationException)
        {
            return (null, $"{metric}: {ex.Message}");
        }
    }

    /// <summary>The value of an instant query: a scalar, or the worst sample of a vector (largest, or smallest for lower-is-worse metrics), NaN series aside unless all are NaN; null when empty.</summary>
    private static double? Value(JsonNode? data, bool lowerIsWorse)
    {
        var type = (string?)data?["resultType"];
        var result = data?["result"];
        if (type == "scalar")
        {
            return Parse(result?[1]);
        }

        if (type != "vector" || result is not JsonArray series)
        {
            return null;
        }

        var values = series.Select(s => Parse(s?["value"]?[1])).OfType<double>().ToList();
        if (values.Count == 0)
        {
            return null;
        }

        var readable = values.Where(v => !double.IsNaN(v)).ToList();
        if (readable.Count == 0)
        {
            return double.NaN;
        }

        return lowerIsWorse ? readable.Min() : readable.Max();
    }

    private static double? Parse(JsonNode? value) =>
        (string?)value is { } text ? text switch
        {
            "NaN" => double.NaN,
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        } : null;

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
