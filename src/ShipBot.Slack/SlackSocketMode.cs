using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Ports;

namespace ShipBot.Slack;

/// <summary>
/// Socket Mode: ShipBot opens a WebSocket to Slack (<c>apps.connections.open</c> with the app-level
/// token) instead of receiving HTTP requests, for workspaces that cannot expose a public endpoint.
/// Every envelope is acknowledged with its <c>envelope_id</c> (a slash command's answer rides in
/// the acknowledgement's payload); a repeated envelope is acknowledged and changes nothing. On a
/// <c>disconnect</c> message or a dropped connection ShipBot opens a new one, backing off up to
/// 30 s while Slack is unreachable. The handlers are the HTTP endpoints' own.
/// </summary>
public sealed partial class SlackSocketMode(SlackWebApi api, SlackInbound inbound, IIdempotencyStore idempotency, TimeProvider time, ILogger<SlackSocketMode> logger)
    : BackgroundService
{
    private static readonly TimeSpan EnvelopeWindow = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private int _connections;

    /// <summary>True while a WebSocket is open and Slack said hello.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>How many connections have been opened so far (reconnects included).</summary>
    public int Connections => _connections;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            var reconnectAtOnce = false;
            try
            {
                var url = await api.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                using var socket = new ClientWebSocket();
                socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(20);
                await socket.ConnectAsync(url, stoppingToken).ConfigureAwait(false);
                Interlocked.Increment(ref _connections);
                LogConnected(url.Host);
                reconnectAtOnce = await ReceiveAsync(socket, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is WebSocketException or SlackApiException or HttpRequestException or IOException or TaskCanceledException or JsonException)
            {
                LogConnectionLost(ex.Message, backoff.TotalSeconds);
            }
            finally
            {
                IsConnected = false;
            }

            if (!reconnectAtOnce)
            {
                try
                {
                    await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    /// <summary>Reads envelopes until the connection ends; true when Slack asked for a reconnect.</summary>
    private async Task<bool> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        using var sendLock = new SemaphoreSlim(1, 1);
        var pending = new List<Task>();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var text = await ReadMessageAsync(socket, ct).ConfigureAwait(false);
                if (text is null)
                {
                    return false;
                }

                if (JsonNode.Parse(text) is not JsonObject envelope)
                {
                    continue;
                }

                switch ((string?)envelope["type"])
                {
                    case "hello":
                        IsConnected = true;
                        continue;
                    case "disconnect":
                        LogDisconnect((string?)envelope["reason"] ?? "unknown");
                        return true;
                }

                if ((string?)envelope["envelope_id"] is { Length: > 0 } id)
                {
                    pending.RemoveAll(t => t.IsCompleted);
                    pending.Add(Task.Run(() => HandleAsync(socket, sendLock, id, envelope, ct), CancellationToken.None));
                }
            }

            return false;
        }
        finally
        {
            // Let in-flight envelopes send their acknowledgements before the socket is disposed.
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(ClientWebSocket socket, SemaphoreSlim sendLock, string envelopeId, JsonObject envelope, CancellationToken ct)
    {
        var received = ShipBot.Telemetry.ShipBotTelemetry.Timestamp();
        JsonObject? answer = null;
        try
        {
            if (!await idempotency.TryClaimAsync($"slack:envelope:{envelopeId}", EnvelopeWindow, ct).ConfigureAwait(false))
            {
                LogDuplicate(envelopeId, (int?)envelope["retry_attempt"] ?? 0);
            }
            else
            {
                var payload = envelope["payload"] as JsonObject ?? [];
                switch ((string?)envelope["type"])
                {
                    case "slash_commands":
                        if (SlashCommand.From(f => (string?)payload[f]) is { } command)
                        {
                            answer = await inbound.OnSlashCommandAsync(command, ct).ConfigureAwait(false);
                        }

                        break;
                    case "interactive":
                        answer = await inbound.OnInteractionAsync(payload, ct).ConfigureAwait(false);
                        break;
                    case "events_api":
                        _ = Task.Run(() => inbound.OnEventAsync(payload, ct), CancellationToken.None);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is StoreUnavailableException or SlackApiException or HttpRequestException)
        {
            LogHandlingFailed(envelopeId, ex.Message);
            if ((string?)envelope["type"] == "slash_commands")
            {
                answer = SlackInbound.Ephemeral("State store unavailable — nothing was changed, try again.");
            }
        }

        var ack = new JsonObject { ["envelope_id"] = envelopeId };
        if (answer is not null)
        {
            ack["payload"] = answer;
        }

        await sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(ack.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, ct).ConfigureAwait(false);
                ShipBot.Telemetry.ShipBotTelemetry.RecordAck(SlackChatNotifier.PlatformName, (string?)envelope["type"] switch
                {
                    "slash_commands" => "command",
                    "interactive" => "click",
                    _ => "event",
                }, ShipBot.Telemetry.ShipBotTelemetry.SecondsSince(received));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            LogHandlingFailed(envelopeId, ex.Message);
        }
        finally
        {
            sendLock.Release();
        }
    }

    private static async Task<string?> ReadMessageAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(false);
                }

                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (message.Length > 4 * 1024 * 1024)
            {
                throw new IOException("Socket Mode message larger than 4 MiB.");
            }

            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connected to {Host}")]
    private partial void LogConnected(string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode connection lost ({Reason}); reconnecting in {Seconds} s")]
    private partial void LogConnectionLost(string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack asked Socket Mode to disconnect ({Reason}); reconnecting")]
    private partial void LogDisconnect(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack envelope {EnvelopeId} delivered again (retry {Attempt}); acknowledged, ignored")]
    private partial void LogDuplicate(string envelopeId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack envelope {EnvelopeId} failed: {Reason}")]
    private partial void LogHandlingFailed(string envelopeId, string reason);
}
