using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using ShipBot.Testing;

namespace ShipBot.Teams.Tests.TestSupport;

/// <summary>One request as the loopback connector received it; <see cref="RawTarget"/> is the path exactly as sent (still percent-encoded).</summary>
internal sealed record ConnectorRequest(string Method, string RawTarget, string? Authorization, string? ContentType, string Body, DateTimeOffset At)
{
    public JsonObject Json => (JsonObject)JsonNode.Parse(Body)!;

    public IReadOnlyDictionary<string, string> Form => Body.Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2))
        .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')), StringComparer.Ordinal);
}

/// <summary>A scripted answer: status, optional Retry-After, body.</summary>
internal sealed record ScriptedAnswer(HttpStatusCode Status, string Body = "{}", TimeSpan? RetryAfter = null);

/// <summary>
/// A real Kestrel server on a free loopback port playing the Bot Connector (<c>/v3/conversations/…</c>,
/// answered from a script, then 200 with a new activity id) and the token endpoint
/// (<c>/{tenant}/oauth2/v2.0/token</c>, a new token per request). Requests are recorded with the
/// test clock's time.
/// </summary>
internal sealed class LoopbackConnector : IAsyncDisposable
{
    private readonly ConcurrentQueue<ConnectorRequest> _requests = new();
    private readonly ConcurrentQueue<ScriptedAnswer> _connectorScript = new();
    private readonly ConcurrentQueue<ScriptedAnswer> _tokenScript = new();
    private readonly TimeProvider _time;
    private WebApplication? _app;
    private int _tokens;
    private int _activities;

    private LoopbackConnector(TimeProvider time) => _time = time;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The <c>Teams:TokenEndpoint</c> template pointing here.</summary>
    public string TokenEndpointTemplate => $"{BaseUrl.AbsoluteUri.TrimEnd('/')}/{{tenant}}/oauth2/v2.0/token";

    /// <summary>The <c>expires_in</c> of issued tokens, as JSON (a number or a string). Default 3600.</summary>
    public JsonNode ExpiresIn { get; set; } = 3600;

    public IReadOnlyList<ConnectorRequest> Requests => [.. _requests];

    public IReadOnlyList<ConnectorRequest> TokenRequests => [.. _requests.Where(r => r.RawTarget.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal))];

    public IReadOnlyList<ConnectorRequest> ConnectorRequests => [.. _requests.Where(r => r.RawTarget.Contains("/v3/", StringComparison.Ordinal))];

    public static async Task<LoopbackConnector> StartAsync(TimeProvider time)
    {
        var server = new LoopbackConnector(time);
        server._app = await Loopback.StartAsync(app => app.Run(server.HandleAsync));
        server.BaseUrl = new Uri(server._app.Urls.Single());
        return server;
    }

    /// <summary>The next connector calls are answered with these, in order.</summary>
    public void Script(params ScriptedAnswer[] answers)
    {
        foreach (var a in answers)
        {
            _connectorScript.Enqueue(a);
        }
    }

    /// <summary>The next token requests are answered with these, in order.</summary>
    public void ScriptToken(params ScriptedAnswer[] answers)
    {
        foreach (var a in answers)
        {
            _tokenScript.Enqueue(a);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        _requests.Enqueue(new ConnectorRequest(
            context.Request.Method,
            raw,
            context.Request.Headers.Authorization.FirstOrDefault(),
            context.Request.ContentType,
            body,
            _time.GetUtcNow()));

        var isToken = raw.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal);
        if ((isToken ? _tokenScript : _connectorScript).TryDequeue(out var scripted))
        {
            context.Response.StatusCode = (int)scripted.Status;
            if (scripted.RetryAfter is { } wait)
            {
                context.Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(scripted.Body, context.RequestAborted);
            return;
        }

        context.Response.ContentType = "application/json";
        if (isToken)
        {
            var n = Interlocked.Increment(ref _tokens);
            await context.Response.WriteAsync(new JsonObject
            {
                ["token_type"] = "Bearer",
                ["expires_in"] = ExpiresIn.DeepClone(),
                ["ext_expires_in"] = 3600,
                ["access_token"] = $"token-{n}",
            }.ToJsonString(), context.RequestAborted);
            return;
        }

        var id = Interlocked.Increment(ref _activities);
        await context.Response.WriteAsync(new JsonObject { ["id"] = $"activity-{id}" }.ToJsonString(), context.RequestAborted);
    }
}
