using ShipBot.Core.Health;
using ShipBot.Core.Plans;
using ShipBot.Health.Prometheus;
using ShipBot.Testing;

namespace ShipBot.Health.Tests.Prometheus;

public sealed class PrometheusHealthSourceTests : IAsyncLifetime
{
    private const string ErrorQuery = "error_q";
    private const string LatencyQuery = "latency_q";
    private const string CpuQuery = "cpu_q";

    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly WatchedTimeProvider _time = new(Now);
    private readonly HttpClient _http = new();
    private FakePrometheusApi _api = null!;

    public async Task InitializeAsync() => _api = await FakePrometheusApi.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
    }

    /// <summary>A source whose three built-in metrics use the fake's plain queries (unless <paramref name="options"/> says otherwise).</summary>
    private PrometheusHealthSource CreateSut(PrometheusOptions? options = null) =>
        new(_http, options ?? Options(), _time);

    private PrometheusOptions Options() => new()
    {
        Url = _api.Url,
        Queries = new(StringComparer.Ordinal)
        {
            [Metrics.ErrorRate] = ErrorQuery,
            [Metrics.LatencyP99] = LatencyQuery,
            [Metrics.Cpu] = CpuQuery,
        },
    };

    private static HealthQuery Query(string stage = "Canary", string version = "1.4.2", params string[] metrics) =>
        new("checkout", version, stage, stage == "baseline" ? 0 : 5, metrics.Length > 0 ? metrics : [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu]);

    // ------------------------------------------------------------ templates

    [Fact]
    public void Render_NewVersion_SelectorMatchesTheVersion()
    {
        var sut = CreateSut();

        var promql = sut.Render("rate(x{service=\"{{service}}\",{{selector}}}[1m])", Query());

        Assert.Equal("rate(x{service=\"checkout\",version=\"1.4.2\"}[1m])", promql);
    }

    [Fact]
    public void Render_BaselineStage_SelectorExcludesTheVersion()
    {
        var sut = CreateSut();

        var promql = sut.Render("x{{{selector}}}", Query("baseline"));

        Assert.Equal("x{version!=\"1.4.2\"}", promql);
    }

    [Fact]
    public void Render_EveryPlaceholder_IsFilled()
    {
        var options = Options();
        options.Window = "2m";
        var sut = CreateSut(options);

        var promql = sut.Render("{{service}}|{{version}}|{{stage}}|{{percent}}|{{window}}", new HealthQuery("checkout", "1.4.2", "EarlyAdopters", 25, []));

        Assert.Equal("checkout|1.4.2|EarlyAdopters|25|2m", promql);
    }

    [Fact]
    public void Render_CustomVersionLabel_IsUsedInTheSelector()
    {
        var options = Options();
        options.VersionLabel = "app_version";
        var sut = CreateSut(options);

        Assert.Equal("app_version=\"1.4.2\"", sut.Render("{{selector}}", Query()));
        Assert.Equal("app_version!=\"1.4.2\"", sut.Render("{{selector}}", Query("baseline")));
    }

    [Fact]
    public void Render_QuoteOrBackslashInVersion_IsEscapedForPromQL()
    {
        var sut = CreateSut();

        var promql = sut.Render("{{selector}} {{version}}", Query(version: "1\"2\\3"));

        Assert.Equal("version=\"1\\\"2\\\\3\" 1\\\"2\\\\3", promql);
    }

    // ------------------------------------------------------------ requests

    [Fact]
    public async Task ReadAsync_SeedMetrics_SendsOneInstantQueryEachToTheQueryApi()
    {
        var sut = CreateSut();

        await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu, Metrics.ProbeFailures]));

        // probe_failure_ratio has no PromQL: it is not asked for.
        Assert.Equal(new[] { CpuQuery, ErrorQuery, LatencyQuery }, _api.Queries.Order(StringComparer.Ordinal));
        Assert.All(_api.Requests, r => Assert.Equal("/api/v1/query", r.Path));
    }

    [Fact]
    public async Task ReadAsync_DefaultQueries_AreRenderedForTheServiceVersionAndWindow()
    {
        var sut = CreateSut(new PrometheusOptions { Url = _api.Url, Window = "5m" });

        await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        var promql = Assert.Single(_api.Queries);
        Assert.Equal(
            "(sum(rate(http_requests_total{service=\"checkout\",version=\"1.4.2\",code=~\"5..\"}[5m])) or vector(0)) / sum(rate(http_requests_total{service=\"checkout\",version=\"1.4.2\"}[5m]))",
            promql);
    }

    [Fact]
    public async Task ReadAsync_Baseline_EveryQueryExcludesTheNewVersion()
    {
        var sut = CreateSut(new PrometheusOptions { Url = _api.Url });

        await sut.ReadAsync(Query("baseline"));

        Assert.Equal(3, _api.Queries.Count);
        Assert.All(_api.Queries, q =>
        {
            Assert.Contains("version!=\"1.4.2\"", q, StringComparison.Ordinal);
            Assert.DoesNotContain("version=\"1.4.2\"", q, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ReadAsync_StageQuery_IsAskedFromItsStageOnOnly()
    {
        var options = Options();
        options.StageQueries["EarlyAdopters"] = new() { [Metrics.UserFeedback] = "feedback_q{{{selector}}}" };
        var sut = CreateSut(options);

        await sut.ReadAsync(Query("Canary", metrics: [Metrics.UserFeedback]));
        Assert.Empty(_api.Queries);

        await sut.ReadAsync(Query("GeneralAvailability", metrics: [Metrics.UserFeedback]));
        Assert.Equal(new[] { "feedback_q{version=\"1.4.2\"}" }, _api.Queries);
    }

    [Fact]
    public async Task ReadAsync_BearerToken_IsSentAsAuthorization()
    {
        var options = Options();
        options.BearerToken = "s3cret-token";
        var sut = CreateSut(options);

        await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Equal("Bearer s3cret-token", Assert.Single(_api.Requests).Authorization);
    }

    [Fact]
    public async Task ReadAsync_NoBearerToken_SendsNoAuthorization()
    {
        var sut = CreateSut();

        await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Null(Assert.Single(_api.Requests).Authorization);
    }

    [Theory]
    [InlineData("prom")]
    [InlineData("prom/")]
    public async Task ReadAsync_UrlWithPathPrefix_KeepsThePrefix(string prefix)
    {
        var options = Options();
        options.Url = new Uri(_api.Url, prefix);
        var sut = CreateSut(options);

        await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Equal("/prom/api/v1/query", Assert.Single(_api.Requests).Path);
    }

    // ------------------------------------------------------------ results

    [Fact]
    public async Task ReadAsync_Vector_TakesTheWorstSeries()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector(0.01, 0.07, 0.03);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Null(sample.Error);
        var reading = Assert.Single(sample.Readings);
        Assert.Equal(Metrics.ErrorRate, reading.Metric);
        Assert.Equal(0.07, reading.Value);
        Assert.Equal("Prometheus", reading.Source);
        Assert.Equal(Now, reading.At);
    }

    [Fact]
    public async Task ReadAsync_Scalar_IsTheReading()
    {
        _api.Answers[LatencyQuery] = FakeAnswer.Scalar("412.5");
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.LatencyP99]));

        Assert.Null(sample.Error);
        Assert.Equal(412.5, Assert.Single(sample.Readings).Value);
    }

    [Fact]
    public async Task ReadAsync_EmptyResult_NoReadingAndNoError()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector(Array.Empty<string>());
        _api.Answers[LatencyQuery] = FakeAnswer.Vector(120.0);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate, Metrics.LatencyP99]));

        Assert.Null(sample.Error);
        Assert.Equal(new[] { Metrics.LatencyP99 }, sample.Readings.Select(r => r.Metric));
    }

    [Fact]
    public async Task ReadAsync_EmptyResultForACoreMetric_PolicyIsUnknownNotHealthy()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector(Array.Empty<string>());
        _api.Answers[LatencyQuery] = FakeAnswer.Vector(120.0);
        _api.Answers[CpuQuery] = FakeAnswer.Vector(0.2);
        var sut = CreateSut();
        var metrics = HealthPolicy.MetricsFor(StageKind.Canary);

        var verdict = HealthPolicy.Evaluate(await sut.ReadAsync(Query(metrics: [.. metrics])), metrics, new Dictionary<string, double>(), new HealthThresholds(), Now);

        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Equal(CheckStatus.Unknown, verdict.Checks.Single(c => c.Metric == Metrics.ErrorRate).Status);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("+Inf")]
    [InlineData("-Inf")]
    public async Task ReadAsync_NonFiniteValue_IsReadAndJudgedUnknown(string value)
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Scalar(value);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Null(sample.Error);
        Assert.False(double.IsFinite(Assert.Single(sample.Readings).Value));
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ErrorRate], new Dictionary<string, double>(), new HealthThresholds(), Now);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
        Assert.Equal(CheckStatus.Unknown, Assert.Single(verdict.Checks).Status);
    }

    [Fact]
    public async Task ReadAsync_NaNInAVector_IsSetAsideForTheReadableSeries()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector("0.001", "NaN");
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Equal(0.001, Assert.Single(sample.Readings).Value, 9);
    }

    [Fact]
    public async Task ReadAsync_OnlyNaNInAVector_MakesTheReadingNaN()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector("NaN", "NaN");
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.True(double.IsNaN(Assert.Single(sample.Readings).Value));
    }

    [Fact]
    public async Task ReadAsync_VectorWithANaNSeriesAndABreachingSeries_StillBreaches()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector("0.5", "NaN");
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ErrorRate], new Dictionary<string, double> { [Metrics.ErrorRate] = 0.001 }, new HealthThresholds(), Now);

        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.True(verdict.RequiresRollback);
    }

    [Fact]
    public async Task ReadAsync_VectorOfAMetricWithAMinimum_IsJudgedByItsLowestSeries()
    {
        var options = Options();
        options.Queries[Metrics.UserFeedback] = "feedback_q";
        _api.Answers["feedback_q"] = FakeAnswer.Vector(4.6, 1.2);
        var sut = CreateSut(options);

        var sample = await sut.ReadAsync(Query("EarlyAdopters", metrics: [Metrics.UserFeedback]));
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.UserFeedback], new Dictionary<string, double>(), new HealthThresholds(), Now);

        Assert.Equal(CheckStatus.Breach, Assert.Single(verdict.Checks).Status);
    }

    [Fact]
    public async Task ReadAsync_BaselineOfAMetricDefinedInStageQueries_IsRead()
    {
        var options = Options();
        options.StageQueries["GeneralAvailability"] = new() { [Metrics.Business] = "orders_q{{{selector}}}" };
        _api.Answers["orders_q{version!=\"1.4.2\"}"] = FakeAnswer.Vector(120.0);
        var sut = CreateSut(options);

        var sample = await sut.ReadAsync(Query("baseline", metrics: [.. HealthPolicy.BaselineMetrics]));

        Assert.Contains(sample.Readings, r => r.Metric == Metrics.Business && r.Value == 120.0);
    }

    // ------------------------------------------------------------ failures: never healthy

    [Fact]
    public async Task ReadAsync_StatusError_SampleFailedWithPrometheusMessageAndOtherReadingsKept()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Error("bad_data", "1:7: parse error: unexpected \"}\"");
        _api.Answers[LatencyQuery] = FakeAnswer.Vector(120.0);
        _api.Answers[CpuQuery] = FakeAnswer.Vector(0.3);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query());

        Assert.Equal("Prometheus: error_rate: 1:7: parse error: unexpected \"}\"", sample.Error);
        Assert.Equal(new[] { Metrics.Cpu, Metrics.LatencyP99 }, sample.Readings.Select(r => r.Metric).Order(StringComparer.Ordinal));
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu], new Dictionary<string, double>(), new HealthThresholds(), Now);
        Assert.Equal(HealthStatus.Unknown, verdict.Status);
    }

    [Fact]
    public async Task ReadAsync_OneQueryFailsAndAnotherBreaches_TheBreachStillActs()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Error("execution", "query timed out in expression evaluation", 503);
        _api.Answers[LatencyQuery] = FakeAnswer.Vector(900.0);
        _api.Answers[CpuQuery] = FakeAnswer.Vector(0.3);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query());
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu], new Dictionary<string, double>(), new HealthThresholds(), Now);

        Assert.Contains("query timed out", sample.Error, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Breached, verdict.Status);
        Assert.True(verdict.RequiresRollback);
        Assert.Equal("p99 latency 900 ms breaches limit 2 × target 300 ms", Assert.Single(verdict.Breaches).DescribeBreach());
    }

    [Fact]
    public async Task ReadAsync_TwoQueriesFail_BothAreInTheError()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Error("bad_data", "first");
        _api.Answers[CpuQuery] = FakeAnswer.Error("bad_data", "second");
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query());

        Assert.StartsWith("Prometheus: ", sample.Error, StringComparison.Ordinal);
        Assert.Contains("error_rate: first", sample.Error, StringComparison.Ordinal);
        Assert.Contains("cpu: second", sample.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, "Internal Server Error")]
    [InlineData(500, "")]
    [InlineData(502, "<html><body>Bad Gateway</body></html>")]
    [InlineData(200, "not json")]
    [InlineData(200, "[]")]
    [InlineData(200, "null")]
    public async Task ReadAsync_AnswerThatIsNotAPrometheusSuccess_Error(int status, string body)
    {
        _api.Answers[ErrorQuery] = new FakeAnswer(status, body);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Empty(sample.Readings);
        Assert.NotNull(sample.Error);
        Assert.StartsWith("Prometheus: error_rate: ", sample.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_Http500WithoutBody_NeverHealthy()
    {
        _api.Answers[ErrorQuery] = new FakeAnswer(500, string.Empty);
        _api.Answers[LatencyQuery] = FakeAnswer.Vector(120.0);
        _api.Answers[CpuQuery] = FakeAnswer.Vector(0.3);
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query());
        var verdict = HealthPolicy.Evaluate(sample, [Metrics.ErrorRate, Metrics.LatencyP99, Metrics.Cpu], new Dictionary<string, double>(), new HealthThresholds(), Now);

        Assert.Equal(HealthStatus.Unknown, verdict.Status);
    }

    [Fact]
    public async Task ReadAsync_MalformedValue_Error()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Scalar("zero point one");
        var sut = CreateSut();

        var sample = await sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]));

        Assert.Empty(sample.Readings);
        Assert.StartsWith("Prometheus: error_rate: ", sample.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_SlowerThanTheTimeout_ErrorSaysSoWithoutWaitingForTheAnswer()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector(0.01) with { Delay = TimeSpan.FromSeconds(20) };
        _api.Answers[LatencyQuery] = FakeAnswer.Vector(120.0);
        var options = Options();
        options.Timeout = TimeSpan.FromMilliseconds(300);
        var sut = CreateSut(options);

        // The latency query has its answer (its deadline is gone), however long that took; the error-rate query's deadline is the one timer left.
        var read = sut.ReadAsync(Query(metrics: [Metrics.ErrorRate, Metrics.LatencyP99]));
        await Eventually.UntilAsync(() => _time.ActiveTimers == 1 && _api.Queries.Count == 2, "the fast query to finish");
        var stoppedAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMilliseconds(300));
        var sample = await read;
        var took = _time.GetUtcNow() - stoppedAt;

        Assert.True(took < TimeSpan.FromSeconds(5), $"took {took}");
        Assert.Equal("Prometheus: error_rate: no answer within 0.3 s", sample.Error);
        Assert.Equal(new[] { Metrics.LatencyP99 }, sample.Readings.Select(r => r.Metric));
    }

    [Fact]
    public async Task ReadAsync_ConnectionRefused_Error()
    {
        var options = Options();
        options.Url = new Uri($"http://127.0.0.1:{Loopback.ClosedPort()}/");
        var sut = CreateSut(options);

        var sample = await sut.ReadAsync(Query());

        Assert.Empty(sample.Readings);
        Assert.NotNull(sample.Error);
        Assert.StartsWith("Prometheus: ", sample.Error, StringComparison.Ordinal);
        Assert.Contains("error_rate: ", sample.Error, StringComparison.Ordinal);
        Assert.Contains("latency_p99_ms: ", sample.Error, StringComparison.Ordinal);
        Assert.Contains("cpu: ", sample.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_CallerCancels_Throws()
    {
        _api.Answers[ErrorQuery] = FakeAnswer.Vector(0.01) with { Delay = TimeSpan.FromSeconds(20) };
        var sut = CreateSut();
        using var cts = new CancellationTokenSource();

        var read = sut.ReadAsync(Query(metrics: [Metrics.ErrorRate]), cts.Token);
        await Eventually.UntilAsync(() => _api.Queries.Count == 1, "the query to reach Prometheus");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }
}
