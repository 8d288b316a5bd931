using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Http;

namespace ShipBot.Teams;

/// <summary>The Bot Connector answered an error.</summary>
public sealed class BotConnectorException(string message) : InvalidOperationException(message);

/// <summary>
/// Outbound Bot Framework calls: <c>POST</c> and <c>PUT</c> to <c>{serviceUrl}/v3/conversations/…</c>
/// with a client-credentials token (<c>grant_type=client_credentials</c>, scope
/// <c>https://api.botframework.com/.default</c>) that is cached until five minutes before it
/// expires. The client's resilience handler (<see cref="Resilience"/>, registered by
/// <see cref="TeamsServiceCollectionExtensions.AddBotConnectorClient"/>) retries 429, 412, 502
/// and 504 (and network errors) with exponential backoff and jitter, honouring
/// <c>Retry-After</c>. Local emulators on a loopback address get no token when unauthenticated
/// emulators are allowed.
/// </summary>
public sealed partial class BotConnectorClient
{
    /// <summary>Time limit of one attempt: 15 s.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);

    private readonly HttpClient _http;
    private readonly TeamsOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private (string Token, DateTimeOffset Expires)? _token;

    /// <param name="http">A client whose handler chain carries <see cref="Resilience"/> (the factory's <c>BotConnectorClient</c> client).</param>
    public BotConnectorClient(HttpClient http, IOptions<TeamsOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options.Value;
        _time = time;
    }

    /// <summary>
    /// How calls to the Bot Connector and the token endpoint retry: <see cref="TeamsOptions.MaxRetries"/>
    /// times (0 calls once), backing off from 300 ms, on the statuses the Bot Framework documents as
    /// worth retrying (429, 412, 502, 504) and on network errors; a <c>Retry-After</c> of up to
    /// 60 s is waited instead of the backoff. Each attempt has <see cref="AttemptTimeout"/>.
    /// </summary>
    public static HttpResilienceSettings Resilience(TeamsOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HttpResilienceSettings
        {
            MaxRetries = options.MaxRetries,
            BaseDelay = TimeSpan.FromMilliseconds(300),
            AttemptTimeout = AttemptTimeout,
            RetryableAnswer = answer => TransientHttpFailure.HasStatus(answer, HttpStatusCode.TooManyRequests, HttpStatusCode.PreconditionFailed, HttpStatusCode.BadGateway, HttpStatusCode.GatewayTimeout),
            RequestedDelay = answer => answer.Headers.RetryAfter?.Delta is { } wait && wait <= TimeSpan.FromSeconds(60) ? wait : null,
            OnRetry = (status, attempt) => LogRetry(logger, (int?)status ?? 0, attempt),
        };
    }

    /// <summary>Posts an activity to a conversation (as a reply when <paramref name="replyToId"/> is set); returns the new activity's id.</summary>
    public async Task<string?> SendAsync(string serviceUrl, string conversationId, JsonObject activity, string? replyToId = null, CancellationToken ct = default)
    {
        var path = $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities" + (replyToId is null ? string.Empty : $"/{Uri.EscapeDataString(replyToId)}");
        var answer = await CallAsync(HttpMethod.Post, serviceUrl, path, activity, ct).ConfigureAwait(false);
        return (string?)answer?["id"];
    }

    /// <summary>Replaces an activity (a card updated in place).</summary>
    public Task UpdateAsync(string serviceUrl, string conversationId, string activityId, JsonObject activity, CancellationToken ct = default) =>
        CallAsync(HttpMethod.Put, serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities/{Uri.EscapeDataString(activityId)}", activity, ct);

    /// <summary>A conversation member's display name (for mentions), or null.</summary>
    public async Task<string?> MemberNameAsync(string serviceUrl, string conversationId, string userId, CancellationToken ct = default)
    {
        var answer = await CallAsync(HttpMethod.Get, serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/members/{Uri.EscapeDataString(userId)}", null, ct).ConfigureAwait(false);
        return (string?)answer?["name"];
    }

    /// <summary>
    /// For readiness: makes sure a connector token can be had (the cached one, else a fresh one from
    /// the token endpoint). Returns false when no token is needed (an unauthenticated loopback
    /// emulator); throws <see cref="BotConnectorException"/> or <see cref="HttpRequestException"/>
    /// when the token endpoint refuses or cannot be reached. The token itself is never returned.
    /// </summary>
    public async Task<bool> CheckTokenAsync(CancellationToken ct = default)
    {
        if (_options.AllowUnauthenticatedLoopback && string.IsNullOrEmpty(_options.AppPassword))
        {
            return false;
        }

        return await TokenAsync(new Uri("https://api.botframework.com/"), ct).ConfigureAwait(false) is not null;
    }

    private async Task<JsonObject?> CallAsync(HttpMethod method, string serviceUrl, string path, JsonObject? body, CancellationToken ct)
    {
        var root = serviceUrl.EndsWith('/') ? serviceUrl : serviceUrl + "/";
        var url = new Uri(new Uri(root), path);
        var token = await TokenAsync(url, ct).ConfigureAwait(false);
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new BotConnectorException($"{method} {path} → HTTP {(int)response.StatusCode} {(text.Length > 200 ? text[..200] : text)}");
        }

        try
        {
            return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private async Task<string?> TokenAsync(Uri target, CancellationToken ct)
    {
        if (_options.AllowUnauthenticatedLoopback && target.IsLoopback && string.IsNullOrEmpty(_options.AppPassword))
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (_token is { } cached && cached.Expires > now)
        {
            return cached.Token;
        }

        await _tokenLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_token is { } again && again.Expires > _time.GetUtcNow())
            {
                return again.Token;
            }

            var endpoint = new Uri(_options.TokenEndpoint.Replace("{tenant}", _options.Tenant, StringComparison.Ordinal));
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "client_credentials",
                    ["client_id"] = _options.AppId ?? string.Empty,
                    ["client_secret"] = _options.AppPassword ?? string.Empty,
                    ["scope"] = _options.TokenScope,
                }),
            };
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var answer = response.IsSuccessStatusCode ? JsonNode.Parse(text) as JsonObject : null;
            if ((string?)answer?["access_token"] is not { Length: > 0 } token)
            {
                // Never log the body of a token endpoint answer in full: it may echo credentials.
                throw new BotConnectorException($"token endpoint answered HTTP {(int)response.StatusCode}");
            }

            var lifetime = answer["expires_in"] is JsonValue v && v.TryGetValue<int>(out var seconds) ? TimeSpan.FromSeconds(seconds)
                : answer["expires_in"] is JsonValue s && int.TryParse(s.ToString(), out var parsed) ? TimeSpan.FromSeconds(parsed) : TimeSpan.FromMinutes(30);
            _token = (token, _time.GetUtcNow() + lifetime - TimeSpan.FromMinutes(5));
            return token;
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot Connector answered {Status}; retry {Attempt}")]
    private static partial void LogRetry(ILogger logger, int status, int attempt);
}
