using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ShipBot.Testing;

/// <summary>How one instance answers its health probe.</summary>
public enum InstanceBehaviour
{
    Healthy,
    Answers500,
    Answers503,
    Slow,
}

/// <summary>
/// Service instances on loopback: one Kestrel per instance on a free port, answering every path
/// as its <see cref="InstanceBehaviour"/> says (Slow waits 30 s or until the client goes away).
/// Requests are recorded as port + path.
/// </summary>
public sealed class LoopbackInstances : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    public List<Uri> Urls { get; } = [];

    public ConcurrentQueue<(int Port, string Path)> Requests { get; } = new();

    public static async Task<LoopbackInstances> StartAsync(params InstanceBehaviour[] behaviours)
    {
        var instances = new LoopbackInstances();
        foreach (var behaviour in behaviours)
        {
            var app = await Loopback.StartAsync(a => a.Run(context => instances.AnswerAsync(context, behaviour)));
            instances._apps.Add(app);
            instances.Urls.Add(new Uri(app.Urls.Single()));
        }

        return instances;
    }

    private async Task AnswerAsync(HttpContext context, InstanceBehaviour behaviour)
    {
        Requests.Enqueue((context.Connection.LocalPort, context.Request.Path.Value ?? string.Empty));
        switch (behaviour)
        {
            case InstanceBehaviour.Healthy:
                await context.Response.WriteAsync("ok", context.RequestAborted);
                break;
            case InstanceBehaviour.Answers500:
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                break;
            case InstanceBehaviour.Answers503:
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                break;
            case InstanceBehaviour.Slow:
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // the prober gave up
                }

                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
