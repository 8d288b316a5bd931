using System.Xml.Linq;
using ShipBot.Charts.Judging;
using ShipBot.Core.Health;
using ShipBot.Core.Judging;
using SkiaSharp;

namespace ShipBot.Charts.Tests.Judging;

public sealed class JudgeEvidenceChartTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A stage of 20 minutes where the canary's errors run at twice the baseline's.</summary>
    private static JudgeState Stage(int looks = 40, double canaryErrorRate = 0.04)
    {
        var state = SequentialJudge.Start(new JudgeSettings { Kind = JudgeKind.Sequential }, "Canary", 0, 3, Start);
        for (var look = 1; look <= looks; look++)
        {
            var at = Start.AddSeconds(30 * look);
            state = SequentialJudge.Observe(state, new JudgeObservation(at,
            [
                new MetricCounts(CountMetrics.Errors, 25.0 * look, 25.0 * look * canaryErrorRate, 475.0 * look, 475.0 * look * 0.02, Start, at, "test"),
                new MetricCounts(CountMetrics.SlowRequests, 25.0 * look, 0.1 * look, 475.0 * look, 1.5 * look, Start, at, "test"),
            ])).State;
        }

        return state;
    }

    [Fact]
    public void RenderPng_TwoMetrics_APngOfTwoPanels()
    {
        var png = JudgeEvidenceChart.RenderPng(Stage());

        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal(JudgeEvidenceChart.DefaultWidth, bitmap.Width);
        Assert.Equal(2 * JudgeEvidenceChart.DefaultPanelHeight, bitmap.Height);
        Assert.True(png.Length < 200_000, $"{png.Length} bytes");
    }

    [Fact]
    public void RenderPng_NoTrafficYet_StillAnImage()
    {
        var png = JudgeEvidenceChart.RenderPng(Stage(looks: 0), width: 320, panelHeight: 120);

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(320, bitmap.Width);
    }

    [Fact]
    public void RenderSvg_TwoMetrics_OneDocumentWithAPanelEach()
    {
        var svg = XElement.Parse(JudgeEvidenceChart.RenderSvg(Stage()));

        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Name);
        var panels = svg.Elements(ns + "svg").ToList();
        Assert.Equal(2, panels.Count);
        Assert.Equal(["0", "260"], panels.Select(p => (string?)p.Attribute("y")));
        Assert.StartsWith("Canary: canary against baseline, errors 4 % vs 2 %, ", (string?)svg.Element(ns + "title"), StringComparison.Ordinal);
        Assert.DoesNotContain("<script", svg.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Describe_HarmedStage_SaysSo()
    {
        var text = JudgeEvidenceChart.Describe(Stage(looks: 40, canaryErrorRate: 0.2));

        Assert.Contains("errors 20 % vs 2 %, harm", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DataUri_Png_Base64DataUri() =>
        Assert.Equal("data:image/png;base64,AQID", JudgeEvidenceChart.DataUri([1, 2, 3]));
}
