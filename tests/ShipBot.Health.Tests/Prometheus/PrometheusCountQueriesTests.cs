using System.Net;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Core.Health;
using ShipBot.Health.Prometheus;
using ShipBot.Testing;

namespace ShipBot.Health.Tests.Prometheus;

public sealed class PrometheusCountQueriesTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset StageStart = Now.AddMinutes(-12).AddSeconds(-34);

    private readonly HttpClient _http = new();
    private FakePrometheusApi _api = null!;

    public async Task InitializeAsync() => _api = await FakePrometheusApi.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
    }

    private PrometheusHealthSource CreateSut(PrometheusOptions? options = null) =>
        new(_http, options ?? Options(), new FakeTimeProvider(Now));

    /// <summary>Plain templates, so the fake can answer each rendered query by name.</summary>
    private PrometheusOptions Options() => new()
    {
        Url = _api.Url,
        Queries = new(StringComparer.Ordinal) { [Metrics.ErrorRate] = string.Empty, [Metrics.LatencyP99] = string.Empty, [Metrics.Cpu] = string.Empty },
        CountQueries = new(StringComparer.Ordinal)
        {
            [CountMetrics.Errors] = new() { Events = "errors{{{selector}}}[{{range}}]", Total = "requests{{{selector}}}[{{range}}]" },
            [CountMetrics.SlowRequests] = new() { Events = string.Empty, Total = string.Empty },
        },
    };

    private static HealthQuery Query(params string[] countMetrics) =>
        new HealthQuery("checkout", "1.4.2", "Canary", 5, []) { CountsSince = StageStart, CountMetrics = countMetrics.Length > 0 ? countMetrics : [CountMetrics.Errors] };

    [Fact]
    public void RenderCount_DefaultErrorTemplates_SelectCanaryAndBaselineOverTheStage()
    {
        var sut = CreateSut(new PrometheusOptions { Url = _api.Url });
        var errors = PrometheusCountQueries.Defaults[CountMetrics.Errors];

        var canary = sut.RenderCount(errors.Events, Query(), canary: true, StageStart, Now);
        var baseline = sut.RenderCount(errors.Total, Query(), canary: false, StageStart, Now);

        Assert.Equal("sum(increase(http_requests_total{service=\"checkout\",version=\"1.4.2\",code=~\"5..\"}[754s]))", canary);
        Assert.Equal("sum(increase(http_requests_total{service=\"checkout\",version!=\"1.4.2\"}[754s]))", baseline);
    }

    [Fact]
    public void RenderCount_SlowRequests_UsesTheConfiguredBucket()
    {
        var sut = CreateSut(new PrometheusOptions { Url = _api.Url, LatencyBucket = "0.5" });

        var promql = sut.RenderCount(PrometheusCountQueries.Defaults[CountMetrics.SlowRequests].Events, Query(), canary: true, StageStart, Now);

        Assert.Contains("le=\"0.5\"", promql, StringComparison.Ordinal);
        Assert.StartsWith("sum(increase(http_request_duration_seconds_count{service=\"checkout\",version=\"1.4.2\"}[754s])) - ", promql, StringComparison.Ordinal);
    }

    [Fact]
    public void Range_UnderASecond_IsOneSecond() =>
        Assert.Equal("1s", PrometheusCountQueries.Range(Now, Now));

    [Fact]
    public void Effective_EmptyTemplate_TurnsTheDefaultOff()
    {
        var templates = PrometheusCountQueries.Effective(Options());

        Assert.Equal([CountMetrics.Errors], templates.Keys);
    }

    [Fact]
    public async Task ReadAsync_CountsAsked_ReturnsCanaryAndBaselineCounts()
    {
        _api.Answers["requests{version=\"1.4.2\"}[754s]"] = FakeAnswer.Vector(300.5, 200);
        _api.Answers["errors{version=\"1.4.2\"}[754s]"] = FakeAnswer.Vector(12);
        _api.Answers["requests{version!=\"1.4.2\"}[754s]"] = FakeAnswer.Scalar("9500");
        _api.Answers["errors{version!=\"1.4.2\"}[754s]"] = FakeAnswer.Vector(95);

        var sample = await CreateSut().ReadAsync(Query());

        Assert.Null(sample.Error);
        var counts = Assert.Single(sample.Counts);
        Assert.Equal(new MetricCounts(CountMetrics.Errors, 500.5, 12, 9500, 95, StageStart, Now, "Prometheus"), counts);
    }

    [Fact]
    public async Task ReadAsync_NoSeries_CountsZero()
    {
        // An empty vector is "nothing counted" (no canary traffic yet): zero, which the judge treats as no data.
        var sample = await CreateSut().ReadAsync(Query());

        Assert.Null(sample.Error);
        Assert.Equal(0, Assert.Single(sample.Counts).CanaryTotal);
    }

    [Fact]
    public async Task ReadAsync_OneCountQueryFails_MetricMissingWithError()
    {
        _api.Answers["errors{version!=\"1.4.2\"}[754s]"] = FakeAnswer.Error("execution", "query timed out", 422);

        var sample = await CreateSut().ReadAsync(Query());

        Assert.Empty(sample.Counts);
        Assert.Equal("Prometheus: error_rate counts: query timed out", sample.Error);
    }

    [Fact]
    public async Task ReadAsync_NaNCount_Unreadable()
    {
        _api.Answers["requests{version=\"1.4.2\"}[754s]"] = FakeAnswer.Vector("NaN");

        var sample = await CreateSut().ReadAsync(Query());

        Assert.Empty(sample.Counts);
        Assert.Contains("not a count", sample.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_NoCountsSince_NoCountQueries()
    {
        var sample = await CreateSut().ReadAsync(Query() with { CountsSince = null });

        Assert.Empty(sample.Counts);
        Assert.Empty(_api.Queries);
    }

    [Fact]
    public async Task ReadAsync_UnknownCountMetric_Ignored()
    {
        var sample = await CreateSut().ReadAsync(Query("queue_depth"));

        Assert.Empty(sample.Counts);
        Assert.Null(sample.Error);
        Assert.Empty(_api.Queries);
    }

    [Fact]
    public async Task ReadAsync_HttpError_NotAPrometheusAnswer()
    {
        _api.Answers["requests{version=\"1.4.2\"}[754s]"] = new FakeAnswer((int)HttpStatusCode.BadGateway, "<html>bad gateway</html>");

        var sample = await CreateSut().ReadAsync(Query());

        Assert.Empty(sample.Counts);
        Assert.Equal("Prometheus: error_rate counts: HTTP 502, not a Prometheus API answer", sample.Error);
    }
}
