using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Commands;
using ShipBot.Core.Commands;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Handlers.Approval;

/// <summary>
/// Getting a release approved: ticking and waiving checklist items, approving and rejecting the
/// contract. Separation of duties is said before the role check: a requester never approves or
/// waives on their own release, whatever roles they hold.
/// </summary>
internal sealed class ApprovalHandlers(ReleaseLookup lookup, ReleaseAccess access, ReleaseActions actions, TimeProvider time)
{
    public async Task<CommandReply> CheckAsync(CheckCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (!ReleaseAccess.IsRequester(release, actor))
        {
            access.Require(context, release.Id.Service);
        }

        return await actions.ApplyAsync(release, context, "check", r => r.Confirm(ReleaseAccess.PersonOf(actor), c.Items, time.GetUtcNow(), c.Evidence), ct).ConfigureAwait(false);
    }

    public async Task<CommandReply> WaiveAsync(WaiveCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (ReleaseAccess.IsRequester(release, actor))
        {
            // Said before the role check: a requester who is also an approver still may not waive on their own release.
            throw new ReleaseRuleException($"{actor.Mention} requested {release.Id} and cannot waive its checklist items (separation of duties): another approver must.") { Kind = RefusalKind.Forbidden };
        }

        access.Require(context, release.Id.Service);
        return await actions.ApplyAsync(release, context, "waive", r => r.Waive(ReleaseAccess.PersonOf(actor), c.Item, c.Reason, time.GetUtcNow()), ct).ConfigureAwait(false);
    }

    public async Task<CommandReply> ApproveAsync(ApproveCommand c, CommandContext context, CancellationToken ct)
    {
        var actor = context.Actor;
        var release = await lookup.ResolveAsync(c.Release, ct).ConfigureAwait(false);
        if (ReleaseAccess.IsRequester(release, actor))
        {
            // Said before the role check: even a requester who is also an approver may not approve their own release.
            throw new ReleaseRuleException($"{actor.Mention} requested {release.Id} and cannot approve it (separation of duties).") { Kind = RefusalKind.Forbidden };
        }

        access.Require(context, release.Id.Service);
        return await actions.ApplyAsync(release, context, "approve", r => r.Approve(ReleaseAccess.PersonOf(actor), time.GetUtcNow()), ct).ConfigureAwait(false);
    }

    public Task<CommandReply> RejectAsync(RejectCommand c, CommandContext context, CancellationToken ct) =>
        actions.OnReleaseAsync(c.Release, context, (r, p, now) => r.Reject(p, c.Reason, now), ct);
}
