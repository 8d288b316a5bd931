using System.Text.Json;
using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;
using ShipBot.Telemetry;

namespace ShipBot.Coordinator.Commands;

/// <summary>
/// The way in for every command: the sender-scoped request id answers a duplicate with the first
/// answer, the text is parsed, a click on an out-of-date card is stopped, the command goes to its
/// row's handler, a refusal is audited, and a store outage becomes a reply that says whether
/// anything was saved.
/// </summary>
internal sealed partial class CommandPipeline(
    CommandTable table,
    ReleaseLookup lookup,
    IIdempotencyStore idempotency,
    IReleaseStore store,
    CoordinatorSettings settings,
    TimeProvider time,
    ILogger log)
{
    /// <summary>How long a request id stays claimed without an answer (a crash mid-request frees it after this).</summary>
    private static readonly TimeSpan ClaimTimeToLive = TimeSpan.FromSeconds(30);

    public async Task<CommandReply> HandleAsync(InboundCommand inbound, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inbound);
        using var span = ReleaseTelemetry.StartInbound(inbound.Conversation.Platform, inbound.Text);
        WriteTracker.Begin();
        RequestScope.Begin();
        try
        {
            // Parsing reads nothing, so the claim can read the release the command names in the same step.
            var parsed = inbound.Command is { } command ? ParseResult.Ok(command) : CommandParser.Parse(inbound.Text);

            // Scoped to the sender: someone else's request id is a different request.
            var requestKey = string.IsNullOrEmpty(inbound.RequestId) ? null : ScopedRequestId(inbound);
            if (requestKey is not null
                && await FirstAnswerAsync(requestKey, NamedRelease(parsed.Command), cancellationToken).ConfigureAwait(false) is { } first)
            {
                return first;
            }

            span.TagCommand(parsed.Command);
            var row = parsed.Command is null ? null : table.Find(parsed.Command);
            var answering = requestKey is null ? null : RequestScope.Answer(requestKey, KeepFor(inbound, row), change => ReplayJson(Handlers.ReleaseActions.Reply(change)));
            CommandReply reply;
            if (!parsed.Success)
            {
                reply = CommandReply.Private($"{parsed.Error} Usage: `{parsed.Usage}` — `/ship help` lists every verb.") with { Refusal = RefusalKind.Rule };
            }
            else if (inbound.Basis is not null && !ClickBasis.TryParse(inbound.Basis, out _))
            {
                reply = CommandReply.Private("This button comes from a card ShipBot cannot read any more. Nothing was changed — use the updated card.");
            }
            else if (row is null)
            {
                reply = CommandReply.Private("That command is not supported here.");
            }
            else
            {
                ClickBasis.TryParse(inbound.Basis, out var basis);
                try
                {
                    reply = await ClickGuard.StaleReplyAsync(parsed.Command!, basis, n => lookup.ResolveAsync(n, cancellationToken)).ConfigureAwait(false) is { } stale
                        ? await StaleAsync(parsed.Command!, inbound.Actor, stale, cancellationToken).ConfigureAwait(false)
                        : await row.Handle(parsed.Command!, new CommandContext(inbound, basis, row), cancellationToken).ConfigureAwait(false);
                }
                catch (ReleaseRuleException ex)
                {
                    reply = CommandReply.Private(ex.Message) with { Refusal = ex.Kind };
                    await AuditRefusalAsync(parsed.Command!, inbound.Actor, ex.Message, cancellationToken).ConfigureAwait(false);
                }
            }

            if (answering is not null)
            {
                // Saves made from here on (effects still running) no longer speak for this request.
                answering.Closed = true;
                var answer = ReplayJson(reply);
                if (!string.Equals(answer, answering.Kept, StringComparison.Ordinal))
                {
                    // The last save kept another answer (or nothing was saved): this one is final.
                    await idempotency.SetAsync(answering.RequestKey, answer, answering.Keep, cancellationToken).ConfigureAwait(false);
                }
            }

            return reply;
        }
        catch (StoreUnavailableException ex)
        {
            LogStoreUnavailable(ex.Message);
            return (WriteTracker.HasWritten
                ? CommandReply.Private("State store unavailable part-way: some of this was saved — check `/ship status` before trying again.")
                : CommandReply.Private("State store unavailable — nothing was changed, try again.")) with { Refusal = RefusalKind.Unavailable };
        }
    }

    /// <summary>
    /// How long the answer serves a repeat of the same request. A click's answer serves a double click, then is
    /// forgotten: a later click on the same button is judged against its basis again (it says what changed), and a
    /// refused button works once the reason is gone. A read-only verb's answer only has to outlive a duplicate
    /// delivery; a command that may change something keeps its answer for the idempotency window.
    /// </summary>
    private TimeSpan KeepFor(InboundCommand inbound, CommandRow? row) =>
        inbound.IsClick ? settings.DoubleClickWindow
        : row is { ReadOnly: true } ? settings.ReadAnswerWindow
        : settings.IdempotencyWindow;

    /// <summary>
    /// The first answer to a repeated request id, or null when this call is the first and now owns
    /// the id. A duplicate that arrives while the first is still being handled waits briefly for its answer.
    /// </summary>
    private async Task<CommandReply?> FirstAnswerAsync(string requestId, ReleaseId? named, CancellationToken ct)
    {
        // Claim first: the common case (a new id) costs one round trip; only a duplicate reads the answer.
        // When one store keeps both the request ids and the releases, the same round trip reads the release the
        // command names and the halts, as they are when the id is claimed; the handler then judges that read.
        if (named is { } id && ReferenceEquals(idempotency, store))
        {
            var opening = await idempotency.TryClaimAndReadAsync(requestId, ClaimTimeToLive, id, ct).ConfigureAwait(false);
            if (opening.Claimed)
            {
                if (opening.Read)
                {
                    RequestScope.RememberOpening(id, opening.Release, opening.Halts);
                }

                return null;
            }
        }
        else if (await idempotency.TryClaimAsync(requestId, ClaimTimeToLive, ct).ConfigureAwait(false))
        {
            return null;
        }

        for (var i = 0; i < 20; i++)
        {
            if (await idempotency.GetAsync(requestId, ct).ConfigureAwait(false) is { } answered)
            {
                return JsonSerializer.Deserialize<CommandReply>(answered, ShipBotJson.Options) ?? CommandReply.Private("Already handled.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct).ConfigureAwait(false);
        }

        return CommandReply.Private("This request is already being handled; its result will show on the release card.");
    }

    /// <summary>The release a command names as service@version, or null (a bare service name is resolved by its handler).</summary>
    private static ReleaseId? NamedRelease(ShipCommand? command) =>
        command is IReleaseCommand { Release: var name } && ReleaseId.TryParse(name, out var id) ? id : null;

    /// <summary>A reply as kept under its request id (and as a save keeps it: the same text, so they compare).</summary>
    private static string ReplayJson(CommandReply reply) => JsonSerializer.Serialize(Identity.ApiTokenService.ForReplay(reply), ShipBotJson.Options);

    private static string ScopedRequestId(InboundCommand inbound) => $"{inbound.Conversation.Platform}:{inbound.Actor.Id}:{inbound.RequestId}";

    /// <summary>A click on an out-of-date card: nothing changes; the release's audit trail records it.</summary>
    private async Task<CommandReply> StaleAsync(ShipCommand command, Actor actor, string reason, CancellationToken ct)
    {
        if (command is IReleaseCommand { Release: var name } && ReleaseId.TryParse(name, out var id)
            && await store.GetAsync(id.Value, ct).ConfigureAwait(false) is not null)
        {
            await store.AppendAuditAsync(id.Value, new AuditEntry(time.GetUtcNow(), actor.Id, $"stale click: {command.Verb}", reason), ct).ConfigureAwait(false);
        }

        return CommandReply.Private(reason);
    }

    private async Task AuditRefusalAsync(ShipCommand command, Actor actor, string message, CancellationToken ct)
    {
        if (command is IReleaseCommand { Release: var name } && ReleaseId.TryParse(name, out var id)
            && await store.GetAsync(id.Value, ct).ConfigureAwait(false) is not null)
        {
            await store.AppendAuditAsync(id.Value, new AuditEntry(time.GetUtcNow(), actor.Id, $"refused {command.Verb}", message), ct).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "State store unavailable: {Reason}")]
    private partial void LogStoreUnavailable(string reason);
}
