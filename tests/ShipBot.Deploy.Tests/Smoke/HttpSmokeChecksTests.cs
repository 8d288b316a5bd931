using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Smoke;

namespace ShipBot.Deploy.Tests.Smoke;

/// <summary>Smoke checks against a real Kestrel server on loopback.</summary>
public sealed class HttpSmokeChecksTests : IAsyncLifetime
{
    private static readonly ReleaseId Demo = new("demo", "1.4.2");
    private readonly HttpClient _http = new();
    private readonly ConcurrentQueue<string> _paths = new();
    private WebApplication _app = null!;
    private string _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            _paths.Enqueue(context.Request.Path + context.Request.QueryString);
            await next(context);
        });
        _app.MapGet("/ok", () => Results.Text("ok"));
        _app.MapGet("/empty", () => Results.NoContent());
        _app.MapGet("/broken", () => Results.Text("database down", statusCode: 500));
        _app.MapGet("/unavailable", () => Results.StatusCode(503));
        _app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            return Results.Text("late");
        });
        _app.MapGet("/{environment}/{service}/{version}/selftest", () => Results.Text("ok"));
        await _app.StartAsync();
        _base = _app.Urls.Single().TrimEnd('/');
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task RunAsync_Every2xx_Passes()
    {
        var sut = CreateSut($"{_base}/ok", $"{_base}/empty");

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("2 of 2 smoke checks passed", result.Detail);
        Assert.Equal(2, _paths.Count);
    }

    [Fact]
    public async Task RunAsync_OneAnswers500_FailsNamingTheUrlAndStatus()
    {
        var sut = CreateSut($"{_base}/ok", $"{_base}/broken");

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal($"1 of 2 smoke checks failed: {_base}/broken → HTTP 500", result.Detail);
    }

    [Fact]
    public async Task RunAsync_SeveralFail_ListsEachFailure()
    {
        var sut = CreateSut($"{_base}/broken", $"{_base}/unavailable", $"{_base}/ok");

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.StartsWith("2 of 3 smoke checks failed: ", result.Detail, StringComparison.Ordinal);
        Assert.Contains($"{_base}/broken → HTTP 500", result.Detail, StringComparison.Ordinal);
        Assert.Contains($"{_base}/unavailable → HTTP 503", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EndpointHangs_FailsAfterTheTimeout()
    {
        var sut = CreateSut(TimeSpan.FromMilliseconds(300), $"{_base}/slow");
        var watch = Stopwatch.StartNew();

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal($"1 of 1 smoke checks failed: {_base}/slow → no answer in 0.3 s", result.Detail);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task RunAsync_NobodyListens_FailsWithTheNetworkError()
    {
        var url = $"http://127.0.0.1:{ClosedPort()}/healthz";
        var sut = CreateSut(url);

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.StartsWith($"1 of 1 smoke checks failed: {url} → ", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Placeholders_AreReplacedWithEnvironmentServiceAndVersion()
    {
        var sut = CreateSut($"{_base}/{{{{environment}}}}/{{{{service}}}}/{{{{version}}}}/selftest");

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("/staging/demo/1.4.2/selftest", Assert.Single(_paths));
    }

    [Fact]
    public async Task RunAsync_NoUrls_PassesAndSaysSo()
    {
        var sut = CreateSut();

        var result = await sut.RunAsync(Demo, "staging", CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("no smoke checks configured (ShipBot:Services:<name>:SmokeChecks:Urls)", result.Detail);
        Assert.Empty(_paths);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_Throws()
    {
        var sut = CreateSut(TimeSpan.FromSeconds(30), $"{_base}/slow");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sut.RunAsync(Demo, "staging", cancel.Token));
    }

    private HttpSmokeChecks CreateSut(params string[] urls) => CreateSut(TimeSpan.FromSeconds(5), urls);

    private HttpSmokeChecks CreateSut(TimeSpan timeout, params string[] urls) =>
        new(_http, new SmokeCheckOptions { Urls = [.. urls], Timeout = timeout }, TimeProvider.System);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
