using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ShipBot.Core.Releases;
using ShipBot.Deploy.Smoke;
using ShipBot.Testing;

namespace ShipBot.Deploy.Tests.Smoke;

/// <summary>
/// Smoke checks against a real Kestrel server on loopback. The check timeout is on a fake clock
/// only the test moves: a healthy endpoint never misses it on a busy machine.
/// </summary>
public sealed class HttpSmokeChecksTests : IAsyncLifetime
{
    private static readonly ReleaseId Demo = new("demo", "1.4.2");
    private readonly WatchedTimeProvider _time = new(new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new();
    private readonly ConcurrentQueue<string> _paths = new();
    private WebApplication _app = null!;
    private string _base = null!;

    public async Task InitializeAsync()
    {
        _app = await Loopback.StartAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                _paths.Enqueue(context.Request.Path + context.Request.QueryString);
                await next(context);
            });
            app.MapGet("/ok", () => Results.Text("ok"));
            app.MapGet("/empty", () => Results.NoContent());
            app.MapGet("/broken", () => Results.Text("database down", statusCode: 500));
            app.MapGet("/unavailable", () => Results.StatusCode(503));
            app.MapGet("/slow", async (HttpContext context) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                return Results.Text("late");
            });
            app.MapGet("/{environment}/{service}/{version}/selftest", () => Results.Text("ok"));
        });
        _base = Loopback.AddressOf(_app).AbsoluteUri.TrimEnd('/');
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

        var result = await sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("2 of 2 smoke checks passed", result.Detail);
        Assert.Equal(2, _paths.Count);
    }

    [Fact]
    public async Task RunAsync_OneAnswers500_FailsNamingTheUrlAndStatus()
    {
        var sut = CreateSut($"{_base}/ok", $"{_base}/broken");

        var result = await sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal($"1 of 2 smoke checks failed: {_base}/broken → HTTP 500", result.Detail);
    }

    [Fact]
    public async Task RunAsync_SeveralFail_ListsEachFailure()
    {
        var sut = CreateSut($"{_base}/broken", $"{_base}/unavailable", $"{_base}/ok");

        var result = await sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.StartsWith("2 of 3 smoke checks failed: ", result.Detail, StringComparison.Ordinal);
        Assert.Contains($"{_base}/broken → HTTP 500", result.Detail, StringComparison.Ordinal);
        Assert.Contains($"{_base}/unavailable → HTTP 503", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EndpointHangs_FailsAfterTheTimeout()
    {
        var sut = CreateSut(TimeSpan.FromMilliseconds(300), $"{_base}/slow");

        var run = sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);
        await Eventually.UntilAsync(() => _paths.Contains("/slow"), "the check to reach the endpoint");
        var stoppedAt = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMilliseconds(300));
        var result = await run;
        var took = _time.GetUtcNow() - stoppedAt;

        Assert.False(result.Succeeded);
        Assert.Equal($"1 of 1 smoke checks failed: {_base}/slow → no answer in 0.3 s", result.Detail);
        Assert.True(took < TimeSpan.FromSeconds(10), $"took {took}");
    }

    [Fact]
    public async Task RunAsync_NobodyListens_FailsWithTheNetworkError()
    {
        var url = $"http://127.0.0.1:{Loopback.ClosedPort()}/healthz";
        var sut = CreateSut(url);

        var result = await sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.StartsWith($"1 of 1 smoke checks failed: {url} → ", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Placeholders_AreReplacedWithEnvironmentServiceAndVersion()
    {
        var sut = CreateSut($"{_base}/{{{{environment}}}}/{{{{service}}}}/{{{{version}}}}/selftest");

        var result = await sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("/staging/demo/1.4.2/selftest", Assert.Single(_paths));
    }

    [Fact]
    public async Task RunAsync_NoUrls_PassesAndSaysSo()
    {
        var sut = CreateSut();

        var result = await sut.RunAsync(Demo, DeploymentEnvironment.Staging, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("no smoke checks configured (ShipBot:Services:<name>:SmokeChecks:Urls)", result.Detail);
        Assert.Empty(_paths);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_Throws()
    {
        var sut = CreateSut(TimeSpan.FromSeconds(30), $"{_base}/slow");
        using var cancel = new CancellationTokenSource();

        var run = sut.RunAsync(Demo, DeploymentEnvironment.Staging, cancel.Token);
        await Eventually.UntilAsync(() => _paths.Contains("/slow"), "the check to reach the endpoint");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    private HttpSmokeChecks CreateSut(params string[] urls) => CreateSut(TimeSpan.FromSeconds(5), urls);

    private HttpSmokeChecks CreateSut(TimeSpan timeout, params string[] urls) =>
        new(_http, new SmokeCheckOptions { Urls = [.. urls], Timeout = timeout }, _time);
}
