using System.Threading.Channels;
using ShipBot.Core.Cards;

namespace ShipBot.Console;

/// <summary>One message of a console channel; an updated message keeps its id and gets a higher version.</summary>
public sealed record ConsoleMessage(
    string Id,
    string Channel,
    string Author,
    string Text,
    Card? Card,
    long Version,
    DateTimeOffset PostedAt,
    string? VisibleTo,
    string? ThreadOf);

/// <summary>A person the console lets you act as: configured user id, display name, groups.</summary>
public sealed record ConsoleUser(string Id, string Name, IReadOnlyList<string> Groups)
{
    /// <summary>An API token caller's scopes (null for people).</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}

/// <summary>
/// The console's channels, kept in memory (the console is a local stand-in for a chat platform),
/// with live subscriptions for server-sent events. At most <see cref="MaxMessagesPerChannel"/>
/// messages per channel are kept; the oldest go first.
/// </summary>
public sealed class ConsoleChannelHub(TimeProvider time)
{
    public const int MaxMessagesPerChannel = 1000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<ConsoleMessage>> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConsoleMessage> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);
    private readonly List<(string Channel, Channel<ConsoleMessage> Sink)> _subscribers = [];
    private long _next;

    public IReadOnlyList<string> Channels
    {
        get
        {
            lock (_gate)
            {
                return _channels.Keys.Order(StringComparer.Ordinal).ToList();
            }
        }
    }

    public void EnsureChannel(string channel)
    {
        lock (_gate)
        {
            _channels.TryAdd(channel, []);
        }
    }

    public ConsoleMessage Post(string channel, string author, string text, Card? card, string? visibleTo = null, string? threadOf = null)
    {
        ConsoleMessage message;
        lock (_gate)
        {
            message = Append(channel, author, text, card, visibleTo, threadOf);
        }

        Broadcast(message);
        return message;
    }

    /// <summary>Posts, or updates in place the message already posted under <paramref name="key"/>; one message per key, even under concurrent calls.</summary>
    public ConsoleMessage Upsert(string channel, string key, string text, Card card, string? threadKey)
    {
        ConsoleMessage message;
        lock (_gate)
        {
            if (_keys.TryGetValue(key, out var id) && _byId.TryGetValue(id, out var existing))
            {
                message = existing with { Text = text, Card = card, Version = existing.Version + 1 };
                _byId[id] = message;
                var list = _channels[existing.Channel];
                var index = list.FindIndex(m => m.Id == id);
                if (index >= 0)
                {
                    list[index] = message;
                }
            }
            else
            {
                var threadOf = threadKey is not null && _keys.TryGetValue(threadKey, out var parent) ? parent : null;
                message = Append(channel, "shipbot", text, card, null, threadOf);
                _keys[key] = message.Id;
            }
        }

        Broadcast(message);
        return message;
    }

    private ConsoleMessage Append(string channel, string author, string text, Card? card, string? visibleTo, string? threadOf)
    {
        var message = new ConsoleMessage($"m{++_next}", channel, author, text, card, 1, time.GetUtcNow(), visibleTo, threadOf);
        if (!_channels.TryGetValue(channel, out var list))
        {
            _channels[channel] = list = [];
        }

        list.Add(message);
        _byId[message.Id] = message;
        if (list.Count > MaxMessagesPerChannel)
        {
            _byId.Remove(list[0].Id);
            list.RemoveAt(0);
        }

        return message;
    }

    /// <summary>The id of the message published under <paramref name="key"/> (a release's card), if it is still kept.</summary>
    public ConsoleMessage? ByKey(string key)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(key, out var id) ? _byId.GetValueOrDefault(id) : null;
        }
    }

    public ConsoleMessage? Get(string id)
    {
        lock (_gate)
        {
            return _byId.GetValueOrDefault(id);
        }
    }

    public IReadOnlyList<ConsoleMessage> List(string channel, string? viewer)
    {
        lock (_gate)
        {
            return _channels.TryGetValue(channel, out var list)
                ? list.Where(m => m.VisibleTo is null || (viewer is not null && string.Equals(m.VisibleTo, viewer, StringComparison.OrdinalIgnoreCase))).ToList()
                : [];
        }
    }

    /// <summary>Live updates of one channel until <paramref name="cancellationToken"/> ends the subscription.</summary>
    public async IAsyncEnumerable<ConsoleMessage> SubscribeAsync(string channel, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sink = Channel.CreateBounded<ConsoleMessage>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        var entry = (channel, sink);
        lock (_gate)
        {
            _subscribers.Add(entry);
        }

        try
        {
            await foreach (var message in sink.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return message;
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(entry);
            }
        }
    }

    private void Broadcast(ConsoleMessage message)
    {
        List<Channel<ConsoleMessage>> sinks;
        lock (_gate)
        {
            sinks = _subscribers.Where(s => s.Channel == message.Channel).Select(s => s.Sink).ToList();
        }

        foreach (var sink in sinks)
        {
            sink.Writer.TryWrite(message);
        }
    }
}
