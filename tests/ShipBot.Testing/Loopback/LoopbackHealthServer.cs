using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ShipBot.Testing;

/// <summary>
/// A real Kestrel server on loopback with free ports: plain HTTP and HTTPS with a throw-away
/// self-signed certificate. /ok answers 200, /broken 503, /empty 204, /slow waits 30 s (or until
/// the client goes away).
/// </summary>
public sealed class LoopbackHealthServer : IAsyncLifetime
{
    private WebApplication? _app;

    public Uri Http { get; private set; } = null!;

    public Uri Https { get; private set; } = null!;

    public X509Certificate2 Certificate { get; } = CreateCertificate();

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    public static int ClosedPort() => Loopback.ClosedPort();

    public async Task InitializeAsync()
    {
        var app = await Loopback.StartAsync(
            app =>
            {
                app.MapGet("/ok", () => Results.Text("ok"));
                app.MapGet("/broken", () => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
                app.MapGet("/empty", () => Results.NoContent());
                app.MapGet("/slow", async (HttpContext context) =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                    return Results.Text("late");
                });
            },
            builder => builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(Certificate))));
        _app = app;
        Http = new Uri(app.Urls.Single(u => u.StartsWith("http://", StringComparison.Ordinal)));
        Https = new Uri(app.Urls.Single(u => u.StartsWith("https://", StringComparison.Ordinal)));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Certificate.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }
}
