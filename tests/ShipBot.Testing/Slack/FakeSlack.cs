using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ShipBot.Slack;

namespace ShipBot.Testing;

/// <summary>One Web API call ShipBot made: the method, its body (JSON or form fields), the Authorization header, and what the fake answered.</summary>
public sealed record SlackCall(int Seq, string Method, JsonObject Body, string? Authorization, int Status, JsonObject Answer, DateTimeOffset At)
{
    public bool Ok => Status == 200 && (bool?)Answer["ok"] == true;

    public string? Channel => (string?)Body["channel"];

    public string? Ts => (string?)Body["ts"];

    public string? ThreadTs => (string?)Body["thread_ts"];

    public string Text => (string?)Body["text"] ?? string.Empty;

    public JsonArray Blocks => Body["blocks"] as JsonArray ?? [];

    /// <summary>The <c>ts</c> of the message this call posted (chat.postMessage) or updated (chat.update).</summary>
    public string? MessageTs => Method == "chat.postMessage" ? (string?)Answer["ts"] : Ts;

    /// <summary>The header block's text, or null.</summary>
    public string? Header => Blocks.OfType<JsonObject>().FirstOrDefault(b => (string?)b["type"] == "header")?["text"]?["text"]?.GetValue<string>();

    /// <summary>Every string in the message (text and blocks), one per line: for "does it say …" assertions.</summary>
    public string AllText => Text + "\n" + FakeSlack.Strings(Blocks);

    public override string ToString() =>
        $"#{Seq} {Method} → {Status} {Answer.ToJsonString()} {(Header ?? Text).Replace('\n', ' ')[..Math.Min(120, (Header ?? Text).Length)]}";
}

/// <summary>A post to a <c>response_url</c>.</summary>
public sealed record ResponseUrlPost(int Seq, string Id, JsonObject Body)
{
    public string Text => (string?)Body["text"] ?? string.Empty;
}

/// <summary>An acknowledgement ShipBot sent over Socket Mode.</summary>
public sealed record SocketAck(int Seq, int Connection, string EnvelopeId, JsonObject? Payload);

/// <summary>A Socket Mode connection ShipBot opened.</summary>
public sealed record SocketConnectionInfo(int Number, string Ticket, DateTimeOffset At);

/// <summary>A request signed like Slack signs it; <see cref="ToHttpRequest"/> may be called again to send an exact copy.</summary>
public sealed record SignedSlackRequest(string Path, string Body, string ContentType, string Timestamp, string Signature)
{
    public HttpRequestMessage ToHttpRequest(int? retryNum = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
        request.Headers.Add(SlackSignature.TimestampHeader, Timestamp);
        request.Headers.Add(SlackSignature.SignatureHeader, Signature);
        request.Headers.UserAgent.ParseAdd("Slackbot/1.0");
        if (retryNum is { } n)
        {
            request.Headers.Add("X-Slack-Retry-Num", n.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Retry-Reason", "http_timeout");
        }

        return request;
    }
}

/// <summary>
/// A local fake of Slack on Kestrel (loopback, free port), speaking Slack's wire protocol: the Web
/// API under <c>/api/</c> (bot token and app token checked), a Socket Mode WebSocket at
/// <c>/socket</c>, and <c>response_url</c>s under <c>/response/{id}</c>. It records everything
/// ShipBot sends, lets a test await a matching call with a timeout, and can be scripted to answer
/// <c>ok:false</c> or HTTP 429. It also builds requests signed exactly like Slack's. Under a
/// benchmark's load it can count calls without recording them; either way it keeps the last
/// release card posted or updated, so a caller can click one of its real buttons.
/// </summary>
public sealed class FakeSlack : IAsyncDisposable
{
    public const string BotToken = "xoxb-test";
    public const string AppToken = "xapp-test";
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    public const string TeamId = "T0SHIPBOT";

    /// <summary>The on-call user group; <c>usergroups.users.list</c> answers UCAROL for it.</summary>
    public const string OnCallGroup = "SONCALL";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly WebApplication _app;
    private readonly Recorder<SlackCall> _calls = new();
    private readonly Recorder<ResponseUrlPost> _responses = new();
    private readonly Recorder<SocketAck> _acks = new();
    private readonly Recorder<SocketConnectionInfo> _connections = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Scripted>> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string[]> _userGroups = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _tickets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _posted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, SocketConnection> _live = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly Lock _cardGate = new();
    private readonly string _botToken;
    private readonly bool _record;
    private JsonObject? _lastCard;
    private int _held;
    private long _ts = 99;
    private int _triggers;

    private FakeSlack(WebApplication app, string botToken, bool record)
    {
        _app = app;
        _botToken = botToken;
        _record = record;
        _userGroups[OnCallGroup] = ["UCAROL"];
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>What ShipBot's <c>Slack:ApiBaseUrl</c> points at.</summary>
    public Uri ApiBaseUrl => new(BaseAddress, "/api/");

    /// <summary>The prefix of this fake's <c>response_url</c>s.</summary>
    public string ResponseUrlPrefix => new Uri(BaseAddress, "/response/").ToString();

    public IReadOnlyList<SlackCall> Calls => _calls.Snapshot();

    public IReadOnlyList<ResponseUrlPost> ResponsePosts => _responses.Snapshot();

    public IReadOnlyList<SocketAck> Acks => _acks.Snapshot();

    public int SocketConnections => _connections.Count;

    /// <param name="botToken">The bot token ShipBot must send (default <see cref="BotToken"/>).</param>
    /// <param name="record">Record every call and response_url post (default); a benchmark counts them only (<see cref="Counts"/>).</param>
    public static async Task<FakeSlack> StartAsync(string botToken = BotToken, bool record = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        var fake = new FakeSlack(app, botToken, record);
        app.UseWebSockets();
        app.MapPost("/api/{method}", (HttpContext context, string method) => fake.WebApiAsync(context, method));
        app.MapPost("/response/{id}", (HttpContext context, string id) => fake.ResponseUrlAsync(context, id));
        app.Map("/socket", fake.SocketAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        fake.BaseAddress = new Uri(address);
        return fake;
    }

    /// <summary>Calls so far, by method (<c>response_url</c> for posts to a response URL).</summary>
    public IReadOnlyDictionary<string, long> Counts() => _counts.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    public long Count(string method) => _counts.GetValueOrDefault(method);

    /// <summary>The last release card (a chat.postMessage or chat.update body with blocks, not a thread reply) with a button whose value starts with <paramref name="valuePrefix"/>, and that button (with its block_id).</summary>
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

    // ================================================================ scripting

    /// <summary>Sets the members <c>usergroups.users.list</c> returns for a user group.</summary>
    public void SetUserGroup(string group, params string[] users) => _userGroups[group] = users;

    /// <summary>The next <paramref name="times"/> calls of <paramref name="method"/> answer <c>{"ok":false,"error":…}</c>.</summary>
    public void FailNext(string method, string error, int times = 1)
    {
        var queue = _scripts.GetOrAdd(method, _ => new ConcurrentQueue<Scripted>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(new Scripted(error, null));
        }
    }

    /// <summary>The next <paramref name="times"/> calls of <paramref name="method"/> answer HTTP 429 with <c>Retry-After: seconds</c>.</summary>
    public void RateLimitNext(string method, int times, int retryAfterSeconds)
    {
        var queue = _scripts.GetOrAdd(method, _ => new ConcurrentQueue<Scripted>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(new Scripted(null, retryAfterSeconds));
        }
    }

    /// <summary>The next <paramref name="times"/> calls of <paramref name="method"/> are answered (normally) only after <paramref name="delay"/>.</summary>
    public void DelayNext(string method, int times, TimeSpan delay)
    {
        var queue = _scripts.GetOrAdd(method, _ => new ConcurrentQueue<Scripted>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(new Scripted(null, null, delay));
        }
    }

    /// <summary>
    /// The next <paramref name="times"/> calls of <paramref name="method"/> are answered (normally)
    /// only once the returned action is called: Slack is as slow as the test wants, never slower.
    /// </summary>
    public Action HoldNext(string method, int times = 1)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = _scripts.GetOrAdd(method, _ => new ConcurrentQueue<Scripted>());
        for (var i = 0; i < times; i++)
        {
            queue.Enqueue(new Scripted(null, null, Gate: gate.Task));
        }

        return () => gate.TrySetResult();
    }

    /// <summary>Calls being held right now (<see cref="HoldNext"/>).</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Someone deleted the message at <paramref name="ts"/>: chat.update of it now answers <c>message_not_found</c>.</summary>
    public void DeleteMessage(string ts) => _posted.TryRemove(ts, out _);

    // ================================================================ awaiting

    public Task<SlackCall> WaitForCallAsync(Func<SlackCall, bool> match, string what, TimeSpan? timeout = null) =>
        _calls.WaitAsync(match, what, timeout ?? DefaultTimeout);

    public Task<SlackCall> WaitForCallAsync(string method, Func<SlackCall, bool> match, string what, TimeSpan? timeout = null) =>
        _calls.WaitAsync(c => c.Method == method && match(c), what, timeout ?? DefaultTimeout);

    public Task<ResponseUrlPost> WaitForResponseAsync(Uri responseUrl, TimeSpan? timeout = null)
    {
        var id = responseUrl.Segments[^1];
        return _responses.WaitAsync(r => r.Id == id, $"a post to {responseUrl}", timeout ?? DefaultTimeout);
    }

    public Task<SocketConnectionInfo> WaitForSocketConnectionAsync(int number, TimeSpan? timeout = null) =>
        _connections.WaitAsync(c => c.Number == number, $"Socket Mode connection #{number}", timeout ?? DefaultTimeout);

    // ================================================================ Socket Mode

    /// <summary>Pushes an envelope on the current Socket Mode connection and waits for ShipBot's acknowledgement of it.</summary>
    public async Task<SocketAck> SendEnvelopeAsync(string type, JsonObject payload, string? envelopeId = null, int retryAttempt = 0, TimeSpan? timeout = null)
    {
        var id = envelopeId ?? Guid.NewGuid().ToString();
        var envelope = new JsonObject
        {
            ["envelope_id"] = id,
            ["type"] = type,
            ["payload"] = payload.DeepClone(),
            ["accepts_response_payload"] = type != "events_api",
            ["retry_attempt"] = retryAttempt,
            ["retry_reason"] = retryAttempt == 0 ? string.Empty : "timeout",
        };
        var after = _acks.Count;
        await SendOnSocketAsync(envelope);
        return await _acks.WaitAsync(a => a.Seq >= after && a.EnvelopeId == id, $"the acknowledgement of envelope {id}", timeout ?? DefaultTimeout);
    }

    /// <summary>Sends Slack's <c>disconnect</c> message (ShipBot should open a new connection).</summary>
    public Task SendDisconnectAsync(string reason = "refresh_requested") =>
        SendOnSocketAsync(new JsonObject
        {
            ["type"] = "disconnect",
            ["reason"] = reason,
            ["debug_info"] = new JsonObject { ["host"] = "fake-slack" },
        });

    /// <summary>Drops the current Socket Mode connection abruptly (no close handshake).</summary>
    public void DropSocketConnection()
    {
        var current = Current() ?? throw new InvalidOperationException("No Socket Mode connection to drop.");
        current.Context.Abort();
    }

    private SocketConnection? Current() => _live.Values.OrderByDescending(c => c.Number).FirstOrDefault();

    private async Task SendOnSocketAsync(JsonObject message)
    {
        var deadline = DateTime.UtcNow + DefaultTimeout;
        SocketConnection? current;
        while ((current = Current()) is null)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("ShipBot has no Socket Mode connection.");
            }

            await WaitForSocketConnectionAsync(_connections.Count + 1, deadline - DateTime.UtcNow);
        }

        await current.SendAsync(message);
    }

    private async Task SocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var ticket = (string?)context.Request.Query["ticket"] ?? string.Empty;
        if (!_tickets.TryRemove(ticket, out _))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var number = _connections.Count + 1;
        var connection = new SocketConnection(number, socket, context);
        _live[number] = connection;
        try
        {
            await connection.SendAsync(new JsonObject
            {
                ["type"] = "hello",
                ["num_connections"] = 1,
                ["debug_info"] = new JsonObject { ["host"] = "fake-slack", ["build_number"] = 1, ["approximate_connection_time"] = 18060 },
                ["connection_info"] = new JsonObject { ["app_id"] = "A0SHIPBOT" },
            });
            _connections.Add(new SocketConnectionInfo(number, ticket, DateTimeOffset.UtcNow));
            var buffer = new byte[64 * 1024];
            using var message = new MemoryStream();
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                message.SetLength(0);
                if (JsonNode.Parse(text) is JsonObject ack && (string?)ack["envelope_id"] is { } envelopeId)
                {
                    _acks.Add(new SocketAck(_acks.NextSeq(), number, envelopeId, ack["payload"] as JsonObject));
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // ShipBot went away (a reconnect or shutdown) or the test dropped the connection.
        }
        finally
        {
            _live.TryRemove(number, out _);
        }
    }

    // ================================================================ Web API

    private async Task WebApiAsync(HttpContext context, string method)
    {
        var request = context.Request;
        var raw = await new StreamReader(request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
        var body = ParseBody(request.ContentType, raw);
        var authorization = (string?)request.Headers.Authorization;
        var required = method == "apps.connections.open" ? AppToken : _botToken;
        _counts.AddOrUpdate(method, 1, (_, n) => n + 1);

        int status = 200;
        JsonObject answer;
        if (authorization != $"Bearer {required}")
        {
            answer = Error("invalid_auth");
        }
        else if (_scripts.TryGetValue(method, out var queue) && queue.TryDequeue(out var scripted))
        {
            if (scripted.Gate is { } gate)
            {
                Interlocked.Increment(ref _held);
                try
                {
                    await gate.WaitAsync(context.RequestAborted);
                }
                finally
                {
                    Interlocked.Decrement(ref _held);
                }

                answer = Answer(method, body);
            }
            else if (scripted.Delay is { } delay)
            {
                await Task.Delay(delay, context.RequestAborted);
                answer = Answer(method, body);
            }
            else if (scripted.RetryAfter is { } seconds)
            {
                status = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                answer = Error("ratelimited");
            }
            else
            {
                answer = Error(scripted.Error!);
            }
        }
        else
        {
            answer = Answer(method, body);
        }

        if (answer["ok"]?.GetValue<bool>() == true && method is "chat.postMessage" or "chat.update" && body["blocks"] is JsonArray { Count: > 0 } && (string?)body["thread_ts"] is null)
        {
            lock (_cardGate)
            {
                _lastCard = (JsonObject)body.DeepClone();
                _lastCard["ts"] = (string?)answer["ts"];
            }
        }

        if (_record)
        {
            _calls.Add(new SlackCall(_calls.NextSeq(), method, body, authorization, status, answer, DateTimeOffset.UtcNow));
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
    }

    private JsonObject Answer(string method, JsonObject body)
    {
        switch (method)
        {
            case "chat.postMessage":
            {
                if ((string?)body["channel"] is not { Length: > 0 } channel)
                {
                    return Error("channel_not_found");
                }

                if (string.IsNullOrEmpty((string?)body["text"]) && body["blocks"] is null)
                {
                    return Error("no_text");
                }

                if (InvalidBlocks(body) is { } invalid)
                {
                    return invalid;
                }

                var ts = NextTs();
                _posted[ts] = channel;
                return new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["message"] = Message(body, ts) };
            }

            case "chat.update":
            {
                var channel = (string?)body["channel"];
                var ts = (string?)body["ts"];
                if (ts is null || !_posted.TryGetValue(ts, out var postedIn) || postedIn != channel)
                {
                    return Error("message_not_found");
                }

                if (InvalidBlocks(body) is { } invalid)
                {
                    return invalid;
                }

                return new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["text"] = (string?)body["text"] ?? string.Empty, ["message"] = Message(body, ts) };
            }

            case "chat.postEphemeral":
                if ((string?)body["channel"] is not { Length: > 0 } || (string?)body["user"] is not { Length: > 0 })
                {
                    return Error("channel_not_found");
                }

                return InvalidBlocks(body) ?? new JsonObject { ["ok"] = true, ["message_ts"] = NextTs() };

            case "views.open":
            {
                if ((string?)body["trigger_id"] is not { Length: > 0 } || body["view"] is not JsonObject view)
                {
                    return Error("invalid_arguments");
                }

                var errors = ModalErrors(view);
                if (errors.Count > 0)
                {
                    return InvalidArguments(errors);
                }

                var id = $"V{NextTs().Replace(".", string.Empty, StringComparison.Ordinal)}";
                var opened = (JsonObject)view.DeepClone();
                opened["id"] = id;
                opened["hash"] = $"{id}.hash";
                opened["state"] = new JsonObject { ["values"] = new JsonObject() };
                return new JsonObject { ["ok"] = true, ["view"] = opened };
            }

            case "usergroups.users.list":
                return (string?)body["usergroup"] is { } group && _userGroups.TryGetValue(group, out var users)
                    ? new JsonObject { ["ok"] = true, ["users"] = new JsonArray([.. users.Select(u => (JsonNode)JsonValue.Create(u))]) }
                    : Error("no_such_subteam");

            case "auth.test":
                // Slack's documented answer for a bot token (https://api.slack.com/methods/auth.test).
                return new JsonObject { ["ok"] = true, ["url"] = "https://shipbot.slack.com/", ["team"] = "ShipBot", ["user"] = "shipbot", ["team_id"] = TeamId, ["user_id"] = "U0SHIPBOT", ["bot_id"] = "B0SHIPBOT" };

            case "apps.connections.open":
            {
                var ticket = Guid.NewGuid().ToString("N");
                _tickets[ticket] = 0;
                return new JsonObject { ["ok"] = true, ["url"] = $"ws://127.0.0.1:{BaseAddress.Port}/socket?ticket={ticket}&app_id=A0SHIPBOT" };
            }

            default:
                return Error("unknown_method");
        }
    }

    private static JsonObject? InvalidBlocks(JsonObject body)
    {
        var errors = BlockKitErrors(body);
        return errors.Count == 0 ? null : new JsonObject
        {
            ["ok"] = false,
            ["error"] = "invalid_blocks",
            ["response_metadata"] = new JsonObject { ["messages"] = new JsonArray([.. errors.Select(e => (JsonNode)JsonValue.Create(e))]) },
        };
    }

    private static JsonObject InvalidArguments(IReadOnlyList<string> errors) => new()
    {
        ["ok"] = false,
        ["error"] = "invalid_arguments",
        ["response_metadata"] = new JsonObject { ["messages"] = new JsonArray([.. errors.Select(e => (JsonNode)JsonValue.Create(e))]) },
    };

    /// <summary>
    /// What Slack would refuse in a message body (chat.postMessage, chat.update, response_url, an
    /// acknowledgement): Block Kit's documented limits on blocks, text objects, buttons and confirms.
    /// </summary>
    public static IReadOnlyList<string> BlockKitErrors(JsonObject message)
    {
        var errors = new List<string>();
        if ((string?)message["text"] is { Length: > 40_000 })
        {
            errors.Add("text longer than 40000 characters");
        }

        if (message["blocks"] is null)
        {
            return errors;
        }

        if (message["blocks"] is not JsonArray blocks)
        {
            errors.Add("blocks must be an array");
            return errors;
        }

        if (blocks.Count > 50)
        {
            errors.Add($"{blocks.Count} blocks: more than 50");
        }

        var actionIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < blocks.Count; i++)
        {
            BlockErrors(blocks[i] as JsonObject, $"blocks[{i}]", actionIds, errors);
        }

        return errors;
    }

    private static void BlockErrors(JsonObject? block, string at, HashSet<string> actionIds, List<string> errors)
    {
        if (block is null)
        {
            errors.Add($"{at}: not an object");
            return;
        }

        switch ((string?)block["type"])
        {
            case "header":
                TextErrors(block["text"], $"{at}.text", 150, errors, plainOnly: true);
                break;
            case "section":
                if (block["text"] is null && block["fields"] is null)
                {
                    errors.Add($"{at}: a section needs text or fields");
                }

                if (block["text"] is not null)
                {
                    TextErrors(block["text"], $"{at}.text", 3000, errors);
                }

                if (block["fields"] is JsonArray fields)
                {
                    if (fields.Count > 10)
                    {
                        errors.Add($"{at}.fields: {fields.Count} fields, more than 10");
                    }

                    for (var f = 0; f < fields.Count; f++)
                    {
                        TextErrors(fields[f], $"{at}.fields[{f}]", 2000, errors);
                    }
                }

                if (block["accessory"] is JsonObject accessory)
                {
                    ElementErrors(accessory, $"{at}.accessory", actionIds, errors);
                }

                break;
            case "actions":
                if (block["elements"] is not JsonArray { Count: > 0 and <= 25 } elements)
                {
                    errors.Add($"{at}.elements: 1 to 25 elements");
                    break;
                }

                for (var e = 0; e < elements.Count; e++)
                {
                    ElementErrors(elements[e] as JsonObject, $"{at}.elements[{e}]", actionIds, errors);
                }

                break;
            case "context":
                if (block["elements"] is not JsonArray { Count: > 0 and <= 10 } items)
                {
                    errors.Add($"{at}.elements: 1 to 10 elements");
                    break;
                }

                for (var e = 0; e < items.Count; e++)
                {
                    TextErrors(items[e], $"{at}.elements[{e}]", 3000, errors);
                }

                break;
            case "divider":
                break;
            case "input":
                TextErrors(block["label"], $"{at}.label", 2000, errors, plainOnly: true);
                if (block["element"] is not JsonObject { } input || (string?)input["type"] is not { Length: > 0 })
                {
                    errors.Add($"{at}.element: required");
                }
                else if ((string?)input["action_id"] is { Length: > 255 })
                {
                    errors.Add($"{at}.element.action_id: longer than 255");
                }

                break;
            default:
                errors.Add($"{at}: unknown block type '{block["type"]}'");
                break;
        }

        if ((string?)block["block_id"] is { Length: > 255 })
        {
            errors.Add($"{at}.block_id: longer than 255");
        }
    }

    private static void ElementErrors(JsonObject? element, string at, HashSet<string> actionIds, List<string> errors)
    {
        if (element is null || (string?)element["type"] != "button")
        {
            errors.Add($"{at}: only buttons are expected here");
            return;
        }

        TextErrors(element["text"], $"{at}.text", 75, errors, plainOnly: true);
        if ((string?)element["action_id"] is not { Length: > 0 and <= 255 } actionId)
        {
            errors.Add($"{at}.action_id: 1 to 255 characters");
        }
        else if (!actionIds.Add(actionId))
        {
            errors.Add($"{at}.action_id: '{actionId}' is not unique in the message");
        }

        if ((string?)element["value"] is { Length: > 2000 })
        {
            errors.Add($"{at}.value: longer than 2000");
        }

        if ((string?)element["style"] is { } style && style is not ("primary" or "danger"))
        {
            errors.Add($"{at}.style: '{style}'");
        }

        if (element["confirm"] is JsonObject confirm)
        {
            TextErrors(confirm["title"], $"{at}.confirm.title", 100, errors, plainOnly: true);
            TextErrors(confirm["text"], $"{at}.confirm.text", 300, errors);
            TextErrors(confirm["confirm"], $"{at}.confirm.confirm", 30, errors, plainOnly: true);
            TextErrors(confirm["deny"], $"{at}.confirm.deny", 30, errors, plainOnly: true);
        }
    }

    private static void TextErrors(JsonNode? node, string at, int max, List<string> errors, bool plainOnly = false)
    {
        if (node is not JsonObject text || (string?)text["type"] is not ("plain_text" or "mrkdwn") || (string?)text["text"] is not { } value)
        {
            errors.Add($"{at}: not a text object");
            return;
        }

        if (plainOnly && (string?)text["type"] != "plain_text")
        {
            errors.Add($"{at}: must be plain_text");
        }

        if (value.Length is 0 || value.Length > max)
        {
            errors.Add($"{at}: {value.Length} characters, limit 1 to {max}");
        }
    }

    /// <summary>What Slack would refuse in a modal view (views.open).</summary>
    public static IReadOnlyList<string> ModalErrors(JsonObject view)
    {
        var errors = new List<string>();
        if ((string?)view["type"] != "modal")
        {
            errors.Add("view.type must be modal");
        }

        TextErrors(view["title"], "view.title", 24, errors, plainOnly: true);
        if (view["submit"] is not null)
        {
            TextErrors(view["submit"], "view.submit", 24, errors, plainOnly: true);
        }

        if (view["close"] is not null)
        {
            TextErrors(view["close"], "view.close", 24, errors, plainOnly: true);
        }

        if ((string?)view["private_metadata"] is { Length: > 3000 })
        {
            errors.Add("view.private_metadata: longer than 3000");
        }

        if ((string?)view["callback_id"] is { Length: > 255 })
        {
            errors.Add("view.callback_id: longer than 255");
        }

        if (view["blocks"] is not JsonArray { Count: > 0 and <= 100 } blocks)
        {
            errors.Add("view.blocks: 1 to 100 blocks");
            return errors;
        }

        var hasInput = false;
        var actionIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < blocks.Count; i++)
        {
            BlockErrors(blocks[i] as JsonObject, $"view.blocks[{i}]", actionIds, errors);
            hasInput |= (string?)blocks[i]?["type"] == "input";
        }

        if (hasInput && view["submit"] is null)
        {
            errors.Add("view.submit: required when the view has input blocks");
        }

        return errors;
    }

    private async Task ResponseUrlAsync(HttpContext context, string id)
    {
        _counts.AddOrUpdate("response_url", 1, (_, n) => n + 1);
        if (_record)
        {
            var raw = await new StreamReader(context.Request.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted);
            _responses.Add(new ResponseUrlPost(_responses.NextSeq(), id, ParseBody(context.Request.ContentType, raw)));
        }
        else
        {
            // Read the follow-up message, as Slack would, without keeping it.
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync("{\"ok\":true}", context.RequestAborted);
    }

    private string NextTs() => $"1700000000.{Interlocked.Increment(ref _ts):D6}";

    private static JsonObject Message(JsonObject body, string ts) => new()
    {
        ["type"] = "message",
        ["text"] = (string?)body["text"] ?? string.Empty,
        ["ts"] = ts,
        ["bot_id"] = "B0SHIPBOT",
    };

    private static JsonObject Error(string error) => new() { ["ok"] = false, ["error"] = error };

    private static JsonObject ParseBody(string? contentType, string raw)
    {
        if (contentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                return JsonNode.Parse(raw) as JsonObject ?? [];
            }
            catch (JsonException)
            {
                return new JsonObject { ["_unparsed"] = raw };
            }
        }

        var form = new JsonObject();
        foreach (var (key, value) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(raw))
        {
            form[key] = value.ToString();
        }

        return form;
    }

    // ================================================================ signed requests (what Slack sends ShipBot)

    public string NewTriggerId() => $"{Interlocked.Increment(ref _triggers)}.4242424242.{Guid.NewGuid():N}";

    /// <summary>A fresh <c>response_url</c> on this fake.</summary>
    public Uri NewResponseUrl() => new(BaseAddress, $"/response/{Guid.NewGuid():N}");

    /// <summary>Signs <paramref name="body"/> like Slack: <c>v0=</c> + hex HMAC-SHA256 of <c>v0:{ts}:{body}</c>; <paramref name="secret"/> forges with another key.</summary>
    public static SignedSlackRequest Sign(string path, string body, string contentType, DateTimeOffset? at = null, string? secret = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signer = new SlackSignature(secret ?? SigningSecret, TimeProvider.System, TimeSpan.FromMinutes(5));
        return new SignedSlackRequest(path, body, contentType, timestamp, signer.Sign(timestamp, Encoding.UTF8.GetBytes(body)));
    }

    /// <summary>The fields Slack sends for a slash command (the HTTP form and the Socket Mode payload alike).</summary>
    public Dictionary<string, string> SlashCommandFields(string userId, string userName, string text, string channelId, Uri? responseUrl = null, string? triggerId = null) => new()
    {
        ["token"] = "gIkuvaNzQIHg97ATvDxqgjtO",
        ["team_id"] = TeamId,
        ["team_domain"] = "shipbot-test",
        ["channel_id"] = channelId,
        ["channel_name"] = "releases",
        ["user_id"] = userId,
        ["user_name"] = userName,
        ["command"] = "/ship",
        ["text"] = text,
        ["api_app_id"] = "A0SHIPBOT",
        ["is_enterprise_install"] = "false",
        ["response_url"] = (responseUrl ?? NewResponseUrl()).ToString(),
        ["trigger_id"] = triggerId ?? NewTriggerId(),
    };

    public SignedSlackRequest SlashCommand(string userId, string userName, string text, string channelId, Uri? responseUrl = null, DateTimeOffset? at = null, string? secret = null) =>
        Sign("/slack/commands", Form(SlashCommandFields(userId, userName, text, channelId, responseUrl)), "application/x-www-form-urlencoded", at, secret);

    /// <summary>A <c>block_actions</c> payload: <paramref name="button"/> (a Block Kit button element taken from a posted message) clicked on the message at <paramref name="messageTs"/>.</summary>
    public JsonObject BlockActionsPayload(string userId, string userName, JsonObject button, string channelId, string messageTs, Uri? responseUrl = null)
    {
        var actionTs = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Random.Shared.Next(100000, 999999)}";
        return new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = userId, ["username"] = userName, ["name"] = userName, ["team_id"] = TeamId },
            ["api_app_id"] = "A0SHIPBOT",
            ["token"] = "gIkuvaNzQIHg97ATvDxqgjtO",
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = messageTs, ["channel_id"] = channelId, ["is_ephemeral"] = false },
            ["trigger_id"] = NewTriggerId(),
            ["team"] = new JsonObject { ["id"] = TeamId, ["domain"] = "shipbot-test" },
            ["channel"] = new JsonObject { ["id"] = channelId, ["name"] = "releases" },
            ["message"] = new JsonObject { ["type"] = "message", ["ts"] = messageTs, ["bot_id"] = "B0SHIPBOT" },
            ["response_url"] = (responseUrl ?? NewResponseUrl()).ToString(),
            ["actions"] = new JsonArray(new JsonObject
            {
                ["action_id"] = (string?)button["action_id"],
                ["block_id"] = (string?)button["block_id"] ?? "b1",
                ["text"] = button["text"]?.DeepClone(),
                ["value"] = (string?)button["value"],
                ["type"] = "button",
                ["action_ts"] = actionTs,
            }),
        };
    }

    public SignedSlackRequest BlockAction(string userId, string userName, JsonObject button, string channelId, string messageTs, Uri? responseUrl = null) =>
        Interaction(BlockActionsPayload(userId, userName, button, channelId, messageTs, responseUrl));

    /// <summary>An interaction as Slack posts it to the Request URL: the form field <c>payload</c> holding the JSON.</summary>
    public static SignedSlackRequest Interaction(JsonObject payload) =>
        Sign("/slack/interactions", Form(new Dictionary<string, string> { ["payload"] = payload.ToJsonString() }), "application/x-www-form-urlencoded");

    /// <summary>A <c>view_submission</c> of a modal ShipBot opened (as the views.open answer described it), with <paramref name="values"/> typed into its inputs (block id → action id → text).</summary>
    public static JsonObject ViewSubmissionPayload(string userId, string userName, JsonObject openedView, Dictionary<string, Dictionary<string, string>> values)
    {
        var view = (JsonObject)openedView.DeepClone();
        var state = new JsonObject();
        foreach (var (blockId, inputs) in values)
        {
            var block = new JsonObject();
            foreach (var (actionId, text) in inputs)
            {
                block[actionId] = new JsonObject { ["type"] = "plain_text_input", ["value"] = text };
            }

            state[blockId] = block;
        }

        view["state"] = new JsonObject { ["values"] = state };
        return new JsonObject
        {
            ["type"] = "view_submission",
            ["team"] = new JsonObject { ["id"] = TeamId, ["domain"] = "shipbot-test" },
            ["user"] = new JsonObject { ["id"] = userId, ["username"] = userName, ["name"] = userName, ["team_id"] = TeamId },
            ["api_app_id"] = "A0SHIPBOT",
            ["token"] = "gIkuvaNzQIHg97ATvDxqgjtO",
            ["trigger_id"] = $"{Random.Shared.Next()}.4242424242.{Guid.NewGuid():N}",
            ["view"] = view,
            ["response_urls"] = new JsonArray(),
        };
    }

    public static SignedSlackRequest ViewSubmission(string userId, string userName, JsonObject openedView, Dictionary<string, Dictionary<string, string>> values) =>
        Interaction(ViewSubmissionPayload(userId, userName, openedView, values));

    /// <summary>An Events API <c>event_callback</c> envelope carrying <paramref name="event"/>.</summary>
    public static JsonObject EventCallback(string eventId, JsonObject @event) => new()
    {
        ["token"] = "gIkuvaNzQIHg97ATvDxqgjtO",
        ["team_id"] = TeamId,
        ["api_app_id"] = "A0SHIPBOT",
        ["event"] = @event,
        ["type"] = "event_callback",
        ["event_id"] = eventId,
        ["event_time"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["authorizations"] = new JsonArray(new JsonObject { ["team_id"] = TeamId, ["user_id"] = "U0SHIPBOT", ["is_bot"] = true }),
    };

    public static SignedSlackRequest Event(JsonObject envelope, DateTimeOffset? at = null) =>
        Sign("/slack/events", envelope.ToJsonString(), "application/json", at);

    /// <summary>An <c>application/x-www-form-urlencoded</c> body encoded like Slack's (spaces as '+').</summary>
    public static string Form(IEnumerable<KeyValuePair<string, string>> fields) =>
        string.Join("&", fields.Select(f => $"{WebUtility.UrlEncode(f.Key)}={WebUtility.UrlEncode(f.Value)}"));

    // ================================================================ Block Kit reading

    /// <summary>Every button of a message (actions blocks and section accessories).</summary>
    public static IEnumerable<JsonObject> Buttons(JsonArray blocks)
    {
        foreach (var block in blocks.OfType<JsonObject>())
        {
            if (block["accessory"] is JsonObject { } accessory && (string?)accessory["type"] == "button")
            {
                yield return accessory;
            }

            if ((string?)block["type"] == "actions" && block["elements"] is JsonArray elements)
            {
                foreach (var element in elements.OfType<JsonObject>().Where(e => (string?)e["type"] == "button"))
                {
                    yield return element;
                }
            }
        }
    }

    /// <summary>All string values in a JSON tree, one per line.</summary>
    public static string Strings(JsonNode? node)
    {
        var text = new StringBuilder();
        Collect(node, text);
        return text.ToString();

        static void Collect(JsonNode? node, StringBuilder text)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, child) in o)
                    {
                        Collect(child, text);
                    }

                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Collect(child, text);
                    }

                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    text.AppendLine(v.GetValue<string>());
                    break;
            }
        }
    }

    public static string Json(JsonNode? node) => node?.ToJsonString(Relaxed) ?? "null";

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _live.Values)
        {
            connection.Context.Abort();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record Scripted(string? Error, int? RetryAfter, TimeSpan? Delay = null, Task? Gate = null);

    private sealed class SocketConnection(int number, WebSocket socket, HttpContext context)
    {
        private readonly SemaphoreSlim _send = new(1, 1);

        public int Number { get; } = number;

        public HttpContext Context { get; } = context;

        public async Task SendAsync(JsonObject message)
        {
            await _send.WaitAsync();
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
            finally
            {
                _send.Release();
            }
        }
    }

    /// <summary>A thread-safe append-only log whose entries a test can await.</summary>
    private sealed class Recorder<T>
        where T : class
    {
        private readonly object _gate = new();
        private readonly List<T> _items = [];
        private readonly List<(Func<T, bool> Match, TaskCompletionSource<T> Done)> _waiters = [];
        private int _next;

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _items.Count;
                }
            }
        }

        public int NextSeq() => Interlocked.Increment(ref _next) - 1;

        public IReadOnlyList<T> Snapshot()
        {
            lock (_gate)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            var matched = new List<TaskCompletionSource<T>>();
            lock (_gate)
            {
                _items.Add(item);
                foreach (var waiter in _waiters.ToList())
                {
                    if (waiter.Match(item))
                    {
                        _waiters.Remove(waiter);
                        matched.Add(waiter.Done);
                    }
                }
            }

            foreach (var done in matched)
            {
                done.TrySetResult(item);
            }
        }

        public async Task<T> WaitAsync(Func<T, bool> match, string what, TimeSpan timeout)
        {
            (Func<T, bool>, TaskCompletionSource<T>) waiter;
            lock (_gate)
            {
                if (_items.FirstOrDefault(match) is { } found)
                {
                    return found;
                }

                waiter = (match, new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously));
                _waiters.Add(waiter);
            }

            try
            {
                return await waiter.Item2.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                lock (_gate)
                {
                    _waiters.Remove(waiter);
                    throw new TimeoutException($"No {what} within {timeout.TotalSeconds:0.#} s. Seen:\n{string.Join("\n", _items)}");
                }
            }
        }
    }
}
