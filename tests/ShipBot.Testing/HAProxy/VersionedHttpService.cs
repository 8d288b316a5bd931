using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.Testing.HAProxy;

/// <summary>
/// A small HTTP service of one version on a free loopback port (Kestrel): every request is
/// answered with the version's name as the body, with <see cref="StatusCode"/> (200 unless the test
/// makes it fail), and <c>/healthz</c> answers 200 (the load balancer's health check) unless
/// <see cref="Healthy"/> is false.
/// </summary>
public sealed class VersionedHttpService : IAsyncDisposable
{
    private readonly WebApplication _app;

    private VersionedHttpService(WebApplication app, string version, Uri address)
    {
        _app = app;
        Version = version;
        Address = address;
    }

    public string Version { get; }

    public Uri Address { get; }

    /// <summary>The status of every answer but the health check. Default 200.</summary>
    public int StatusCode { get; set; } = 200;

    /// <summary>Whether <c>/healthz</c> answers 200. Default true.</summary>
    public bool Healthy { get; set; } = true;

    public static async Task<VersionedHttpService> StartAsync(string version)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        VersionedHttpService? service = null;
        app.Run(async context =>
        {
            if (context.Request.Path == "/healthz")
            {
                context.Response.StatusCode = service!.Healthy ? 200 : 503;
                await context.Response.WriteAsync("ok").ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = service!.StatusCode;
            await context.Response.WriteAsync(service.Version).ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        service = new VersionedHttpService(app, version, new Uri(app.Urls.First()));
        return service;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
