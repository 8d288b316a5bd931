using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ShipBot.Host;
using ShipBot.Testing;

namespace ShipBot.IntegrationTests;

/// <summary>
/// A real ShipBot host on a free loopback port (Kestrel), with the repository's appsettings.json
/// and short bake times so a whole rollout takes seconds. One per test: state never leaks.
/// </summary>
public sealed class ShipBotHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ShipBotHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Fast demo settings: staging bakes 1 s, each stage 2 s, validation 2 s, evaluation every second.</summary>
    public static Dictionary<string, string?> FastSettings() => ShipBotSettings.Fast();

    /// <param name="overrides">Configuration keys to set (with ':').</param>
    /// <param name="services">Service registrations that replace the composed ones (such as a component's clock).</param>
    public static async Task<ShipBotHost> StartAsync(IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null)
    {
        var settings = FastSettings();
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var app = ShipBotApp.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings), services);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var host = new ShipBotHost(app, new Uri(address));
        if (!app.Services.GetRequiredService<ShipBot.Identity.CallerPolicy>().IsOpen)
        {
            // Outside the demo console the release API needs credentials: the helpers read with a token.
            var issued = await app.Services.GetRequiredService<ShipBot.Coordinator.Identity.ApiTokenService>()
                .CreateAsync($"tests-{Guid.NewGuid():N}"[..20], [ShipBot.Core.Ports.TokenScopes.ReleasesRead], "tests");
            host.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", issued!.Value);
        }

        return host;
    }

    public async Task<JsonObject> SayAsync(string user, string text, string channel = "releases")
    {
        using var response = await Http.PostAsJsonAsync("/api/console/messages", new { user, channel, text });
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body ?? throw new InvalidOperationException("empty reply");
    }

    public async Task<(int Status, JsonObject Body)> ClickAsync(string user, string messageId, string actionId, string value, string? input = null, string? requestId = null)
    {
        using var response = await Http.PostAsJsonAsync("/api/console/actions", new { user, messageId, actionId, value, input, requestId });
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>() ?? []);
    }

    public async Task<JsonArray> MessagesAsync(string channel = "releases", string? user = null)
    {
        var url = $"/api/console/messages?channel={channel}" + (user is null ? string.Empty : $"&user={user}");
        return await Http.GetFromJsonAsync<JsonArray>(url) ?? [];
    }

    /// <summary>The channel message whose card title contains <paramref name="titlePart"/>.</summary>
    public async Task<JsonObject?> CardMessageAsync(string titlePart, string channel = "releases")
    {
        var messages = await MessagesAsync(channel);
        return messages.OfType<JsonObject>().LastOrDefault(m => m["card"]?["title"]?.GetValue<string>().Contains(titlePart, StringComparison.Ordinal) == true);
    }

    public async Task<JsonObject> ReleaseAsync(string name) =>
        await Http.GetFromJsonAsync<JsonObject>($"/api/releases/{name}") ?? throw new InvalidOperationException("no release");

    public async Task<string> StateAsync(string name) => (await ReleaseAsync(name))["state"]!.GetValue<string>();

    /// <summary>Polls until the release reaches <paramref name="state"/>; fails with the last state and audit if it does not.</summary>
    public async Task<JsonObject> WaitForStateAsync(string name, string state, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Eventually.Deadline * 3);
        JsonObject release;
        do
        {
            release = await ReleaseAsync(name);
            if (release["state"]!.GetValue<string>() == state)
            {
                return release;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"{name} is {release["state"]}, not {state}. Audit:\n{string.Join("\n", release["audit"]!.AsArray().Select(a => $"{a!["action"]}: {a["detail"]}"))}");
    }

    /// <summary>Every action of a card (release card blocks and checklist rows).</summary>
    public static IEnumerable<JsonObject> Actions(JsonObject message)
    {
        foreach (var block in message["card"]?["blocks"]?.AsArray() ?? [])
        {
            var type = block!["type"]!.GetValue<string>();
            if (type == "actions")
            {
                foreach (var a in block["actions"]!.AsArray())
                {
                    yield return a!.AsObject();
                }
            }
            else if (type == "checklist")
            {
                foreach (var group in block["groups"]!.AsArray())
                {
                    foreach (var item in group!["items"]!.AsArray())
                    {
                        foreach (var a in item!["actions"]!.AsArray())
                        {
                            yield return a!.AsObject();
                        }
                    }
                }
            }
        }
    }

    public static string Text(JsonNode? node) => node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? string.Empty;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
