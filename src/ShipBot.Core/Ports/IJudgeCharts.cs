using ShipBot.Core.Judging;
using ShipBot.Core.Releases;

namespace ShipBot.Core.Ports;

/// <summary>
/// Publishes the sequential judge's evidence chart of a release's stage as an image and returns
/// where chat clients can fetch it (an unguessable, expiring URL; relative when ShipBot has no
/// public address configured). An adapter may return the previous link while the evidence has not
/// changed enough to be worth a new image.
/// </summary>
public interface IJudgeCharts
{
    /// <summary>The chart's URL, or null when none can be published.</summary>
    Task<string?> LinkAsync(ReleaseId release, JudgeState state, CancellationToken cancellationToken = default);
}
