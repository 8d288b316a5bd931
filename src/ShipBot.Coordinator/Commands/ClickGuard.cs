using ShipBot.Core.Commands;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Commands;

/// <summary>
/// Makes a click act only on what its card showed. Checked twice: once before anything else (a quick,
/// clear answer to a stale card), and again inside the compare-and-set loop, so two clicks racing on
/// the same card make one change and the loser is told what changed.
/// </summary>
internal static class ClickGuard
{
    /// <summary>The reply to a click whose basis no longer describes its release, or null when it still does (or there is no basis).</summary>
    public static async Task<string?> StaleReplyAsync(ShipCommand command, ClickBasis? basis, Func<string, Task<Release>> resolve)
    {
        if (basis is null || command is not IReleaseCommand { Release: var name })
        {
            return null;
        }

        return basis.StaleReason(await resolve(name).ConfigureAwait(false));
    }

    /// <summary>Wraps a transition so it changes nothing when the release moved on since the card was shown.</summary>
    public static Func<Release, ReleaseChange> Wrap(ClickBasis? basis, Func<Release, ReleaseChange> apply) =>
        basis is null
            ? apply
            : release => basis.StaleReason(release) is { } stale ? new ReleaseChange(release, [], stale) { Modified = false } : apply(release);
}
