using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Http;

namespace ShipBot.Slack;

/// <summary>Slack answered <c>ok: false</c> (or something that is not a Web API answer).</summary>
public sealed class SlackApiException(string method, string error, string? detail = null)
    : InvalidOperationException($"Slack {method} failed: {error}{(detail is null ? string.Empty : $" ({detail})")}")
{
    public string Method { get; } = method;

    /// <summary>Slack's error code, such as <c>channel_not_found</c> or <c>message_not_found</c>.</summary>
    public string Error { get; } = error;
}

/// <summary>A posted message: where it is (channel id and timestamp).</summary>
public sealed record SlackMessageRef(string Channel, string Ts)
{
    public override string ToString() => $"{Channel}|{Ts}";

    public static SlackMessageRef? Parse(string? stored) =>
        stored?.Split('|') is [var channel, var ts] ? new SlackMessageRef(channel, ts) : null;
}

/// <summary>
/// The slice of Slack's Web API ShipBot uses, over a typed <see cref="HttpClient"/> with the bot
/// token (Bearer). Write methods send JSON, read methods form fields, as Slack documents.
/// The client's resilience handler (<see cref="Resilience"/>, registered by
/// <see cref="SlackServiceCollectionExtensions.AddSlackWebApi"/>) makes HTTP 429 wait
/// <c>Retry-After</c> and try again, and backs off exponentially after 5xx and network errors;
/// <c>ok: false</c> becomes a <see cref="SlackApiException"/>. Tokens are never logged.
/// </summary>
public sealed partial class SlackWebApi
{
    /// <summary>Time limit of one Web API attempt: 10 s.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly SlackOptions _options;
    private readonly ILogger<SlackWebApi> _logger;
    private readonly TimeProvider _time;

    /// <param name="http">A client whose handler chain carries <see cref="Resilience"/> (the factory's <c>SlackWebApi</c> client).</param>
    public SlackWebApi(HttpClient http, IOptions<SlackOptions> options, TimeProvider time, ILogger<SlackWebApi> logger)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options.Value;
        _logger = logger;
        _time = time;
        _http.BaseAddress ??= _options.ApiBaseUrl;
    }

    /// <summary>
    /// How calls to Slack retry: <see cref="SlackOptions.MaxRetries"/> times (0 calls once) on a
    /// transient failure, backing off from 200 ms; a 429 waits its <c>Retry-After</c> (seconds, or
    /// a date on the injected clock; 1 s when absent), but one asking for longer than
    /// <see cref="SlackOptions.MaxRetryAfter"/> is not retried: the call fails and the next update
    /// carries the state. Each attempt has <see cref="AttemptTimeout"/>.
    /// </summary>
    public static HttpResilienceSettings Resilience(SlackOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HttpResilienceSettings
        {
            MaxRetries = options.MaxRetries,
            BaseDelay = TimeSpan.FromMilliseconds(200),
            AttemptTimeout = AttemptTimeout,
            RetryableAnswer = answer => TransientHttpFailure.IsTransientAnswer(answer)
                && !(answer.StatusCode == HttpStatusCode.TooManyRequests && RetryAfter(answer, time) > options.MaxRetryAfter),
            RequestedDelay = answer =>
            {
                if (answer.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    return null;
                }

                var wait = RetryAfter(answer, time);
                LogRateLimited(logger, wait.TotalSeconds);
                return wait;
            },
        };
    }

    public Task<JsonObject> PostMessageAsync(string channel, JsonObject message, string? threadTs = null, bool broadcast = false, CancellationToken ct = default)
    {
        var body = Copy(message);
        body["channel"] = channel;
        if (threadTs is not null)
        {
            body["thread_ts"] = threadTs;
            if (broadcast)
            {
                body["reply_broadcast"] = true;
            }
        }

        return CallAsync("chat.postMessage", body, ct);
    }

    public Task<JsonObject> UpdateAsync(SlackMessageRef target, JsonObject message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var body = Copy(message);
        body["channel"] = target.Channel;
        body["ts"] = target.Ts;
        return CallAsync("chat.update", body, ct);
    }

    public Task<JsonObject> PostEphemeralAsync(string channel, string user, JsonObject message, CancellationToken ct = default)
    {
        var body = Copy(message);
        body["channel"] = channel;
        body["user"] = user;
        return CallAsync("chat.postEphemeral", body, ct);
    }

    public Task<JsonObject> OpenViewAsync(string triggerId, JsonObject view, CancellationToken ct = default) =>
        CallAsync("views.open", new JsonObject { ["trigger_id"] = triggerId, ["view"] = view }, ct);

    /// <summary>Members of a user group (scope <c>usergroups:read</c>).</summary>
    public async Task<IReadOnlyList<string>> UserGroupMembersAsync(string userGroup, CancellationToken ct = default)
    {
        var answer = await CallFormAsync("usergroups.users.list", _options.BotToken, new Dictionary<string, string> { ["usergroup"] = userGroup }, ct).ConfigureAwait(false);
        return answer["users"] is JsonArray users ? [.. users.Select(u => (string?)u).OfType<string>()] : [];
    }

    /// <summary>A Socket Mode WebSocket URL (app-level token, scope <c>connections:write</c>).</summary>
    public async Task<Uri> OpenConnectionAsync(CancellationToken ct = default)
    {
        var answer = await CallFormAsync("apps.connections.open", _options.AppToken, new Dictionary<string, string>(), ct).ConfigureAwait(false);
        return Uri.TryCreate((string?)answer["url"], UriKind.Absolute, out var url)
            ? url
            : throw new SlackApiException("apps.connections.open", "no_url");
    }

    /// <summary>Posts to an interaction's <c>response_url</c> (no token: the URL is the credential).</summary>
    public async Task PostToResponseUrlAsync(Uri responseUrl, JsonObject message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(responseUrl);
        var json = message.ToJsonString();
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, responseUrl)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        }, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new SlackApiException("response_url", ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), Shorten(text));
        }

        // response_url answers {"ok":false,"error":"…"} when used up or expired.
        if (text.StartsWith('{') && JsonNode.Parse(text) is JsonObject o && (bool?)o["ok"] == false)
        {
            throw new SlackApiException("response_url", (string?)o["error"] ?? "unknown_error");
        }
    }

    public async Task<JsonObject> CallAsync(string method, JsonObject body, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var json = body.ToJsonString();
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, method)
            {
                Content = new StringContent(json, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.BotToken);
            return request;
        }, ct).ConfigureAwait(false);
        return await ReadAsync(method, response, ct).ConfigureAwait(false);
    }

    private async Task<JsonObject> CallFormAsync(string method, string? token, Dictionary<string, string> fields, CancellationToken ct)
    {
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, method) { Content = new FormUrlEncodedContent(fields) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return request;
        }, ct).ConfigureAwait(false);
        return await ReadAsync(method, response, ct).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken ct)
    {
        using var request = create();
        return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
    }

    private async Task<JsonObject> ReadAsync(string method, HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw new SlackApiException(method, "ratelimited", $"Retry-After {RetryAfter(response, _time).TotalSeconds:0} s");
        }

        JsonObject? answer = null;
        try
        {
            answer = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            // Not JSON: reported below with the status code.
        }

        if (answer is null)
        {
            throw new SlackApiException(method, $"http_{(int)response.StatusCode}", Shorten(text));
        }

        if (!(answer["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk))
        {
            var error = answer["error"] is JsonValue e && e.TryGetValue<string>(out var code) ? code : "unknown_error";
            LogCallFailed(method, error);
            throw new SlackApiException(method, error, (answer["response_metadata"] as JsonObject)?["messages"]?.ToJsonString());
        }

        return answer;
    }

    private static TimeSpan RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        if (response.Headers.RetryAfter is { } header)
        {
            if (header.Delta is { } delta)
            {
                return delta;
            }

            if (header.Date is { } date)
            {
                return TimeSpan.FromTicks(Math.Max(0, (date - time.GetUtcNow()).Ticks));
            }
        }

        return TimeSpan.FromSeconds(1);
    }

    private static JsonObject Copy(JsonObject message) => (JsonObject)message.DeepClone();

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack rate limited a call: waiting {Seconds} s (Retry-After)")]
    private static partial void LogRateLimited(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} answered ok:false: {Error}")]
    private partial void LogCallFailed(string method, string error);
}
