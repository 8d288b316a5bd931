using System.Collections.Concurrent;
using ShipBot.Charts.Images;
using ShipBot.Charts.Judging;
using ShipBot.Core.Judging;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;

namespace ShipBot.Host;

/// <summary>
/// The judge's evidence chart as a PNG in the <see cref="ChartImageStore"/> (an unguessable,
/// expiring URL). The release card is redrawn at every health evaluation, so a new image is drawn
/// only when the stage's verdict changes, when the stage changes, after <see cref="RefreshLooks"/>
/// more looks, or when the previous link is near its expiry; otherwise the previous link is given
/// again. The memory of links is this replica's own: another replica simply draws its own.
/// </summary>
public sealed class JudgeChartLinks(ChartImageStore images, TimeProvider time) : IJudgeCharts
{
    /// <summary>Looks between two redrawn charts while the verdict holds. 10 (5 minutes at the default 30-second evaluation).</summary>
    public const int RefreshLooks = 10;

    private const int MaxRemembered = 4096;

    private readonly ConcurrentDictionary<ReleaseId, Drawn> _drawn = new();

    public async Task<string?> LinkAsync(ReleaseId release, JudgeState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        var now = time.GetUtcNow();
        if (_drawn.TryGetValue(release, out var last)
            && last.Stage == state.Stage && last.StartedAt == state.StartedAt && last.Verdict == state.Verdict
            && state.Looks < last.Looks + RefreshLooks && last.Link.ExpiresAt > now + TimeSpan.FromHours(1))
        {
            return Address(last.Link);
        }

        var png = JudgeEvidenceChart.RenderPng(state);
        var link = await images.PublishAsync(png, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (_drawn.Count >= MaxRemembered)
        {
            _drawn.Clear();
        }

        _drawn[release] = new Drawn(state.Stage, state.StartedAt, state.Verdict, state.Looks, link);
        return Address(link);
    }

    private static string Address(ChartImageLink link) => link.Url?.AbsoluteUri ?? link.Path;

    private sealed record Drawn(string Stage, DateTimeOffset StartedAt, JudgeVerdict Verdict, int Looks, ChartImageLink Link);
}
