using System.Globalization;
using System.Xml.Linq;
using ScottPlot;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;

namespace ShipBot.Charts.Judging;

/// <summary>
/// The sequential judge's evidence as a small chart, one panel per metric: the baseline's rate
/// (grey), the canary's (blue), the band where the canary's rate lies with the judge's confidence
/// (shaded), the harm line (red, dashed: the baseline × harm ratio; harm when the band's bottom is
/// above it) and the safe line (green, dashed: the baseline + margin; safe when the band's top is
/// below it). Rates in percent against minutes into the stage. PNG for chat, SVG for the console.
/// </summary>
public static class JudgeEvidenceChart
{
    /// <summary>Default width in pixels. Default 640.</summary>
    public const int DefaultWidth = 640;

    /// <summary>Default height of one metric's panel in pixels. Default 260.</summary>
    public const int DefaultPanelHeight = 260;

    private static readonly Color Canary = Color.FromHex("#1f77b4");
    private static readonly Color Baseline = Color.FromHex("#7f7f7f");
    private static readonly Color Harm = Color.FromHex("#d62728");
    private static readonly Color Safe = Color.FromHex("#2ca02c");

    /// <summary>The chart as PNG bytes.</summary>
    public static byte[] RenderPng(JudgeState state, int width = DefaultWidth, int panelHeight = DefaultPanelHeight)
    {
        ArgumentNullException.ThrowIfNull(state);
        var panels = state.Metrics.Count > 0 ? state.Metrics.Select(Panel).ToList() : [new Plot()];
        var multiplot = new Multiplot(panels[0]) { Layout = new ScottPlot.MultiplotLayouts.Rows() };
        foreach (var panel in panels.Skip(1))
        {
            multiplot.AddPlot(panel);
        }

        return multiplot.Render(width, panelHeight * Math.Max(1, state.Metrics.Count)).GetImageBytes(ImageFormat.Png);
    }

    /// <summary>The chart as one SVG document (panels stacked), to inline in a page.</summary>
    public static string RenderSvg(JudgeState state, int width = DefaultWidth, int panelHeight = DefaultPanelHeight)
    {
        ArgumentNullException.ThrowIfNull(state);
        XNamespace svg = "http://www.w3.org/2000/svg";
        var height = panelHeight * Math.Max(1, state.Metrics.Count);
        var root = new XElement(svg + "svg",
            new XAttribute("width", width),
            new XAttribute("height", height),
            new XAttribute("viewBox", $"0 0 {width} {height}"),
            new XAttribute("role", "img"),
            new XElement(svg + "title", Describe(state)));
        for (var i = 0; i < state.Metrics.Count; i++)
        {
            var panel = XElement.Parse(Panel(state.Metrics[i]).GetSvgXml(width, panelHeight));
            panel.SetAttributeValue("x", 0);
            panel.SetAttributeValue("y", (i * panelHeight).ToString(CultureInfo.InvariantCulture));
            root.Add(panel);
        }

        return root.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>A <c>data:image/png;base64,…</c> URI, for an inline image.</summary>
    public static string DataUri(byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }

    /// <summary>What the chart shows, in words (its alternative text).</summary>
    public static string Describe(JudgeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return $"{state.Stage}: canary against baseline, " + string.Join("; ", state.Metrics.Select(m =>
            $"{CountMetrics.Label(m.Metric)} {Percent(m.CanaryTotal > 0 ? m.CanaryEvents / m.CanaryTotal : 0)} vs {Percent(m.BaselineTotal > 0 ? m.BaselineEvents / m.BaselineTotal : 0)}, {Word(m.Verdict)}"));
    }

    private static Plot Panel(MetricJudgeState metric)
    {
        var plot = new Plot();
        var trace = metric.Trace;
        plot.Title($"{CountMetrics.Label(metric.Metric)}: {Word(metric.Verdict)}", size: 13);
        plot.Axes.Bottom.Label.Text = "minutes into the stage";
        plot.Axes.Left.Label.Text = "% of requests";
        plot.Axes.Bottom.Label.FontSize = 11;
        plot.Axes.Left.Label.FontSize = 11;
        if (trace.Count == 0)
        {
            plot.Add.Annotation("no canary traffic yet");
            return plot;
        }

        var xs = trace.Select(p => p.Minutes).ToArray();
        var canary = trace.Select(p => p.CanaryRate * 100).ToArray();
        var baseline = trace.Select(p => p.BaselineRate * 100).ToArray();
        var harm = trace.Select(p => p.BaselineRate * metric.HarmRatio * 100).ToArray();
        var safe = trace.Select(p => (p.BaselineLower + metric.Margin) * 100).ToArray();
        var low = trace.Select(p => p.RatioLower * p.BaselineRate * 100).ToArray();

        // The band's top starts at 100 % (nothing known yet); clip it to the interesting range.
        var top = new[] { canary.Max(), baseline.Max(), harm.Max(), safe.Max(), low.Max() }.Max();
        var yMax = Math.Max(top * 1.35, 0.05);
        var high = trace.Select(p => Math.Min(p.CanaryUpper * 100, yMax)).ToArray();

        var band = plot.Add.FillY(xs, low, high);
        band.FillColor = Canary.WithAlpha(0.18);
        band.LineWidth = 0;
        band.LegendText = $"canary, {(1 - metric.Alpha) * 100:0.##} % confidence";
        Line(plot, xs, baseline, Baseline, "baseline", LinePattern.Solid, 2);
        Line(plot, xs, canary, Canary, "canary", LinePattern.Solid, 2);
        Line(plot, xs, harm, Harm, $"harm above {metric.HarmRatio:0.##}× baseline", LinePattern.Dashed, 1.5f);
        Line(plot, xs, safe, Safe, $"safe below baseline + {metric.Margin * 100:0.##} pt", LinePattern.Dashed, 1.5f);
        plot.Axes.SetLimits(0, Math.Max(xs[^1], 1), 0, yMax);
        // Below the panel, so it never hides the lines.
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = 9;
        return plot;
    }

    private static void Line(Plot plot, double[] xs, double[] ys, Color color, string label, LinePattern pattern, float width)
    {
        var line = plot.Add.ScatterLine(xs, ys);
        line.Color = color;
        line.LineWidth = width;
        line.LinePattern = pattern;
        line.LegendText = label;
    }

    private static string Word(JudgeVerdict verdict) => verdict switch
    {
        JudgeVerdict.Harm => "harm",
        JudgeVerdict.Safe => "safe",
        JudgeVerdict.NoData => "no data",
        _ => "continue",
    };

    private static string Percent(double rate) => (rate * 100).ToString(rate * 100 < 1 ? "0.###" : "0.##", CultureInfo.InvariantCulture) + " %";
}
