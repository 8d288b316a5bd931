using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ShipBot.Freezes.Tests;

/// <summary>
/// A real Kestrel server on a free loopback port over HTTPS (a throw-away self-signed certificate)
/// serving one calendar at <c>/calendars/freeze.ics?key=…</c>. The test sets what it answers:
/// the calendar with an ETag (and 304 for a matching If-None-Match), an HTTP error, or a body that
/// is not a calendar.
/// </summary>
internal sealed class CalendarServer : IAsyncDisposable
{
    private WebApplication? _app;
    private int _fullResponses;
    private int _requests;

    public X509Certificate2 Certificate { get; } = CreateCertificate();

    public Uri Url { get; private set; } = null!;

    /// <summary>The calendar served; null answers <see cref="FailWith"/>.</summary>
    public string? Body { get; set; }

    /// <summary>The status answered while <see cref="Body"/> is null. Default 503.</summary>
    public int FailWith { get; set; } = StatusCodes.Status503ServiceUnavailable;

    public int FullResponses => Volatile.Read(ref _fullResponses);

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<CalendarServer> StartAsync()
    {
        var server = new CalendarServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(server.Certificate)));
        var app = builder.Build();
        app.MapGet("/calendars/freeze.ics", (HttpContext context) =>
        {
            Interlocked.Increment(ref server._requests);
            if (context.Request.Query["key"] != "s3cret")
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            var body = server.Body;
            if (body is null)
            {
                return Results.StatusCode(server.FailWith);
            }

            var etag = $"\"{Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(body)))[..16]}\"";
            if (context.Request.Headers.IfNoneMatch.Contains(etag))
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }

            Interlocked.Increment(ref server._fullResponses);
            context.Response.Headers.ETag = etag;
            return Results.Text(body, "text/calendar; charset=utf-8");
        });
        await app.StartAsync();
        server._app = app;
        var address = new Uri(app.Urls.Single());
        server.Url = new Uri($"https://127.0.0.1:{address.Port}/calendars/freeze.ics?key=s3cret");
        return server;
    }

    /// <summary>A handler that trusts exactly this server's certificate (as a private CA would be trusted in production).</summary>
    public HttpMessageHandler Handler() => new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == Certificate.GetCertHashString() },
    };

    public async ValueTask DisposeAsync()
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
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }
}
