using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShipBot.Core.Ports;

namespace ShipBot.Teams;

/// <summary>Where a conversation lives: enough to post into it proactively (alerts, card updates).</summary>
public sealed record ConversationReference(string ConversationId, string ServiceUrl, string? TenantId, string? ConversationType);

/// <summary>
/// Conversation references, stored in the chat state store (so every replica, and a restarted one,
/// can post proactively) and remembered from every authenticated activity.
/// </summary>
public sealed class TeamsConversations(IChatStateStore state)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromDays(180);
    private readonly ConcurrentDictionary<string, ConversationReference> _known = new(StringComparer.Ordinal);

    public static string Key(string conversationId) => $"teams:conv:{conversationId}";

    public async Task<ConversationReference?> RememberAsync(JsonObject activity, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(activity);
        if ((string?)activity["conversation"]?["id"] is not { Length: > 0 } id || (string?)activity["serviceUrl"] is not { Length: > 0 } serviceUrl)
        {
            return null;
        }

        var reference = new ConversationReference(
            id,
            serviceUrl,
            (string?)activity["conversation"]?["tenantId"] ?? (string?)activity["channelData"]?["tenant"]?["id"],
            (string?)activity["conversation"]?["conversationType"]);
        if (_known.TryGetValue(id, out var known) && known == reference)
        {
            return reference;
        }

        await state.SetAsync(Key(id), Serialize(reference), Ttl, ct).ConfigureAwait(false);
        _known[id] = reference;
        return reference;
    }

    /// <summary>
    /// The stored form: the reference's fields and <c>"SchemaVersion":1</c> (a reference stored
    /// without it is version 1 too). Readers ignore fields they do not know, so an older ShipBot
    /// reads it as well.
    /// </summary>
    public static string Serialize(ConversationReference reference)
    {
        var json = JsonSerializer.SerializeToNode(reference)!.AsObject();
        json["SchemaVersion"] = SchemaVersion;
        return json.ToJsonString();
    }

    /// <summary>The schema version of the conversation references this ShipBot stores: 1.</summary>
    public const int SchemaVersion = 1;

    public async Task<ConversationReference?> GetAsync(string conversationId, CancellationToken ct = default)
    {
        if (_known.TryGetValue(conversationId, out var known))
        {
            return known;
        }

        var stored = await state.GetAsync(Key(conversationId), ct).ConfigureAwait(false);
        var reference = stored is null ? null : JsonSerializer.Deserialize<ConversationReference>(stored);
        if (reference is not null)
        {
            _known[conversationId] = reference;
        }

        return reference;
    }
}
