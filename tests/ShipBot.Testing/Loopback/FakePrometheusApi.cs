using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ShipBot.Testing;

/// <summary>What the fake answers to one query: an HTTP status, a body, and how long it waits first.</summary>
public sealed record FakeAnswer(int Status, string Body, TimeSpan Delay = default)
{
    /// <summary>An instant vector: one series per value (strings as Prometheus sends them: "0.5", "NaN", "+Inf").</summary>
    public static FakeAnswer Vector(params string[] values) => Success("vector", JsonSerializer.Serialize(values.Select((v, i) => new
    {
        metric = new Dictionary<string, string> { ["instance"] = $"10.0.0.{i + 1}:8080" },
        value = new object[] { 1_700_000_000.123, v },
    })));

    public static FakeAnswer Vector(params double[] values) => Vector([.. values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))]);

    public static FakeAnswer Scalar(string value) => Success("scalar", JsonSerializer.Serialize(new object[] { 1_700_000_000.123, value }));

    /// <summary>Prometheus's error envelope (HTTP 400 for bad_data, 422 execution, 503 unavailable…).</summary>
    public static FakeAnswer Error(string errorType, string error, int status = 400) =>
        new(status, JsonSerializer.Serialize(new { status = "error", errorType, error }));

    private static FakeAnswer Success(string resultType, string result) =>
        new(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"" + resultType + "\",\"result\":" + result + "}}");
}

/// <summary>One request the fake received.</summary>
public sealed record FakeRequest(string Path, string Query, string? Authorization);

/// <summary>
/// A stand-in for Prometheus's HTTP API on a loopback Kestrel: every GET (any path, so path
/// prefixes can be checked) is recorded and answered by <see cref="Answer"/> from the decoded
/// <c>query</c> parameter. Unknown queries get an empty vector.
/// </summary>
public sealed class FakePrometheusApi : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakePrometheusApi(WebApplication app)
    {
        _app = app;
        Url = new Uri(app.Urls.Single());
    }

    public Uri Url { get; }

    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    /// <summary>Answers by query (exact PromQL). Set before reading.</summary>
    public ConcurrentDictionary<string, FakeAnswer> Answers { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Queries => [.. Requests.Select(r => r.Query)];

    public static async Task<FakePrometheusApi> StartAsync()
    {
        FakePrometheusApi? api = null;
        var app = await Loopback.StartAsync(web => web.Run(async context =>
        {
            var query = context.Request.Query["query"].ToString();
            api!.Requests.Enqueue(new FakeRequest(context.Request.Path.Value ?? string.Empty, query, context.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null));
            var answer = api.Answers.TryGetValue(query, out var found) ? found : FakeAnswer.Vector(Array.Empty<string>());
            if (answer.Delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(answer.Delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        }));
        api = new FakePrometheusApi(app);
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
