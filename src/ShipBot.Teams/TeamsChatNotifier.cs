using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Http.Chat;

namespace ShipBot.Teams;

/// <summary>
/// Posts cards to Teams through the Bot Connector. The first publish of a key posts a message
/// with the Adaptive Card (an alert goes into the release card's thread in a channel); later
/// publishes replace that activity with <c>PUT</c>, so every card is updated in place. Where each
/// key's activity is, and the latest card of each key (the answer to an <c>Action.Execute</c>),
/// live in the chat state store. Updates of one message go in order through one lane, superseded
/// and identical updates are dropped (see <see cref="MessageLanes{T}"/>).
/// </summary>
public sealed partial class TeamsChatNotifier(BotConnectorClient connector, TeamsConversations conversations, IChatStateStore state, TimeProvider time, ILogger<TeamsChatNotifier> logger)
    : IChatNotifier
{
    public const string PlatformName = "teams";

    private static readonly TimeSpan Ttl = TimeSpan.FromDays(90);
    private static readonly TimeSpan PublishWait = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, string> _lastSent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _lastStored = new(StringComparer.Ordinal);
    private MessageLanes<Pending>? _lanes;

    public string Platform => PlatformName;

    public static string MessageKey(string key) => $"teams:msg:{key}";

    public static string CardKey(string key) => $"teams:card:{key}";

    public static string ActivityKey(string activityId) => $"teams:activity:{activityId}";

    private MessageLanes<Pending> Lanes => LazyInitializer.EnsureInitialized(ref _lanes, () => new MessageLanes<Pending>(DeliverAsync, (key, ex) => LogPublishFailed(key, ex.Message), time));

    public async Task PublishAsync(Conversation conversation, string key, Card card, string? threadKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(card);
        var names = await NamesAsync(conversation.Channel, card.Mentions, cancellationToken).ConfigureAwait(false);
        var rendered = AdaptiveCards.Render(card, names);

        // The latest card of a key answers Action.Execute at once, even while the update is still on its way.
        // An unchanged card (most health ticks) is not written again.
        var json = rendered.ToJsonString();
        var digest = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
        if (!_lastStored.TryGetValue(key, out var stored) || stored != digest)
        {
            await state.SetAsync(CardKey(key), json, Ttl, cancellationToken).ConfigureAwait(false);
            if (_lastStored.Count > 50_000)
            {
                _lastStored.Clear();
            }

            _lastStored[key] = digest;
        }

        await Lanes.PublishAsync(key, new Pending(conversation.Channel, rendered, card.Fallback, threadKey), PublishWait, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The latest card published under the key of the activity a user clicked, or null.</summary>
    public async Task<JsonObject?> LatestCardForActivityAsync(string activityId, CancellationToken ct = default)
    {
        if (await state.GetAsync(ActivityKey(activityId), ct).ConfigureAwait(false) is not { } key)
        {
            return null;
        }

        var json = await state.GetAsync(CardKey(key), ct).ConfigureAwait(false);
        return json is null ? null : JsonNode.Parse(json) as JsonObject;
    }

    private async Task DeliverAsync(string key, Pending item)
    {
        var reference = await conversations.GetAsync(item.ConversationId).ConfigureAwait(false)
            ?? throw new BotConnectorException($"no conversation reference for {item.ConversationId} (ShipBot has not heard from it yet)");
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["summary"] = item.Fallback,
            ["attachments"] = new JsonArray(AdaptiveCards.Attachment(item.Card)),
        };
        var digest = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(item.Card.ToJsonString())));
        if (await state.GetAsync(MessageKey(key)).ConfigureAwait(false) is { } existing)
        {
            if (_lastSent.TryGetValue(key, out var last) && last == digest)
            {
                return;
            }

            _lastSent.TryRemove(key, out _);
            activity["id"] = existing;
            await connector.UpdateAsync(reference.ServiceUrl, reference.ConversationId, existing, activity).ConfigureAwait(false);
            _lastSent[key] = digest;
            return;
        }

        var conversationId = reference.ConversationId;
        if (item.ThreadKey is not null && reference.ConversationType == "channel" && !conversationId.Contains(";messageid=", StringComparison.Ordinal)
            && await state.GetAsync(MessageKey(item.ThreadKey)).ConfigureAwait(false) is { } root)
        {
            // A reply in the release card's thread.
            conversationId = $"{conversationId};messageid={root}";
        }

        var id = await connector.SendAsync(reference.ServiceUrl, conversationId, activity).ConfigureAwait(false)
            ?? throw new BotConnectorException("the connector returned no activity id");
        await state.SetAsync(MessageKey(key), id, Ttl).ConfigureAwait(false);
        await state.SetAsync(ActivityKey(id), key, Ttl).ConfigureAwait(false);
        if (_lastSent.Count > 50_000)
        {
            _lastSent.Clear();
        }

        _lastSent[key] = digest;
    }

    private async Task<IReadOnlyDictionary<string, string>> NamesAsync(string conversationId, IReadOnlyList<string> mentions, CancellationToken ct)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in mentions.Where(m => !m.StartsWith("group:", StringComparison.Ordinal)))
        {
            if (_names.TryGetValue(id, out var known))
            {
                names[id] = known;
                continue;
            }

            try
            {
                if (await conversations.GetAsync(conversationId, ct).ConfigureAwait(false) is { } reference
                    && await connector.MemberNameAsync(reference.ServiceUrl, reference.ConversationId, id, ct).ConfigureAwait(false) is { Length: > 0 } name)
                {
                    names[id] = _names[id] = name;
                }
            }
            catch (Exception ex) when (ex is BotConnectorException or HttpRequestException or TaskCanceledException)
            {
                // The id is shown instead of the name; the mention still notifies.
                LogNameUnknown(id, ex.Message);
            }
        }

        return names;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams post of {Key} failed: {Reason}")]
    private partial void LogPublishFailed(string key, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "No display name for {Id}: {Reason}")]
    private partial void LogNameUnknown(string id, string reason);

    private sealed record Pending(string ConversationId, JsonObject Card, string Fallback, string? ThreadKey);
}
