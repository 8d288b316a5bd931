using Microsoft.Extensions.Logging;
using ShipBot.Core.Cards;
using ShipBot.Core.Commands;
using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator;

/// <summary>
/// What happens around the rollouts: the DORA keys from the release history (<c>/ship stats</c>,
/// <c>GET /api/stats</c>), the records status on the card, and signals passed on to integrations.
/// </summary>
public sealed partial class ReleaseCoordinator
{
    /// <summary>How writing release records goes; null or disabled: the card says nothing about records.</summary>
    public IReleaseRecordsStatus? Records { get; init; }

    /// <summary>Integrations that hear about every recorded or filled-in signal (release records in git). Default none.</summary>
    public IReadOnlyList<ISignalObserver> SignalObservers { get; init; } = [];

    /// <summary>Publishes the stats chart; null: <c>/ship stats</c> gives the numbers only.</summary>
    public IDeliveryCharts? DeliveryCharts { get; init; }

    /// <summary>
    /// The four DORA keys over the <paramref name="days"/> days before now, for one service, one
    /// channel (when <paramref name="channel"/> is set) or everything, from the releases in the store.
    /// </summary>
    /// <exception cref="Core.Releases.ReleaseRuleException">The service is not configured.</exception>
    public async Task<DoraReport> DeliveryReportAsync(string? service, string? channel, int days, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        if (service is not null && !_access.Services.ContainsKey(service))
        {
            throw UnknownService(service);
        }

        var services = service is null ? _access.Services.Keys.ToList() : [service];
        var releases = new List<Core.Releases.Release>();
        foreach (var name in services)
        {
            releases.AddRange(await _store.ListByServiceAsync(name, cancellationToken).ConfigureAwait(false));
        }

        var scope = service is not null ? DeliveryScope.ForService(service)
            : !string.IsNullOrWhiteSpace(channel) ? DeliveryScope.ForChannel(channel)
            : DeliveryScope.All;

        // Halts are kept only while they last, so time to restore runs from a rollback to the next release at 100 %.
        return DoraCalculator.Compute(releases, scope, _time.GetUtcNow(), days);
    }

    private async Task<CommandReply> StatsAsync(StatsCommand c, CancellationToken ct)
    {
        var report = await DeliveryReportAsync(c.Service, null, c.Days, ct).ConfigureAwait(false);
        var lines = DoraText.Lines(report);
        var chart = await ChartLinkAsync(report, ct).ConfigureAwait(false);
        var blocks = new List<CardBlock> { new TextBlock(string.Join("\n", lines.Skip(1))) };
        if (chart is not null)
        {
            // The console shows it inline; Slack and Teams fetch it when the link is absolute (ShipBot:Charts:PublicBaseUrl), else show the text.
            blocks.Add(new ImageBlock(chart, $"Weekly deployments and change failure rate, and the lead-time trend: {lines.FirstOrDefault()}"));
        }

        blocks.Add(new ContextBlock("Deployments: releases that reached 100 %. Lead time: from the commit when known, else from start. Failures: rollbacks and hotfixes that followed a release. `/ship stats <service> --days N` narrows it."));
        var card = new Card($"📊 {lines[0]}", null, CardTone.Info, blocks, [], string.Join("\n", lines) + (chart is null ? string.Empty : $"\nChart: {chart}"));
        return CommandReply.Public(card.Fallback, card);
    }

    /// <summary>The chart of <paramref name="report"/>, or null when no chart can be published (the numbers stand alone).</summary>
    public async Task<string?> ChartLinkAsync(DoraReport report, CancellationToken cancellationToken = default)
    {
        if (DeliveryCharts is null)
        {
            return null;
        }

        try
        {
            return await DeliveryCharts.LinkAsync(report, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException or StoreUnavailableException)
        {
            LogDeliveryChartFailed(report.Scope.Describe(), ex.Message);
            return null;
        }
    }

    /// <summary>Passes a recorded or filled-in signal on; an integration's outage never fails the command.</summary>
    private async Task NotifySignalObserversAsync(Signal signal, CancellationToken ct)
    {
        foreach (var observer in SignalObservers)
        {
            try
            {
                await observer.OnSignalAsync(signal, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogObserverFailed(observer.GetType().Name, signal.Release ?? signal.Id, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the delivery chart of {Scope}: {Reason}")]
    private partial void LogDeliveryChartFailed(string scope, string reason);
}
