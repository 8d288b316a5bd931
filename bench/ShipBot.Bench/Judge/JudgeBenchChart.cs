using ScottPlot;

namespace ShipBot.Bench.Judge;

/// <summary>The benchmark's chart: the share of stages each judge has rolled back by each minute, for healthy canaries and for 2× error regressions.</summary>
public static class JudgeBenchChart
{
    private static readonly Color[] Colors = [Color.FromHex("#1f77b4"), Color.FromHex("#d62728"), Color.FromHex("#ff7f0e")];

    public static void Write(string path, JudgeWorldSettings world, ScenarioResult healthy, ScenarioResult twice, IReadOnlyList<string> names)
    {
        var left = Panel("No regression: false rollbacks so far", world, healthy, names);
        var right = Panel("Errors × 2 (base 1 %): regressions caught so far", world, twice, names);
        var multiplot = new Multiplot(left) { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        multiplot.AddPlot(right);
        File.WriteAllBytes(path, multiplot.Render(1000, 380).GetImageBytes(ImageFormat.Png));
    }

    private static Plot Panel(string title, JudgeWorldSettings world, ScenarioResult result, IReadOnlyList<string> names)
    {
        var plot = new Plot();
        plot.Title(title, size: 13);
        plot.Axes.Bottom.Label.Text = "minutes into the stage";
        plot.Axes.Left.Label.Text = "% of stages rolled back";
        var minutes = Enumerable.Range(0, world.Looks + 1).Select(l => l * world.LookSeconds / 60).ToArray();
        for (var j = 0; j < names.Count; j++)
        {
            var harm = result.Harm[j];
            var share = Enumerable.Range(0, world.Looks + 1).Select(l => 100.0 * harm.Count(h => h >= 0 && h < l) / result.Stages).ToArray();
            var line = plot.Add.ScatterLine(minutes, share);
            line.Color = Colors[j];
            line.LineWidth = 2;
            line.LegendText = names[j];
        }

        var ten = plot.Add.VerticalLine(10);
        ten.LinePattern = LinePattern.Dotted;
        ten.Color = Color.FromHex("#7f7f7f");
        ten.LegendText = "10 min";
        plot.Axes.SetLimits(0, minutes[^1], 0, 100);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = 10;
        return plot;
    }
}
