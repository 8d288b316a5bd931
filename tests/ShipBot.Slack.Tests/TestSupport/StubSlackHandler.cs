using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ShipBot.Slack.Tests.TestSupport;

/// <summary>One request as the Web API received it: method name, headers that matter, the body, and when (on the test's clock).</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, AuthenticationHeaderValue? Authorization, MediaTypeHeaderValue? ContentType, string Body, DateTimeOffset At)
{
    /// <summary>The Web API method, such as <c>chat.postMessage</c>.</summary>
    public string ApiMethod => Uri.Segments[^1];

    public JsonObject Json => (JsonObject)JsonNode.Parse(Body)!;
}

/// <summary>
/// An <see cref="HttpMessageHandler"/> that records every request and answers with a function, so
/// the Web API client runs its real HTTP, retry and parsing code without a network.
/// </summary>
internal sealed class StubSlackHandler(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond, TimeProvider? time = null) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private int _inFlight;

    public StubSlackHandler(Func<RecordedRequest, HttpResponseMessage> respond, TimeProvider? time = null)
        : this((r, _) => Task.FromResult(respond(r)), time)
    {
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>No attempt is being answered right now (a clock driver may move time).</summary>
    public bool Idle => Volatile.Read(ref _inFlight) == 0;

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Ok(string fields = "") =>
        Json(fields.Length == 0 ? """{"ok":true}""" : $$"""{"ok":true,{{fields}}}""");

    public static HttpResponseMessage RateLimited(TimeSpan retryAfter)
    {
        var response = Json("""{"ok":false,"error":"ratelimited"}""", HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(retryAfter);
        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            return await RecordAndRespondAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<HttpResponseMessage> RecordAndRespondAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var recorded = new RecordedRequest(
            request.Method,
            request.RequestUri!,
            request.Headers.Authorization,
            request.Content?.Headers.ContentType,
            body,
            (time ?? TimeProvider.System).GetUtcNow());
        lock (_gate)
        {
            _requests.Add(recorded);
        }

        return await respond(recorded, cancellationToken).ConfigureAwait(false);
    }
}

internal static class SlackApiFactory
{
    public const string BotToken = "xoxb-test-token";

    public static SlackOptions Options(Action<SlackOptions>? configure = null)
    {
        var options = new SlackOptions
        {
            BotToken = BotToken,
            SigningSecret = "secret",
            ApiBaseUrl = new Uri("https://slack.test/api/"),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>The Web API client as the host registers it (<see cref="SlackServiceCollectionExtensions.AddSlackWebApi"/>, with its resilience handler), over <paramref name="handler"/> instead of the network.</summary>
    public static SlackWebApi Create(HttpMessageHandler handler, TimeProvider time, SlackOptions? options = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options ?? Options()));
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSlackWebApi().ConfigurePrimaryHttpMessageHandler(() => handler);
        return services.BuildServiceProvider().GetRequiredService<SlackWebApi>();
    }
}
