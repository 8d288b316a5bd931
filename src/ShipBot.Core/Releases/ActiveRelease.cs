namespace ShipBot.Core.Releases;

/// <summary>
/// Which release of a service ShipBot and the deployment target act on: the newest one that has not
/// finished. While a newer release exists (even before its production traffic), an older one that is
/// still operating is not rolled back and alerts do not act on it — the target would be told about a
/// version ShipBot's own state has moved past.
/// </summary>
public static class ActiveRelease
{
    public static Release? Of(IEnumerable<Release> releasesOfService)
    {
        ArgumentNullException.ThrowIfNull(releasesOfService);
        return releasesOfService
            .Where(r => !r.State.IsTerminal())
            .OrderByDescending(r => r.CreatedAt)
            .ThenByDescending(r => r.Revision)
            .FirstOrDefault();
    }
}
