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

namespace ShipBot.IntegrationTests.Alerting;

/// <summary>One deployment webhook a CI/CD system received from ShipBot.</summary>
public sealed record ReceivedWebhook(string? Timestamp, string? Signature, string? IdempotencyKey, byte[] Body, bool SignatureValid)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public bool Rollback => (bool?)Json["rollback"] == true;

    public string Environment => (string)Json["environment"]!;

    public int Percent => (int)Json["percent"]!;
}

/// <summary>
/// A team's CI/CD endpoint and service on loopback (real Kestrel): <c>POST /hooks/shipbot</c>
/// verifies ShipBot's signature as docs/deployment-targets.md says (v1= + hex HMAC-SHA256 of
/// <c>v1:{timestamp}:{body}</c>, 5-minute window, constant time) and answers 401 when it does not
/// match; <c>GET /smoke/ok</c> answers 200 and <c>GET /smoke/broken</c> 500 (smoke check targets).
/// </summary>
public sealed class WebhookLoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly byte[] _secret;

    private WebhookLoopbackServer(WebApplication app, string secret)
    {
        _app = app;
        _secret = Encoding.UTF8.GetBytes(secret);
    }

    public Uri BaseAddress { get; private set; } = null!;

    public Uri HookUrl => new(BaseAddress, "/hooks/shipbot");

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public ConcurrentQueue<string> SmokeRequests { get; } = new();

    /// <summary>The status answered to a correctly signed deployment call (default 200).</summary>
    public Func<ReceivedWebhook, int> StatusFor { get; set; } = _ => StatusCodes.Status200OK;

    public static async Task<WebhookLoopbackServer> StartAsync(string secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new WebhookLoopbackServer(app, secret);
        app.MapPost("/hooks/shipbot", (Func<HttpContext, Task<IResult>>)server.HookAsync);
        app.MapGet("/smoke/ok", (HttpContext c) =>
        {
            server.SmokeRequests.Enqueue(c.Request.Path);
            return Results.Text("ok");
        });
        app.MapGet("/smoke/broken", (HttpContext c) =>
        {
            server.SmokeRequests.Enqueue(c.Request.Path);
            return Results.Text("checkout self-test failed", statusCode: 500);
        });
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.Single());
        return server;
    }

    private async Task<IResult> HookAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var timestamp = context.Request.Headers["X-ShipBot-Timestamp"].ToString();
        var signature = context.Request.Headers["X-ShipBot-Signature"].ToString();
        var call = new ReceivedWebhook(timestamp, signature, context.Request.Headers["Idempotency-Key"].ToString(), body, Verify(timestamp, signature, body));
        Received.Enqueue(call);
        if (!call.SignatureValid)
        {
            return Results.Text("bad signature", statusCode: StatusCodes.Status401Unauthorized);
        }

        var status = StatusFor(call);
        return Results.Text(status < 300 ? $"traffic set to {call.Percent} %" : "refused by CI", statusCode: status);
    }

    private bool Verify(string timestamp, string signature, byte[] body)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
        {
            return false;
        }

        var signed = Encoding.UTF8.GetBytes($"v1:{timestamp}:").Concat(body).ToArray();
        var expected = Encoding.ASCII.GetBytes("v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed)));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
