using System.Collections.Concurrent;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Coordinator.Routers;

/// <summary>The last router (or Flagger) report per release, as this instance saw it; the release card shows it.</summary>
internal sealed class RouterStatusBoard
{
    private readonly ConcurrentDictionary<ReleaseId, TargetStatus> _status = new();

    /// <summary>What the router last reported for <paramref name="release"/> to this instance (null when nothing yet).</summary>
    public TargetStatus? Of(ReleaseId release) => _status.TryGetValue(release, out var status) ? status : null;

    public void Remember(ReleaseId release, TargetStatus? status)
    {
        if (status is not null)
        {
            _status[release] = status;
        }
    }
}
