using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ShipBot.Testing;

/// <summary>One request the receiver got, with the verdict of its own signature check and when it arrived.</summary>
public sealed record WebhookCall(
    int Number,
    string Method,
    string? ContentType,
    string? Timestamp,
    string? Signature,
    string? IdempotencyKey,
    byte[] Body,
    bool SignatureValid,
    string? SignatureProblem)
{
    /// <summary>When the request arrived, as a <see cref="Stopwatch"/> timestamp of this process.</summary>
    public long ArrivedAt { get; init; }

    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public string Release => (string)Json["release"]!;

    public bool Rollback => (bool?)Json["rollback"] == true;

    public string Environment => (string)Json["environment"]!;

    public int Percent => (int)Json["percent"]!;
}

/// <summary>
/// A team's CI/CD endpoint on loopback (real Kestrel), for the webhook deployment target's tests,
/// the end-to-end tests and the breach benchmark. <c>POST /hooks/{name}</c> verifies each request
/// the way docs/deployment-targets.md tells integrators to — <c>v1=</c> + hex HMAC-SHA256 of
/// <c>v1:{timestamp}:{raw body}</c> keyed with the secret, constant time, timestamp within 5 minutes
/// of the receiver's clock — independently of ShipBot's own signing code, records it, and answers
/// with <see cref="Respond"/>; a badly signed request is answered 401. <c>GET /smoke/ok</c> answers
/// 200 and <c>GET /smoke/broken</c> 500 (smoke check targets).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly byte[] _secret;
    private readonly TimeProvider _time;
    private WebApplication _app = null!;
    private int _count;

    private WebhookReceiver(string secret, TimeProvider time)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        _time = time;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary><c>POST /hooks/shipbot</c>.</summary>
    public Uri Url => UrlFor("shipbot");

    /// <summary>The same as <see cref="Url"/>.</summary>
    public Uri HookUrl => Url;

    public ConcurrentQueue<WebhookCall> Calls { get; } = new();

    /// <summary>The same as <see cref="Calls"/>.</summary>
    public ConcurrentQueue<WebhookCall> Received => Calls;

    /// <summary>Paths of the smoke check requests, in order.</summary>
    public ConcurrentQueue<string> SmokeRequests { get; } = new();

    /// <summary>The answer to a correctly signed request (default: 200 "traffic set to N %").</summary>
    public Func<WebhookCall, CancellationToken, Task<IResult>> Respond { get; set; } = (call, _) => Task.FromResult(Results.Text($"traffic set to {call.Percent} %"));

    /// <summary>Told of every request as it arrives, before it is answered (for timing).</summary>
    public Action<WebhookCall>? Arrived { get; set; }

    /// <summary>Answers each correctly signed call with this status ("traffic set to N %" or "refused by CI").</summary>
    public Func<WebhookCall, int> StatusFor
    {
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Respond = (call, _) =>
            {
                var status = value(call);
                return Task.FromResult(Results.Text(status < 300 ? $"traffic set to {call.Percent} %" : "refused by CI", statusCode: status));
            };
        }
    }

    /// <param name="secret">The webhook secret ShipBot signs with.</param>
    /// <param name="time">The clock the 5-minute window is checked on (the system clock unless the caller signs on a fake one).</param>
    public static async Task<WebhookReceiver> StartAsync(string secret, TimeProvider? time = null)
    {
        var receiver = new WebhookReceiver(secret, time ?? TimeProvider.System);
        receiver._app = await Loopback.StartAsync(app =>
        {
            app.MapPost("/hooks/{name}", (Func<HttpContext, Task<IResult>>)receiver.HandleAsync);
            app.MapGet("/smoke/ok", (HttpContext c) =>
            {
                receiver.SmokeRequests.Enqueue(c.Request.Path);
                return Results.Text("ok");
            });
            app.MapGet("/smoke/broken", (HttpContext c) =>
            {
                receiver.SmokeRequests.Enqueue(c.Request.Path);
                return Results.Text("checkout self-test failed", statusCode: 500);
            });
        }).ConfigureAwait(false);
        receiver.BaseAddress = Loopback.AddressOf(receiver._app);
        return receiver;
    }

    /// <summary><c>POST /hooks/{name}</c>: every name is answered alike (one per service, for instance).</summary>
    public Uri UrlFor(string name) => new(BaseAddress, $"/hooks/{Uri.EscapeDataString(name)}");

    /// <summary>Answers one status code per call in order, then the last one forever.</summary>
    public void RespondWith(params int[] statuses)
    {
        Respond = (call, _) =>
        {
            var status = statuses[Math.Min(call.Number, statuses.Length) - 1];
            return Task.FromResult(status == StatusCodes.Status204NoContent ? Results.NoContent() : Results.Text($"answer {call.Number}", statusCode: status));
        };
    }

    /// <summary>Never answers (until the caller goes away).</summary>
    public void Hang()
    {
        Respond = async (_, ct) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            return Results.Ok();
        };
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var arrived = Stopwatch.GetTimestamp();
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var body = buffer.ToArray();
        var timestamp = context.Request.Headers["X-ShipBot-Timestamp"].ToString();
        var signature = context.Request.Headers["X-ShipBot-Signature"].ToString();
        var problem = Verify(timestamp, signature, body);
        var call = new WebhookCall(
            Interlocked.Increment(ref _count),
            context.Request.Method,
            context.Request.ContentType,
            NullIfEmpty(timestamp),
            NullIfEmpty(signature),
            NullIfEmpty(context.Request.Headers["Idempotency-Key"].ToString()),
            body,
            problem is null,
            problem)
        {
            ArrivedAt = arrived,
        };
        Arrived?.Invoke(call);
        Calls.Enqueue(call);
        if (problem is not null)
        {
            return Results.Text($"signature rejected: {problem}", statusCode: StatusCodes.Status401Unauthorized);
        }

        try
        {
            return await Respond(call, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
    }

    private string? Verify(string timestamp, string signature, byte[] body)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return "no timestamp";
        }

        if (Math.Abs(_time.GetUtcNow().ToUnixTimeSeconds() - seconds) > 300)
        {
            return "timestamp outside the 5-minute window";
        }

        var signed = Encoding.UTF8.GetBytes($"v1:{timestamp}:").Concat(body).ToArray();
        var expected = Encoding.ASCII.GetBytes("v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature)) ? null : "signature mismatch";
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
