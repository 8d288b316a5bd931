using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Chat;
using ShipBot.Coordinator.Commands;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Handlers.Queries;

/// <summary>Read-only answers about releases: the list, one release's card or audit trail, its contract, its notes, its latest outcome report.</summary>
internal sealed class ReleaseQueries(IReleaseStore store, ReleaseLookup lookup, ReleaseAccess access, CardPublisher cards, TimeProvider time)
{
    public Task<CommandReply> ListAsync(ListCommand c, CommandContext context, CancellationToken ct) => ListAsync(ct);

    public async Task<CommandReply> StatusAsync(StatusCommand c, CommandContext context, CancellationToken ct)
    {
        if (c.Release is null)
        {
            return await ListAsync(ct).ConfigureAwait(false);
        }

        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (c.Audit)
        {
            var audit = await store.GetAuditAsync(release.Id, ct).ConfigureAwait(false);
            var auditCard = ReleaseCards.Audit(release, audit);
            return CommandReply.Public(auditCard.Fallback, auditCard);
        }

        var card = await cards.ReleaseCardAsync(release, ct).ConfigureAwait(false);
        return CommandReply.Public(card.Fallback, card);
    }

    public async Task<CommandReply> ContractAsync(ContractCommand c, CommandContext context, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        var markdown = ContractDocument.Markdown(release, access.PolicyOf(release.Id.Service));
        return CommandReply.Public($"📄 {ContractDocument.FileName(release)}\n\n{markdown}");
    }

    public async Task<CommandReply> NotesAsync(NotesCommand c, CommandContext context, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        return CommandReply.Public($"📝 Release notes for {release.Id}: {release.Contract.ReleaseNotes}");
    }

    public async Task<CommandReply> OutcomeAsync(OutcomeCommand c, CommandContext context, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (release.Outcomes.Count == 0)
        {
            var policy = access.PolicyOf(release.Id.Service);
            var when = release.OperatingSince is { } since ? $" The first checkpoint is at {ReleaseCards.Clock(since + policy.OutcomeCheckpoints[0])}." : " Checkpoints start after handoff to operations.";
            return CommandReply.Private($"No outcome report for {release.Id} yet.{when}");
        }

        var last = release.Outcomes[^1];
        return CommandReply.Public($"📈 Outcome report #{last.Checkpoint} for {release.Id} ({ReleaseCards.Clock(last.At)}):\n{string.Join("\n", last.Lines.Select(l => "• " + l))}");
    }

    private async Task<CommandReply> ListAsync(CancellationToken ct)
    {
        var releases = await store.ListActiveAsync(ct).ConfigureAwait(false);
        var halts = await store.GetHaltsAsync(ct).ConfigureAwait(false);
        var card = ReleaseCards.List(releases, halts, time.GetUtcNow());
        return CommandReply.Public(card.Fallback, card);
    }
}
