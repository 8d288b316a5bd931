using System.Collections.Concurrent;
using ShipBot.Coordinator;
using ShipBot.Core.Settings;

namespace ShipBot.Testing;

/// <summary>
/// A substitute for the application layer, for adapter tests: records every <see cref="InboundCommand"/> it is
/// handed and answers each with <see cref="Reply"/>.
/// </summary>
public sealed class RecordingCommands : IReleaseCommands
{
    public ConcurrentQueue<InboundCommand> Received { get; } = new();

    public CommandReply Reply { get; set; } = CommandReply.Private("ok");

    public AccessPolicy Access { get; } = new(new Dictionary<string, ServicePolicy>(StringComparer.Ordinal), []);

    public Task<CommandReply> HandleAsync(InboundCommand inbound, CancellationToken cancellationToken = default)
    {
        Received.Enqueue(inbound);
        return Task.FromResult(Reply);
    }
}
