namespace ShipBot.Core.Freezes;

/// <summary>
/// A hotfix let through a change freeze by on-call or an admin: who, why, which window and until
/// when. The release keeps it, so its rollout is not held by that freeze either; a later, separate
/// freeze (one that opens after <paramref name="Until"/>) holds it like any other release.
/// </summary>
/// <param name="By">The user id of the person who bypassed the freeze.</param>
/// <param name="Reason">Why the hotfix cannot wait (audited and shown on the card).</param>
/// <param name="Window">The name of the window that was bypassed.</param>
/// <param name="Until">The end of the freeze that was bypassed (the chain of windows at the time).</param>
/// <param name="At">When the freeze was bypassed.</param>
public sealed record FreezeBypass(string By, string Reason, string Window, DateTimeOffset Until, DateTimeOffset At)
{
    /// <summary>Whether this bypass covers a freeze that lasts until <paramref name="until"/>.</summary>
    public bool Covers(DateTimeOffset until) => until <= Until;
}
