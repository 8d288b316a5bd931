using ShipBot.Core.Checklists;
using ShipBot.Core.Ports;
using ShipBot.Core.Settings;
using ShipBot.Health.Readiness;
using ShipBot.Testing;

namespace ShipBot.Health.Tests.Readiness;

public sealed class HttpReadinessVerifierTests(LoopbackHealthServer server) : IClassFixture<LoopbackHealthServer>
{
    [Fact]
    public async Task VerifyAsync_HealthUrlAnswers200_VerifiesHealth()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);
        var url = new Uri(server.Http, "/ok");

        var results = await sut.VerifyAsync(Policy(url.ToString()));

        var item = Assert.Single(results);
        Assert.Equal(ChecklistCatalog.HealthCheck, item.ItemId);
        Assert.True(item.Passed);
        Assert.Contains("answered 200", item.Evidence, StringComparison.Ordinal);
        Assert.Contains(url.ToString(), item.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_HealthUrlAnswers503_FailsHealthWithStatus()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(new Uri(server.Http, "/broken").ToString()));

        var item = Assert.Single(results);
        Assert.Equal(ChecklistCatalog.HealthCheck, item.ItemId);
        Assert.False(item.Passed);
        Assert.Contains("answered 503", item.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_HealthUrlAnswers204_FailsBecauseOnly200Counts()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(new Uri(server.Http, "/empty").ToString()));

        var item = Assert.Single(results);
        Assert.False(item.Passed);
        Assert.Contains("answered 204", item.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_ClosedPort_FailsHealthWithDidNotAnswer()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy($"http://127.0.0.1:{LoopbackHealthServer.ClosedPort()}/healthz"));

        var item = Assert.Single(results);
        Assert.Equal(ChecklistCatalog.HealthCheck, item.ItemId);
        Assert.False(item.Passed);
        Assert.Contains("did not answer", item.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_HealthUrlSlowerThanClientTimeout_FailsHealthWithTimedOut()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(new Uri(server.Http, "/slow").ToString()));

        var item = Assert.Single(results);
        Assert.False(item.Passed);
        Assert.Contains("timed out", item.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_CallerCancels_ThrowsInsteadOfReportingAFailure()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);
        using var cts = new CancellationTokenSource();

        var verify = sut.VerifyAsync(Policy(new Uri(server.Http, "/slow").ToString()), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => verify);
    }

    [Fact]
    public async Task VerifyAsync_HttpsWithTrustedCertificate_VerifiesHealthAndHttps()
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == server.Certificate.GetCertHashString();
        using var http = new HttpClient(handler);
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(new Uri(server.Https, "/ok").ToString()));

        Assert.Equal(2, results.Count);
        Assert.Contains(results, r => r.ItemId == ChecklistCatalog.HealthCheck && r.Passed && r.Evidence.Contains("answered 200", StringComparison.Ordinal));
        Assert.Contains(results, r => r.ItemId == ChecklistCatalog.Https && r.Passed);
    }

    [Fact]
    public async Task VerifyAsync_HttpsWithUntrustedCertificate_FailsHealthAndHttps()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(new Uri(server.Https, "/ok").ToString()));

        Assert.Equal(2, results.Count);
        Assert.Contains(results, r => r.ItemId == ChecklistCatalog.HealthCheck && !r.Passed && r.Evidence.Contains("did not answer", StringComparison.Ordinal));
        Assert.Contains(results, r => r.ItemId == ChecklistCatalog.Https && !r.Passed && r.Evidence.Contains("TLS to 127.0.0.1 failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VerifyAsync_PlainHttp_AddsNoHttpsItem()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(new Uri(server.Http, "/ok").ToString()));

        Assert.DoesNotContain(results, r => r.ItemId == ChecklistCatalog.Https);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task VerifyAsync_NoHealthUrl_ReturnsEmptyList(string? healthUrl)
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var results = await sut.VerifyAsync(Policy(healthUrl));

        Assert.Empty(results);
    }

    [Fact]
    public async Task VerifyAsync_HealthUrlThatIsNotAUrl_FailsTheHealthItemSayingWhy()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var result = Assert.Single(await sut.VerifyAsync(Policy("not a url")));

        Assert.Equal("health", result.ItemId);
        Assert.False(result.Passed);
        Assert.Contains("not an absolute http(s) URL", result.Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("ftp://127.0.0.1/healthz")]
    public async Task VerifyAsync_NonHttpAbsoluteHealthUrl_VerifiesNothingWithoutThrowing(string healthUrl)
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        var exception = await Record.ExceptionAsync(() => sut.VerifyAsync(Policy(healthUrl)));

        Assert.Null(exception);
        Assert.DoesNotContain(await sut.VerifyAsync(Policy(healthUrl)), r => r.Passed);
    }

    [Fact]
    public async Task VerifyAsync_NullPolicy_Throws()
    {
        using var http = new HttpClient();
        var sut = CreateSut(http);

        await Assert.ThrowsAsync<ArgumentNullException>(() => sut.VerifyAsync(null!));
    }

    private static ServicePolicy Policy(string? healthUrl) => new() { Name = "demo", HealthUrl = healthUrl };

    /// <summary>On a fake clock that never moves: the verifier's own deadline never cuts a healthy URL short on a busy machine.</summary>
    private static IReadinessVerifier CreateSut(HttpClient http) => new HttpReadinessVerifier(http, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch));
}
