using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ShipBot.Charts.Images;
using ShipBot.Core.Ports;

namespace ShipBot.Charts.Tests.Images;

/// <summary>The image endpoint on a real Kestrel over loopback.</summary>
public sealed class ChartImageEndpointsTests : IAsyncLifetime
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 9, 8, 7];

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    private ChartImageStore Store => _app.Services.GetRequiredService<ChartImageStore>();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddSingleton<IChatStateStore>(new InMemoryChatState(_time));
        builder.Services.AddChartImages();
        _app = builder.Build();
        _app.MapChartImages();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.Single()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Get_PublishedImage_PngCacheableUntilItExpires()
    {
        var link = await Store.PublishAsync(Png, ttl: TimeSpan.FromHours(1));

        using var response = await _http.GetAsync(link.Path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Png, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("public, max-age=3600, immutable", response.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Head_PublishedImage_HeadersWithoutBody()
    {
        var link = await Store.PublishAsync(Png);

        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, link.Path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Png.Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_AfterExpiry_NotFoundAndNotCached()
    {
        var link = await Store.PublishAsync(Png, ttl: TimeSpan.FromMinutes(5));
        _time.Advance(TimeSpan.FromMinutes(6));

        using var response = await _http.GetAsync(link.Path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("/charts/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.png")]
    [InlineData("/charts/short.png")]
    [InlineData("/charts/%2E%2E%2Fsecrets.png")]
    public async Task Get_UnknownOrMalformedToken_NotFound(string path)
    {
        using var response = await _http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Post_Image_NotAllowed()
    {
        var link = await Store.PublishAsync(Png);

        using var response = await _http.PostAsync(link.Path, new ByteArrayContent([1]));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
