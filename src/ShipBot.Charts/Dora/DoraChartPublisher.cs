using ShipBot.Charts.Images;
using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;

namespace ShipBot.Charts.Dora;

/// <summary>
/// Renders the delivery chart (<see cref="DoraChart"/>) and keeps it in the <see cref="ChartImageStore"/>:
/// the link is the image's absolute URL when ShipBot's public address is configured
/// (<c>ShipBot:Charts:PublicBaseUrl</c>, which Slack and Teams need), else its path, which the console shows.
/// </summary>
public sealed class DoraChartPublisher(ChartImageStore images) : IDeliveryCharts
{
    public async Task<string?> LinkAsync(DoraReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);

        // ScottPlot draws on the calling thread; a stats request is rare enough not to need a queue.
        var png = DoraChart.RenderPng(report);
        var link = await images.PublishAsync(png, cancellationToken: cancellationToken).ConfigureAwait(false);
        return link.Url?.AbsoluteUri ?? link.Path;
    }
}
