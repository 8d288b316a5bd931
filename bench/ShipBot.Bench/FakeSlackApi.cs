using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ShipBot.Bench;

/// <summary>
/// A small fake of Slack's Web API for the Slack acknowledgement benchmark, on Kestrel (loopback,
/// free port) inside the bench process: <c>POST /api/{method}</c> answers <c>ok:true</c> to
/// chat.postMessage, chat.update, chat.postEphemeral and usergroups.users.list (the bot token is
/// checked), and <c>POST /response/{id}</c> plays the <c>response_url</c>s. It counts every call and
/// keeps the last release card posted or updated, so the benchmark can click one of its real buttons.
/// </summary>
public sealed class FakeSlackApi : IAsyncDisposable
{
    public const string OnCallGroup = "SONCALL";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly Lock _cardGate = new();
    private readonly string _botToken;
    private JsonObject? _lastCard;
    private long _ts = 1_700_000_000_000_000;

    private FakeSlackApi(WebApplication app, string botToken)
    {
        _app = app;
        _botToken = botToken;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>What ShipBot's <c>Slack:ApiBaseUrl</c> points at.</summary>
    public Uri ApiBaseUrl => new(BaseAddress, "/api/");

    /// <summary>The prefix of the <c>response_url</c>s the benchmark's requests carry.</summary>
    public string ResponseUrlPrefix => new Uri(BaseAddress, "/response/").ToString();

    public static async Task<FakeSlackApi> StartAsync(string botToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSlackApi(app, botToken);
        app.MapPost("/api/{method}", (HttpContext context, string method) => fake.WebApiAsync(context, method));
        app.MapPost("/response/{id}", (HttpContext context, string id) => fake.ResponseUrlAsync(context));
        await app.StartAsync();
        fake.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return fake;
    }

    /// <summary>Calls so far, by method (<c>response_url</c> for posts to a response URL).</summary>
    public IReadOnlyDictionary<string, long> Counts() => _counts.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    public long Count(string method) => _counts.GetValueOrDefault(method);

    /// <summary>The last card (chat.postMessage or chat.update body) with a button whose value starts with <paramref name="valuePrefix"/>, and that button.</summary>
    public (JsonObject Card, JsonObject Button)? CardWithButton(string valuePrefix)
    {
        lock (_cardGate)
        {
            if (_lastCard?["blocks"] is not JsonArray blocks)
            {
                return null;
            }

            foreach (var block in blocks.OfType<JsonObject>())
            {
                var elements = (string?)block["type"] == "actions" && block["elements"] is JsonArray e ? e.OfType<JsonObject>() : [];
                if (block["accessory"] is JsonObject accessory)
                {
                    elements = elements.Append(accessory);
                }

                foreach (var button in elements)
                {
                    if ((string?)button["type"] == "button" && ((string?)button["value"])?.StartsWith(valuePrefix, StringComparison.Ordinal) == true)
                    {
                        var copy = (JsonObject)button.DeepClone();
                        copy["block_id"] ??= (string?)block["block_id"];
                        return ((JsonObject)_lastCard.DeepClone(), copy);
                    }
                }
            }

            return null;
        }
    }

    private async Task WebApiAsync(HttpContext context, string method)
    {
        _counts.AddOrUpdate(method, 1, (_, n) => n + 1);
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var raw = await reader.ReadToEndAsync(context.RequestAborted);
        JsonObject answer;
        if ((string?)context.Request.Headers.Authorization != $"Bearer {_botToken}")
        {
            answer = new JsonObject { ["ok"] = false, ["error"] = "invalid_auth" };
        }
        else
        {
            switch (method)
            {
                case "chat.postMessage":
                case "chat.update":
                {
                    var body = JsonNode.Parse(raw) as JsonObject ?? [];
                    var ts = method == "chat.update" ? (string?)body["ts"] : NextTs();
                    if (body["blocks"] is JsonArray { Count: > 0 } && (string?)body["thread_ts"] is null)
                    {
                        lock (_cardGate)
                        {
                            body["ts"] = ts;
                            _lastCard = body;
                        }
                    }

                    answer = new JsonObject { ["ok"] = true, ["channel"] = (string?)body["channel"], ["ts"] = ts };
                    break;
                }

                case "chat.postEphemeral":
                    answer = new JsonObject { ["ok"] = true, ["message_ts"] = NextTs() };
                    break;
                case "usergroups.users.list":
                    answer = raw.Contains($"usergroup={OnCallGroup}", StringComparison.Ordinal)
                        ? new JsonObject { ["ok"] = true, ["users"] = new JsonArray("UCAROL") }
                        : new JsonObject { ["ok"] = false, ["error"] = "no_such_subteam" };
                    break;
                default:
                    answer = new JsonObject { ["ok"] = false, ["error"] = "unknown_method" };
                    break;
            }
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
    }

    private async Task ResponseUrlAsync(HttpContext context)
    {
        _counts.AddOrUpdate("response_url", 1, (_, n) => n + 1);

        // Drain the body (the follow-up message), as Slack would read it.
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync("{\"ok\":true}", context.RequestAborted);
    }

    private string NextTs()
    {
        var n = Interlocked.Increment(ref _ts);
        return (n / 1_000_000).ToString(CultureInfo.InvariantCulture) + "." + (n % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
