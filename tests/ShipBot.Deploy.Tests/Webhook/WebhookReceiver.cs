using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.Deploy.Tests.Webhook;

/// <summary>One request the receiver got, with the verdict of its own signature check.</summary>
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
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
}

/// <summary>
/// A CI/CD system's webhook endpoint on loopback (real Kestrel): it verifies each request the way
/// docs/deployment-targets.md tells integrators to — <c>v1=</c> + hex HMAC-SHA256 of
/// <c>v1:{timestamp}:{raw body}</c> keyed with the secret, constant-time, timestamp within 5 minutes —
/// independently of ShipBot's own signing code, records it, and answers with <see cref="Respond"/>.
/// An unsigned or badly signed request is answered 401.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly byte[] _secret;
    private int _count;

    private WebhookReceiver(WebApplication app, string secret)
    {
        _app = app;
        _secret = Encoding.UTF8.GetBytes(secret);
    }

    public Uri Url { get; private set; } = null!;

    public ConcurrentQueue<WebhookCall> Calls { get; } = new();

    /// <summary>The answer to a correctly signed request (default: 200 "applied").</summary>
    public Func<WebhookCall, CancellationToken, Task<IResult>> Respond { get; set; } = (_, _) => Task.FromResult(Results.Text("applied"));

    public static async Task<WebhookReceiver> StartAsync(string secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, secret);
        app.MapPost("/hooks/shipbot", (Func<HttpContext, Task<IResult>>)receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = new Uri(new Uri(app.Urls.Single()), "/hooks/shipbot");
        return receiver;
    }

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
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return Results.Ok();
        };
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
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
            problem);
        Calls.Enqueue(call);
        if (problem is not null)
        {
            return Results.Text($"signature rejected: {problem}", statusCode: StatusCodes.Status401Unauthorized);
        }

        try
        {
            return await Respond(call, context.RequestAborted);
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

        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
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
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
