using System.Globalization;
using ScottPlot;
using ShipBot.Core.Delivery;

namespace ShipBot.Charts.Dora;

/// <summary>
/// The delivery chart of the stats card, as a PNG: on top, deployments per week (bars, left axis)
/// with the change failure rate (line, right axis, %); below, the weekly median lead time for
/// changes (line, hours) and the median time to restore where there was an incident. Weeks
/// without a value have no point rather than a zero. The numbers are also on the card as text.
/// </summary>
public static class DoraChart
{
    /// <summary>Default width in pixels (fits a Slack or Teams card). 800.</summary>
    public const int DefaultWidth = 800;

    /// <summary>Default height in pixels. 500.</summary>
    public const int DefaultHeight = 500;

    private static readonly Color Deployments = Color.FromHex("#2E6FBA");
    private static readonly Color Failures = Color.FromHex("#D1495B");
    private static readonly Color LeadTime = Color.FromHex("#2A9D8F");
    private static readonly Color Restore = Color.FromHex("#E9A23B");

    /// <summary>Renders <paramref name="report"/> as a PNG of <paramref name="width"/> × <paramref name="height"/> pixels (each at least 200).</summary>
    public static byte[] RenderPng(DoraReport report, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 200);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 200);

        var weeks = report.Weeks;
        var positions = Enumerable.Range(0, weeks.Count).Select(i => (double)i).ToArray();
        var labels = weeks.Select(w => w.Start.UtcDateTime.ToString("d MMM", CultureInfo.InvariantCulture)).ToArray();

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var top = multiplot.GetPlot(0);
        var bottom = multiplot.GetPlot(1);
        foreach (var plot in new[] { top, bottom })
        {
            plot.Font.Automatic();
            plot.Axes.Bottom.SetTicks(positions, labels);
            plot.Axes.SetLimitsX(-0.6, weeks.Count - 0.4);
            plot.Legend.Alignment = Alignment.UpperLeft;
            plot.Legend.Orientation = Orientation.Horizontal;
            plot.Axes.Left.Label.FontSize = 13;
            plot.Axes.Right.Label.FontSize = 13;
            plot.Axes.Bottom.Label.FontSize = 13;
        }

        top.Title($"Delivery of {report.Scope.Describe()} — {report.Days.ToString("0.#", CultureInfo.InvariantCulture)} days");
        var bars = top.Add.Bars(positions, weeks.Select(w => (double)w.Deployments).ToArray());
        bars.Color = Deployments;
        bars.LegendText = "deployments";
        top.Axes.Left.Label.Text = "deployments per week";
        top.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

        // Headroom above the tallest bar keeps the legend clear of the data.
        top.Axes.SetLimitsY(0, Math.Max(1, weeks.Max(w => w.Deployments)) * 1.7, top.Axes.Left);

        var rated = weeks.Select((w, i) => (i, w.ChangeFailureRate)).Where(p => p.ChangeFailureRate is not null).ToArray();
        var rate = top.Add.Scatter(rated.Select(p => (double)p.i).ToArray(), rated.Select(p => p.ChangeFailureRate!.Value * 100).ToArray(), Failures);
        rate.Axes.YAxis = top.Axes.Right;
        rate.LineWidth = 2;
        rate.MarkerSize = 8;
        rate.LegendText = "change failure rate";
        top.Axes.Right.Label.Text = "change failure rate %";
        top.Axes.SetLimitsY(0, 170, top.Axes.Right);
        top.Axes.Right.TickGenerator = new ScottPlot.TickGenerators.NumericManual([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100"]);
        top.ShowLegend();

        var lead = weeks.Select((w, i) => (i, w.LeadTimeMedian)).Where(p => p.LeadTimeMedian is not null).ToArray();
        var leadLine = bottom.Add.Scatter(lead.Select(p => (double)p.i).ToArray(), lead.Select(p => p.LeadTimeMedian!.Value.TotalHours).ToArray(), LeadTime);
        leadLine.LineWidth = 2;
        leadLine.MarkerSize = 8;
        leadLine.LegendText = "median lead time";
        var restored = weeks.Select((w, i) => (i, w.TimeToRestoreMedian)).Where(p => p.TimeToRestoreMedian is not null).ToArray();
        var restoreLine = bottom.Add.Scatter(restored.Select(p => (double)p.i).ToArray(), restored.Select(p => p.TimeToRestoreMedian!.Value.TotalHours).ToArray(), Restore);
        restoreLine.LineWidth = 2;
        restoreLine.MarkerSize = 8;
        restoreLine.LinePattern = LinePattern.Dashed;
        restoreLine.LegendText = "median time to restore";
        bottom.Axes.Left.Label.Text = "hours";
        var highest = lead.Select(p => p.LeadTimeMedian!.Value.TotalHours).Concat(restored.Select(p => p.TimeToRestoreMedian!.Value.TotalHours)).DefaultIfEmpty(1).Max();
        bottom.Axes.SetLimitsY(0, Math.Max(1, highest) * 1.6);
        bottom.Axes.Bottom.Label.Text = "week starting (UTC)";
        bottom.ShowLegend();

        using var image = multiplot.Render(width, height);
        return image.GetImageBytes(ImageFormat.Png, 100);
    }
}
