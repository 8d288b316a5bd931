using Microsoft.Extensions.Logging;
using ShipBot.Coordinator.Access;
using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;

namespace ShipBot.Coordinator.Delivery;

/// <summary>The DORA keys from the release history (<c>/ship stats</c>, <c>GET /api/stats</c>) and their chart.</summary>
internal sealed partial class DeliveryReports(ReleaseAccess access, IReleaseStore store, Integrations integrations, TimeProvider time, ILogger log)
{
    /// <summary>
    /// The four DORA keys over the <paramref name="days"/> days before now, for one service, one
    /// channel (when <paramref name="channel"/> is set) or everything, from the releases in the store.
    /// </summary>
    /// <exception cref="Core.Releases.ReleaseRuleException">The service is not configured.</exception>
    public async Task<DoraReport> ReportAsync(string? service, string? channel, int days, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        if (service is not null && !access.Services.ContainsKey(service))
        {
            throw access.UnknownService(service);
        }

        var services = service is null ? access.Services.Keys.ToList() : [service];
        var releases = new List<Core.Releases.Release>();
        foreach (var name in services)
        {
            releases.AddRange(await store.ListByServiceAsync(name, cancellationToken).ConfigureAwait(false));
        }

        var scope = service is not null ? DeliveryScope.ForService(service)
            : !string.IsNullOrWhiteSpace(channel) ? DeliveryScope.ForChannel(channel)
            : DeliveryScope.All;

        // Halts are kept only while they last, so time to restore runs from a rollback to the next release at 100 %.
        return DoraCalculator.Compute(releases, scope, time.GetUtcNow(), days);
    }

    /// <summary>The chart of <paramref name="report"/>, or null when no chart can be published (the numbers stand alone).</summary>
    public async Task<string?> ChartLinkAsync(DoraReport report, CancellationToken cancellationToken)
    {
        if (integrations.DeliveryCharts is not { } charts)
        {
            return null;
        }

        try
        {
            return await charts.LinkAsync(report, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException or StoreUnavailableException)
        {
            LogDeliveryChartFailed(report.Scope.Describe(), ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the delivery chart of {Scope}: {Reason}")]
    private partial void LogDeliveryChartFailed(string scope, string reason);
}
