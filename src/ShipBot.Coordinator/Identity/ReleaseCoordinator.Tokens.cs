using ShipBot.Coordinator.Identity;

namespace ShipBot.Coordinator;

public sealed partial class ReleaseCoordinator
{
    /// <summary>API token management for <c>/ship token …</c>; without it (unit tests, the benchmark) the verb says it is unavailable.</summary>
    public ApiTokenService? Tokens { get; init; }

    private Task<CommandReply> TokensAsync(Core.Commands.TokenCommand command, Core.Settings.Actor actor, CancellationToken ct) =>
        Tokens is null
            ? Task.FromResult(CommandReply.Private("API tokens are not available here."))
            : Tokens.HandleAsync(command, actor, ct);
}
