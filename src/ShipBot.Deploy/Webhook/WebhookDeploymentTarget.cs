using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Smoke;
using ShipBot.Http;

namespace ShipBot.Deploy.Webhook;

/// <summary>A service's webhook target (<c>ShipBot:Services:&lt;name&gt;:Deployment:Webhook</c>).</summary>
public sealed class WebhookTargetOptions
{
    /// <summary>Where ShipBot POSTs each stage change (your CI/CD system's endpoint).</summary>
    public Uri? Url { get; set; }

    /// <summary>The HMAC-SHA256 key of the signature header (set it through the environment).</summary>
    public string? Secret { get; set; }

    /// <summary>Time limit of one attempt. Default 30 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after a network error, a timeout, 408, 429 or 5xx. Default 3.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>After this many consecutive failures the circuit opens and calls fail fast for <see cref="BreakDuration"/>. Default 5.</summary>
    public int FailuresBeforeBreaking { get; set; } = 5;

    /// <summary>How long an open circuit fails fast. Default 30 s.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The JSON body of a deployment webhook (documented in docs/deployment-targets.md; field names are a public contract).</summary>
public sealed record WebhookPayload(
    string Release,
    string Service,
    string Version,
    string Environment,
    int Percent,
    bool Rollback,
    string IdempotencyKey,
    DateTimeOffset RequestedAt);

/// <summary>
/// Changes traffic by calling the team's CI/CD system: a POST of <see cref="WebhookPayload"/>,
/// signed like Slack signs its requests: <c>X-ShipBot-Signature: v1=</c> + hex HMAC-SHA256 of
/// <c>v1:{X-ShipBot-Timestamp}:{body}</c>, with an <c>Idempotency-Key</c> header that is the same
/// for every attempt of one stage change. 2xx means done; 4xx (except 408/429) means refused, and
/// is not retried. The target's own resilience handler (<see cref="Resilience"/>) retries network
/// errors, timeouts, 408, 429 and 5xx with backoff, and after repeated failures opens a circuit
/// that fails calls fast, so a dead endpoint does not stall every rollout. Every attempt is signed
/// afresh, so a retry never carries a stale timestamp.
/// </summary>
public sealed class WebhookDeploymentTarget : IDeploymentTarget
{
    public const string SignatureHeader = "X-ShipBot-Signature";
    public const string TimestampHeader = "X-ShipBot-Timestamp";
    public const string IdempotencyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly WebhookTargetOptions _options;
    private readonly HttpSmokeChecks _smoke;
    private readonly TimeProvider _time;

    /// <param name="network">The handler that reaches the network (the factory's <c>deployment</c> handler); this target puts its own resilience and signing in front of it, so its circuit is its own.</param>
    public WebhookDeploymentTarget(HttpMessageHandler network, WebhookTargetOptions options, HttpSmokeChecks smoke, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _smoke = smoke;
        _time = time;
        var resilience = HttpResilience.CreateHandler(Resilience(options), time);
        resilience.InnerHandler = new SigningHandler(options.Secret ?? string.Empty, time) { InnerHandler = network };

        // The network handler is shared with other targets: never disposed with this client.
        _http = new HttpClient(resilience, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string Name => "webhook";

    /// <summary>
    /// <see cref="WebhookTargetOptions.MaxRetries"/> retries (0 calls once) of a transient failure,
    /// backing off from 500 ms; a circuit that opens after <see cref="WebhookTargetOptions.FailuresBeforeBreaking"/>
    /// failures for <see cref="WebhookTargetOptions.BreakDuration"/>; <see cref="WebhookTargetOptions.Timeout"/> per attempt.
    /// </summary>
    public static HttpResilienceSettings Resilience(WebhookTargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HttpResilienceSettings
        {
            MaxRetries = options.MaxRetries,
            BaseDelay = TimeSpan.FromMilliseconds(500),
            AttemptTimeout = options.Timeout,
            CircuitBreaker = new CircuitBreakerSettings(options.FailuresBeforeBreaking, options.BreakDuration),
        };
    }

    public async Task<DeploymentResult> ApplyAsync(DeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var intent = request.Intent;
        var payload = new WebhookPayload(
            request.Release.ToString(), request.Release.Service, request.Release.Version, intent.Environment.Name(), intent.Percent, intent.IsRollback,
            request.IdempotencyKey, _time.GetUtcNow());
        var body = JsonSerializer.SerializeToUtf8Bytes(payload, Json);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
            message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            message.Headers.Add(IdempotencyHeader, request.IdempotencyKey);
            message.Options.Set(SigningHandler.Body, body);
            using var response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var answer = $"HTTP {(int)response.StatusCode}{(string.IsNullOrWhiteSpace(text) ? string.Empty : $" {Shorten(text)}")}";
            return new DeploymentResult(response.IsSuccessStatusCode, answer, _time.GetElapsedTime(started));
        }
        catch (BrokenCircuitException)
        {
            return new DeploymentResult(false, $"circuit open after repeated failures of {_options.Url?.Host}: not called", _time.GetElapsedTime(started));
        }
        catch (TimeoutRejectedException)
        {
            return new DeploymentResult(false, $"no answer within {_options.Timeout.TotalSeconds:0.#} s (after {_options.MaxRetries} retries)", _time.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            return new DeploymentResult(false, $"{ex.Message} (after {_options.MaxRetries} retries)", _time.GetElapsedTime(started));
        }
    }

    public Task<DeploymentResult> RunSmokeChecksAsync(ReleaseId release, DeploymentEnvironment environment, CancellationToken cancellationToken = default) =>
        _smoke.RunAsync(release, environment, cancellationToken);

    /// <summary><c>v1=</c> + hex HMAC-SHA256 of <c>v1:{timestamp}:{body}</c>.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var prefix = Encoding.UTF8.GetBytes($"v1:{timestamp}:");
        var data = new byte[prefix.Length + body.Length];
        prefix.CopyTo(data, 0);
        body.CopyTo(data.AsSpan(prefix.Length));
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));
    }

    private static string Shorten(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ").Trim();
        return oneLine.Length > 300 ? oneLine[..300] + "…" : oneLine;
    }

    /// <summary>Below the resilience handler: stamps and signs every attempt with the time it is sent.</summary>
    private sealed class SigningHandler(string secret, TimeProvider time) : DelegatingHandler
    {
        public static readonly HttpRequestOptionsKey<byte[]> Body = new("ShipBot.Webhook.Body");

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Options.TryGetValue(Body, out var bytes) ? bytes : [];
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            request.Headers.Remove(TimestampHeader);
            request.Headers.Remove(SignatureHeader);
            request.Headers.Add(TimestampHeader, timestamp);
            request.Headers.Add(SignatureHeader, Sign(secret, timestamp, body));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
