using System.Buffers.Binary;
using ShipBot.Charts.Dora;
using ShipBot.Core.Delivery;
using ShipBot.Core.Releases;
using SkiaSharp;

namespace ShipBot.Charts.Tests.Dora;

public sealed class DoraChartTests
{
    private static readonly DateTimeOffset Monday = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private static DoraReport Report()
    {
        var weeks = new List<DoraWeek>
        {
            new(Monday, Monday.AddDays(7), 3, 3, 1, TimeSpan.FromHours(6), null),
            new(Monday.AddDays(7), Monday.AddDays(14), 1, 2, 1, TimeSpan.FromHours(29), TimeSpan.FromHours(2.5)),
            new(Monday.AddDays(14), Monday.AddDays(21), 0, 0, 0, null, TimeSpan.FromHours(1)),
            new(Monday.AddDays(21), Monday.AddDays(28), 1, 4, 1, TimeSpan.FromHours(1.5), TimeSpan.FromHours(2)),
        };
        var id = new ReleaseId("checkout", "1.0.0");
        return new DoraReport(DeliveryScope.ForService("checkout"), Monday, Monday.AddDays(28), 5,
            [new LeadTimeSample(id, Monday, Monday.AddHours(6), false)], 9, [new ChangeFailure(id, FailureCause.RolledBack, Monday, Monday)], [], weeks);
    }

    [Fact]
    public void RenderPng_Report_IsAValidPngOfTheDefaultSize()
    {
        var png = DoraChart.RenderPng(Report());

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(DoraChart.DefaultWidth, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)));
        Assert.Equal(DoraChart.DefaultHeight, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(png, png.Length - 8, 4));

        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal(DoraChart.DefaultWidth, bitmap.Width);
        Assert.Equal(DoraChart.DefaultHeight, bitmap.Height);
    }

    [Fact]
    public void RenderPng_Report_DrawsTheDeploymentBarsAndTheLines()
    {
        using var bitmap = SKBitmap.Decode(DoraChart.RenderPng(Report(), 640, 480));

        var colors = new HashSet<SKColor>();
        for (var y = 0; y < bitmap.Height; y += 2)
        {
            for (var x = 0; x < bitmap.Width; x += 2)
            {
                colors.Add(bitmap.GetPixel(x, y).WithAlpha(255));
            }
        }

        Assert.Contains(SKColor.Parse("#2E6FBA"), colors); // deployment bars
        Assert.Contains(SKColor.Parse("#D1495B"), colors); // failure rate
        Assert.Contains(SKColor.Parse("#2A9D8F"), colors); // lead time
        Assert.Contains(SKColor.Parse("#E9A23B"), colors); // time to restore
    }

    [Fact]
    public void RenderPng_ChosenSize_IsThatSize()
    {
        using var bitmap = SKBitmap.Decode(DoraChart.RenderPng(Report(), 1200, 700));

        Assert.Equal((1200, 700), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public void RenderPng_EmptyPeriod_StillRenders()
    {
        var empty = DoraCalculator.Compute([], DeliveryScope.ForChannel("releases"), Monday.AddDays(14), 14);

        using var bitmap = SKBitmap.Decode(DoraChart.RenderPng(empty));

        Assert.Equal(DoraChart.DefaultWidth, bitmap.Width);
    }

    [Fact]
    public void RenderPng_TooSmall_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DoraChart.RenderPng(Report(), 100, 500));
    }
}
