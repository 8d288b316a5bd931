using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ShipBot.Coordinator.Identity;
using ShipBot.Core.Settings;
using ShipBot.Identity;

namespace ShipBot.IntegrationTests.Identity;

/// <summary>Settings and helpers for the identity tests: chat platforms on, a sign-in provider that is never contacted, sessions minted with the host's own keys.</summary>
internal static class IdentityScenario
{
    public const string AlertmanagerToken = "alertmanager-bearer-token-0123456789";

    /// <summary>Slack, Teams and Alertmanager on, as a team runs ShipBot; Slack's Web API is the fake's.</summary>
    public static Dictionary<string, string?> ChatPlatforms(Uri slackApi) => new()
    {
        ["Slack:SigningSecret"] = ShipBot.Testing.FakeSlack.SigningSecret,
        ["Slack:BotToken"] = ShipBot.Testing.FakeSlack.BotToken,
        ["Slack:ApiBaseUrl"] = slackApi.ToString(),
        ["Teams:AppId"] = "00000000-0000-0000-0000-00000000b075",
        ["Teams:AppPassword"] = "not-used-by-these-tests",
        ["Teams:OpenIdMetadataUrl"] = "http://127.0.0.1:9/.well-known/openid-configuration",
        ["ShipBot:Alertmanager:BearerToken"] = AlertmanagerToken,
        ["ShipBot:Services:demo:Requesters:1"] = "UALICE",
    };

    /// <summary>SignIn mode against a provider on a closed loopback port: these tests mint sessions themselves and never sign in through it.</summary>
    public static Dictionary<string, string?> SignIn(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ShipBot:Console:Mode"] = "SignIn",
            ["ShipBot:Console:SignIn:Authority"] = "http://127.0.0.1:9/",
            ["ShipBot:Console:SignIn:ClientId"] = "shipbot",
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>A session cookie exactly as the host would issue it at sign-in, sealed with its own keys.</summary>
    public static string SessionCookie(ShipBotHost host, Actor actor, DateTimeOffset? expires = null)
    {
        var options = host.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(IdentitySchemes.Cookie);
        var now = DateTimeOffset.UtcNow;
        var properties = new AuthenticationProperties { IssuedUtc = now.AddMinutes(-1), ExpiresUtc = expires ?? now.AddHours(1) };
        var ticket = new AuthenticationTicket(ShipBotClaims.Principal(actor, IdentitySchemes.Cookie, "sub-" + actor.Id), properties, IdentitySchemes.Cookie);
        return options.TicketDataFormat.Protect(ticket);
    }

    /// <summary>A client that sends <paramref name="session"/> as the session cookie (and keeps the antiforgery cookie it is given).</summary>
    public static HttpClient SignedInClient(ShipBotHost host, string? session)
    {
        var cookies = new CookieContainer();
        if (session is not null)
        {
            cookies.Add(host.BaseAddress, new Cookie(ShipBotIdentityServiceCollectionExtensions.SessionCookie, session));
        }

        return new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The antiforgery token of this browser's session (its cookie is now in the browser).</summary>
    public static async Task<string> AntiforgeryAsync(HttpClient browser)
    {
        var me = await browser.GetFromJsonAsync<JsonObject>("/api/console/me");
        return (string?)me?["antiforgery"] ?? throw new InvalidOperationException("no antiforgery token in /api/console/me");
    }

    public static async Task<string> TokenAsync(ShipBotHost host, string name, params string[] scopes) =>
        (await host.Services.GetRequiredService<ApiTokenService>().CreateAsync(name, scopes, "dave"))!.Value;

    public static HttpClient WithToken(ShipBotHost host, string? token)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public static async Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, object body, string? antiforgery = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (antiforgery is not null)
        {
            request.Headers.Add(CallerEndpoints.AntiforgeryHeader, antiforgery);
        }

        return await client.SendAsync(request);
    }
}
