using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Commands;

/// <summary>One command on its way to its handler: what came in, the click's basis (if any), and the table row it matched.</summary>
internal sealed record CommandContext(InboundCommand Inbound, ClickBasis? Basis, CommandRow Row)
{
    public Actor Actor => Inbound.Actor;

    public Conversation Conversation => Inbound.Conversation;
}
