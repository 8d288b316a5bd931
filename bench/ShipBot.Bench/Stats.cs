using System.Globalization;
using System.Text;

namespace ShipBot.Bench;

/// <summary>Nearest-rank percentiles over one run's samples.</summary>
public static class Stats
{
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>The run whose <paramref name="key"/> is the median of the runs (the lower middle one for an even count).</summary>
    public static T MedianBy<T>(IReadOnlyList<T> runs, Func<T, double> key)
    {
        var ordered = runs.OrderBy(key).ToList();
        return ordered[(ordered.Count - 1) / 2];
    }

    public static string F(double value, int decimals = 0) =>
        double.IsNaN(value) ? "—" : value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("N0", CultureInfo.InvariantCulture) + " MiB";
}

/// <summary>A Markdown table printed to the console.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", headers)).Append(" |\n");
        text.Append('|').Append(string.Join('|', headers.Select(_ => "---:"))).Append("|\n");
        foreach (var row in _rows)
        {
            text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        return text.ToString();
    }
}
