using System.Globalization;

namespace ShipBot.Core.Text;

/// <summary>Durations as people write them: "5 s", "2 min 30 s", "4 h", "1 day", "30 days".</summary>
public static class Durations
{
    public static string Humanise(TimeSpan duration)
    {
        var t = duration < TimeSpan.Zero ? -duration : duration;
        var sign = duration < TimeSpan.Zero ? "−" : string.Empty;
        return sign + (t switch
        {
            _ when t < TimeSpan.FromSeconds(1) => $"{(int)t.TotalMilliseconds} ms",
            _ when t < TimeSpan.FromMinutes(2) => $"{(int)t.TotalSeconds} s",
            _ when t < TimeSpan.FromHours(2) => Pair((int)t.TotalMinutes, "min", t.Seconds, "s"),
            _ when t < TimeSpan.FromDays(2) && !(t >= TimeSpan.FromDays(1) && t.Minutes == 0 && t.Seconds == 0) => Pair((int)t.TotalHours, "h", t.Minutes, "min"),
            _ => Pair((int)t.TotalDays, (int)t.TotalDays == 1 ? "day" : "days", t.Hours, "h"),
        });
    }

    private static string Pair(int major, string majorUnit, int minor, string minorUnit) =>
        minor == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{major} {majorUnit}")
            : string.Create(CultureInfo.InvariantCulture, $"{major} {majorUnit} {minor} {minorUnit}");
}
