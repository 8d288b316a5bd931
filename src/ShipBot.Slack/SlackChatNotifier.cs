using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Http.Chat;

namespace ShipBot.Slack;

/// <summary>
/// Posts cards to Slack. The first publish of a key is a <c>chat.postMessage</c> (threaded under
/// <c>threadKey</c>'s message and broadcast to the channel, so alerts notify); later publishes of
/// the key are <c>chat.update</c>s of that message. Where each key's message is lives in the chat
/// state store, so updates land in place after a restart and on every replica.
/// Each message has one lane: its updates are sent in order, one at a time; an update that is
/// superseded while it waits is dropped (the newer card carries the state), and an update identical
/// to the last one sent is skipped, so frequent health readings cannot exhaust Slack's rate limits.
/// </summary>
public sealed partial class SlackChatNotifier(SlackWebApi api, IChatStateStore state, IOptions<SlackOptions> options, TimeProvider time, ILogger<SlackChatNotifier> logger)
    : IChatNotifier
{
    public const string PlatformName = "slack";

    private static readonly TimeSpan RefTtl = TimeSpan.FromDays(90);

    // A digest of the last payload sent per key, to skip updates that would change nothing.
    private readonly ConcurrentDictionary<string, string> _lastSent = new(StringComparer.Ordinal);
    private MessageLanes<Pending>? _lanes;

    public string Platform => PlatformName;

    public static string RefKey(string key) => $"slack:msg:{key}";

    private MessageLanes<Pending> Lanes => LazyInitializer.EnsureInitialized(ref _lanes, () => new MessageLanes<Pending>(DeliverAsync, (key, ex) => LogPublishFailed(key, ex.Message), time));

    public async Task PublishAsync(Conversation conversation, string key, Card card, string? threadKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(card);

        // Usually the call is done well within the wait; when Slack is slow or rate limiting, the
        // coordinator goes on and the lane finishes in the background.
        await Lanes.PublishAsync(key, new Pending(conversation.Channel, SlackBlockKit.Message(card), threadKey), options.Value.PublishWait, cancellationToken).ConfigureAwait(false);
    }

    private async Task DeliverAsync(string laneKey, Pending item)
    {
        var payload = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(item.Message.ToJsonString())));
        var existing = SlackMessageRef.Parse(await state.GetAsync(RefKey(laneKey)).ConfigureAwait(false));
        if (existing is not null)
        {
            if (_lastSent.TryGetValue(laneKey, out var last) && last == payload)
            {
                return;
            }

            try
            {
                _lastSent.TryRemove(laneKey, out _);
                await api.UpdateAsync(existing, item.Message).ConfigureAwait(false);
                Remember(laneKey, payload);
                return;
            }
            catch (SlackApiException ex) when (ex.Error is "message_not_found" or "cant_update_message" or "channel_not_found" or "is_archived")
            {
                // Deleted (or unreachable) message: post a fresh one below and remember that instead.
                LogRepost(laneKey, ex.Error);
            }
        }

        string? threadTs = null;
        if (item.ThreadKey is not null && SlackMessageRef.Parse(await state.GetAsync(RefKey(item.ThreadKey)).ConfigureAwait(false)) is { } parent
            && parent.Channel == item.Channel)
        {
            threadTs = parent.Ts;
        }

        var answer = await api.PostMessageAsync(item.Channel, item.Message, threadTs, broadcast: threadTs is not null).ConfigureAwait(false);
        var posted = new SlackMessageRef((string?)answer["channel"] ?? item.Channel, (string?)answer["ts"] ?? throw new SlackApiException("chat.postMessage", "no_ts"));
        await state.SetAsync(RefKey(laneKey), posted.ToString(), RefTtl).ConfigureAwait(false);
        Remember(laneKey, payload);
    }

    private void Remember(string key, string digest)
    {
        if (_lastSent.Count > 50_000)
        {
            _lastSent.Clear();
        }

        _lastSent[key] = digest;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack post of {Key} failed: {Reason}")]
    private partial void LogPublishFailed(string key, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack message of {Key} is gone ({Error}); posting a new one")]
    private partial void LogRepost(string key, string error);

    private sealed record Pending(string Channel, JsonObject Message, string? ThreadKey);
}
