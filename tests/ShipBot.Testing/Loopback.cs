using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace ShipBot.Testing;

/// <summary>Real Kestrel servers and ports on the loopback interface, for the emulations tests and benchmarks talk to.</summary>
public static class Loopback
{
    /// <summary>
    /// Starts a slim Kestrel application on a free loopback port, without logging, after
    /// <paramref name="map"/> has added its endpoints; <see cref="AddressOf"/> tells where it listens.
    /// </summary>
    public static async Task<WebApplication> StartAsync(Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        configure?.Invoke(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync().ConfigureAwait(false);
        return app;
    }

    /// <summary>The base address (<c>http://127.0.0.1:port/</c>) of an application started by <see cref="StartAsync"/>.</summary>
    public static Uri AddressOf(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return new Uri(app.Urls.Single().TrimEnd('/') + "/");
    }

    /// <summary>A loopback port free right now (for a server started by another process).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A loopback port nobody listens on: connecting is refused.</summary>
    public static int ClosedPort() => FreePort();
}
