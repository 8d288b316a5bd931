using ShipBot.Coordinator.Commands;
using ShipBot.Core.Commands;

namespace ShipBot.Coordinator.Handlers.Tokens;

/// <summary><c>/ship token …</c>: API token management through <see cref="Identity.ApiTokenService"/>; without it (unit tests, the benchmark) the verb says it is unavailable.</summary>
internal sealed class TokenHandler(Integrations integrations)
{
    public Task<CommandReply> TokensAsync(TokenCommand c, CommandContext context, CancellationToken ct) =>
        integrations.Tokens is not { } tokens
            ? Task.FromResult(CommandReply.Private("API tokens are not available here."))
            : tokens.HandleAsync(c, context.Actor, ct);
}
