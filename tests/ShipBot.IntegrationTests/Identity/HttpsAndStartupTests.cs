using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShipBot.Host;
using ShipBot.Identity;
using static ShipBot.IntegrationTests.Identity.IdentityScenario;

namespace ShipBot.IntegrationTests.Identity;

/// <summary>Kestrel serving HTTPS from a configured (self-signed, made here) certificate, with HSTS; and the start-up refusals of the identity settings.</summary>
public sealed class HttpsAndStartupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shipbot-https-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Https_ConfiguredCertificate_ServedOverLoopbackWithHstsAndSecureCookies()
    {
        using var certificate = SelfSigned();
        var path = Path.Combine(_dir, "shipbot.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, "test-password"));
        var settings = ShipBotHost.FastSettings();
        foreach (var (key, value) in SignIn(new()
        {
            ["ShipBot:Https:CertificatePath"] = path,
            ["ShipBot:Https:CertificatePassword"] = "test-password",
        }))
        {
            settings[key] = value;
        }

        await using var app = ShipBotApp.Build(["--urls", "https://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        var thumbprint = certificate.Thumbprint;
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == thumbprint };
        using var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

        Assert.Equal("https", address.Scheme);
        Assert.Equal("ok", await client.GetStringAsync("/healthz"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Host = "shipbot.example.com";
        using var named = await client.SendAsync(request);
        Assert.Equal("max-age=31536000", named.Headers.GetValues("Strict-Transport-Security").Single());

        var cookie = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentitySchemes.Cookie).Cookie;
        var overHttps = new DefaultHttpContext();
        overHttps.Request.IsHttps = true;
        var built = cookie.Build(overHttps);
        Assert.True(built.Secure && built.HttpOnly && built.SameSite == SameSiteMode.Lax);
        Assert.False(cookie.Build(new DefaultHttpContext()).Secure);
        await app.StopAsync();
    }

    [Theory]
    [InlineData("ShipBot:Console:Mode is Demo (the default when nothing else is configured), but ShipBot listens on http://0.0.0.0:0, which is not loopback", "http://0.0.0.0:0")]
    [InlineData("ShipBot:Console:Mode is Demo, but Slack or Teams is configured", "http://127.0.0.1:0", "ShipBot:Console:Mode", "Demo", "Slack:BotToken", "xoxb-test", "Slack:SigningSecret", "0123456789abcdef")]
    [InlineData("ShipBot:Console:Mode is SignIn, but ShipBot:Console:SignIn:Authority and ShipBot:Console:SignIn:ClientId are not both set", "http://127.0.0.1:0", "ShipBot:Console:Mode", "SignIn")]
    [InlineData("ShipBot:Console:SignIn:Authority 'http://idp.example.com/' must be an absolute https URL", "http://127.0.0.1:0", "ShipBot:Console:SignIn:Authority", "http://idp.example.com/", "ShipBot:Console:SignIn:ClientId", "shipbot")]
    [InlineData("ShipBot:Https:CertificatePath '/nonexistent/shipbot.pfx' does not exist", "https://127.0.0.1:0", "ShipBot:Https:CertificatePath", "/nonexistent/shipbot.pfx")]
    [InlineData("ShipBot:RateLimits:Unverified: PermitsPerSecond and Burst must be at least 1", "http://127.0.0.1:0", "ShipBot:RateLimits:Unverified:Burst", "0")]
    [InlineData("ShipBot:ForwardedHeaders:KnownNetworks: '10.0.0.0/64' is not a network", "http://127.0.0.1:0", "ShipBot:ForwardedHeaders:KnownNetworks:0", "10.0.0.0/64")]
    public async Task BadIdentityConfiguration_FailsStartupNamingTheKey(string expected, string urls, params string[] keyValues)
    {
        var settings = ShipBotHost.FastSettings();
        for (var i = 0; i < keyValues.Length; i += 2)
        {
            settings[keyValues[i]] = keyValues[i + 1];
        }

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = ShipBotApp.Build(["--urls", urls], b => b.Configuration.AddInMemoryCollection(settings));
            await app.StartAsync();
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readme_RepositorySettingsAlone_DemoConsoleOnLoopback5080WithoutSignIn()
    {
        var configuration = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory).AddJsonFile("appsettings.json").Build();
        Assert.Equal(["http://127.0.0.1:5080"], ListeningAddresses.From(configuration));
        Assert.True(ListeningAddresses.IsLoopback("http://127.0.0.1:5080"));

        await using var host = await ShipBotHost.StartAsync();
        var users = await host.Http.GetFromJsonAsync<JsonArray>("/api/console/users");
        using var page = await host.Http.GetAsync("/");

        Assert.Equal(ConsoleMode.Demo, host.Services.GetRequiredService<CallerPolicy>().Mode);
        Assert.Equal(["alice", "bob", "carol", "dave"], users!.Select(u => (string?)u!["id"]));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Null(host.Http.DefaultRequestHeaders.Authorization);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("https://[::1]:8443", true)]
    [InlineData("http://127.0.0.2:80", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://shipbot.example.com", false)]
    public void ListeningAddresses_IsLoopback_OnlyForThisMachine(string address, bool loopback) =>
        Assert.Equal(loopback, ListeningAddresses.IsLoopback(address));

    [Fact]
    public void ListeningAddresses_ContainerPortsWithoutUrls_EveryInterface()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["http_ports"] = "8080" }).Build();

        Assert.Equal(["http://*:8080"], ListeningAddresses.From(configuration));
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
    }
}
