using ShipBot.Core.Cards;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Console;

/// <summary>The chat notifier of the console: cards become channel messages, a repeated key updates its message in place.</summary>
public sealed class ConsoleChatNotifier(ConsoleChannelHub hub) : IChatNotifier
{
    public const string PlatformName = "console";

    public string Platform => PlatformName;

    public Task PublishAsync(Conversation conversation, string key, Card card, string? threadKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(card);
        hub.Upsert(conversation.Channel, key, card.Fallback, card, threadKey);
        return Task.CompletedTask;
    }
}
