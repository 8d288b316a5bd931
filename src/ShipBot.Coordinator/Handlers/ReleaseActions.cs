using ShipBot.Coordinator.Access;
using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Transitions;
using ShipBot.Core.Releases;
using ShipBot.Core.Settings;

namespace ShipBot.Coordinator.Handlers;

/// <summary>
/// The common shape of a command on one release: find it by name, check the row's roles, apply the
/// transition through the writer (guarded by the click's basis), and answer with its message.
/// </summary>
internal sealed class ReleaseActions(ReleaseLookup lookup, ReleaseAccess access, TransitionWriter writer, TimeProvider time)
{
    public async Task<CommandReply> OnReleaseAsync(string name, CommandContext context, Func<Release, Person, DateTimeOffset, ReleaseChange> apply, CancellationToken ct)
    {
        var release = await lookup.ResolveAsync(name, ct).ConfigureAwait(false);
        access.Require(context, release.Id.Service);
        var person = ReleaseAccess.PersonOf(context.Actor);
        var change = await writer.MutateAsync(release.Id, release, context.Actor, context.Row.Doing, ClickGuard.Wrap(context.Basis, r => apply(r, person, time.GetUtcNow())), ct).ConfigureAwait(false);
        return Reply(change);
    }

    /// <summary>Applies <paramref name="apply"/> (guarded by the click's basis) to a release already found and checked.</summary>
    public async Task<CommandReply> ApplyAsync(Release release, CommandContext context, string action, Func<Release, ReleaseChange> apply, CancellationToken ct, bool startFromKnown = false)
    {
        var change = await writer.MutateAsync(release.Id, startFromKnown ? release : null, context.Actor, action, ClickGuard.Wrap(context.Basis, apply), ct).ConfigureAwait(false);
        return Reply(change);
    }

    public static CommandReply Reply(ReleaseChange change) => CommandReply.Private(change.Message) with { Changed = change.Modified };
}
