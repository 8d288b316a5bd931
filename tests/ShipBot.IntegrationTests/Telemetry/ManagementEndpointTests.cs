using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests.Telemetry;

/// <summary>/metrics is served on the management port, or on the public port to the bearer token only; never openly on the public port.</summary>
public sealed class ManagementEndpointTests
{
    [Fact]
    public async Task Metrics_WithAManagementPort_ServedThereAndNotFoundOnThePublicPort()
    {
        var management = RedisServer.FreePort();
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?> { ["Management:Urls"] = $"http://127.0.0.1:{management}" });
        await host.SayAsync("alice", "/ship list");

        using var publicPort = await host.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, publicPort.StatusCode);

        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{management}"), Timeout = TimeSpan.FromSeconds(30) };
        using var scrape = await scraper.GetAsync("/metrics");
        var text = await scrape.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("shipbot_chat_ack_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("shipbot_platform=\"console\"", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_process_memory_working_set_bytes", text, StringComparison.Ordinal);

        // The probes answer on both ports; the public API does not need the management port.
        Assert.Equal("ok", await scraper.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Metrics_WithATokenOnly_AnsweredToTheBearerTokenAndHiddenFromEveryoneElse()
    {
        const string Token = "metrics-token-0123456789abcdef";
        await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?> { ["Management:MetricsToken"] = Token });

        using (var anonymous = await host.Http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.NotFound, anonymous.StatusCode);
        }

        foreach (var wrong in new[] { new AuthenticationHeaderValue("Bearer", "metrics-token-0123456789abcdeX"), new AuthenticationHeaderValue("Basic", Token) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = wrong } };
            using var refused = await host.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        // The readiness gauge appears once the health checks have first been published (2 s after start).
        var scraped = string.Empty;
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var authorised = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
            using var scrape = await host.Http.SendAsync(authorised);
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            scraped = await scrape.Content.ReadAsStringAsync();
            return scraped.Contains("shipbot_readiness_status", StringComparison.Ordinal);
        }), $"the readiness gauge is scraped: {scraped[..Math.Min(scraped.Length, 400)]}");
    }

    [Theory]
    [InlineData("Management:Urls needs an explicit port", "Management:Urls", "http://127.0.0.1")]
    [InlineData("Management:Urls must be http(s) URLs", "Management:Urls", "ftp://127.0.0.1:9464")]
    [InlineData("Management:Urls must be http(s) URLs", "Management:Urls", "not a url")]
    [InlineData("Management:MetricsToken must be at least 16 characters", "Management:MetricsToken", "short")]
    [InlineData("Management:ReleaseGaugeInterval must be at least 00:00:01", "Management:ReleaseGaugeInterval", "00:00:00.100")]
    public async Task BadManagementConfiguration_FailsStartupNamingTheKey(string expected, string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ShipBotHost.StartAsync(new Dictionary<string, string?> { [key] = value });
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
