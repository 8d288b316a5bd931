using Microsoft.Extensions.DependencyInjection.Extensions;
using ShipBot.Charts.Dora;
using ShipBot.Charts.Images;
using ShipBot.Coordinator;
using ShipBot.Core.Commands;
using ShipBot.Core.Delivery;
using ShipBot.Core.Ports;
using ShipBot.Core.Releases;
using ShipBot.Freezes;
using ShipBot.Identity;
using ShipBot.Records;

namespace ShipBot.Host;

/// <summary>One week of <see cref="StatsView"/>: Monday 00:00 UTC to the next Monday, clipped to the period.</summary>
public sealed record StatsWeekView(DateTimeOffset Start, DateTimeOffset End, int Deployments, int Changes, int FailedChanges, double? ChangeFailureRate, double? LeadTimeMedianHours, double? TimeToRestoreMedianHours);

/// <summary>The answer of <c>GET /api/stats</c>: the four DORA keys, their text and the chart's URL (null when none could be made).</summary>
public sealed record StatsView(
    string Scope,
    DateTimeOffset From,
    DateTimeOffset To,
    double Days,
    int Deployments,
    double DeploymentsPerWeek,
    double? LeadTimeMedianHours,
    int LeadTimes,
    int LeadTimesFromCommit,
    int Changes,
    int FailedChanges,
    double? ChangeFailureRate,
    double? TimeToRestoreMedianHours,
    int RestoredIncidents,
    int OpenIncidents,
    IReadOnlyList<StatsWeekView> Weeks,
    IReadOnlyList<string> Lines,
    string? Chart)
{
    public static StatsView Of(DoraReport r, string? chart) => new(
        r.Scope.Describe(), r.From, r.To, r.Days, r.Deployments, r.DeploymentsPerWeek, r.LeadTimeMedian?.TotalHours, r.LeadTimes.Count, r.LeadTimesFromCommit,
        r.Changes, r.FailedChanges, r.ChangeFailureRate, r.TimeToRestoreMedian?.TotalHours, r.RestoredIncidents, r.OpenIncidents,
        r.Weeks.Select(w => new StatsWeekView(w.Start, w.End, w.Deployments, w.Changes, w.FailedChanges, w.ChangeFailureRate, w.LeadTimeMedian?.TotalHours, w.TimeToRestoreMedian?.TotalHours)).ToList(),
        DoraText.Lines(r), chart);
}

/// <summary>
/// The delivery loop around the rollouts: freeze calendars, release records in git, the delivery
/// chart and <c>GET /api/stats</c>.
/// </summary>
public static class DeliveryEndpoints
{
    /// <summary>
    /// Registers the freeze calendars (<c>ShipBot:Freezes</c>), the release records when
    /// <c>ShipBot:Records:Repository</c> is set, the chart image store (<c>ShipBot:Charts</c>, once even
    /// if another part registers it too) and the delivery chart.
    /// </summary>
    public static IServiceCollection AddShipBotDelivery(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddShipBotFreezes(configuration);
        services.AddShipBotRecords(configuration);
        if (!services.Any(d => d.ServiceType == typeof(ChartImageStore)))
        {
            services.AddChartImages();
        }

        services.TryAddSingleton<IDeliveryCharts, DoraChartPublisher>();
        return services;
    }

    /// <summary>
    /// <c>GET /api/stats?service=&amp;channel=&amp;days=</c>: the DORA keys of a service, a channel or
    /// everything over the last <c>days</c> (default 28, 1 to 366), with the chart's URL. It needs a
    /// session or an API token with <c>releases:read</c>, like the release API.
    /// </summary>
    public static IEndpointRouteBuilder MapShipBotDelivery(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/stats", async (IDeliveryReports coordinator, string? service, string? channel, int? days, CancellationToken ct) =>
        {
            var period = days ?? StatsCommand.DefaultDays;
            if (period is < 1 or > StatsCommand.MaxDays)
            {
                return Results.Json(new { error = $"days must be a whole number from 1 to {StatsCommand.MaxDays}." }, ShipBotJson.Options, statusCode: 400);
            }

            if (service is not null && service.Length > 0 && channel is not null && channel.Length > 0)
            {
                return Results.Json(new { error = "Ask for a service or a channel, not both." }, ShipBotJson.Options, statusCode: 400);
            }

            try
            {
                var report = await coordinator.DeliveryReportAsync(string.IsNullOrWhiteSpace(service) ? null : service.ToLowerInvariant(), channel, period, ct).ConfigureAwait(false);
                var chart = await coordinator.ChartLinkAsync(report, ct).ConfigureAwait(false);
                return Results.Json(StatsView.Of(report, chart), ShipBotJson.Options);
            }
            catch (ReleaseRuleException ex)
            {
                return Results.Json(new { error = ex.Message }, ShipBotJson.Options, statusCode: 404);
            }
        }).RequireCaller(TokenScopes.ReleasesRead);

        // The image behind the chart's link is served by the one chart image endpoint the host maps (ShipBotApp).
        return app;
    }
}
