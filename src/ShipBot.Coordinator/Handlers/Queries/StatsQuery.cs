using ShipBot.Coordinator.Commands;
using ShipBot.Coordinator.Delivery;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;

namespace ShipBot.Coordinator.Handlers.Queries;

/// <summary><c>/ship stats</c>: the four delivery keys as a card, with their chart when one can be published.</summary>
internal sealed class StatsQuery(DeliveryReports reports)
{
    public async Task<CommandReply> StatsAsync(StatsCommand c, CommandContext context, CancellationToken ct)
    {
        var report = await reports.ReportAsync(c.Service, null, c.Days, ct).ConfigureAwait(false);
        var chart = await reports.ChartLinkAsync(report, ct).ConfigureAwait(false);
        var card = ReleaseCards.Stats(report, chart);
        return CommandReply.Public(card.Fallback, card);
    }
}
